// AWS Signature Version 2, for the clients that still sign with it (aws cli v1's `s3 presign`,
// `s3cmd --signature-v2` and `s3cmd signurl`, older SDKs and appliances): the `AWS AKID:sig`
// Authorization header, query-string presigned URLs (AWSAccessKeyId, Expires, Signature) and the
// V2 browser POST policy. Written from the S3 REST authentication document ("Signing and
// authenticating REST requests (AWS signature version 2)") and the V2 browser-POST document.
//
//   StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource
//   Signature    = Base64(HMAC-SHA1(secret, UTF-8 StringToSign))
//
// This file is the V2 canonical form and signature, pure functions checked against AWS's published
// examples; ./sigv2-auth.ts verifies requests with it and ./post-policy-auth.ts POST forms.

import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { S3Error } from "../errors.ts";
import { splitQuery, type QueryPart } from "../http/request-target.ts";
import { wireBytes } from "./canonical.ts";
import type { HeaderSource } from "./types.ts";

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

/**
 * CanonicalizedResource: "/bucket" for a virtual-hosted request, then the path exactly as sent
 * (still percent-encoded, as the signer saw it), then the signed sub-resources sorted by name,
 * with their values decoded.
 */
export function canonicalResource(rawPath: string, query: string | readonly QueryPart[], hostBucket: string | null): string {
  // Escapes count with upper-case hex: AWS's own Unicode example sends `pr%c3%a9f%c3%a8re` and
  // its published signature is over `pr%C3%A9f%C3%A8re`.
  const path = (rawPath === "" ? "/" : rawPath).replace(/%[0-9a-fA-F]{2}/g, (e) => e.toUpperCase());
  let resource = (hostBucket !== null ? "/" + hostBucket : "") + path;
  const subs: { key: string; text: string }[] = [];
  for (const p of typeof query === "string" ? splitQuery(query) : query) {
    if (!SIGNED_SUBRESOURCES.has(p.key)) continue;
    // Signed as sent: `?acl` bare, `?acl=` with its '=' (botocore signs what it sends).
    subs.push({ key: p.key, text: p.hasEquals ? `${p.key}=${p.value}` : p.key });
  }
  if (subs.length > 0) {
    // Stable sort by name only: a repeated sub-resource keeps the order it was sent in.
    subs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    resource += "?" + subs.map((s) => s.text).join("&");
  }
  return resource;
}

/** Unfolds and trims a header value as the document asks ("replace folding whitespace with one space"). */
export function headerValue(v: string): string {
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

export function mismatchV2(accessKey: string, sts: string, given: string): S3Error {
  return new S3Error("SignatureDoesNotMatch", undefined, {
    AWSAccessKeyId: accessKey,
    StringToSign: typeof wireBytes(sts) === "string" ? sts : (wireBytes(sts) as Buffer).toString("utf8"),
    SignatureProvided: given,
    StringToSignBytes: [...Buffer.from(wireBytes(sts))].map((b) => b.toString(16).padStart(2, "0")).join(" "),
  });
}

