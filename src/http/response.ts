// Response helpers shared by every route: request ids, XML bodies, and the one place where an
// error becomes S3's <Error> document.
import { randomBytes } from "node:crypto";
import { S3Error, toS3Error } from "../errors.ts";
import { renderXml } from "../xml/index.ts";

// A random per-process prefix plus a counter: unique across processes, no allocation-heavy RNG
// call per request.
const processTag = randomBytes(3).toString("hex").toUpperCase();
const hostId = randomBytes(24).toString("base64");
let counter = 0;

export function nextRequestId(): string {
  counter = (counter + 1) % 0x10000000000;
  return processTag + counter.toString(16).toUpperCase().padStart(10, "0");
}

export function requestIdHeaders(requestId: string): Record<string, string> {
  return { "x-amz-request-id": requestId, "x-amz-id-2": hostId };
}

/**
 * A time as S3 writes it in XML: ISO 8601 in whole seconds (`.000Z`). HTTP dates (Last-Modified)
 * carry only seconds, and sync tools compare a listing's time with the one GET gave them; a
 * listing with milliseconds made every file look changed.
 */
export function s3Time(at: Date | number): string {
  const ms = typeof at === "number" ? at : at.getTime();
  return new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

export function xmlResponse(root: string, body: Record<string, unknown>, status = 200, headers: Record<string, string> = {}): Response {
  return xmlTextResponse(renderXml(root, body), status, headers);
}

/** A rendered XML document as a response. An explicit length lets the access log and metrics
 * count the bytes sent. */
export function xmlTextResponse(xml: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(xml, {
    status,
    headers: { "content-type": "application/xml", "content-length": String(Buffer.byteLength(xml)), ...headers },
  });
}

/** Any thrown value as an S3Error (see toS3Error); logging is reportFailure's job. */
export function asS3Error(err: unknown): S3Error {
  return toS3Error(err);
}

/** What a cause looks like in the log: the stack when there is one (errno errors have none worth
 * more than their message, which names the path and syscall). */
function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.stack ?? `${cause.name}: ${cause.message}`;
  return String(cause);
}

/**
 * Logs a server-side failure once, with its cause: every 5xx except 501 (an operation filegate
 * does not implement) and a SlowDown without a cause (the --max-requests gate, counted in
 * metrics). 500s keep the words "internal error" so log scans find them.
 */
export function reportFailure(e: S3Error, requestId: string, log?: (msg: string) => void): void {
  if (!log || e.status < 500 || e.code === "NotImplemented" || (e.code === "SlowDown" && e.cause === undefined)) return;
  const what = e.code === "InternalError" ? "internal error" : `${e.status} ${e.code}`;
  const cause = e.cause === undefined ? `(no cause) ${e.stack ?? e.message}` : describeCause(e.cause);
  log(`request ${requestId}: ${what}: ${e.message} | cause: ${cause}`);
}

// Characters XML 1.0 cannot carry even as references. Keys may hold them (listings write them raw,
// as S3 does, for encoding-type=url to fix); an error document must stay parseable for its code.
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g;
const xmlSafe = (s: string) => s.replace(NOT_XML, "\ufffd");

/** The one rendering of S3's <Error> document. */
export function errorXml(e: S3Error, resource: string, requestId: string): string {
  const extra = Object.fromEntries(Object.entries(e.extra).map(([k, v]) => [k, xmlSafe(v)]));
  return renderXml("Error", { Code: e.code, Message: xmlSafe(e.message), ...extra, Resource: xmlSafe(resource), RequestId: requestId, HostId: hostId }, null);
}

/** The error answer; the caller has reported the failure (reportFailure) if it needed to be. */
export function errorResponse(err: unknown, resource: string, requestId: string, method: string): Response {
  const e = asS3Error(err);
  const headers: Record<string, string> = { ...e.headers, ...requestIdHeaders(requestId), "content-type": "application/xml" };
  if (e.status === 304 || method === "HEAD") {
    return new Response(null, { status: e.status, headers });
  }
  const xml = errorXml(e, resource, requestId);
  headers["content-length"] = String(Buffer.byteLength(xml));
  return new Response(xml, { status: e.status, headers });
}
