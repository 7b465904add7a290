// AWS Signature Version 2, for the clients that still sign with it (aws cli v1's `s3 presign`,
// `s3cmd --signature-v2` and `s3cmd signurl`, older SDKs and appliances): the `AWS AKID:sig`
// Authorization header, query-string presigned URLs (AWSAccessKeyId, Expires, Signature) and the
// V2 browser POST policy. Written from the S3 REST authentication document ("Signing and
// authenticating REST requests (AWS signature version 2)") and the V2 browser-POST document.
//
//   StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource
//   Signature    = Base64(HMAC-SHA1(secret, UTF-8 StringToSign))
//
// Everything but verifyV2 is a pure function, checked against AWS's published examples.

import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { S3Error } from "../errors.ts";
import { MAX_SKEW_MS, parseQuery, splitRawUrl, wireBytes, type AuthResult, type HeaderSource, type VerifiableRequest } from "./sigv4.ts";

/**
 * The query parameters V2 signs when present (the "sub-resources"): the document's list, the ones
 * S3 added later that every V2 signer (botocore, s3cmd, the old SDKs) signs, and the response-*
 * overrides of a GET. Any other parameter is not part of the signature.
 */
export const SIGNED_SUBRESOURCES: ReadonlySet<string> = new Set([
  "accelerate", "acl", "analytics", "cors", "delete", "encryption", "intelligent-tiering", "inventory",
  "legal-hold", "lifecycle", "location", "logging", "metrics", "notification", "object-lock",
  "ownershipControls", "partNumber", "policy", "publicAccessBlock", "replication", "requestPayment",
  "restore", "retention", "select", "select-type", "tagging", "torrent", "uploadId", "uploads",
  "versionId", "versioning", "versions", "website",
  "response-cache-control", "response-content-disposition", "response-content-encoding",
  "response-content-language", "response-content-type", "response-expires",
]);

export interface V2Options {
  lookupSecret(accessKey: string): string | undefined;
  now: Date;
  /** The bucket when it was named by the Host header (virtual-hosted style), else null. */
  hostBucket: string | null;
}

/**
 * CanonicalizedResource: "/bucket" for a virtual-hosted request, then the path exactly as sent
 * (still percent-encoded, as the signer saw it), then the signed sub-resources sorted by name,
 * with their values decoded.
 */
export function canonicalResource(rawPath: string, rawQuery: string, hostBucket: string | null): string {
  // Escapes count with upper-case hex: AWS's own Unicode example sends `pr%c3%a9f%c3%a8re` and
  // its published signature is over `pr%C3%A9f%C3%A8re`.
  const path = (rawPath === "" ? "/" : rawPath).replace(/%[0-9a-fA-F]{2}/g, (e) => e.toUpperCase());
  let resource = (hostBucket !== null ? "/" + hostBucket : "") + path;
  const subs: { key: string; text: string }[] = [];
  for (const part of (rawQuery.startsWith("?") ? rawQuery.slice(1) : rawQuery).split("&")) {
    const p = parseQuery(part)[0];
    if (p === undefined || !SIGNED_SUBRESOURCES.has(p.key)) continue;
    // Signed as sent: `?acl` bare, `?acl=` with its '=' (botocore signs what it sends).
    subs.push({ key: p.key, text: part.includes("=") ? `${p.key}=${p.value}` : p.key });
  }
  if (subs.length > 0) {
    // Stable sort by name only: a repeated sub-resource keeps the order it was sent in.
    subs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    resource += "?" + subs.map((s) => s.text).join("&");
  }
  return resource;
}

/** Unfolds and trims a header value as the document asks ("replace folding whitespace with one space"). */
function headerValue(v: string): string {
  return v.replace(/\r?\n[ \t]+/g, " ").trim();
}

/**
 * CanonicalizedAmzHeaders: every x-amz-* header, lower-cased, sorted, `name:value\n`. Repeated
 * headers reach us already joined with ", " by the runtime; the document joins them with ",".
 */
export function canonicalAmzHeaders(headers: HeaderSource): string {
  const amz: [string, string][] = [];
  headers.forEach?.((value, key) => {
    const k = key.toLowerCase();
    if (k.startsWith("x-amz-")) amz.push([k, headerValue(value)]);
  });
  amz.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return amz.map(([k, v]) => `${k}:${v}\n`).join("");
}

/**
 * The string to sign. `dateOrExpires` is the Date header for header auth (empty when x-amz-date
 * is sent: that one is signed among the amz headers instead), the Expires parameter for a
 * presigned URL.
 */
export function stringToSignV2(method: string, headers: HeaderSource, dateOrExpires: string, resource: string): string {
  return [
    method.toUpperCase(),
    headerValue(headers.get("content-md5") ?? ""),
    headerValue(headers.get("content-type") ?? ""),
    dateOrExpires,
    canonicalAmzHeaders(headers) + resource,
  ].join("\n");
}

export function signV2(secret: string, stringToSign: string): string {
  return createHmac("sha1", secret).update(wireBytes(stringToSign)).digest("base64");
}

/** Constant-time comparison of base64 HMAC-SHA1 signatures, as bytes. */
export function v2SignaturesEqual(expectedB64: string, givenB64: string): boolean {
  const a = Buffer.from(expectedB64, "base64");
  const b = /^[A-Za-z0-9+/]*={0,2}$/.test(givenB64) ? Buffer.from(givenB64, "base64") : Buffer.alloc(0);
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** `AWS AKID:signature` → its parts; null when the header is not of that form. */
export function parseV2Authorization(value: string): { accessKey: string; signature: string } | null {
  const m = /^AWS ([^:\s]+):(\S+)$/.exec(value.trim());
  return m ? { accessKey: m[1], signature: m[2] } : null;
}

function mismatch(accessKey: string, sts: string, given: string): S3Error {
  return new S3Error("SignatureDoesNotMatch", undefined, {
    AWSAccessKeyId: accessKey,
    StringToSign: typeof wireBytes(sts) === "string" ? sts : (wireBytes(sts) as Buffer).toString("utf8"),
    SignatureProvided: given,
    StringToSignBytes: [...Buffer.from(wireBytes(sts))].map((b) => b.toString(16).padStart(2, "0")).join(" "),
  });
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

function secretFor(accessKey: string, opts: V2Options): string {
  const secret = opts.lookupSecret(accessKey);
  if (secret === undefined) throw new S3Error("InvalidAccessKeyId", undefined, { AWSAccessKeyId: accessKey });
  return secret;
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
  throw mismatch(accessKey, primary, given);
}

/** Verifies a V2 request: `Authorization: AWS ...` or AWSAccessKeyId/Expires/Signature in the query. */
export function verifyV2(req: VerifiableRequest, opts: V2Options): AuthResult {
  const { path, query } = splitRawUrl(req.url);
  const resource = canonicalResource(path, query, opts.hostBucket);
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
    const secret = secretFor(auth.accessKey, opts);
    const dateField = xAmzDate !== null ? "" : headerValue(date ?? "");
    checkSignature(secret, auth.accessKey, auth.signature, (r) => stringToSignV2(req.method, req.headers, dateField, r), resource);
    return result(auth.accessKey, req.headers, false);
  }

  const params = parseQuery(query);
  const get = (k: string) => params.find((p) => p.key === k)?.value;
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
  const secret = secretFor(accessKey, opts);
  checkSignature(secret, accessKey, signature, (r) => stringToSignV2(req.method, req.headers, expires, r), resource);
  return result(accessKey, req.headers, true);
}

/** Verifies a V2 browser POST form: the signature is HMAC-SHA1 over the base64 policy. */
export function verifyPostPolicyV2(form: { policy: string; accessKey: string; signature: string }, lookupSecret: (accessKey: string) => string | undefined): string {
  const secret = lookupSecret(form.accessKey);
  if (secret === undefined) throw new S3Error("InvalidAccessKeyId", undefined, { AWSAccessKeyId: form.accessKey });
  if (!v2SignaturesEqual(signV2(secret, form.policy), form.signature)) throw mismatch(form.accessKey, form.policy, form.signature);
  return form.accessKey;
}
