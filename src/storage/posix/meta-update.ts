// Rewriting an object's record in place (tagging, retention): under the key's lock and on the very
// file the record was read from, so an object replaced meanwhile keeps its own record.
import { closeSync, constants, fstatSync } from "node:fs";
import { join } from "node:path";
import { bucketPath, keyPath } from "./names.ts";
import { evenIfImmutableFd, syncImmutable } from "./immutable.ts";
import { errnoOf } from "./beneath.ts";
import { O_PATH, openBeneath } from "./kernel.ts";
import { withLock } from "./locks.ts";
import { versionOf, type MetaLocation } from "./meta.ts";
import { throughLink } from "./file-facts.ts";
import type { ObjectInfo, ObjectMeta, OpenObject, VersionSelector } from "../types.ts";
import { currentObject, openObject } from "./object-read.ts";
import type { PosixContext } from "./context.ts";

/**
 * Rewrites an object's metadata record (tagging) under the key's lock, on exactly the file it
 * read the record from: an object replaced meanwhile keeps its own record.
 */
export async function updateMeta(ctx: PosixContext, bucket: string, key: string, change: (m: ObjectMeta) => ObjectMeta | null, sel?: VersionSelector): Promise<ObjectInfo> {
  return withLock(ctx.lockFile(bucket, key), () => {
    refuseLinkedKey(ctx, bucket, key);
    const o = openObject(ctx, bucket, key, sel);
    if (sel?.versionId !== undefined && !keyPath("", key).isDirectoryKey) {
      const cur = currentObject(ctx, bucket, key);
      // A noncurrent version: its record lives in the version store.
      if (!cur || (cur.versionId ?? "null") !== sel.versionId || o.deleteMarker) return updateVersionRecord(ctx, bucket, key, o, change);
    }
    try {
      const base: ObjectMeta = o.meta ?? { etag: o.etag.slice(1, -1), headers: {}, user: {}, size: o.size, mtimeMs: Math.trunc(o.lastModified.getTime()) };
      const next = change(base);
      if (next === null) return o;
      const kp = keyPath("", key);
      const bucketDir = bucketPath(ctx.root, bucket);
      const loc: MetaLocation = { bucketDir, segments: kp.segments, path: join(bucketDir, ...kp.segments), isDirectoryKey: kp.isDirectoryKey };
      if (o.fd === null) {
        // A directory object: its record sits on the directory itself.
        const d = ctx.openBucket(bucket);
        try {
          const fd = openBeneath(d.fd, kp.segments.join("/"), constants.O_RDONLY | constants.O_DIRECTORY, 0, "none");
          try {
            ctx.meta.afterCommit({ ...loc, bucketDir: d.path }, ctx.meta.updateFd(fd, { ...loc, bucketDir: d.path }, next));
          } finally {
            closeSync(fd);
          }
        } finally {
          d.close();
        }
      } else {
        const st = fstatSync(o.fd);
        const fd = o.fd;
        ctx.meta.afterCommit(loc, evenIfImmutableFd(fd, () => ctx.meta.updateFd(fd, loc, { ...next, ...versionOf(st) })));
        syncImmutable(fd, next);
      }
      return { ...o, meta: next };
    } finally {
      o.close();
    }
  });
}

/** updateMeta for a noncurrent version, open as `o` (closed here). */
export function updateVersionRecord(ctx: PosixContext, bucket: string, key: string, o: OpenObject, change: (m: ObjectMeta) => ObjectMeta | null): ObjectInfo {
  try {
    const base: ObjectMeta = o.meta ?? { etag: o.etag.slice(1, -1), headers: {}, user: {}, size: o.size, mtimeMs: Math.trunc(o.lastModified.getTime()) };
    const next = change(base);
    if (next === null || o.fd === null) return o;
    const vdir = ctx.versions.dirOf(bucketPath(ctx.root, bucket), keyPath("", key).segments);
    const st = fstatSync(o.fd);
    const name = o.versionId ?? ctx.versions.findNull(vdir)!;
    ctx.versions.writeRecord(o.fd, vdir, name, { ...next, ...versionOf(st) });
    return { ...o, meta: next };
  } finally {
    o.close();
  }
}

/**
 * A metadata write is a write: a key reached through a link (read as its target) is refused
 * rather than changing the target's record.
 */
export function refuseLinkedKey(ctx: PosixContext, bucket: string, key: string): void {
  const dir = ctx.openBucket(bucket);
  try {
    closeSync(openBeneath(dir.fd, keyPath("", key).segments.join("/"), O_PATH, 0, "none"));
  } catch (e) {
    if (errnoOf(e) === "ELOOP") throw throughLink(key);
  } finally {
    dir.close();
  }
}
