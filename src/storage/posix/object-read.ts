// The read path: finds a key's object (plain file, data beside its directory, directory object,
// or a version in the version store) and opens it once, so size, time, record and body all come
// from the same descriptor and a concurrent write can never mix two versions in one answer.
import { closeSync, fstatSync, type Stats } from "node:fs";
import { join } from "node:path";
import { StorageError, absentAs, isStorageError } from "../errors.ts";
import { selfName } from "./layout.ts";
import { bucketPath, isServableBucketName, keyPath, type KeyPath } from "./names.ts";
import { READ_FLAGS, errnoOf, openForRead } from "./beneath.ts";
import { kernelPath, openBeneath } from "./kernel.ts";
import type { MetaLocation, MetaStore } from "./meta.ts";
import type { OpenVersion } from "./versions.ts";
import { ABSENT, selfRel } from "./file-facts.ts";
import type { ObjectInfo, ObjectMeta, OpenObject, VersionSelector } from "../types.ts";
import { foreignEtagOf } from "./foreign-etag.ts";
import type { PosixContext } from "./context.ts";
import { SMALL_OBJECT } from "./open-files.ts";

/** Stat and metadata of an object; NoSuchKey when the key names no object. */
export function headObject(ctx: PosixContext, bucket: string, key: string, sel?: VersionSelector): ObjectInfo {
  const o = openObject(ctx, bucket, key, sel);
  o.close();
  return o;
}

/**
 * Opens an object once: size, time and metadata come from the descriptor the body will be read
 * from. NoSuchKey when the key names no object, NoSuchBucket when the bucket is missing.
 */
export function openObject(ctx: PosixContext, bucket: string, key: string, sel?: VersionSelector): OpenObject {
  return sel?.versionId === undefined ? openLatest(ctx, bucket, key) : openVersion(ctx, bucket, key, sel.versionId);
}

/**
 * A version by id. A noncurrent one is one open in the version store; otherwise the current
 * object, when it is that version. The null version is the current object or a search of the
 * key's (few) noncurrent entries.
 */
export function openVersion(ctx: PosixContext, bucket: string, key: string, versionId: string): OpenObject {
  const kp = keyPath("", key);
  const bucketDir = bucketPath(ctx.root, bucket);
  const vdir = kp.isDirectoryKey ? null : ctx.versions.dirOf(bucketDir, kp.segments);
  if (vdir !== null && versionId !== "null") {
    const v = ctx.versions.open(vdir, versionId);
    if (v) return describeVersion(bucket, key, v);
  }
  let cur: OpenObject | null = null;
  try {
    cur = openLatest(ctx, bucket, key);
  } catch (e) {
    if (!isStorageError(e, "NoSuchKey")) throw e;
  }
  if (cur && (cur.versionId ?? "null") === versionId) return cur;
  cur?.close();
  if (vdir !== null && versionId === "null") {
    const name = ctx.versions.findNull(vdir);
    const v = name === null ? null : ctx.versions.open(vdir, name);
    if (v) return describeVersion(bucket, key, v);
  }
  ctx.requireBucket(bucket);
  throw new StorageError("NoSuchVersion", { Key: key, VersionId: versionId });
}

/** A noncurrent version (or delete marker) open from the version store, as an object. */
export function describeVersion(bucket: string, key: string, v: OpenVersion): OpenObject {
  const meta = v.record;
  const versionId = v.versionId === "null" ? undefined : v.versionId;
  const base = { bucket, key, lastModified: v.st.mtime, meta, isDirectoryObject: false, versionId };
  if (meta?.deleteMarker) {
    closeSync(v.fd);
    return { ...base, size: 0, etag: '""', deleteMarker: true, fd: null, close: () => {}, detach: () => -1 };
  }
  return {
    ...base,
    size: v.st.size,
    etag: `"${meta ? meta.etag : foreignEtagOf(v.st.ino, v.st.size, v.st.mtimeMs)}"`,
    ...ownedFd(v.fd),
  };
}

/** When the key has no current object and its newest noncurrent entry is a delete marker: its id. */
export function latestDeleteMarker(ctx: PosixContext, bucket: string, key: string): string | null {
  const kp = keyPath("", key);
  if (kp.isDirectoryKey) return null;
  try {
    const vdir = ctx.versions.dirOf(bucketPath(ctx.root, bucket), kp.segments);
    const newest = ctx.versions.names(vdir)[0];
    const v = newest === undefined ? null : ctx.versions.peek(vdir, newest);
    return v?.record?.deleteMarker ? v.versionId : null;
  } catch {
    return null;
  }
}

/** The latest version: the plain file at the key. */
export function openLatest(ctx: PosixContext, bucket: string, key: string): OpenObject {
  const kp = keyPath("", key);
  const bucketDir = bucketPath(ctx.root, bucket);
  const rel = kp.segments.join("/");
  // `a` is a directory while it holds `a/b`: its data sits beside it then. A key moving between
  // the two forms is at one of the two names at every moment, but it can move back between our
  // two looks: look again.
  if (kp.isDirectoryKey) {
    // `d/` is its directory's record, or, when it has data, the file `d/.filegate-obj.`.
    const plain = openRel(ctx, bucket, rel);
    const found = plain === null ? null : describe(ctx.meta, bucket, key, kp, bucketDir, plain);
    if (found) return found;
    const data = plain === null ? null : openRel(ctx, bucket, `${rel}/${selfName("")}`);
    const object = data === null ? null : describe(ctx.meta, bucket, key, kp, bucketDir, data, true);
    if (object) return object;
    return missing(ctx, bucket, key);
  }
  const kept = ctx.openFiles;
  const path = kept ? `${bucket}/${rel}` : "";
  const hit = kept?.lookup(path);
  if (hit) return hit;
  for (let round = 0; round < 3; round++) {
    const plain = openRel(ctx, bucket, rel);
    const found = plain === null ? null : describe(ctx.meta, bucket, key, kp, bucketDir, plain);
    if (found) return kept && found.size < SMALL_OBJECT ? kept.offer(path, found) : found;
    const beside = openRel(ctx, bucket, selfRel(kp.segments));
    const object = beside === null ? null : describe(ctx.meta, bucket, key, kp, bucketDir, beside);
    if (object) return object;
    // Nothing at either name twice running: absent (a move takes two syscalls, not a round).
    if (plain === null && beside === null && round > 0) break;
  }
  return missing(ctx, bucket, key);
}

/** No object at the key: NoSuchKey, or NoSuchBucket when that is what is missing. */
export function missing(ctx: PosixContext, bucket: string, key: string): never {
  ctx.requireBucket(bucket);
  throw new StorageError("NoSuchKey", { Key: key });
}

/** A descriptor for `rel` in the bucket (links only inside it), or null when there is none. */
export function openRel(ctx: PosixContext, bucket: string, rel: string): number | null {
  // Common case in one call: no link anywhere between the root and the object.
  if (kernelPath === "addon" && isServableBucketName(bucket)) {
    try {
      return openBeneath(ctx.rootDir.fd, `${bucket}/${rel}`, READ_FLAGS, 0, "none");
    } catch (e) {
      const code = errnoOf(e) ?? "";
      // Only a link on the way needs the slower look that follows links staying inside.
      if (code !== "ELOOP" && code !== "EXDEV") {
        if (ABSENT.has(code)) return null;
        throw absentAs(e);
      }
    }
  }
  const dir = ctx.openBucket(bucket);
  try {
    return openForRead(dir, rel);
  } catch (e) {
    if (ABSENT.has(errnoOf(e) ?? "")) return null;
    throw absentAs(e);
  } finally {
    dir.close();
  }
}

/** What the open file `fd` is as an object of `key`, or null (closing it) when it is none. */
export function describe(metaStore: MetaStore, bucket: string, key: string, kp: KeyPath, bucketDir: string, fd: number, dataOfDirKey = false): OpenObject | null {
  let st: Stats;
  let meta: ObjectMeta | null;
  // The xattr store reads from the descriptor and never needs the path: join it only when asked.
  let path: string | undefined;
  const loc: MetaLocation = {
    bucketDir,
    segments: kp.segments,
    get path() {
      return (path ??= join(bucketDir, ...kp.segments));
    },
    isDirectoryKey: kp.isDirectoryKey,
  };
  try {
    st = fstatSync(fd);
    const isDir = st.isDirectory();
    // Only a directory stored as `key/` is an object; other directories are just parents.
    if (isDir !== (kp.isDirectoryKey && !dataOfDirKey) || (!isDir && !st.isFile())) {
      closeSync(fd);
      return null;
    }
    meta = metaStore.readFd(fd, loc, st) ?? null;
    if (isDir && !meta) {
      closeSync(fd);
      return null;
    }
  } catch (e) {
    closeSync(fd);
    throw absentAs(e);
  }
  const base = { bucket, key, lastModified: st.mtime, meta, versionId: meta?.versionId };
  if (kp.isDirectoryKey && !dataOfDirKey) {
    closeSync(fd);
    return { ...base, size: 0, etag: `"${meta!.etag}"`, isDirectoryObject: true, fd: null, close: () => {}, detach: () => -1 };
  }
  const etag = meta ? meta.etag : foreignEtagOf(st.ino, st.size, st.mtimeMs);
  return { ...base, size: st.size, etag: `"${etag}"`, isDirectoryObject: false, ...ownedFd(fd) };
}

/** The object at `key` now, or null; for write conditions, read under the key's lock. */
export function currentObject(ctx: PosixContext, bucket: string, key: string): ObjectInfo | null {
  try {
    return headObject(ctx, bucket, key);
  } catch (e) {
    if (isStorageError(e, "NoSuchKey")) return null;
    throw e;
  }
}

/** An open object's descriptor with OpenObject's close-once and hand-over. */
export function ownedFd(fd: number): Pick<OpenObject, "fd" | "close" | "detach"> {
  let open = true;
  return {
    fd,
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
    detach: () => {
      open = false;
      return fd;
    },
  };
}
