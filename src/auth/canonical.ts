// The Signature Version 4 canonical request and string to sign, as pure functions so they can be
// checked against AWS's published vectors in isolation.
import { Buffer } from "node:buffer";
import { encodeRfc3986Bytes, percentDecodeBytes } from "../http/percent-coding.ts";
import { splitQuery, type QueryPart } from "../http/request-target.ts";
import { sha256Hex } from "./keys.ts";
import { ALGORITHM } from "./types.ts";

// Most components clients send are already canonical (unreserved characters, uppercase escapes of
// reserved bytes); decoding and re-encoding those through Buffers was a third of a small GET.
const CANONICAL = /^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/;
const ESCAPED_UNRESERVED = /%(?:2[DE]|3[0-9]|4[1-9A-F]|5[0-9AF]|6[1-9A-F]|7[0-9AE])/;

const CANONICAL_PATH = /^(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*$/;
/** A whole raw query of canonical components (`=` and `&` are checked part by part). */
const CANONICAL_QUERY = /^(?:[A-Za-z0-9\-._~=&]|%[0-9A-F]{2})*$/;

function isCanonical(raw: string): boolean {
  return CANONICAL.test(raw) && (raw.indexOf("%") < 0 || !ESCAPED_UNRESERVED.test(raw));
}

/** One path segment or query component in canonical form. */
function canonicalComponent(raw: string, plusIsSpace: boolean): string {
  return isCanonical(raw) ? raw : encodeRfc3986Bytes(percentDecodeBytes(raw, plusIsSpace));
}

/**
 * The canonical URI for S3: the path exactly as the client addressed it, with no dot-segment or
 * slash normalisation (S3 keys may contain `.`, `..` and `//`), each segment decoded once and
 * re-encoded once. That makes `%20`/` `, `%24`/`$` and `%2B`/`+` equivalent, which is what every
 * SDK signs: they encode the key once and sign that. In a path `+` is a literal plus, never a
 * space, so it canonicalises to %2B.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === "") return "/";
  // The usual case, checked once over the whole path: nothing to decode or re-encode.
  if (rawPath.charCodeAt(0) === 47 && CANONICAL_PATH.test(rawPath) && (rawPath.indexOf("%") < 0 || !ESCAPED_UNRESERVED.test(rawPath))) return rawPath;
  const segments = rawPath.split("/");
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (seg !== "") segments[i] = canonicalComponent(seg, false);
  }
  const path = segments.join("/");
  return path.startsWith("/") ? path : "/" + path;
}

/**
 * The canonical query string, from the raw query or its parts; `exclude` names a parameter left
 * out (X-Amz-Signature when presigned).
 */
export function canonicalQuery(query: string | readonly QueryPart[], exclude?: string, rawQuery?: string): string {
  const parts = typeof query === "string" ? splitQuery(query) : query;
  if (parts.length === 0) return "";
  const raw = typeof query === "string" ? query : rawQuery;
  if (raw !== undefined) {
    const asSent = canonicalAsSent(raw, parts, exclude);
    if (asSent !== null) return asSent;
  }
  const pairs: [string, string][] = [];
  for (const p of parts) {
    if (exclude !== undefined && p.key === exclude) continue;
    pairs.push([canonicalComponent(p.rawKey, true), canonicalComponent(p.rawValue, true)]);
  }
  // Encoded strings are pure ASCII, so code-unit order is byte order, which is what AWS sorts by.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => k + "=" + v).join("&");
}

/**
 * The query as sent when it already is the canonical query (SDK presigners send exactly that:
 * canonical components, sorted, each with its `=`), minus `exclude`; null when it is not.
 * One regular expression over the whole query instead of two per component, and no sort.
 */
function canonicalAsSent(raw: string, parts: readonly QueryPart[], exclude: string | undefined): string | null {
  if (!CANONICAL_QUERY.test(raw) || (raw.indexOf("%") >= 0 && ESCAPED_UNRESERVED.test(raw))) return null;
  let out = "";
  let prevKey = "";
  let prevValue = "";
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    // `?acl` signs as `acl=`, and a second `=` belongs escaped in the value: both rebuild.
    if (!p.hasEquals || p.rawValue.indexOf("=") >= 0) return null;
    if (exclude !== undefined && p.key === exclude) continue;
    if (out !== "" && (p.rawKey < prevKey || (p.rawKey === prevKey && p.rawValue < prevValue))) return null;
    out += (out === "" ? "" : "&") + p.rawKey + "=" + p.rawValue;
    prevKey = p.rawKey;
    prevValue = p.rawValue;
  }
  return out;
}

const NEEDS_TRIM = /[\t]| {2}|^ | $/;

export function canonicalHeaderValue(value: string): string {
  if (!NEEDS_TRIM.test(value)) return value;
  return value.replace(/[ \t]+/g, " ").replace(/^ | $/g, "");
}

/** `name:value\n` per signed header, in the order the client listed them. */
export function canonicalHeaders(get: (name: string) => string | null, signedHeaders: string[]): string {
  let out = "";
  for (const raw of signedHeaders) {
    const name = raw.toLowerCase();
    out += name + ":" + canonicalHeaderValue(get(name) ?? "") + "\n";
  }
  return out;
}

export function canonicalRequest(
  method: string,
  rawPath: string,
  query: string | readonly QueryPart[],
  headersGetter: (name: string) => string | null,
  signedHeaders: string[],
  payloadHash: string,
  excludeQuery?: string,
  rawQuery?: string,
): string {
  return [
    method.toUpperCase(),
    canonicalUri(rawPath),
    canonicalQuery(query, excludeQuery, rawQuery),
    canonicalHeaders(headersGetter, signedHeaders),
    signedHeaders.map((h) => h.toLowerCase()).join(";"),
    payloadHash,
  ].join("\n");
}

/**
 * The canonical request as the bytes the client signed. Everything in it is ASCII except header
 * values, which both runtimes give as Latin-1 (one char per byte received): so the char codes are
 * the bytes as sent, and a UTF-8 value (botocore sends `Hello Worldé` as C3 A9) is hashed as
 * those bytes rather than re-encoded. A char past U+00FF cannot come off the wire; such text
 * (a unit test's) is hashed as UTF-8.
 */
export function wireBytes(text: string): string | Buffer {
  if (!/[^\x00-\x7f]/.test(text)) return text;
  return /[^\x00-\xff]/.test(text) ? Buffer.from(text, "utf8") : Buffer.from(text, "latin1");
}

/** Wire bytes shown as text (in a SignatureDoesNotMatch body), UTF-8 where they are UTF-8. */
export function wireText(text: string): string {
  const bytes = wireBytes(text);
  return typeof bytes === "string" ? bytes : bytes.toString("utf8");
}

export function stringToSign(amzDate: string, scope: string, canonicalRequestText: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(wireBytes(canonicalRequestText))}`;
}
