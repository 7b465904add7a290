// Signature V4 in the Authorization header: `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=...`, dated by x-amz-date (or Date), within the clock skew S3 allows.
import { S3Error } from "../errors.ts";
import type { RequestTarget } from "../http/request-target.ts";
import { checkScope, formatAmzDate, parseAmzDate, parseHttpDate, splitCredential, type CredentialScope } from "./scope.ts";
import { verifySigned } from "./signed-tail.ts";
import { ALGORITHM, MAX_SKEW_MS, SIGV2_MESSAGE, type AuthResult, type HeaderSource, type VerifyOptions } from "./types.ts";

export interface ParsedAuthorization extends CredentialScope {
  signedHeaders: string[];
  signature: string;
}

/** What an Authorization header says besides its signature, and the signed-header set. */
type AuthorizationShape = Omit<ParsedAuthorization, "signature"> & { signedSet: ReadonlySet<string> };

// A client sends the same `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, ` before a new
// Signature on every request: that part is parsed once and kept (bounded, oldest out).
const SHAPE_CACHE_MAX = 256;
const shapes = new Map<string, AuthorizationShape>();
const SIGNATURE_FIELD = "Signature=";
const HEX64 = /^[0-9a-fA-F]{64}$/;

/**
 * The header parsed, from the cache when only its signature is new. The cached path is taken
 * only when the header ends in `, Signature=<64 hex digits>`, where it gives exactly what the
 * full parse gives.
 */
function parseCached(value: string): ParsedAuthorization & { signedSet: ReadonlySet<string> } {
  const at = value.lastIndexOf(SIGNATURE_FIELD);
  const signature = at < 0 ? "" : value.slice(at + SIGNATURE_FIELD.length).trim();
  const prefix = at < 0 ? "" : value.slice(0, at);
  if (!HEX64.test(signature) || !/,\s*$/.test(prefix)) {
    const full = parseAuthorizationHeader(value);
    return { ...full, signedSet: new Set(full.signedHeaders) };
  }
  let shape = shapes.get(prefix);
  if (shape === undefined) {
    const { signature: _, ...rest } = parseAuthorizationHeader(value);
    shape = { ...rest, signedSet: new Set(rest.signedHeaders) };
    if (shapes.size >= SHAPE_CACHE_MAX) shapes.delete(shapes.keys().next().value as string);
    shapes.set(prefix, shape);
  }
  return { ...shape, signature: signature.toLowerCase() };
}

export function parseAuthorizationHeader(value: string): ParsedAuthorization {
  const v = value.trim();
  if (v.startsWith("AWS ")) throw new S3Error("InvalidRequest", SIGV2_MESSAGE);
  const sp = v.indexOf(" ");
  const algorithm = sp === -1 ? v : v.slice(0, sp);
  if (algorithm !== ALGORITHM) {
    if (algorithm.startsWith("AWS4-")) {
      throw new S3Error("AuthorizationHeaderMalformed", `The authorization header is malformed; the algorithm '${algorithm}' is not supported.`);
    }
    // Not an AWS scheme at all (Bearer, Basic, empty): S3's answer names the header.
    throw new S3Error("InvalidArgument", "Unsupported Authorization Type", { ArgumentName: "Authorization", ArgumentValue: value });
  }
  const fields = new Map<string, string>();
  for (const piece of v.slice(sp + 1).split(",")) {
    const p = piece.trim();
    if (p === "") continue;
    const eq = p.indexOf("=");
    if (eq <= 0) throw new S3Error("AuthorizationHeaderMalformed", `The authorization header is malformed; the authorization component "${p}" is malformed.`);
    fields.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (credential === undefined) throw new S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; the Credential is missing.");
  if (signedHeaders === undefined) throw new S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; the SignedHeaders is missing.");
  if (signature === undefined) throw new S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; the Signature is missing.");
  const cred = splitCredential(credential);
  if (!cred) throw new S3Error("AuthorizationHeaderMalformed", `The authorization header is malformed; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) throw new S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; the Signature is malformed.");
  const list = signedHeaders.split(";").map((h) => h.trim().toLowerCase());
  if (list.some((h) => h === "")) throw new S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; the SignedHeaders is malformed.");
  return { ...cred, signedHeaders: list, signature: signature.toLowerCase() };
}

export function verifyHeaderAuth(method: string, target: RequestTarget, headers: HeaderSource, authorization: string, opts: VerifyOptions): AuthResult {
  const auth = parseCached(authorization);

  let amzDate: string;
  let requestTime: Date;
  const xAmzDate = headers.get("x-amz-date");
  if (xAmzDate !== null) {
    const d = parseAmzDate(xAmzDate.trim());
    if (!d) throw new S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
    requestTime = d;
    amzDate = xAmzDate.trim();
  } else {
    // botocore replaces x-amz-date by Date when the caller set Date; the string to sign then
    // carries that same instant in ISO 8601 basic form.
    const dateHeader = headers.get("date");
    const d = dateHeader === null ? null : parseHttpDate(dateHeader);
    if (!d) throw new S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
    requestTime = d;
    amzDate = formatAmzDate(d);
  }

  const skew = Math.abs(opts.now.getTime() - requestTime.getTime());
  if (skew > MAX_SKEW_MS) {
    throw new S3Error("RequestTimeTooSkewed", undefined, {
      RequestTime: xAmzDate ?? headers.get("date") ?? "",
      ServerTime: opts.now.toISOString(),
      MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
    });
  }

  checkScope(auth, amzDate, opts, "AuthorizationHeaderMalformed");
  const signedSet = auth.signedSet;
  if (!signedSet.has("host")) {
    throw new S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; the SignedHeaders must include 'host'.");
  }

  const contentSha = headers.get("x-amz-content-sha256");
  if (contentSha === null) throw new S3Error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  const payloadValue = contentSha.trim();
  return verifySigned(
    { method, target, headers, cred: auth, amzDate, signedHeaders: auth.signedHeaders, signedSet, payloadValue, signature: auth.signature, presigned: false },
    opts.lookupSecret,
  );
}
