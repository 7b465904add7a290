// Signature V2 requests: `Authorization: AWS AKID:signature` dated by Date or x-amz-date, or a
// presigned URL (AWSAccessKeyId, Expires, Signature), over the canonical form of ./sigv2.ts.
import { S3Error } from "../errors.ts";
import { parseRequestTarget } from "../http/request-target.ts";
import { secretOf } from "./keys.ts";
import { canonicalResource, headerValue, mismatchV2, parseV2Authorization, signV2, stringToSignV2, v2SignaturesEqual } from "./sigv2.ts";
import { MAX_SKEW_MS, type AuthResult, type HeaderSource, type VerifiableRequest } from "./types.ts";

export interface V2Options {
  lookupSecret(accessKey: string): string | undefined;
  now: Date;
  /** The bucket when it was named by the Host header (virtual-hosted style), else null. */
  hostBucket: string | null;
}

function result(accessKey: string, headers: HeaderSource, presigned: boolean): AuthResult {
  // V2 does not sign the body. An x-amz-content-sha256 hash, when sent, is itself signed (it is an
  // amz header), so the body is still checked against it.
  const sha = headers.get("x-amz-content-sha256")?.trim().toLowerCase();
  const signedBody = sha !== undefined && /^[0-9a-f]{64}$/.test(sha);
  return {
    accessKey,
    payload: signedBody ? "signed" : "unsigned",
    ...(signedBody ? { expectedSha256: sha } : {}),
    seedSignature: "",
    signingKey: new Uint8Array(0),
    scope: "",
    amzDate: "",
    presigned,
  };
}

/**
 * The bucket of a path-style bucket request ("/bucket") is signed as "/bucket" by the document's
 * rule and as "/bucket/" by botocore (it derives the resource from the virtual-hosted form), and
 * S3 takes both: the second spelling is tried only when the first does not match.
 */
function alternateResource(resource: string): string | null {
  const q = resource.indexOf("?");
  const path = q < 0 ? resource : resource.slice(0, q);
  return /^\/[^/]+$/.test(path) ? path + "/" + (q < 0 ? "" : resource.slice(q)) : null;
}

/** Checks `given` against the resource as sent, then its alternate spelling; throws on mismatch. */
function checkSignature(secret: string, accessKey: string, given: string, sts: (resource: string) => string, resource: string): void {
  const primary = sts(resource);
  if (v2SignaturesEqual(signV2(secret, primary), given)) return;
  const alt = alternateResource(resource);
  if (alt !== null && v2SignaturesEqual(signV2(secret, sts(alt)), given)) return;
  throw mismatchV2(accessKey, primary, given);
}

/** Verifies a V2 request: `Authorization: AWS ...` or AWSAccessKeyId/Expires/Signature in the query. */
export function verifyV2(req: VerifiableRequest, opts: V2Options): AuthResult {
  const target = req.target ?? parseRequestTarget(req.url);
  const resource = canonicalResource(target.path, target.parts, opts.hostBucket);
  const authorization = req.headers.get("authorization");

  if (authorization !== null) {
    const auth = parseV2Authorization(authorization);
    if (!auth) throw new S3Error("InvalidArgument", "Authorization header is invalid -- one and only one ' ' (space) required", { ArgumentName: "Authorization", ArgumentValue: authorization });
    const xAmzDate = req.headers.get("x-amz-date");
    const date = req.headers.get("date");
    const when = Date.parse(headerValue(xAmzDate ?? date ?? ""));
    if (Number.isNaN(when)) throw new S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
    if (Math.abs(opts.now.getTime() - when) > MAX_SKEW_MS) {
      throw new S3Error("RequestTimeTooSkewed", undefined, {
        RequestTime: xAmzDate ?? date ?? "",
        ServerTime: opts.now.toISOString(),
        MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS),
      });
    }
    const secret = secretOf(opts.lookupSecret, auth.accessKey);
    const dateField = xAmzDate !== null ? "" : headerValue(date ?? "");
    checkSignature(secret, auth.accessKey, auth.signature, (r) => stringToSignV2(req.method, req.headers, dateField, r), resource);
    return result(auth.accessKey, req.headers, false);
  }

  const get = (k: string) => target.param(k);
  const accessKey = get("AWSAccessKeyId");
  const signature = get("Signature");
  const expires = get("Expires");
  if (accessKey === undefined || signature === undefined || expires === undefined) {
    throw new S3Error("AccessDenied", "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters");
  }
  if (!/^\d{1,12}$/.test(expires)) throw new S3Error("AccessDenied", "Invalid date (should be seconds since epoch): " + expires);
  const expiresMs = Number(expires) * 1000;
  if (opts.now.getTime() > expiresMs) {
    throw new S3Error("AccessDenied", "Request has expired", { Expires: new Date(expiresMs).toISOString(), ServerTime: opts.now.toISOString() });
  }
  const secret = secretOf(opts.lookupSecret, accessKey);
  checkSignature(secret, accessKey, signature, (r) => stringToSignV2(req.method, req.headers, expires, r), resource);
  return result(accessKey, req.headers, true);
}
