// Server-side copy: the bytes go from the source's descriptor to a temp file in the kernel
// (reflink or copy_file_range), never through JavaScript, and the copy then commits like any write.
import { rmSync } from "node:fs";
import { fsyncPath } from "./durability.ts";
import { hashFile } from "./hash-file.ts";
import { copyToNewFile } from "./kernel-copy.ts";
import { absentAs } from "../errors.ts";
import { keyPath } from "./names.ts";
import { lockFields } from "./immutable.ts";
import { tempPathIn } from "./incoming.ts";
import { versionOf } from "./meta.ts";
import type { ObjectInfo, ObjectMeta, OpenObject, PutOptions } from "../types.ts";
import { askedFields, commitIn, tempDir } from "./object-write.ts";
import type { PosixContext } from "./context.ts";

/**
 * Copies the open object `src` to a temp file in the destination bucket with copyFile (reflink
 * where the filesystem has it, else copy_file_range: no bytes through JavaScript), then commits it.
 */
export async function copyObject(ctx: PosixContext, src: OpenObject, bucket: string, key: string, opts: PutOptions): Promise<ObjectInfo> {
  const kp = keyPath("", key);
  const dir = ctx.openBucket(bucket);
  const tmpDir = tempDir(dir);
  const tmp = tempPathIn(tmpDir.path);
  try {
    const st = await copyToNewFile(src, tmp, null, opts.fileOwner);
    if (ctx.fsync !== "none") fsyncPath(tmp);
    // A file nobody stored through S3 has no MD5 yet: hash the copy (page cache, no extra I/O).
    const etag = src.meta ? src.meta.etag : (await hashFile(tmp, null)).md5;
    const record: ObjectMeta = {
      etag,
      ...askedFields(opts),
      ...(src.meta?.checksum ? { checksum: src.meta.checksum } : {}),
      ...(src.meta?.parts ? { parts: src.meta.parts } : {}),
      ...(src.meta?.partChecksums ? { partChecksums: src.meta.partChecksums } : {}),
      ...lockFields(opts.lock),
      ...versionOf(st),
    };
    const meta = await commitIn(ctx, dir, bucket, key, kp, tmp, record, opts);
    return { bucket, key, size: st.size, lastModified: st.mtime, etag: `"${etag}"`, meta, isDirectoryObject: false, versionId: meta.versionId };
  } catch (e) {
    rmSync(tmp, { force: true });
    throw absentAs(e);
  } finally {
    tmpDir.close();
    dir.close();
  }
}
