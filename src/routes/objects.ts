// Object operations: PUT, GET, HEAD, DELETE (one and many), COPY, ACL and tagging.
import { checkFsAccess, fileOwnerOf } from "../access/unix.ts";
import { allows } from "../access/authorize.ts";
import { S3Error, toS3Error } from "../errors.ts";
import { isStorageError } from "../storage/errors.ts";
import { runtime } from "../runtime.ts";
import { checksumHeader } from "../checksums/index.ts";
import { etagMatches, evaluateConditions, readConditions, writeConditions } from "../http/conditions.ts";
import { objectBody, readSmallBody, requireBodyDigest } from "../http/request-body.ts";
import { checkHeaderValue, isHeaderName, isHeaderValue } from "../http/header-values.ts";
import { reportFailure, xmlResponse } from "../http/response.ts";
import { contentRange, parseRange } from "../ranges/parse.ts";
import { requireBucket, requireObject, writerId, type Handler, type S3Context } from "../s3/context.ts";
import { contentHeaders } from "../s3/content-type.ts";
import { metaValueFromWire, metaValueToWire } from "../s3/meta-value.ts";
import type { OperationName } from "../s3/operations.ts";
import { decodeTags, encodeTags, parseTaggingXml, tagSetXml, tagsFromHeader } from "../s3/tags.ts";
import { readDocument } from "../s3/request-document.ts";
import { asArray, parseXml } from "../xml/index.ts";
import { objectAcl } from "../access/stored-acls.ts";
import { aclResponse, putObjectAcl as storeObjectAcl, requestedObjectAcl } from "./acl.ts";
import type { DeleteResult, ObjectInfo, ObjectMeta, OpenObject } from "../storage/types.ts";
import { isVersionSelector } from "../s3/version-selector.ts";
import { bypassRequested, lockHeaders } from "../s3/object-lock.ts";
import { bothChecks, deleteGuard, writeLock } from "./object-lock.ts";


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
  const sc = h.get("x-amz-storage-class");
  if (sc !== null && sc !== "STANDARD") throw new S3Error("InvalidStorageClass", `Storage class ${sc} is not supported; objects are stored as STANDARD.`);
  for (const name of ["x-amz-server-side-encryption", "x-amz-server-side-encryption-customer-algorithm", "x-amz-website-redirect-location"]) {
    if (h.get(name) !== null) throw new S3Error("NotImplemented", `The ${name} header is not supported by filegate.`);
  }
}

function checksumHeaders(meta: ObjectMeta | null): Record<string, string> {
  if (!meta?.checksum) return {};
  return { [checksumHeader(meta.checksum.algorithm)]: meta.checksum.value, "x-amz-checksum-type": meta.checksum.type };
}

/** The ?versionId= a request selects (undefined: the latest). The form was checked in app.ts. */
export function selectedVersion(ctx: S3Context): string | undefined {
  return ctx.query.get("versionId") ?? undefined;
}

/**
 * x-amz-version-id of the version a request read or acted on: its id, or "null" when the bucket
 * is versioned (or the null version was asked for). Unversioned buckets send none, as S3.
 */
export function versionHeader(ctx: S3Context, bucket: string, info: { versionId?: string }, asked = selectedVersion(ctx)): Record<string, string> {
  if (info.versionId !== undefined) return { "x-amz-version-id": info.versionId };
  // The state is only for this header (S3 itself takes a while to show a change everywhere): what
  // this process read within the last second will do, so a GET pays no file read for it.
  if (asked !== undefined || ctx.services.store.versioning(bucket, 1000) !== undefined) return { "x-amz-version-id": "null" };
  return {};
}

/** x-amz-version-id of a version a write just made: S3 sends "null" only while suspended. */
export function writtenVersionHeader(ctx: S3Context, bucket: string, info: { versionId?: string }): Record<string, string> {
  if (info.versionId !== undefined) return { "x-amz-version-id": info.versionId };
  // The write itself has just read the state: this reuses that read.
  return ctx.services.store.versioning(bucket, 1000) === "Suspended" ? { "x-amz-version-id": "null" } : {};
}

/** The 405 S3 answers when a request names a delete marker by id for what only objects have. */
function markerNotAllowed(info: ObjectInfo): S3Error {
  return new S3Error("MethodNotAllowed", undefined, {}, {
    "x-amz-delete-marker": "true",
    "x-amz-version-id": info.versionId ?? "null",
    "last-modified": info.lastModified.toUTCString(),
    allow: "DELETE",
  });
}

/**
 * Opens the selected version of a key. A key whose latest version is a delete marker answers
 * NoSuchKey with the marker's headers, as S3 does; a marker named by id comes back as it is
 * (deleteMarker set) for the caller to refuse.
 */
export function openSelected(ctx: S3Context, bucket: string, key: string, versionId = selectedVersion(ctx)): OpenObject {
  try {
    return ctx.services.store.openObject(bucket, key, versionId === undefined ? undefined : { versionId });
  } catch (e) {
    const err = toS3Error(e);
    if (err.code !== "NoSuchKey" || versionId !== undefined) throw err;
    const marker = ctx.services.store.latestDeleteMarker(bucket, key);
    if (marker === null) throw err;
    throw new S3Error("NoSuchKey", undefined, err.extra, { "x-amz-delete-marker": "true", "x-amz-version-id": marker });
  }
}

/** The selected version's info, for operations that act on objects only (never on a marker). */
export function headSelected(ctx: S3Context, bucket: string, key: string): ObjectInfo {
  const info = openSelected(ctx, bucket, key);
  info.close();
  if (info.deleteMarker) throw markerNotAllowed(info);
  return info;
}

const putObject: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const h = ctx.headers;
  refuseUnsupportedWriteHeaders(h);
  const stored = storedHeadersFrom(h);
  const tags = tagsFromHeader(h);
  const ifNoneMatch = h.get("if-none-match")?.trim();
  const acl = requestedObjectAcl(ctx, bucket);
  const { lock, guard } = writeLock(ctx, bucket, { integrity: true });
  const conditions = writeConditions(key, h.get("if-match") ?? undefined, ifNoneMatch);
  const info = await ctx.services.store.putObject(bucket, key, objectBody(ctx), {
    ...stored,
    tags,
    acl,
    owner: writerId(ctx),
    fileOwner: fileOwnerOf(ctx.principal),
    ...(lock ? { lock } : {}),
    ...conditions,
    check: bothChecks(conditions.check, guard),
  });
  return new Response(null, { status: 200, headers: { etag: info.etag, ...checksumHeaders(info.meta), ...writtenVersionHeader(ctx, bucket, info) } });
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
    Object.assign(headers, lockHeaders(meta));
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
  const info = openSelected(ctx, bucket, key);
  if (info.deleteMarker) throw markerNotAllowed(info);
  try {
    return respondWithObject(ctx, bucket, info);
  } catch (e) {
    info.close();
    throw e;
  }
};

/** Answers from the open object; the body (when there is one) takes over its descriptor. */
function respondWithObject(ctx: S3Context, bucket: string, info: OpenObject): Response {
  const headers = objectHeaders(info);
  Object.assign(headers, versionHeader(ctx, bucket, info));
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
  return runtime.fileResponse(info, span.start, span.end, info.size, status, headers);
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
  const versionId = selectedVersion(ctx);
  const r = await deleteKey(ctx, bucket, key, { versionId, check: bothChecks(check, deleteGuard(ctx, bucket, versionId)) });
  return new Response(null, { status: 204, headers: deleteHeaders(ctx, bucket, versionId, r) });
};

/**
 * A key the tree can never hold (`a//b`, `../x`) names no object: deleting it succeeds, as
 * deleting any absent key does on S3, so cleanup tools do not stop at it.
 */
async function deleteKey(ctx: S3Context, bucket: string, key: string, opts: { versionId?: string; check?: (current: ObjectInfo | null) => void }): Promise<DeleteResult> {
  try {
    return await ctx.services.store.deleteObject(bucket, key, opts);
  } catch (e) {
    if (!isStorageError(e, "UnsupportedKey")) throw e;
    opts.check?.(null);
    return { found: false };
  }
}

/** What S3 says of a delete: the version removed or the marker made, and whether it is a marker. */
function deleteHeaders(ctx: S3Context, bucket: string, asked: string | undefined, r: DeleteResult): Record<string, string> {
  const headers: Record<string, string> = {};
  if (r.deleteMarker) headers["x-amz-delete-marker"] = "true";
  if (asked !== undefined) headers["x-amz-version-id"] = asked;
  else if (r.deleteMarker) headers["x-amz-version-id"] = r.versionId ?? "null";
  void bucket;
  return headers;
}

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
  // An xs:boolean, as S3's schema has it: anything else is a malformed document.
  const quietText = doc.Quiet === undefined ? "false" : typeof doc.Quiet === "string" ? doc.Quiet.trim() : null;
  if (quietText === null || !["true", "false", "1", "0"].includes(quietText)) throw new S3Error("MalformedXML");
  const quiet = quietText === "true" || quietText === "1";
  const deleted: Record<string, unknown>[] = [];
  const errors: Record<string, unknown>[] = [];
  for (const o of objects) {
    if (typeof o !== "object" || o === null || typeof o.Key !== "string") throw new S3Error("MalformedXML");
  }
  const bypass = bypassRequested(ctx.headers);
  for (const o of objects) {
    const key = o.Key as string;
    const version = typeof o.VersionId === "string" ? o.VersionId.trim() : o.VersionId;
    try {
      if (version !== undefined && (typeof version !== "string" || !isVersionSelector(version))) throw new S3Error("NoSuchVersion", undefined, { VersionId: String(version) });
      // Each key is its own s3:DeleteObject question (and, when the request bypasses GOVERNANCE
      // retention, its own s3:BypassGovernanceRetention one); a refused key is that key's error.
      const check = { action: version !== undefined ? "s3:DeleteObjectVersion" : "s3:DeleteObject", on: "object" as const, bucket, key, ...(version !== undefined ? { versionId: version } : {}) };
      if (!allows(ctx, ctx.principal, check)) throw new S3Error("AccessDenied");
      if (bypass && !allows(ctx, ctx.principal, { ...check, action: "s3:BypassGovernanceRetention" })) throw new S3Error("AccessDenied");
      const text = (v: unknown) => (typeof v === "string" ? v.trim() : undefined);
      checkFsAccess(ctx, "delete", bucket, key);
      const r = await deleteKey(ctx, bucket, key, { versionId: version, check: bothChecks(deleteCheck(key, { etag: text(o.ETag), lastModified: text(o.LastModifiedTime), size: text(o.Size) }), deleteGuard(ctx, bucket, version)) });
      // A marker made: DeleteMarker and its id. A version removed by id: that id, and whether it was a marker.
      const marker = r.deleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: version ?? r.versionId ?? "null" } : {};
      if (!quiet) deleted.push({ Key: key, ...(version !== undefined ? { VersionId: version } : {}), ...marker });
    } catch (e) {
      const err = toS3Error(e);
      reportFailure(err, ctx.requestId, ctx.services.log);
      // The version asked for comes back with its error, so a client can retry or inspect that version.
      errors.push({ Key: key, ...(typeof version === "string" ? { VersionId: version } : {}), Code: err.code, Message: err.message });
    }
  }
  return xmlResponse("DeleteResult", { Deleted: deleted, Error: errors });
};

const getObjectAcl: Handler = (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const info = headSelected(ctx, bucket, key);
  const res = aclResponse(objectAcl(ctx.services, bucket, info.meta));
  for (const [k, v] of Object.entries(versionHeader(ctx, bucket, info))) res.headers.set(k, v);
  return res;
};

const putObjectAcl: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const info = headSelected(ctx, bucket, key);
  await storeObjectAcl(ctx, bucket, key, info, selectorOf(ctx));
  return new Response(null, { status: 200, headers: versionHeader(ctx, bucket, info) });
};

const getObjectTagging: Handler = (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const info = headSelected(ctx, bucket, key);
  return xmlResponse("Tagging", tagSetXml(decodeTags(info.meta?.tags)), 200, versionHeader(ctx, bucket, info));
};

/** The selector of the version a tagging change acts on. */
const selectorOf = (ctx: S3Context) => {
  const versionId = selectedVersion(ctx);
  return versionId === undefined ? undefined : { versionId };
};

const putObjectTagging: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const backend = ctx.services.store;
  headSelected(ctx, bucket, key);
  const tags = await readDocument(ctx, 64 * 1024, parseTaggingXml);
  const info = await backend.updateMeta(bucket, key, (m) => ({ ...m, tags: tags.length ? encodeTags(tags) : undefined }), selectorOf(ctx));
  return new Response(null, { status: 200, headers: versionHeader(ctx, bucket, info) });
};

const deleteObjectTagging: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  headSelected(ctx, bucket, key);
  const info = await ctx.services.store.updateMeta(bucket, key, (m) => (m.tags ? { ...m, tags: undefined } : null), selectorOf(ctx));
  return new Response(null, { status: 204, headers: versionHeader(ctx, bucket, info) });
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
