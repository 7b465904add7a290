// CopyObject: the data moves inside the kernel (reflink or copy_file_range via copyFile); only
// metadata goes through JavaScript.
import { S3Error } from "../errors.ts";
import { evaluateConditions, readConditions, writeConditions } from "../http/conditions.ts";
import { s3Time, xmlResponse } from "../http/response.ts";
import { contentHeaders } from "../s3/content-type.ts";
import { requireObject, type Handler, type S3Context } from "../s3/context.ts";
import type { OperationName } from "../s3/operations.ts";
import { tagsFromHeader } from "../s3/tags.ts";
import { checksumField, checksumHeader } from "../checksums/index.ts";
import { refuseUnsupportedWriteHeaders, storedHeadersFrom } from "./objects.ts";
import { bothChecks, writeLock } from "./object-lock.ts";
import type { ObjectInfo, OpenObject } from "../storage/types.ts";

export interface CopySource {
  bucket: string;
  key: string;
}

/** x-amz-copy-source: `bucket/key` or `/bucket/key`, URL-encoded, optionally `?versionId=`. */
export function parseCopySource(raw: string | null): CopySource {
  if (!raw) throw new S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey", { ArgumentName: "x-amz-copy-source" });
  let v = raw.trim();
  const q = v.indexOf("?");
  if (q >= 0) {
    const version = new URLSearchParams(v.slice(q + 1)).get("versionId");
    if (version !== null && version !== "null") throw new S3Error("InvalidArgument", "Invalid version id specified", { ArgumentName: "x-amz-copy-source" });
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
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
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
  // The source is opened once: conditions, metadata and the copied bytes are of one version.
  const srcInfo = backend.openObject(src.bucket, src.key);
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
  if (src.bucket === dst.bucket && src.key === dst.key && metaDirective === "COPY") {
    throw new S3Error(
      "InvalidRequest",
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const stored = metaDirective === "REPLACE" ? storedHeadersFrom(h) : { headers: srcInfo.meta?.headers ?? contentHeaders(srcInfo.key, null), user: srcInfo.meta?.user ?? {} };
  const tags = tagDirective === "REPLACE" ? tagsFromHeader(h) : srcInfo.meta?.tags;
  // The copy's lock is its own headers' or the destination's default, never the source's (as on S3).
  const { lock, guard } = writeLock(ctx, dst.bucket, { integrity: false });
  const conditions = writeConditions(dst.key, h.get("if-match") ?? undefined, h.get("if-none-match")?.trim());
  const info = await backend.copyObject(srcInfo, dst.bucket, dst.key, {
    ...stored,
    tags,
    ...(lock ? { lock } : {}),
    ...conditions,
    check: bothChecks(conditions.check, guard),
  });
  const ck = info.meta?.checksum;
  const checksum = ck ? { [checksumField(ck.algorithm)]: ck.value, ChecksumType: ck.type } : {};
  const headers: Record<string, string> = ck ? { [checksumHeader(ck.algorithm)]: ck.value } : {};
  return xmlResponse("CopyObjectResult", { ETag: info.etag, LastModified: s3Time(info.lastModified), ...checksum }, 200, headers);
}

export const copyHandlers: Partial<Record<OperationName, Handler>> = {
  CopyObject: copyObject,
};
