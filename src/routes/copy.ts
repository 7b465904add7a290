// CopyObject: the data moves inside the kernel (reflink or copy_file_range via copyFile); only
// metadata goes through JavaScript.
import { checkFsAccess, fileOwnerOf } from "../access/unix.ts";
import { S3Error } from "../errors.ts";
import { evaluateConditions, readConditions, writeConditions } from "../http/conditions.ts";
import { s3Time, xmlResponse } from "../http/response.ts";
import { contentHeaders } from "../s3/content-type.ts";
import { requireObject, writerId, type Handler, type S3Context } from "../s3/context.ts";
import type { OperationName } from "../s3/operations.ts";
import { tagsFromHeader } from "../s3/tags.ts";
import { checksumField, checksumHeader } from "../checksums/index.ts";
import { openSelected, refuseUnsupportedWriteHeaders, storedHeadersFrom, writtenVersionHeader } from "./objects.ts";
import { isVersionSelector } from "../s3/version-selector.ts";
import { requestedObjectAcl } from "./acl.ts";
import type { ObjectInfo, OpenObject } from "../storage/types.ts";

export interface CopySource {
  bucket: string;
  key: string;
  /** `?versionId=` of x-amz-copy-source: a version id or "null". */
  versionId?: string;
}

/** x-amz-copy-source: `bucket/key` or `/bucket/key`, URL-encoded, optionally `?versionId=`. */
export function parseCopySource(raw: string | null): CopySource {
  if (!raw) throw new S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey", { ArgumentName: "x-amz-copy-source" });
  let v = raw.trim();
  const q = v.indexOf("?");
  let versionId: string | undefined;
  if (q >= 0) {
    const version = new URLSearchParams(v.slice(q + 1)).get("versionId");
    if (version !== null && !isVersionSelector(version)) throw new S3Error("InvalidArgument", "Invalid version id specified", { ArgumentName: "x-amz-copy-source" });
    versionId = version ?? undefined;
    v = v.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(v);
  } catch {
    throw new S3Error("InvalidArgument", "Invalid copy source encoding.", { ArgumentName: "x-amz-copy-source" });
  }
  if (decoded.startsWith("/")) decoded = decoded.slice(1);
  const slash = decoded.indexOf("/");
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey", { ArgumentName: "x-amz-copy-source" });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), ...(versionId !== undefined ? { versionId } : {}) };
}

/**
 * Opens the copy source (the version it names, or the latest). A delete marker is no source:
 * named by id it is InvalidRequest; as the latest, the key reads as deleted (NoSuchKey).
 */
export function openCopySource(ctx: S3Context, src: CopySource): OpenObject {
  const info = openSelected(ctx, src.bucket, src.key, src.versionId);
  if (info.deleteMarker) {
    info.close();
    throw new S3Error("InvalidRequest", "The source of a copy request may not specifically refer to a delete marker by version id.");
  }
  return info;
}

/** x-amz-copy-source-version-id: the source's version, when its bucket is versioned or it was named. */
export function copySourceVersionHeader(ctx: S3Context, src: CopySource, info: ObjectInfo): Record<string, string> {
  const id = info.versionId ?? (src.versionId !== undefined || ctx.services.store.versioning(src.bucket) !== undefined ? "null" : undefined);
  return id === undefined ? {} : { "x-amz-copy-source-version-id": id };
}

/** x-amz-copy-source-if-*: any failing condition is 412, including the "not modified" ones. */
export function checkCopySourceConditions(h: Headers, src: ObjectInfo): void {
  const r = evaluateConditions(readConditions(h, "x-amz-copy-source-"), src.etag, src.lastModified);
  if (r !== "ok") throw new S3Error("PreconditionFailed");
}

function directive(h: Headers, name: string): "COPY" | "REPLACE" {
  const v = h.get(name);
  if (v === null) return "COPY";
  if (v === "COPY" || v === "REPLACE") return v;
  throw new S3Error("InvalidArgument", `Unknown ${name}`, { ArgumentName: name, ArgumentValue: v });
}

export const copyObject: Handler = async (ctx: S3Context) => {
  const dst = requireObject(ctx);
  const h = ctx.headers;
  refuseUnsupportedWriteHeaders(h);
  const src = parseCopySource(h.get("x-amz-copy-source"));
  const backend = ctx.services.store;
  checkFsAccess(ctx, "read", src.bucket, src.key);
  // The source is opened once: conditions, metadata and the copied bytes are of one version.
  const srcInfo = openCopySource(ctx, src);
  try {
    return await copyOpened(ctx, dst, src, srcInfo);
  } finally {
    srcInfo.close();
  }
};

async function copyOpened(ctx: S3Context, dst: { bucket: string; key: string }, src: CopySource, srcInfo: OpenObject): Promise<Response> {
  const h = ctx.headers;
  const backend = ctx.services.store;
  checkCopySourceConditions(h, srcInfo);
  const metaDirective = directive(h, "x-amz-metadata-directive");
  const tagDirective = directive(h, "x-amz-tagging-directive");
  // Copying an older version over its own key restores it: that changes the object.
  if (src.bucket === dst.bucket && src.key === dst.key && metaDirective === "COPY" && src.versionId === undefined) {
    throw new S3Error(
      "InvalidRequest",
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const stored = metaDirective === "REPLACE" ? storedHeadersFrom(h) : { headers: srcInfo.meta?.headers ?? contentHeaders(srcInfo.key, null), user: srcInfo.meta?.user ?? {} };
  const tags = tagDirective === "REPLACE" ? tagsFromHeader(h) : srcInfo.meta?.tags;
  const info = await backend.copyObject(srcInfo, dst.bucket, dst.key, {
    ...stored,
    tags,
    acl: requestedObjectAcl(ctx, dst.bucket),
    owner: writerId(ctx), fileOwner: fileOwnerOf(ctx.principal),
    ...writeConditions(dst.key, h.get("if-match") ?? undefined, h.get("if-none-match")?.trim()),
  });
  const ck = info.meta?.checksum;
  const checksum = ck ? { [checksumField(ck.algorithm)]: ck.value, ChecksumType: ck.type } : {};
  const headers: Record<string, string> = { ...(ck ? { [checksumHeader(ck.algorithm)]: ck.value } : {}), ...copySourceVersionHeader(ctx, src, srcInfo), ...writtenVersionHeader(ctx, dst.bucket, info) };
  return xmlResponse("CopyObjectResult", { ETag: info.etag, LastModified: s3Time(info.lastModified), ...checksum }, 200, headers);
}

export const copyHandlers: Partial<Record<OperationName, Handler>> = {
  CopyObject: copyObject,
};
