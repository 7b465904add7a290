// The steps header and presigned Signature V4 auth end in alike: what the payload hash declares,
// the decoded length of a streaming body, the secret, no unsigned x-amz-* header, and the
// signature over the canonical request. The result seeds aws-chunked chunk signatures.
import { S3Error } from "../errors.ts";
import type { RequestTarget } from "../http/request-target.ts";
import { canonicalHeaders, canonicalRequest, stringToSign, wireText } from "./canonical.ts";
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
  signedSet: ReadonlySet<string>;
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
  const payload = { payload: mode, expectedSha256, decodedContentLength, presigned: r.presigned };
  let memoKey: string | undefined;
  if (r.presigned) {
    // Everything the canonical request is made of: the URL as sent (its query holds the date,
    // scope, lifetime, signed-header list and the signature) and the signed headers' values.
    memoKey = `${r.method} ${r.target.path}?${r.target.rawQuery}\n${canonicalHeaders(getter, r.signedHeaders)}${r.payloadValue}`;
    const hit = presignedMemo.get(memoKey);
    if (hit !== undefined && hit.secret === secret && signaturesEqual(hit.expected, r.signature)) return resultOf(r.cred, r.amzDate, hit.expected, payload, secret);
  }
  // A presigned URL's signature is not part of what it signs.
  const creq = canonicalRequest(r.method, r.target.path, r.target.parts, getter, r.signedHeaders, r.payloadValue, r.presigned ? "X-Amz-Signature" : undefined, r.target.rawQuery);
  const result = signedResult(r.cred, secret, r.amzDate, creq, r.signature, payload);
  if (memoKey !== undefined) {
    if (presignedMemo.size >= PRESIGNED_MEMO_MAX) presignedMemo.delete(presignedMemo.keys().next().value as string);
    presignedMemo.set(memoKey, { secret, expected: result.seedSignature });
  }
  return result;
}

/**
 * Presigned URLs are fetched again and again exactly as they are (a shared download link, the
 * segments of a video, a CDN filling its cache): the signature of a URL that verified is kept,
 * keyed by everything it signs, so the same URL with the same secret skips the canonical request
 * and the HMACs. Lifetime, date and scope are still checked on every request (before this), a
 * changed secret misses, and only URLs that verified are kept. Header-signed requests carry a
 * fresh date (and SDKs a fresh invocation id) each time, so they are never looked up.
 */
const PRESIGNED_MEMO_MAX = 512;
const presignedMemo = new Map<string, { secret: string; expected: string }>();

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
function checkAllAmzHeadersSigned(headers: HeaderSource, signed: ReadonlySet<string>): void {
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
  const scope = scopeOf(cred);
  const sts = stringToSign(amzDate, scope, creq);
  const signingKey = deriveSigningKey(secret, cred.date, cred.region, cred.service);
  const expected = hmacHex(signingKey, sts);
  if (!signaturesEqual(expected, given)) throw mismatch(cred.accessKey, sts, given, creq);
  return resultOf(cred, amzDate, expected, payload, secret);
}

type Scoped = { accessKey: string; date: string; region: string; service: string; terminator: string };
type PayloadFacts = { payload: PayloadMode; expectedSha256?: string; decodedContentLength?: number; presigned: boolean };

const scopeOf = (cred: Scoped) => `${cred.date}/${cred.region}/${cred.service}/${cred.terminator}`;

/** The result of a verified signature `expected`; aws-chunked chunk signatures chain from it. */
function resultOf(cred: Scoped, amzDate: string, expected: string, payload: PayloadFacts, secret: string): AuthResult {
  const result: AuthResult = {
    accessKey: cred.accessKey,
    payload: payload.payload,
    seedSignature: expected,
    signingKey: deriveSigningKey(secret, cred.date, cred.region, cred.service),
    scope: scopeOf(cred),
    amzDate,
    presigned: payload.presigned,
  };
  if (payload.expectedSha256 !== undefined) result.expectedSha256 = payload.expectedSha256;
  if (payload.decodedContentLength !== undefined) result.decodedContentLength = payload.decodedContentLength;
  return result;
}

