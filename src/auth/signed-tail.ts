// The steps header and presigned Signature V4 auth end in alike: what the payload hash declares,
// the decoded length of a streaming body, the secret, no unsigned x-amz-* header, and the
// signature over the canonical request. The result seeds aws-chunked chunk signatures.
import { S3Error } from "../errors.ts";
import type { RequestTarget } from "../http/request-target.ts";
import { canonicalRequest, stringToSign, wireText } from "./canonical.ts";
import { deriveSigningKey, hmacHex, secretOf, signaturesEqual } from "./keys.ts";
import type { CredentialScope } from "./scope.ts";
import {
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  UNSIGNED_PAYLOAD,
  type AuthResult,
  type HeaderSource,
  type PayloadMode,
} from "./types.ts";

export interface SignedRequest {
  method: string;
  target: RequestTarget;
  headers: HeaderSource;
  cred: CredentialScope;
  /** `yyyymmddThhmmssZ` as signed. */
  amzDate: string;
  signedHeaders: string[];
  signedSet: Set<string>;
  /** The x-amz-content-sha256 value the signer used (trimmed). */
  payloadValue: string;
  signature: string;
  presigned: boolean;
}

/** Checks a parsed V4 request (header or presigned) through to its signature. */
export function verifySigned(r: SignedRequest, lookupSecret: (accessKey: string) => string | undefined): AuthResult {
  const { mode, expectedSha256 } = payloadModeOf(r.payloadValue);
  const decodedContentLength = decodedLength(r.headers, mode);
  const secret = secretOf(lookupSecret, r.cred.accessKey);
  checkAllAmzHeadersSigned(r.headers, r.signedSet);
  const getter = (name: string) => r.headers.get(name);
  // A presigned URL's signature is not part of what it signs.
  const creq = canonicalRequest(r.method, r.target.path, r.target.parts, getter, r.signedHeaders, r.payloadValue, r.presigned ? "X-Amz-Signature" : undefined);
  return signedResult(r.cred, secret, r.amzDate, creq, r.signature, { payload: mode, expectedSha256, decodedContentLength, presigned: r.presigned });
}

function payloadModeOf(value: string): { mode: PayloadMode; expectedSha256?: string } {
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return { mode: "unsigned" };
    case STREAMING_SIGNED:
      return { mode: "streaming-signed" };
    case STREAMING_SIGNED_TRAILER:
      return { mode: "streaming-signed-trailer" };
    case STREAMING_UNSIGNED_TRAILER:
      return { mode: "streaming-unsigned-trailer" };
  }
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { mode: "signed", expectedSha256: value.toLowerCase() };
  throw new S3Error("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.", {
    ArgumentName: "x-amz-content-sha256",
    ArgumentValue: value,
  });
}

function decodedLength(headers: HeaderSource, mode: PayloadMode): number | undefined {
  if (!mode.startsWith("streaming-")) return undefined;
  const raw = headers.get("x-amz-decoded-content-length");
  if (raw === null) {
    // AWS: "For all requests, you must include the x-amz-decoded-content-length header". The JS SDK
    // omits it for unsigned-trailer bodies of unknown length, so only the signed forms demand it.
    if (mode === "streaming-unsigned-trailer") return undefined;
    throw new S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
  if (!/^\d{1,16}$/.test(raw.trim())) {
    throw new S3Error("InvalidArgument", "x-amz-decoded-content-length is not a valid integer.", {
      ArgumentName: "x-amz-decoded-content-length",
      ArgumentValue: raw,
    });
  }
  return Number(raw.trim());
}

/** S3 refuses x-amz-* headers that ride along unsigned, so they cannot be injected in transit. */
function checkAllAmzHeadersSigned(headers: HeaderSource, signed: Set<string>): void {
  if (typeof headers.forEach !== "function") return;
  const unsigned: string[] = [];
  headers.forEach((_value, key) => {
    const k = key.toLowerCase();
    if (k.startsWith("x-amz-") && !signed.has(k)) unsigned.push(k);
  });
  if (unsigned.length > 0) {
    throw new S3Error("AccessDenied", "There were headers present in the request which were not signed", {
      HeadersNotSigned: unsigned.join(", "),
    });
  }
}

export function mismatch(accessKey: string, sts: string, given: string, creq?: string): S3Error {
  // S3 echoes what it signed (and the signature it was sent) so clients can debug
  // canonicalisation; none of it is secret.
  return new S3Error("SignatureDoesNotMatch", undefined, {
    AWSAccessKeyId: accessKey,
    StringToSign: sts,
    SignatureProvided: given,
    ...(creq !== undefined ? { CanonicalRequest: wireText(creq) } : {}),
  });
}



/** Checks `given` against the signature of `creq`; the result seeds chunk-signature chaining. */
function signedResult(
  cred: { accessKey: string; date: string; region: string; service: string; terminator: string },
  secret: string,
  amzDate: string,
  creq: string,
  given: string,
  payload: { payload: PayloadMode; expectedSha256?: string; decodedContentLength?: number; presigned: boolean },
): AuthResult {
  const scope = `${cred.date}/${cred.region}/${cred.service}/${cred.terminator}`;
  const sts = stringToSign(amzDate, scope, creq);
  const signingKey = deriveSigningKey(secret, cred.date, cred.region, cred.service);
  const expected = hmacHex(signingKey, sts);
  if (!signaturesEqual(expected, given)) throw mismatch(cred.accessKey, sts, given, creq);
  return {
    accessKey: cred.accessKey,
    payload: payload.payload,
    ...(payload.expectedSha256 !== undefined ? { expectedSha256: payload.expectedSha256 } : {}),
    seedSignature: expected,
    signingKey,
    scope,
    amzDate,
    ...(payload.decodedContentLength !== undefined ? { decodedContentLength: payload.decodedContentLength } : {}),
    presigned: payload.presigned,
  };
}

