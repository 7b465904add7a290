// AWS Signature Version 4 verification as S3 performs it: single-chunk header auth, presigned
// (query) auth, and the seed for aws-chunked streaming bodies (see ./chunked.ts).
//
// Everything except verifyRequest is a pure function so the canonicalisation can be checked
// against AWS's published vectors in isolation.

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { S3Error } from "../errors.ts";
import { verifyV2 } from "./sigv2.ts";

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
  headers: HeaderSource;
}

export interface VerifyOptions {
  lookupSecret(accessKey: string): string | undefined;
  now: Date;
  region: string;
  /** Accept Signature Version 2 (./sigv2.ts); refused with S3's V4-only answer otherwise. */
  sigv2?: boolean;
  /** The bucket when the Host header named it (virtual-hosted style); V2 signs it. */
  hostBucket?: string | null;
}

// ---------------------------------------------------------------------------------------------
// Encoding

const HEX_UPPER = "0123456789ABCDEF";
const UNRESERVED = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~") {
  UNRESERVED[c.charCodeAt(0)] = 1;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Percent-decodes to raw bytes rather than a JS string so that invalid UTF-8 and stray `%`
 * survive unchanged into the re-encoding (decodeURIComponent would throw on both).
 */
export function percentDecodeBytes(s: string, plusIsSpace: boolean): Buffer {
  // Fast path: nothing to decode.
  if (s.indexOf("%") === -1 && (!plusIsSpace || s.indexOf("+") === -1)) return Buffer.from(s, "utf8");
  const out: number[] = [];
  let pendingStart = 0;
  const flush = (end: number) => {
    if (end > pendingStart) for (const b of Buffer.from(s.slice(pendingStart, end), "utf8")) out.push(b);
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < s.length && hexVal(s.charCodeAt(i + 1)) >= 0 && hexVal(s.charCodeAt(i + 2)) >= 0) {
      flush(i);
      out.push(hexVal(s.charCodeAt(i + 1)) * 16 + hexVal(s.charCodeAt(i + 2)));
      i += 2;
      pendingStart = i + 1;
    } else if (c === 43 /* + */ && plusIsSpace) {
      flush(i);
      out.push(32);
      pendingStart = i + 1;
    }
  }
  flush(s.length);
  return Buffer.from(out);
}

/** RFC 3986 encoding of bytes: unreserved characters literal, everything else %XX (uppercase). */
export function encodeRfc3986Bytes(bytes: Uint8Array, keepSlash = false): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (UNRESERVED[b] === 1 || (keepSlash && b === 47)) out += String.fromCharCode(b);
    else out += "%" + HEX_UPPER[b >> 4] + HEX_UPPER[b & 15];
  }
  return out;
}

// Most components clients send are already canonical (unreserved characters, uppercase escapes of
// reserved bytes); decoding and re-encoding those through Buffers was a third of a small GET.
const CANONICAL = /^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/;
const ESCAPED_UNRESERVED = /%(?:2[DE]|3[0-9]|4[1-9A-F]|5[0-9AF]|6[1-9A-F]|7[0-9AE])/;

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
  const segments = rawPath.split("/");
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (seg !== "") segments[i] = canonicalComponent(seg, false);
  }
  const path = segments.join("/");
  return path.startsWith("/") ? path : "/" + path;
}

export interface QueryParam {
  key: string;
  value: string;
}

/**
 * Splits a raw query into decoded params. `+` decodes to a space: SDKs never put a bare `+` in a
 * query (they send %2B and %20), form-style encoders (Go's url.Values, Python's urlencode) do mean
 * space by it, and S3 itself treats a query `+` as a space — so signatures from both kinds of
 * client match only if we do the same.
 */
/** A query component as text; plain ones (the usual case) are returned as they are. */
function decodeComponent(s: string): string {
  if (s.indexOf("%") === -1 && s.indexOf("+") === -1) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    // invalid UTF-8 or a stray '%': decode byte by byte, keeping what cannot be decoded
    return percentDecodeBytes(s, true).toString("utf8");
  }
}

export function parseQuery(rawQuery: string): QueryParam[] {
  const out: QueryParam[] = [];
  if (rawQuery.startsWith("?")) rawQuery = rawQuery.slice(1);
  if (rawQuery === "") return out;
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const k = eq === -1 ? part : part.slice(0, eq);
    const v = eq === -1 ? "" : part.slice(eq + 1);
    out.push({ key: decodeComponent(k), value: decodeComponent(v) });
  }
  return out;
}

/** The canonical query string; `exclude` names a parameter left out (X-Amz-Signature when presigned). */
export function canonicalQuery(rawQuery: string, exclude?: string): string {
  if (rawQuery.startsWith("?")) rawQuery = rawQuery.slice(1);
  if (rawQuery === "") return "";
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rk = eq === -1 ? part : part.slice(0, eq);
    const rv = eq === -1 ? "" : part.slice(eq + 1);
    if (exclude !== undefined && (rk.indexOf("%") < 0 && rk.indexOf("+") < 0 ? rk : percentDecodeBytes(rk, true).toString("utf8")) === exclude) continue;
    pairs.push([canonicalComponent(rk, true), canonicalComponent(rv, true)]);
  }
  // Encoded strings are pure ASCII, so code-unit order is byte order, which is what AWS sorts by.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => k + "=" + v).join("&");
}

export function canonicalHeaderValue(value: string): string {
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
  rawQuery: string,
  headersGetter: (name: string) => string | null,
  signedHeaders: string[],
  payloadHash: string,
  excludeQuery?: string,
): string {
  return [
    method.toUpperCase(),
    canonicalUri(rawPath),
    canonicalQuery(rawQuery, excludeQuery),
    canonicalHeaders(headersGetter, signedHeaders),
    signedHeaders.map((h) => h.toLowerCase()).join(";"),
    payloadHash,
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Crypto

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function hmac(key: string | Uint8Array, data: string | Uint8Array): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

export function hmacHex(key: string | Uint8Array, data: string | Uint8Array): string {
  return createHmac("sha256", key).update(data).digest("hex");
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
function wireText(text: string): string {
  const bytes = wireBytes(text);
  return typeof bytes === "string" ? bytes : bytes.toString("utf8");
}

export function stringToSign(amzDate: string, scope: string, canonicalRequestText: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(wireBytes(canonicalRequestText))}`;
}

// Deriving a key costs four HMACs; a handful of active (secret, day) pairs covers real traffic.
const KEY_CACHE_MAX = 64;
const keyCache = new Map<string, Buffer>();

export function deriveSigningKey(secret: string, yyyymmdd: string, region: string, service: string): Buffer {
  const cacheKey = `${yyyymmdd}\0${region}\0${service}\0${secret}`;
  const hit = keyCache.get(cacheKey);
  if (hit) return hit;
  const kDate = hmac("AWS4" + secret, yyyymmdd);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  const key = hmac(kService, "aws4_request");
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value as string);
  keyCache.set(cacheKey, key);
  return key;
}

/** Constant-time comparison of two hex signatures (case-insensitive on the client side). */
export function signaturesEqual(expectedHex: string, givenHex: string): boolean {
  const a = Buffer.from(expectedHex, "latin1");
  const b = Buffer.from(givenHex.toLowerCase(), "latin1");
  // timingSafeEqual needs equal lengths; compare against itself to keep the timing flat.
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface ParsedAuthorization {
  accessKey: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

export const SIGV2_MESSAGE = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.";

function splitCredential(credential: string): Omit<ParsedAuthorization, "signedHeaders" | "signature"> | null {
  const parts = credential.split("/");
  if (parts.length < 5) return null;
  // Access keys never contain '/', but the scope is always the last four parts, so take it from the end.
  const [date, region, service, terminator] = parts.slice(-4);
  const accessKey = parts.slice(0, -4).join("/");
  if (accessKey === "") return null;
  return { accessKey, date, region, service, terminator };
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

const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses `yyyymmddThhmmssZ`; null when malformed or not a real calendar time. */
export function parseAmzDate(s: string): Date | null {
  const m = AMZ_DATE_RE.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const date = new Date(t);
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return null;
  return date;
}

export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

/** Parses an HTTP date (RFC 1123; Date.parse also accepts the obsolete forms). */
function parseHttpDate(s: string): Date | null {
  const t = Date.parse(s);
  if (Number.isNaN(t)) return null;
  return new Date(t);
}

/** Splits a request URL (absolute or origin-form) into its raw path and raw query without normalising. */
export function splitRawUrl(url: string): { path: string; query: string } {
  let rest = url;
  const hash = rest.indexOf("#");
  if (hash !== -1) rest = rest.slice(0, hash);
  if (!rest.startsWith("/")) {
    // Absolute form: drop scheme and authority, keep the rest byte for byte.
    const scheme = rest.indexOf("://");
    if (scheme !== -1) {
      const authorityStart = scheme + 3;
      let end = rest.length;
      for (const sep of ["/", "?"]) {
        const i = rest.indexOf(sep, authorityStart);
        if (i !== -1 && i < end) end = i;
      }
      rest = rest.slice(end);
    }
  }
  const q = rest.indexOf("?");
  const path = q === -1 ? rest : rest.slice(0, q);
  const query = q === -1 ? "" : rest.slice(q + 1);
  return { path: path === "" ? "/" : path, query };
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

function checkScope(
  cred: { date: string; region: string; service: string; terminator: string },
  requestDate: string,
  opts: { region: string },
  code: "AuthorizationHeaderMalformed" | "AuthorizationQueryParametersError",
): void {
  const prefix = code === "AuthorizationHeaderMalformed" ? "The authorization header is malformed" : "Error parsing the X-Amz-Credential parameter";
  if (!/^\d{8}$/.test(cred.date) || cred.date !== requestDate.slice(0, 8)) {
    throw new S3Error(code, `${prefix}; incorrect date format '${cred.date}'. This date in the credential must be in the format "yyyyMMdd" and match the request date '${requestDate.slice(0, 8)}'.`);
  }
  if (cred.region !== opts.region) {
    throw new S3Error(code, `${prefix}; the region '${cred.region}' is wrong; expecting '${opts.region}'`, { Region: opts.region });
  }
  if (cred.service !== "s3") {
    throw new S3Error(code, `${prefix}; incorrect service '${cred.service}'. This endpoint belongs to 's3'.`);
  }
  if (cred.terminator !== "aws4_request") {
    throw new S3Error(code, `${prefix}; incorrect terminal '${cred.terminator}'. This endpoint uses 'aws4_request'.`);
  }
}

/** An X-Amz-Credential given as a parameter (presigned URL, POST form), checked against the date. */
function credentialParameter(credential: string, amzDate: string, opts: { region: string }) {
  const cred = splitCredential(credential);
  if (!cred) {
    throw new S3Error("AuthorizationQueryParametersError", `Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  }
  checkScope(cred, amzDate, opts, "AuthorizationQueryParametersError");
  return cred;
}

// ---------------------------------------------------------------------------------------------
// Verification

function getQueryValue(params: QueryParam[], key: string, anyCase = false): string | undefined {
  const lower = key.toLowerCase();
  for (const p of params) if (p.key === key || (anyCase && p.key.toLowerCase() === lower)) return p.value;
  return undefined;
}

export function verifyRequest(req: VerifiableRequest, opts: VerifyOptions): AuthResult {
  const { path, query } = splitRawUrl(req.url);
  const params = parseQuery(query);
  const authorization = req.headers.get("authorization");
  const hasQueryAuth = params.some((p) => p.key === "X-Amz-Algorithm" || p.key === "X-Amz-Credential");
  const hasV2QueryAuth = params.some((p) => p.key === "AWSAccessKeyId") && params.some((p) => p.key === "Signature");

  if (authorization !== null && (hasQueryAuth || hasV2QueryAuth)) {
    throw new S3Error("InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified", {
      ArgumentName: "Authorization",
      ArgumentValue: authorization,
    });
  }
  const v2 = () => {
    if (!opts.sigv2) throw new S3Error("InvalidRequest", SIGV2_MESSAGE);
    return verifyV2(req, { lookupSecret: opts.lookupSecret, now: opts.now, hostBucket: opts.hostBucket ?? null });
  };
  if (authorization !== null) return authorization.trimStart().startsWith("AWS ") ? v2() : verifyHeaderAuth(req, path, query, authorization, opts);
  if (hasQueryAuth) return verifyQueryAuth(req, path, query, params, opts);
  if (hasV2QueryAuth) return v2();
  // Anonymous access is not offered.
  throw new S3Error("AccessDenied");
}

function mismatch(accessKey: string, sts: string, given: string, creq?: string): S3Error {
  // S3 echoes what it signed (and the signature it was sent) so clients can debug
  // canonicalisation; none of it is secret.
  return new S3Error("SignatureDoesNotMatch", undefined, {
    AWSAccessKeyId: accessKey,
    StringToSign: sts,
    SignatureProvided: given,
    ...(creq !== undefined ? { CanonicalRequest: wireText(creq) } : {}),
  });
}

function verifyHeaderAuth(req: VerifiableRequest, path: string, query: string, authorization: string, opts: VerifyOptions): AuthResult {
  const auth = parseAuthorizationHeader(authorization);
  const headers = req.headers;

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
  const signedSet = new Set(auth.signedHeaders);
  if (!signedSet.has("host")) {
    throw new S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed; the SignedHeaders must include 'host'.");
  }

  const contentSha = headers.get("x-amz-content-sha256");
  if (contentSha === null) throw new S3Error("InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  const payloadValue = contentSha.trim();
  const { mode, expectedSha256 } = payloadModeOf(payloadValue);
  const decodedContentLength = decodedLength(headers, mode);

  const secret = opts.lookupSecret(auth.accessKey);
  if (secret === undefined) throw new S3Error("InvalidAccessKeyId", undefined, { AWSAccessKeyId: auth.accessKey });

  checkAllAmzHeadersSigned(headers, signedSet);

  const getter = (name: string) => headers.get(name);
  const creq = canonicalRequest(req.method, path, query, getter, auth.signedHeaders, payloadValue);
  return signedResult(auth, secret, amzDate, creq, auth.signature, { payload: mode, expectedSha256, decodedContentLength, presigned: false });
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

const QUERY_PARAMS_MISSING =
  "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";

function verifyQueryAuth(req: VerifiableRequest, path: string, query: string, params: QueryParam[], opts: VerifyOptions): AuthResult {
  const algorithm = getQueryValue(params, "X-Amz-Algorithm");
  const credential = getQueryValue(params, "X-Amz-Credential");
  const amzDate = getQueryValue(params, "X-Amz-Date");
  const expiresRaw = getQueryValue(params, "X-Amz-Expires");
  const signedHeadersRaw = getQueryValue(params, "X-Amz-SignedHeaders");
  const signature = getQueryValue(params, "X-Amz-Signature");
  if (
    algorithm === undefined || credential === undefined || amzDate === undefined ||
    expiresRaw === undefined || signedHeadersRaw === undefined || signature === undefined
  ) {
    throw new S3Error("AuthorizationQueryParametersError", QUERY_PARAMS_MISSING);
  }
  if (algorithm !== ALGORITHM) {
    throw new S3Error("AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
  }
  const requestTime = parseAmzDate(amzDate);
  if (!requestTime) {
    throw new S3Error("AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  }
  if (!/^-?\d+$/.test(expiresRaw)) {
    throw new S3Error("AuthorizationQueryParametersError", "X-Amz-Expires should be a number");
  }
  const expires = Number(expiresRaw);
  // A lifetime S3 will not grant is refused as access, not as a malformed request: Ceph's
  // s3-tests, written against AWS, expect 403 for a negative and an over-a-week X-Amz-Expires (a
  // zero one has simply expired, below). The messages are AWS's own wording.
  if (expires < 0) throw new S3Error("AccessDenied", "X-Amz-Expires must be non-negative");
  if (expires > MAX_PRESIGN_EXPIRES) {
    throw new S3Error("AccessDenied", "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds");
  }
  const cred = credentialParameter(credential, amzDate, opts);
  const signedHeaders = signedHeadersRaw.split(";").map((h) => h.trim().toLowerCase());
  if (signedHeaders.some((h) => h === "")) {
    throw new S3Error("AuthorizationQueryParametersError", "Error parsing the X-Amz-SignedHeaders parameter.");
  }
  const signedSet = new Set(signedHeaders);
  if (!signedSet.has("host")) {
    throw new S3Error("AuthorizationQueryParametersError", "Query-string authentication requires the host header to be signed.");
  }
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) {
    throw new S3Error("AuthorizationQueryParametersError", "Error parsing the X-Amz-Signature parameter.");
  }

  const nowMs = opts.now.getTime();
  if (requestTime.getTime() - nowMs > MAX_SKEW_MS) {
    throw new S3Error("AccessDenied", "Request is not valid yet", {
      "X-Amz-Date": amzDate,
      ServerTime: opts.now.toISOString(),
    });
  }
  // A zero lifetime has ended even within the second the URL was signed in.
  if (expires === 0 || nowMs > requestTime.getTime() + expires * 1000) {
    throw new S3Error("AccessDenied", "Request has expired", {
      "X-Amz-Expires": String(expires),
      Expires: new Date(requestTime.getTime() + expires * 1000).toISOString(),
      ServerTime: opts.now.toISOString(),
    });
  }

  // A presigner cannot know the body, so the payload is UNSIGNED-PAYLOAD unless the signer
  // hoisted an explicit value into the URL (the JS SDK hoists its header under the lowercase
  // name) or the caller sends one.
  const payloadValue = (getQueryValue(params, "X-Amz-Content-Sha256", true) ?? req.headers.get("x-amz-content-sha256") ?? UNSIGNED_PAYLOAD).trim();
  const { mode, expectedSha256 } = payloadModeOf(payloadValue);
  const decodedContentLength = decodedLength(req.headers, mode);

  const secret = opts.lookupSecret(cred.accessKey);
  if (secret === undefined) throw new S3Error("InvalidAccessKeyId", undefined, { AWSAccessKeyId: cred.accessKey });

  checkAllAmzHeadersSigned(req.headers, signedSet);

  const getter = (name: string) => req.headers.get(name);
  const creq = canonicalRequest(req.method, path, query, getter, signedHeaders, payloadValue, "X-Amz-Signature");
  return signedResult(cred, secret, amzDate, creq, signature, { payload: mode, expectedSha256, decodedContentLength, presigned: true });
}

/**
 * Verifies the SigV4 fields of a browser POST form, whose string to sign is the base64 policy
 * itself (no canonical request). Returns the access key.
 */
export function verifyPostPolicy(
  form: { policy: string; algorithm: string; credential: string; amzDate: string; signature: string },
  opts: Pick<VerifyOptions, "lookupSecret" | "region">,
): string {
  if (form.algorithm !== ALGORITHM) throw new S3Error("InvalidArgument", `Only ${ALGORITHM} is supported.`, { ArgumentName: "x-amz-algorithm" });
  if (!parseAmzDate(form.amzDate)) {
    throw new S3Error("AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  }
  const cred = credentialParameter(form.credential, form.amzDate, opts);
  const secret = opts.lookupSecret(cred.accessKey);
  if (secret === undefined) throw new S3Error("InvalidAccessKeyId", undefined, { AWSAccessKeyId: cred.accessKey });
  const expected = hmacHex(deriveSigningKey(secret, cred.date, cred.region, cred.service), form.policy);
  if (!signaturesEqual(expected, form.signature)) throw mismatch(cred.accessKey, form.policy, form.signature);
  return cred.accessKey;
}
