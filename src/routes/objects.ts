// Object operations: PUT, GET, HEAD, DELETE (one and many), COPY, ACL and tagging.
import { S3Error, fsError, toS3Error } from "../errors.ts";
import { checksumHeader } from "../checksums/index.ts";
import { etagMatches, evaluateConditions, readConditions, writeConditions } from "../http/conditions.ts";
import { fileResponse } from "../http/file-body.ts";
import { objectBody, readSmallBody, requireBodyDigest } from "../http/request-body.ts";
import { checkHeaderValue, isHeaderName, isHeaderValue } from "../http/header-values.ts";
import { reportFailure, xmlResponse } from "../http/response.ts";
import { contentRange, parseRange } from "../ranges/parse.ts";
import { requireBucket, requireObject, type Handler, type S3Context } from "../s3/context.ts";
import { contentHeaders } from "../s3/content-type.ts";
import { metaValueFromWire, metaValueToWire } from "../s3/meta-value.ts";
import type { OperationName } from "../s3/operations.ts";
import { decodeTags, encodeTags, parseTaggingXml, tagSetXml, tagsFromHeader } from "../s3/tags.ts";
import { asArray, parseXml } from "../xml/index.ts";
import { aclResponse, acceptOwnerOnlyAcl, checkAclHeaders } from "./acl.ts";
import type { ObjectInfo, ObjectMeta, OpenObject } from "../storage/types.ts";

export const OBJECT_CANNED_ACLS = ["private", "bucket-owner-full-control"] as const;

/** Content headers S3 stores with an object and returns on GET/HEAD. */
export const STORED_HEADERS = ["content-type", "content-encoding", "content-disposition", "content-language", "cache-control", "expires"] as const;

const USER_META_PREFIX = "x-amz-meta-";
const MAX_USER_META_BYTES = 2048;

/**
 * The content headers and x-amz-meta-* a write request asks to store. Every value is one a GET can
 * send back (header-values.ts): request headers already are on most paths, but Bun passes DEL and
 * PostObject fields carry anything.
 */
export function storedHeadersFrom(h: Headers): { headers: Record<string, string>; user: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    let v = h.get(name);
    // aws-chunked is the transfer framing of this request, not a property of the object: S3
    // strips it and stores what remains (SDKs send e.g. `gzip,aws-chunked`).
    // Only that token goes: the rest is returned exactly as sent (`deflate, gzip` keeps its space).
    if (v !== null && name === "content-encoding" && /(^|,)\s*aws-chunked\s*(,|$)/i.test(v)) {
      v = v.split(",").filter((s) => s.trim() !== "" && s.trim().toLowerCase() !== "aws-chunked").join(",").trim() || null;
    }
    if (v !== null) headers[name] = checkHeaderValue(name, v);
  }
  const user: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of h) {
    if (!name.startsWith(USER_META_PREFIX)) continue;
    const key = name.slice(USER_META_PREFIX.length);
    user[key] = metaValueFromWire(checkHeaderValue(name, value));
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (bytes > MAX_USER_META_BYTES) throw new S3Error("MetadataTooLarge", undefined, { Size: String(bytes), MaxSizeAllowed: String(MAX_USER_META_BYTES) });
  return { headers, user };
}

/** Request headers that ask for features a plain directory cannot honour: refuse, never fake. */
export function refuseUnsupportedWriteHeaders(h: Headers): void {
  checkAclHeaders(h, OBJECT_CANNED_ACLS);
  const sc = h.get("x-amz-storage-class");
  if (sc !== null && sc !== "STANDARD") throw new S3Error("InvalidStorageClass", `Storage class ${sc} is not supported; objects are stored as STANDARD.`);
  for (const name of ["x-amz-server-side-encryption", "x-amz-server-side-encryption-customer-algorithm", "x-amz-object-lock-mode", "x-amz-object-lock-legal-hold", "x-amz-website-redirect-location"]) {
    if (h.get(name) !== null) throw new S3Error("NotImplemented", `The ${name} header is not supported by filegate.`);
  }
}

function checksumHeaders(meta: ObjectMeta | null): Record<string, string> {
  if (!meta?.checksum) return {};
  return { [checksumHeader(meta.checksum.algorithm)]: meta.checksum.value, "x-amz-checksum-type": meta.checksum.type };
}

const putObject: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const h = ctx.headers;
  refuseUnsupportedWriteHeaders(h);
  const stored = storedHeadersFrom(h);
  const tags = tagsFromHeader(h);
  const ifNoneMatch = h.get("if-none-match")?.trim();
  const info = await ctx.services.store.putObject(bucket, key, objectBody(ctx), {
    ...stored,
    tags,
    ...writeConditions(key, h.get("if-match") ?? undefined, ifNoneMatch),
  });
  return new Response(null, { status: 200, headers: { etag: info.etag, ...checksumHeaders(info.meta) } });
};

// Reads of one object in a row share its Last-Modified text.
let lastDateMs = NaN;
let lastDateText = "";
function httpDate(d: Date): string {
  const ms = d.getTime();
  if (ms !== lastDateMs) {
    lastDateMs = ms;
    lastDateText = d.toUTCString();
  }
  return lastDateText;
}

/** Headers common to GET and HEAD: validators, stored content headers, user metadata. */
function objectHeaders(info: ObjectInfo): Record<string, string> {
  const headers: Record<string, string> = {
    etag: info.etag,
    "last-modified": httpDate(info.lastModified),
    "accept-ranges": "bytes",
  };
  // Records written before values were checked on the way in may hold what no header can carry:
  // such a value is left out rather than failing every GET of the object.
  for (const [k, v] of Object.entries(contentHeaders(info.key, info.meta))) if (isHeaderValue(v)) headers[k] = v;
  const meta = info.meta;
  if (meta) {
    // RFC 2047 encoded-words for anything but printable ASCII, as S3 returns metadata.
    for (const [k, v] of Object.entries(meta.user)) if (isHeaderName(k)) headers[USER_META_PREFIX + k] = metaValueToWire(v);
    const tagCount = decodeTags(meta.tags).length;
    if (tagCount) headers["x-amz-tagging-count"] = String(tagCount);
  }
  return headers;
}

const RESPONSE_OVERRIDES: [string, string][] = [
  ["response-content-type", "content-type"],
  ["response-content-language", "content-language"],
  ["response-expires", "expires"],
  ["response-cache-control", "cache-control"],
  ["response-content-disposition", "content-disposition"],
  ["response-content-encoding", "content-encoding"],
];

/** Byte span of the object a GET/HEAD asks for: whole, a Range, or a part. */
function selectSpan(ctx: S3Context, info: ObjectInfo): { start: number; end: number; partial: boolean } {
  const size = info.size;
  const partRaw = ctx.query.get("partNumber");
  const range = ctx.headers.get("range");
  if (partRaw !== null) {
    if (range !== null) throw new S3Error("InvalidRequest", "Cannot specify both Range header and partNumber query parameter");
    if (!/^\d+$/.test(partRaw) || Number(partRaw) < 1 || Number(partRaw) > 10000) {
      throw new S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive", { ArgumentName: "partNumber", ArgumentValue: partRaw });
    }
    const n = Number(partRaw);
    const parts = info.meta?.parts;
    if (!parts) {
      if (n !== 1) throw new S3Error("InvalidPartNumber");
      // Part 1 of a single-part object is the whole object, answered as a range (206), as S3 does.
      return { start: 0, end: size - 1, partial: size > 0 };
    }
    if (n > parts.length) throw new S3Error("InvalidPartNumber");
    const start = parts.slice(0, n - 1).reduce((a, b) => a + b, 0);
    return { start, end: start + parts[n - 1] - 1, partial: true };
  }
  const r = parseRange(range, size);
  if (r.kind === "unsatisfiable") {
    throw new S3Error("InvalidRange", undefined, { RangeRequested: range ?? "", ActualObjectSize: String(size) }, { "content-range": `bytes */${size}` });
  }
  if (r.kind === "partial") return { start: r.start, end: r.end, partial: true };
  return { start: 0, end: size - 1, partial: false };
}

const getOrHeadObject: Handler = (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const info = ctx.services.store.openObject(bucket, key);
  try {
    return respondWithObject(ctx, info);
  } catch (e) {
    info.close();
    throw e;
  }
};

/** Answers from the open object; the body (when there is one) takes over its descriptor. */
function respondWithObject(ctx: S3Context, info: OpenObject): Response {
  const headers = objectHeaders(info);
  const cond = evaluateConditions(readConditions(ctx.headers), info.etag, info.lastModified);
  if (cond === "precondition-failed") throw new S3Error("PreconditionFailed", undefined, { Condition: ctx.headers.get("if-match") !== null ? "If-Match" : "If-Unmodified-Since" });
  if (cond === "not-modified") {
    info.close();
    return new Response(null, { status: 304, headers: { etag: headers.etag, "last-modified": headers["last-modified"] } });
  }
  const span = selectSpan(ctx, info);
  for (const [param, header] of RESPONSE_OVERRIDES) {
    const v = ctx.query.get(param);
    // An empty override would leave Bun to add its own Content-Type beside the empty one.
    if (v) headers[header] = checkHeaderValue(param, v);
  }
  const length = span.end - span.start + 1;
  headers["content-length"] = String(Math.max(0, length));
  if (span.partial) headers["content-range"] = contentRange(span.start, span.end, info.size);
  const wantChecksum = ctx.headers.get("x-amz-checksum-mode")?.toUpperCase() === "ENABLED";
  // A stored checksum describes the whole object; S3 returns it for whole-object reads, and a
  // part read of a multipart object gets that part's checksum.
  if (wantChecksum && !span.partial) Object.assign(headers, checksumHeaders(info.meta));
  const partNumber = ctx.query.get("partNumber");
  const partSums = info.meta?.partChecksums;
  if (wantChecksum && partNumber !== null && partSums && info.meta?.checksum) {
    headers[checksumHeader(info.meta.checksum.algorithm)] = partSums[Number(partNumber) - 1];
    headers["x-amz-checksum-type"] = info.meta.checksum.type;
  }
  // S3 reports the part count only to part reads of multipart objects.
  if (ctx.query.get("partNumber") !== null && info.meta?.parts) headers["x-amz-mp-parts-count"] = String(info.meta.parts.length);
  const status = span.partial ? 206 : 200;
  if (ctx.request.method === "HEAD" || info.fd === null || length <= 0) {
    info.close();
    return new Response(null, { status, headers });
  }
  return fileResponse(info, span.start, span.end, info.size, status, headers);
}

/**
 * What a conditional delete asks of the object: If-Match (an ETag or `*`), and the modification
 * time and size S3 compares for x-amz-if-match-last-modified-time / x-amz-if-match-size (and the
 * DeleteObjects elements ETag, LastModifiedTime, Size). If-Match on a missing object is NoSuchKey;
 * the time and size alone let a missing object pass, as S3 documents.
 */
interface DeleteConditions {
  etag?: string;
  lastModified?: string;
  size?: string;
}

function deleteCheck(key: string, c: DeleteConditions): ((current: ObjectInfo | null) => void) | undefined {
  if (c.etag === undefined && c.lastModified === undefined && c.size === undefined) return undefined;
  let time: number | undefined;
  if (c.lastModified !== undefined) {
    time = Date.parse(c.lastModified);
    if (Number.isNaN(time)) throw new S3Error("InvalidArgument", "Invalid x-amz-if-match-last-modified-time.", { ArgumentName: "x-amz-if-match-last-modified-time", ArgumentValue: c.lastModified });
  }
  if (c.size !== undefined && !/^\d{1,19}$/.test(c.size.trim())) {
    throw new S3Error("InvalidArgument", "Invalid x-amz-if-match-size.", { ArgumentName: "x-amz-if-match-size", ArgumentValue: c.size });
  }
  return (current) => {
    if (!current) {
      if (c.etag !== undefined) throw new S3Error("NoSuchKey", undefined, { Key: key });
      return;
    }
    const failed = (condition: string) => new S3Error("PreconditionFailed", undefined, { Condition: condition });
    if (c.etag !== undefined && !etagMatches(c.etag, current.etag)) throw failed("If-Match");
    // Times in S3 answers are whole seconds; compare at that precision.
    if (time !== undefined && Math.floor(time / 1000) !== Math.floor(current.lastModified.getTime() / 1000)) throw failed("x-amz-if-match-last-modified-time");
    if (c.size !== undefined && Number(c.size) !== current.size) throw failed("x-amz-if-match-size");
  };
}

const deleteObject: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const h = ctx.headers;
  // The conditions are checked under the key's lock, against what the delete then removes.
  const check = deleteCheck(key, {
    etag: h.get("if-match") ?? undefined,
    lastModified: h.get("x-amz-if-match-last-modified-time") ?? undefined,
    size: h.get("x-amz-if-match-size") ?? undefined,
  });
  await ctx.services.store.deleteObject(bucket, key, check);
  return new Response(null, { status: 204 });
};

const MAX_DELETE_KEYS = 1000;
// 1000 keys of up to 1024 bytes, XML-escaped, fit well within this.
const MAX_DELETE_BODY = 8 * 1024 * 1024;

const deleteObjects: Handler = async (ctx) => {
  const bucket = requireBucket(ctx);
  const backend = ctx.services.store;
  backend.requireBucket(bucket);
  requireBodyDigest(ctx.headers);
  const doc = parseXml(await readSmallBody(ctx, MAX_DELETE_BODY), "Delete");
  const objects = asArray(doc.Object as Record<string, unknown> | Record<string, unknown>[] | undefined);
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw new S3Error("MalformedXML");
  const quiet = String(doc.Quiet ?? "false").trim().toLowerCase() === "true";
  const deleted: Record<string, unknown>[] = [];
  const errors: Record<string, unknown>[] = [];
  for (const o of objects) {
    if (typeof o !== "object" || o === null || typeof o.Key !== "string") throw new S3Error("MalformedXML");
  }
  for (const o of objects) {
    const key = o.Key as string;
    try {
      const version = typeof o.VersionId === "string" ? o.VersionId.trim() : o.VersionId;
      if (version !== undefined && version !== "null") throw new S3Error("NoSuchVersion");
      const text = (v: unknown) => (typeof v === "string" ? v.trim() : undefined);
      await backend.deleteObject(bucket, key, deleteCheck(key, { etag: text(o.ETag), lastModified: text(o.LastModifiedTime), size: text(o.Size) }));
      if (!quiet) deleted.push({ Key: key, ...(version !== undefined ? { VersionId: version } : {}) });
    } catch (e) {
      const err = toS3Error(e);
      reportFailure(err, ctx.requestId, ctx.services.log);
      errors.push({ Key: key, Code: err.code, Message: err.message });
    }
  }
  return xmlResponse("DeleteResult", { Deleted: deleted, Error: errors });
};

const getObjectAcl: Handler = (ctx) => {
  const { bucket, key } = requireObject(ctx);
  ctx.services.store.headObject(bucket, key);
  return aclResponse(ctx.services.owner);
};

const putObjectAcl: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  ctx.services.store.headObject(bucket, key);
  await acceptOwnerOnlyAcl(ctx, OBJECT_CANNED_ACLS);
  return new Response(null, { status: 200 });
};

const getObjectTagging: Handler = (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const info = ctx.services.store.headObject(bucket, key);
  return xmlResponse("Tagging", tagSetXml(decodeTags(info.meta?.tags)));
};

const putObjectTagging: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const backend = ctx.services.store;
  backend.headObject(bucket, key);
  const tags = parseTaggingXml(await readSmallBody(ctx, 64 * 1024));
  await backend.updateMeta(bucket, key, (m) => ({ ...m, tags: tags.length ? encodeTags(tags) : undefined }));
  return new Response(null, { status: 200 });
};

const deleteObjectTagging: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  await ctx.services.store.updateMeta(bucket, key, (m) => (m.tags ? { ...m, tags: undefined } : null));
  return new Response(null, { status: 204 });
};

export const objectHandlers: Partial<Record<OperationName, Handler>> = {
  PutObject: putObject,
  GetObject: getOrHeadObject,
  HeadObject: getOrHeadObject,
  DeleteObject: deleteObject,
  DeleteObjects: deleteObjects,
  GetObjectAcl: getObjectAcl,
  PutObjectAcl: putObjectAcl,
  GetObjectTagging: getObjectTagging,
  PutObjectTagging: putObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
};
