// The tests' one request signer and the raw transports it feeds, for requests the SDKs cannot be
// made to send (Date header instead of X-Amz-Date, signed aws-chunked bodies, tampered payloads,
// wrong checksums, header bytes node:http refuses). SigV4 and SigV2 are written from AWS's
// documentation, separately from src/auth, so the tests do not check the code against itself.
import { createHash, createHmac } from "node:crypto";
import { request, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import type { Endpoint } from "./clients.ts";
import { ACCESS_KEY, REGION, SECRET_KEY } from "./env.ts";

export const sha256Hex = (d: string | Uint8Array) => createHash("sha256").update(d).digest("hex");
export const md5B64 = (d: string | Uint8Array) => createHash("md5").update(d).digest("base64");
export const md5Hex = (d: string | Uint8Array) => createHash("md5").update(d).digest("hex");
const hmac = (k: string | Buffer, d: string) => createHmac("sha256", k).update(d).digest();
/** SHA-256 of the empty string, hex: the payload hash of a request without a body. */
export const EMPTY_SHA256 = sha256Hex("");
/** RFC 3986 percent-encoding, as SigV4 canonicalises a query component. */
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

/** Percent-encodes a key the way S3 clients put it in a path (slashes kept). */
export function encodeKey(key: string): string {
  return key.split("/").map(enc).join("/");
}

/** A query object as sent on the wire, in its own order (the signer sorts its copy). */
export function queryString(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .join("&");
}

export function amzDate(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

export interface SignedRequest {
  method: string;
  path: string; // already encoded, e.g. /bucket/my%20key
  query?: Record<string, string>;
  headers: Record<string, string>;
  payloadHash: string;
  date?: Date;
  secret?: string;
  /** Put the time in a Date header instead of X-Amz-Date. */
  useDateHeader?: boolean;
  region?: string;
  /** The service in the credential scope: s3 unless the request is for the IAM API. */
  service?: string;
}

export function signingKey(date: string, secret = SECRET_KEY, region = REGION, service = "s3"): Buffer {
  return hmac(hmac(hmac(hmac("AWS4" + secret, date.slice(0, 8)), region), service), "aws4_request");
}

/** Returns headers (with Authorization) and the seed signature. Every header given is signed. */
export function sign(r: SignedRequest): { headers: Record<string, string>; signature: string; amzDate: string; scope: string } {
  const when = r.date ?? new Date();
  const t = amzDate(when);
  const headers: Record<string, string> = { ...r.headers, "x-amz-content-sha256": r.payloadHash };
  if (r.useDateHeader) headers["date"] = when.toUTCString();
  else headers["x-amz-date"] = t;
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const query = Object.entries(r.query ?? {})
    .map(([k, v]) => [enc(k), enc(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonical = [r.method, r.path, query, names.map((n) => `${n}:${String(lower[n]).trim()}\n`).join(""), names.join(";"), r.payloadHash].join("\n");
  const region = r.region ?? REGION;
  const service = r.service ?? "s3";
  const scope = `${t.slice(0, 8)}/${region}/${service}/aws4_request`;
  const sts = ["AWS4-HMAC-SHA256", t, scope, sha256Hex(canonical)].join("\n");
  const signature = createHmac("sha256", signingKey(t, r.secret, region, service)).update(sts).digest("hex");
  headers["authorization"] = `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return { headers, signature, amzDate: t, scope };
}

/** aws-chunked body with chunk signatures chained from `seed` (and optional signed trailer). */
export function signedChunkedBody(data: Buffer, chunkSize: number, seed: string, t: string, scope: string, trailer?: [string, string], tamper = false): Buffer {
  const key = signingKey(t);
  const parts: Buffer[] = [];
  let prev = seed;
  const chunks: Buffer[] = [];
  for (let off = 0; off < data.length; off += chunkSize) chunks.push(data.subarray(off, off + chunkSize));
  chunks.push(Buffer.alloc(0));
  for (const c of chunks) {
    const sts = ["AWS4-HMAC-SHA256-PAYLOAD", t, scope, prev, EMPTY_SHA256, sha256Hex(c)].join("\n");
    const sig = createHmac("sha256", key).update(sts).digest("hex");
    prev = sig;
    const body = tamper && c.length > 0 ? Buffer.from(c.map((b) => b ^ 1)) : c;
    parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), body);
    if (c.length > 0 || !trailer) parts.push(Buffer.from("\r\n"));
  }
  if (trailer) {
    const line = `${trailer[0]}:${trailer[1]}`;
    const sts = ["AWS4-HMAC-SHA256-TRAILER", t, scope, prev, sha256Hex(line + "\n")].join("\n");
    const sig = createHmac("sha256", key).update(sts).digest("hex");
    parts.push(Buffer.from(`${line}\r\nx-amz-trailer-signature:${sig}\r\n\r\n`));
  }
  return Buffer.concat(parts);
}

/** What every raw transport here answers: the body as UTF-8 text and the S3 error code, if any. */
export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
  code: string | null;
}

/** The error code of an S3 error document, null when there is none. */
export function errorCode(xml: string): string | null {
  return /<Code>([^<]+)<\/Code>/.exec(xml)?.[1] ?? null;
}

function rawResponse(status: number, pairs: [string, string][], body: string): RawResponse {
  const headers = new Headers();
  for (const [k, v] of pairs) headers.append(k, v);
  return { status, headers, body, code: errorCode(body) };
}

function headerPairs(res: IncomingMessage): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) out.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
  return out;
}

/** Sends exactly these headers and body (no client-side rewriting), over node:http. */
export function rawRequest(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<RawResponse> {
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (data += d));
      res.on("end", () => ok(rawResponse(res.statusCode ?? 0, headerPairs(res), data)));
    });
    req.on("error", fail);
    req.end(body);
  });
}

/**
 * Writes `lines` (request line and headers, no trailing blank line) and `body` on a fresh socket,
 * byte for byte: for requests node:http will not send (a PUT without Content-Length, an empty
 * Expect, raw non-ASCII header bytes). Reads until the server closes.
 */
export function rawSocket(port: number, lines: string[], body: Buffer | string = ""): Promise<RawResponse> {
  return new Promise((ok, fail) => {
    const sock = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    sock.on("data", (d) => chunks.push(Buffer.from(d)));
    sock.on("error", fail);
    sock.on("end", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const head = text.slice(0, split).split("\r\n");
      const pairs = head.slice(1).map((l): [string, string] => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]);
      ok(rawResponse(Number(head[0].split(" ")[1]), pairs, Buffer.from(text.slice(split + 4), "latin1").toString("utf8")));
    });
    // latin1: each char of a header line is one byte on the wire.
    sock.end(Buffer.concat([Buffer.from([...lines, "connection: close", "", ""].join("\r\n"), "latin1"), typeof body === "string" ? Buffer.from(body, "utf8") : body]));
  });
}

/**
 * A SigV4-signed request sent with fetch. `path` is sent and signed as given (already encoded).
 * The payload hash is the body's unless `headers` carries x-amz-content-sha256.
 */
export async function signedRequest(
  gw: Endpoint,
  opts: { method: string; path: string; query?: Record<string, string>; headers?: Record<string, string>; body?: Uint8Array | string },
): Promise<RawResponse> {
  const url = new URL(gw.endpoint);
  const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? Buffer.from(opts.body) : opts.body;
  const given = { ...(opts.headers ?? {}) };
  const declared = Object.keys(given).find((k) => k.toLowerCase() === "x-amz-content-sha256");
  const payloadHash = declared === undefined ? sha256Hex(body ?? "") : given[declared];
  if (declared !== undefined) delete given[declared];
  const headers: Record<string, string> = { host: url.host, ...given };
  if (body !== undefined) headers["content-length"] = String(body.byteLength);
  const signed = sign({ method: opts.method, path: opts.path, query: opts.query, headers, payloadHash }).headers;
  delete signed.host;
  const qs = queryString(opts.query ?? {});
  const res = await fetch(`${gw.endpoint}${opts.path}${qs ? "?" + qs : ""}`, {
    method: opts.method,
    headers: signed,
    body: body as Uint8Array<ArrayBuffer> | undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text, code: errorCode(text) };
}

// ---------------------------------------------------------------------------------------------
// Signature Version 2, written from AWS's "Signing and authenticating REST requests (AWS signature
// version 2)" separately from src/auth/sigv2.ts.

const V2_SUBRESOURCES = ["acl", "delete", "partNumber", "tagging", "uploadId", "uploads", "versionId", "versioning", "location", "response-content-type", "response-content-disposition"];

/** StringToSign for a path-style request: `target` is the path and query as sent. */
export function v2StringToSign(method: string, target: string, headers: Record<string, string>, dateOrExpires: string): string {
  const [path, query = ""] = target.split("?");
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const amz = Object.keys(lower).filter((k) => k.startsWith("x-amz-")).sort().map((k) => `${k}:${lower[k].trim()}\n`).join("");
  const subs = query
    .split("&")
    .filter((p) => V2_SUBRESOURCES.includes(decodeURIComponent(p.split("=")[0])))
    .map((p) => (p.includes("=") ? `${p.split("=")[0]}=${decodeURIComponent(p.slice(p.indexOf("=") + 1))}` : p))
    .sort((a, b) => (a.split("=")[0] < b.split("=")[0] ? -1 : 1));
  const resource = path + (subs.length ? "?" + subs.join("&") : "");
  return [method, lower["content-md5"] ?? "", lower["content-type"] ?? "", dateOrExpires, amz + resource].join("\n");
}

export const v2Signature = (sts: string, secret = SECRET_KEY) => createHmac("sha1", secret).update(sts, "utf8").digest("base64");

/** Headers with a Date (or, with `amzDate`, an x-amz-date) and `Authorization: AWS AKID:sig`. */
export function signV2(method: string, target: string, headers: Record<string, string>, opts: { amzDate?: boolean; date?: Date; secret?: string } = {}): Record<string, string> {
  const when = (opts.date ?? new Date()).toUTCString();
  const h = { ...headers, ...(opts.amzDate ? { "x-amz-date": when } : { date: when }) };
  const sts = v2StringToSign(method, target, h, opts.amzDate ? "" : when);
  return { ...h, authorization: `AWS ${ACCESS_KEY}:${v2Signature(sts, opts.secret)}` };
}

/** A V2 presigned URL (query-string authentication) for a path-style target. */
export function presignV2(endpoint: string, method: string, target: string, expiresAt: Date): string {
  const expires = String(Math.floor(expiresAt.getTime() / 1000));
  const sig = v2Signature(v2StringToSign(method, target, {}, expires));
  const sep = target.includes("?") ? "&" : "?";
  return `${endpoint}${target}${sep}AWSAccessKeyId=${ACCESS_KEY}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
}
