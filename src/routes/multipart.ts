// Multipart upload operations. The state lives on disk (the UploadStore); this module turns
// requests into calls on it and results into S3's XML.
import { objectOwner } from "../access/stored-acls.ts";
import { checkFsAccess, fileOwnerOf } from "../access/unix.ts";
import { checksumField, checksumHeader } from "../checksums/index.ts";
import { S3Error } from "../errors.ts";
import { writeConditions } from "../http/conditions.ts";
import { keepAliveXml } from "../http/keep-alive.ts";
import { headerChecksum, incomingBody, readSmallBody } from "../http/request-body.ts";
import { s3Time, xmlResponse, xmlTextResponse } from "../http/response.ts";
import { requireBucket, requireObject, type Handler, type S3Context } from "../s3/context.ts";
import {
  MAX_COPY_PART_SIZE,
  pageParts,
  pageUploads,
  parseCompleteXml,
  parseCopySourceRange,
  parsePartNumber,
  parseUploadChecksum,
  partChecksumFor,
  planComplete,
  type PartChecksum,
} from "../s3/multipart-rules.ts";
import type { OperationName } from "../s3/operations.ts";
import { tagsFromHeader } from "../s3/tags.ts";
import { renderXml } from "../xml/index.ts";
import { keyEncoder } from "../s3/encoding-type.ts";
import { ownerXml, requestedObjectAcl } from "./acl.ts";
import { checkCopySourceConditions, copySourceVersionHeader, openCopySource, parseCopySource } from "./copy.ts";
import { refuseUnsupportedWriteHeaders, storedHeadersFrom } from "./objects.ts";
import { bothChecks, lockConfigOf, writeLock } from "./object-lock.ts";
import { lockFromHeaders, requireLockConfig } from "../s3/object-lock.ts";
import type { CompletedUpload, PartRecord, UploadRecord, UploadStore } from "../storage/types.ts";

// 10,000 parts with checksums stay under 3 MB of XML.
const MAX_COMPLETE_BODY = 8 * 1024 * 1024;
const KEEPALIVE = { graceMs: 1000, intervalMs: 5000 };

const store = (ctx: S3Context): UploadStore => ctx.services.uploads;

/** Who started an upload; uploads from before users were recorded show the bucket owner. */
function initiatorOf(ctx: S3Context, bucket: string, initiator: string | undefined) {
  return initiator ? ctx.services.owners.describe(initiator) : ctx.services.owners.owner(bucket);
}

const uploadIdOf = (ctx: S3Context) => ctx.query.get("uploadId");

function checksumConfigXml(rec: Pick<UploadRecord, "checksum">) {
  return rec.checksum ? { ChecksumAlgorithm: rec.checksum.algorithm, ChecksumType: rec.checksum.type } : {};
}

function partChecksumHeaders(c: PartChecksum | undefined): Record<string, string> {
  return c ? { [checksumHeader(c.algorithm)]: c.value } : {};
}

const createMultipartUpload: Handler = (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const h = ctx.headers;
  refuseUnsupportedWriteHeaders(h);
  const stored = storedHeadersFrom(h);
  const tags = tagsFromHeader(h);
  const checksum = parseUploadChecksum(h.get("x-amz-checksum-algorithm"), h.get("x-amz-checksum-type"));
  const acl = requestedObjectAcl(ctx, bucket);
  // Checked now (a bucket without Object Lock refuses them), applied to the object at Complete.
  const lock = lockFromHeaders(h, Date.now());
  if (lock) requireLockConfig(lockConfigOf(ctx, bucket));
  const { uploadId } = store(ctx).create(bucket, key, {
    ...stored,
    ...(tags ? { tags } : {}),
    ...(checksum ? { checksum } : {}),
    ...(ctx.principal.kind === "user" ? { initiator: ctx.principal.canonicalId } : {}),
    ...(acl ? { acl } : {}),
    ...(lock ? { lock } : {}),
  });
  const headers: Record<string, string> = checksum ? { "x-amz-checksum-algorithm": checksum.algorithm, "x-amz-checksum-type": checksum.type } : {};
  return xmlResponse("InitiateMultipartUploadResult", { Bucket: bucket, Key: key, UploadId: uploadId }, 200, headers);
};

const uploadPart: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const partNumber = parsePartNumber(ctx.query.get("partNumber"));
  const mp = store(ctx);
  const uploadId = uploadIdOf(ctx);
  const body = incomingBody(ctx);
  body.checksum = partChecksumFor(mp.open(bucket, key, uploadId).record.checksum, body.checksum);
  const part = await mp.putPart(bucket, key, uploadId, partNumber, body, fileOwnerOf(ctx.principal));
  return new Response(null, { status: 200, headers: { etag: `"${part.etag}"`, ...partChecksumHeaders(part.checksum) } });
};

const uploadPartCopy: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const h = ctx.headers;
  const partNumber = parsePartNumber(ctx.query.get("partNumber"));
  const mp = store(ctx);
  // Unknown uploads fail before the source is even looked at, as on S3.
  mp.open(bucket, key, uploadIdOf(ctx));
  const src = parseCopySource(h.get("x-amz-copy-source"));
  checkFsAccess(ctx, "read", src.bucket, src.key);
  // The source is opened once: its conditions are checked on the bytes that are then copied.
  const srcInfo = openCopySource(ctx, src);
  let part: PartRecord;
  try {
    checkCopySourceConditions(h, srcInfo);
    const range = parseCopySourceRange(h.get("x-amz-copy-source-range"), srcInfo.size);
    const length = range ? range.end - range.start + 1 : srcInfo.size;
    if (length > MAX_COPY_PART_SIZE) {
      throw new S3Error("InvalidRequest", `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_COPY_PART_SIZE}`);
    }
    part = await mp.copyPart(bucket, key, uploadIdOf(ctx), partNumber, srcInfo, range, fileOwnerOf(ctx.principal));
  } finally {
    srcInfo.close();
  }
  const ck = part.checksum ? { [checksumField(part.checksum.algorithm)]: part.checksum.value } : {};
  return xmlResponse("CopyPartResult", { ETag: `"${part.etag}"`, LastModified: s3Time(Date.parse(part.lastModified)), ...ck }, 200, { ...partChecksumHeaders(part.checksum), ...copySourceVersionHeader(ctx, src, srcInfo) });
};

function partXml(p: PartRecord) {
  return {
    PartNumber: p.partNumber,
    LastModified: s3Time(Date.parse(p.lastModified)),
    ETag: `"${p.etag}"`,
    Size: p.size,
    ...(p.checksum ? { [checksumField(p.checksum.algorithm)]: p.checksum.value } : {}),
  };
}

const listParts: Handler = (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const uploadId = uploadIdOf(ctx)!;
  const { record, parts } = store(ctx).listParts(bucket, key, uploadId);
  const page = pageParts(parts, ctx.query.get("part-number-marker"), ctx.query.get("max-parts"));
  return xmlResponse("ListPartsResult", {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    PartNumberMarker: page.marker,
    NextPartNumberMarker: page.nextMarker,
    MaxParts: page.maxParts,
    IsTruncated: page.isTruncated,
    Part: page.parts.map(partXml),
    Initiator: ownerXml(initiatorOf(ctx, bucket, record.initiator)),
    // Who will own the object: the bucket owner under BucketOwnerEnforced, else as the upload's
    // ACL and initiator make it (ObjectWriter, or BucketOwnerPreferred without bucket-owner-full-control).
    Owner: ownerXml(objectOwner(ctx.services, bucket, { acl: record.acl, owner: record.initiator })),
    StorageClass: "STANDARD",
    ...checksumConfigXml(record),
  });
};

const listMultipartUploads: Handler = (ctx) => {
  const bucket = requireBucket(ctx);
  const q = ctx.query;
  const { url, enc } = keyEncoder(q);
  const query = {
    prefix: q.get("prefix") ?? "",
    delimiter: q.get("delimiter") ?? "",
    keyMarker: q.get("key-marker") ?? "",
    uploadIdMarker: q.get("upload-id-marker") ?? "",
    maxUploadsRaw: q.get("max-uploads"),
  };
  const page = pageUploads(store(ctx).listUploads(bucket), query);
  const owner = ownerXml(ctx.services.owners.owner(bucket));
  return xmlResponse("ListMultipartUploadsResult", {
    Bucket: bucket,
    KeyMarker: enc(query.keyMarker),
    UploadIdMarker: query.keyMarker ? query.uploadIdMarker : "",
    ...(page.nextKeyMarker !== undefined ? { NextKeyMarker: enc(page.nextKeyMarker) } : {}),
    ...(page.nextUploadIdMarker !== undefined ? { NextUploadIdMarker: page.nextUploadIdMarker } : {}),
    ...(query.delimiter ? { Delimiter: enc(query.delimiter) } : {}),
    Prefix: enc(query.prefix),
    ...(url ? { EncodingType: "url" } : {}),
    MaxUploads: page.maxUploads,
    IsTruncated: page.isTruncated,
    Upload: page.uploads.map((u) => ({
      Key: enc(u.key),
      UploadId: u.uploadId,
      Initiator: ownerXml(initiatorOf(ctx, bucket, u.initiator)),
      Owner: owner,
      StorageClass: "STANDARD",
      Initiated: s3Time(u.initiated),
      ...checksumConfigXml(u),
    })),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  });
};

const abortMultipartUpload: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  await store(ctx).abort(bucket, key, uploadIdOf(ctx));
  return new Response(null, { status: 204 });
};

function objectLocation(ctx: S3Context, bucket: string, key: string): string {
  const url = new URL(ctx.request.url);
  const path = key.split("/").map(encodeURIComponent).join("/");
  const host = url.host.toLowerCase();
  return host.startsWith(`${bucket.toLowerCase()}.`) ? `${url.origin}/${path}` : `${url.origin}/${bucket}/${path}`;
}

function completeResultXml(ctx: S3Context, bucket: string, key: string, r: CompletedUpload): string {
  return renderXml("CompleteMultipartUploadResult", {
    Location: objectLocation(ctx, bucket, key),
    Bucket: bucket,
    Key: key,
    ETag: `"${r.etag}"`,
    ...(r.checksum ? { [checksumField(r.checksum.algorithm)]: r.checksum.value, ChecksumType: r.checksum.type } : {}),
  });
}

const completeMultipartUpload: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const h = ctx.headers;
  const ifNoneMatch = h.get("if-none-match")?.trim();
  const sizeRaw = h.get("x-amz-mp-object-size");
  if (sizeRaw !== null && !/^\d{1,16}$/.test(sizeRaw.trim())) {
    throw new S3Error("InvalidArgument", "The x-amz-mp-object-size header must be a non-negative integer.", { ArgumentName: "x-amz-mp-object-size", ArgumentValue: sizeRaw });
  }
  const mp = store(ctx);
  // x-amz-checksum-<alg> on Complete describes the object, not the XML body.
  const requested = parseCompleteXml(await readSmallBody(ctx, MAX_COMPLETE_BODY, false));
  const expect = {
    checksum: headerChecksum(h),
    type: h.get("x-amz-checksum-type") ?? undefined,
    size: sizeRaw === null ? undefined : Number(sizeRaw),
  };
  // The upload's own lock headers, else the bucket's default retention as of now.
  const locked = lockConfigOf(ctx, bucket) ? writeLock(ctx, bucket, { integrity: false, requested: mp.open(bucket, key, uploadIdOf(ctx)).record.lock ?? null }) : {};
  const conditions = writeConditions(key, h.get("if-match") ?? undefined, ifNoneMatch);
  const plan = mp.prepareComplete(bucket, key, uploadIdOf(ctx), requested, {
    ...conditions,
    check: bothChecks(conditions.check, locked.guard),
    ...(locked.lock ? { lock: locked.lock } : {}),
    validate: (stored, upload) => planComplete(requested, stored, upload, expect),
    fileOwner: fileOwnerOf(ctx.principal),
  });
  const versionHeaders = (r: CompletedUpload): Record<string, string> => (r.versionId ? { "x-amz-version-id": r.versionId } : ctx.services.store.versioning(bucket, 1000) === "Suspended" ? { "x-amz-version-id": "null" } : {});
  if (plan.kind === "done") return xmlTextResponse(completeResultXml(ctx, bucket, key, plan.result), 200, versionHeaders(plan.result));
  const work = plan.run().then((r) => ({ xml: completeResultXml(ctx, bucket, key, r), headers: versionHeaders(r) }));
  return keepAliveXml(work, {
    ...KEEPALIVE,
    resource: `/${bucket}/${key}`,
    requestId: ctx.requestId,
    log: (line) => process.stderr.write(line + "\n"),
  });
};

export const multipartHandlers: Partial<Record<OperationName, Handler>> = {
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  ListParts: listParts,
  ListMultipartUploads: listMultipartUploads,
  AbortMultipartUpload: abortMultipartUpload,
  CompleteMultipartUpload: completeMultipartUpload,
};
