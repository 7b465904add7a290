// What request verification takes and gives, shared by both signature versions and the
// aws-chunked body decoder.
import type { RequestTarget } from "../http/request-target.ts";

export const ALGORITHM = "AWS4-HMAC-SHA256";
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
export const STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
export const STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
export const STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/** S3 rejects requests whose clock differs from the server's by more than this. */
export const MAX_SKEW_MS = 15 * 60 * 1000;
/** Presigned URLs may live at most a week (S3 and every SDK enforce this). */
export const MAX_PRESIGN_EXPIRES = 604800;

export type PayloadMode =
  | "unsigned"
  | "signed"
  | "streaming-signed"
  | "streaming-signed-trailer"
  | "streaming-unsigned-trailer";

export interface AuthResult {
  accessKey: string;
  payload: PayloadMode;
  /** Lowercase hex SHA-256 of the body when the client signed it ('signed' mode). */
  expectedSha256?: string;
  /** The request signature; aws-chunked chunk signatures chain from it. */
  seedSignature: string;
  signingKey: Uint8Array;
  /** `yyyymmdd/region/s3/aws4_request` */
  scope: string;
  /** `yyyymmddThhmmssZ` as used in the string to sign. */
  amzDate: string;
  /** From x-amz-decoded-content-length for streaming modes. */
  decodedContentLength?: number;
  /** Whether the credentials came from the query string (presigned URL). */
  presigned: boolean;
}

export interface HeaderSource {
  get(name: string): string | null;
  /** When present (e.g. Fetch `Headers`), used to reject unsigned x-amz-* headers as S3 does. */
  forEach?: (cb: (value: string, key: string) => void) => void;
}

export interface VerifiableRequest {
  method: string;
  /** The URL as received: raw (still percent-encoded, un-normalised) path and raw query. */
  url: string;
  /** `url` already parsed (the app parses each request once); parsed from `url` when absent. */
  target?: RequestTarget;
  headers: HeaderSource;
}

export interface VerifyOptions {
  lookupSecret(accessKey: string): string | undefined;
  now: Date;
  region: string;
  /** The service the credential scope must name: s3 unless the request is for the IAM API. */
  service?: "s3" | "iam";
  /** Accept Signature Version 2 (./sigv2.ts); refused with S3's V4-only answer otherwise. */
  sigv2?: boolean;
  /** The bucket when the Host header named it (virtual-hosted style); V2 signs it. */
  hostBucket?: string | null;
}

/** S3's answer to a Signature Version 2 request when V2 is not accepted. */
export const SIGV2_MESSAGE = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.";
