// The write path: a body received into a temp file on the bucket's filesystem becomes the key's
// object in one rename under the key's lock, after write conditions are checked and, in a
// versioned bucket, the file it replaces is kept. Parent directories are made here too, moving an
// object that stands where one must be to its place beside it, so every write commits the same way.
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
  type Stats,
} from "node:fs";
import { join } from "node:path";
import { fsyncPath } from "./durability.ts";
import { StorageError, absentAs } from "../errors.ts";
import { GATEWAY_DIR, bucketPrivateDir, selfName } from "./layout.ts";
import { keyPath, type KeyPath } from "./names.ts";
import { removalBlock } from "../retention.ts";
import { evenIfImmutable, lockFields, moveEvenIfImmutable, syncImmutableAt } from "./immutable.ts";
import { Dir, errnoOf, makeSubdirs, openSubdir } from "./beneath.ts";
import { openBeneath } from "./kernel.ts";
import { withLock } from "./locks.ts";
import { receiveToTemp, type WrittenFile } from "./incoming.ts";
import { versionOf, type MetaLocation, type MetaStore } from "./meta.ts";
import { versionIdOfName } from "./versions.ts";
import { newVersionId } from "../version-id.ts";
import { planWrite, type VersioningState } from "../versioning.ts";
import { giveName } from "./ownership.ts";
import { ABSENT, lstatOrNull, throughLink, unlinkQuiet } from "./file-facts.ts";
import type { CommitOptions, FileOwner, IncomingBody, ObjectInfo, ObjectMeta, PutOptions, StoredChecksum } from "../types.ts";
import { currentObject } from "./object-read.ts";
import { type Kept, keptName, maxId, seqOf } from "./kept-versions.ts";
import type { PosixContext } from "./context.ts";

/** A directory for temp files on the bucket's filesystem, reached through no link. */
export function tempDir(bucket: Dir): Dir {
  bucketPrivateDir(bucket.path);
  try {
    return makeSubdirs(bucket, [GATEWAY_DIR, "tmp"]);
  } catch (e) {
    if (errnoOf(e) === "ELOOP" || errnoOf(e) === "ENOTDIR") {
      throw new StorageError("PrivateAreaUnsafe");
    }
    throw absentAs(e);
  }
}

export async function putObject(ctx: PosixContext, bucket: string, key: string, body: IncomingBody, opts: PutOptions): Promise<ObjectInfo & { checksum?: StoredChecksum }> {
  const kp = keyPath("", key);
  const dir = ctx.openBucket(bucket);
  try {
    if (kp.isDirectoryKey) return await putDirectoryObject(ctx, bucket, key, dir, kp, body, opts);
    const tmp = tempDir(dir);
    try {
      const written = await receiveToTemp(tmp.path, body, ctx.fsync, opts.fileOwner);
      const { meta: record, checksum } = recordOf(written, opts);
      let meta: ObjectMeta;
      try {
        meta = await commitIn(ctx, dir, bucket, key, kp, written.tmpPath, record, opts);
      } catch (e) {
        rmSync(written.tmpPath, { force: true });
        throw e;
      }
      return { bucket, key, size: written.size, lastModified: written.stat.mtime, etag: `"${meta.etag}"`, meta, isDirectoryObject: false, checksum, versionId: meta.versionId };
    } finally {
      tmp.close();
    }
  } finally {
    dir.close();
  }
}

/**
 * Moves a finished temp file (on the bucket's filesystem) to `key` with its record, honouring
 * write conditions: check and rename are one step for every process sharing the root.
 */
export async function commitFile(ctx: PosixContext, bucket: string, key: string, tmpPath: string, meta: ObjectMeta, opts: CommitOptions): Promise<ObjectMeta> {
  const dir = ctx.openBucket(bucket);
  try {
    return await commitIn(ctx, dir, bucket, key, keyPath("", key), tmpPath, meta, opts);
  } finally {
    dir.close();
  }
}

/** Returns the record as committed (with the version id it got, in a versioned bucket). */
export async function commitIn(ctx: PosixContext, dir: Dir, bucket: string, key: string, kp: KeyPath, tmpPath: string, record: ObjectMeta, opts: CommitOptions): Promise<ObjectMeta> {
  // Directory keys (`d/`) are never versioned: they are directories other keys live in.
  const state = kp.isDirectoryKey ? undefined : ctx.versioning(bucket);
  const { versionId: _, ...plain } = record;
  // The id is minted now so the record goes onto the temp file outside the lock; under the
  // lock it is checked to sort after the key's newest version (and minted again if not).
  const meta: ObjectMeta = state === "Enabled" ? { ...plain, versionId: newVersionId() } : plain;
  const stored = ctx.meta.prepare({ bucketDir: dir.path, segments: kp.segments, path: "", isDirectoryKey: kp.isDirectoryKey }, tmpPath, meta);
  for (let attempt = 0; ; attempt++) {
    // Files in the way of the parents (`a` when writing `a/b`) move beside their directory first.
    await makeRoomForParents(ctx, dir, bucket, kp, opts.fileOwner);
    try {
      return await withLock(ctx.lockFile(bucket, key), () => commitLocked(ctx, dir, bucket, key, kp, tmpPath, meta, stored, opts, state));
    } catch (e) {
      // Someone stored `a` again between making room and taking the lock: make room again.
      if (!(e instanceof ParentIsFile) || attempt >= 3) throw e instanceof ParentIsFile ? new StorageError("ParentIsFile", { Key: key }) : e;
    }
  }
}

export function commitLocked(ctx: PosixContext, dir: Dir, bucket: string, key: string, kp: KeyPath, tmpPath: string, meta: ObjectMeta, stored: ObjectMeta, opts: CommitOptions, state: VersioningState): ObjectMeta {
  if (opts.check) opts.check(currentObject(ctx, bucket, key));
  const name = kp.segments[kp.segments.length - 1];
  for (let attempt = 0; ; attempt++) {
    const parent = parentDir(dir, key, kp, opts.fileOwner);
    try {
      // A key whose name is also a directory (it holds other keys) keeps its data beside it; a
      // directory key's data is the file `.filegate-obj.` inside its directory.
      const beside = !kp.isDirectoryKey && lstatOrNull(`${parent.path}/${name}`)?.isDirectory() === true;
      const target = kp.isDirectoryKey ? `${parent.path}/${selfName("")}` : `${parent.path}/${beside ? selfName(name) : name}`;
      const loc: MetaLocation = { bucketDir: dir.path, segments: kp.segments, path: target, isDirectoryKey: kp.isDirectoryKey };
      const kept: Kept[] = [];
      try {
        if (state !== undefined) {
          const reminted = keepForWrite(ctx, dir.path, kp, target, tmpPath, meta, state, loc, kept);
          if (reminted) ({ meta, stored } = reminted);
        }
        ctx.meta.attach(loc, meta);
        if (opts.exclusive) {
          // Every writer through filegate holds this lock, so nothing appears at the key between the
          // check above and link(), which still catches another tool's file.
          linkSync(tmpPath, target);
          unlinkSync(tmpPath);
        } else {
          // Replacing a version whose lock has ended (or was bypassed): its flag goes with it.
          evenIfImmutable([target], () => renameSync(tmpPath, target), () => refuseLockedForGood(ctx.meta, loc, key));
        }
      } finally {
        // A kept version whose flag keep() cleared gets it back, whether or not the write went on.
        for (const k of kept) syncImmutableAt(k.path, k.record);
      }
      syncImmutableAt(target, meta);
      if (ctx.fsync === "full") fsyncPath(parent.path);
      // A copy left beside by a crash mid-move would resurface once this one is deleted.
      if (!beside && !kp.isDirectoryKey) unlinkQuiet(`${parent.path}/${selfName(name)}`);
      // The directory's own record (the empty form of `d/`) gives way to the data's.
      // (`/.`: the xattr binding does not follow a final /proc/self/fd link; `.` is the directory.)
      if (kp.isDirectoryKey && ctx.meta.kind === "xattr") ctx.meta.remove({ ...loc, path: `${parent.path}/.` });
      ctx.meta.afterCommit(loc, stored);
      return meta;
    } catch (e) {
      const code = errnoOf(e);
      if (code === "EEXIST" && opts.exclusive) throw new StorageError("Exists", { Condition: "If-None-Match" });
      // The name became a directory between the check and the rename: go again, beside it.
      if ((code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST") && attempt < 3) continue;
      if (code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST") throw new StorageError("IsDirectory", { Key: key });
      // A concurrent delete may have pruned the parent directory we just made.
      if (code === "ENOENT" && attempt < 3) continue;
      throw absentAs(e);
    } finally {
      parent.close();
    }
  }
}

/**
 * A write in a versioned bucket, under the key's lock, before the new file replaces `target`:
 * keeps the current file as a noncurrent version (or lets it be replaced, for a null version
 * while suspended) as planWrite says, and makes sure the new version's id sorts after every
 * version the key has. Returns the record again when the id had to be minted anew.
 */
export function keepForWrite(ctx: PosixContext, bucketDir: string, kp: KeyPath, target: string, tmpPath: string, meta: ObjectMeta, state: VersioningState, loc: MetaLocation, kept: Kept[]): { meta: ObjectMeta; stored: ObjectMeta } | null {
  const cur = fileAt(ctx.meta, target, loc);
  const plan = planWrite(state, cur ? { versionId: cur.record?.versionId ?? null } : null);
  const vdir = ctx.versions.dirOf(bucketDir, kp.segments);
  // Every noncurrent entry sorts below the current version's id, so an Enabled overwrite of a
  // real version needs no directory read: the common case costs one link more than unversioned.
  const curId = cur?.record?.versionId;
  const names = curId !== undefined && state === "Enabled" ? [] : ctx.versions.names(vdir);
  let floor = maxId(names[0] === undefined ? undefined : seqOf(names[0]), curId);
  if (plan.current === "keep" && cur) {
    const name = keptName(cur.record, names, floor, state);
    floor = maxId(floor, seqOf(name));
    ctx.versions.keep(vdir, name, target, cur.record);
    kept.push({ path: join(vdir, name), record: cur.record });
  }
  if (plan.dropNoncurrentNull) for (const n of names) if (versionIdOfName(n) === "null") ctx.versions.remove(vdir, n);
  if (plan.newId !== "new" || (meta.versionId !== undefined && (floor === undefined || meta.versionId > floor))) return null;
  const again: ObjectMeta = { ...meta, versionId: newVersionId(Date.now(), floor) };
  return { meta: again, stored: ctx.meta.prepare({ ...loc, path: "" }, tmpPath, again) };
}

/** The regular file at `path` (as a key's current object): its stat and matching record. */
export function fileAt(metaStore: MetaStore, path: string, loc: MetaLocation): { st: Stats; record: ObjectMeta | null } | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (ABSENT.has(errnoOf(e) ?? "")) return null;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    return { st, record: metaStore.readFd(fd, { ...loc, path }, st) ?? null };
  } finally {
    closeSync(fd);
  }
}

/**
 * Moves every object file that stands where a parent directory of `kp` must be (`a` when
 * `a/b` is written) beside that directory, as `.filegate-obj.a`: link it there, unlink it, make
 * the directory. Readers look beside a name that is missing or a directory, so at every moment
 * they find the object. Each move holds that object's own key lock.
 */
export async function makeRoomForParents(ctx: PosixContext, dir: Dir, bucket: string, kp: KeyPath, owner?: FileOwner): Promise<void> {
  const parents = kp.isDirectoryKey ? kp.segments : kp.segments.slice(0, -1);
  for (let n = 1; n <= parents.length; n++) {
    const st = lstatOrNull(`${dir.path}/${parents.slice(0, n).join("/")}`);
    if (st === null) return; // the rest is made by makeSubdirs
    if (st.isDirectory()) continue;
    if (!st.isFile()) return; // a link: refused by makeSubdirs
    const segs = parents.slice(0, n);
    await withLock(ctx.lockFile(bucket, segs.join("/")), () => {
      let above: Dir;
      try {
        above = openSubdir(dir, n > 1 ? segs.slice(0, -1).join("/") : ".");
      } catch (e) {
        if (errnoOf(e) === "ELOOP") throw throughLink(kp.segments.join("/"));
        throw absentAs(e);
      }
      try {
        const name = segs[n - 1];
        const at = `${above.path}/${name}`;
        if (!lstatOrNull(at)?.isFile()) return;
        const beside = `${above.path}/${selfName(name)}`;
        // A file at the name is the object; anything beside it is left over.
        rmSync(beside, { force: true });
        moveEvenIfImmutable(at, beside, () => {
          linkSync(at, beside);
          unlinkSync(at);
        });
        try {
          mkdirSync(at, 0o755);
          giveName(at, owner);
        } catch (e) {
          if (errnoOf(e) !== "EEXIST") throw e;
        }
      } catch (e) {
        throw absentAs(e);
      } finally {
        above.close();
      }
    });
  }
}

/** The directory that holds `key`, made where missing; never through a link. */
export function parentDir(dir: Dir, key: string, kp: KeyPath, owner?: FileOwner): Dir {
  const parents = kp.isDirectoryKey ? kp.segments : kp.segments.slice(0, -1);
  try {
    return makeSubdirs(dir, parents, owner);
  } catch (e) {
    const code = errnoOf(e);
    if (code === "ELOOP") throw throughLink(key);
    if (code === "ENOTDIR" || code === "EEXIST") throw kp.isDirectoryKey ? new StorageError("ParentIsFile", { Key: key }) : new ParentIsFile();
    throw absentAs(e);
  }
}

export async function putDirectoryObject(ctx: PosixContext, bucket: string, key: string, dir: Dir, kp: KeyPath, body: IncomingBody, opts: PutOptions) {
  const tmp = tempDir(dir);
  try {
    const written = await receiveToTemp(tmp.path, body, ctx.fsync, opts.fileOwner);
    const { meta, checksum } = recordOf(written, opts);
    // With data (or replacing data) `d/` is a file inside its directory; empty, it is the
    // directory's own record, the form other tools and older trees have.
    const rel = kp.segments.join("/");
    if (written.size > 0 || lstatOrNull(`${dir.path}/${rel}/${selfName("")}`) !== null) {
      try {
        await commitIn(ctx, dir, bucket, key, kp, written.tmpPath, meta, opts);
      } catch (e) {
        rmSync(written.tmpPath, { force: true });
        throw e;
      }
      return { bucket, key, size: written.size, lastModified: written.stat.mtime, etag: `"${meta.etag}"`, meta, isDirectoryObject: true, checksum };
    }
    rmSync(written.tmpPath, { force: true });
    return await putEmptyDirectoryObject(ctx, bucket, key, dir, kp, opts, checksum);
  } finally {
    tmp.close();
  }
}

export async function putEmptyDirectoryObject(ctx: PosixContext, bucket: string, key: string, dir: Dir, kp: KeyPath, opts: PutOptions, checksum: StoredChecksum | undefined) {
  await makeRoomForParents(ctx, dir, bucket, kp, opts.fileOwner);
  return withLock(ctx.lockFile(bucket, key), () => {
    opts.check?.(currentObject(ctx, bucket, key));
    const self = parentDir(dir, key, kp, opts.fileOwner);
    try {
      // Data another writer gave `d/` since this one chose the empty form goes: the later write wins.
      unlinkQuiet(`${self.path}/${selfName("")}`);
    } finally {
      self.close();
    }
    const fd = openBeneath(dir.fd, kp.segments.join("/"), constants.O_RDONLY | constants.O_DIRECTORY, 0, "none");
    try {
      const st = fstatSync(fd);
      const meta: ObjectMeta = {
        etag: EMPTY_MD5,
        ...askedFields(opts),
        ...(checksum ? { checksum } : {}),
        size: 0,
        mtimeMs: Math.trunc(st.mtimeMs),
      };
      const loc: MetaLocation = { bucketDir: dir.path, segments: kp.segments, path: `${dir.path}/${kp.segments.join("/")}`, isDirectoryKey: true };
      ctx.meta.afterCommit(loc, ctx.meta.updateFd(fd, loc, meta));
      return { bucket, key, size: 0, lastModified: st.mtime, etag: `"${EMPTY_MD5}"`, meta, isDirectoryObject: true, checksum };
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * The store's last word before it clears an immutable flag to replace or remove a file: a
 * legal hold or a COMPLIANCE retention in the file's own record, which nothing may override,
 * refuses even when the S3 layer let the request through (its bucket setting gone, say).
 */
export function refuseLockedForGood(metaStore: MetaStore, loc: MetaLocation, key: string): void {
  const st = lstatOrNull(loc.path);
  const meta = st ? metaStore.read(loc, st) : null;
  if (meta && removalBlock(meta, true, Date.now()) !== null) throw new StorageError("ObjectLocked", { Key: key });
}

/** makeSubdirs met a file where a parent directory must be (it appeared after room was made). */
export class ParentIsFile extends Error {}

/** What a write asks its record to hold, whatever the body: headers, user metadata, tags, owner, ACL. */
export function askedFields(opts: PutOptions): Pick<ObjectMeta, "headers" | "user" | "tags" | "owner" | "acl"> {
  return {
    headers: opts.headers,
    user: opts.user,
    ...(opts.tags ? { tags: opts.tags } : {}),
    ...(opts.owner ? { owner: opts.owner } : {}),
    ...(opts.acl ? { acl: opts.acl } : {}),
  };
}

/** The record of a body just received whole, stored with what the write asked for. */
export function recordOf(written: WrittenFile, opts: PutOptions): { meta: ObjectMeta; checksum: StoredChecksum | undefined } {
  const checksum: StoredChecksum | undefined = written.checksum
    ? { algorithm: written.checksum.algorithm, value: written.checksum.value, type: "FULL_OBJECT" }
    : undefined;
  const meta: ObjectMeta = {
    etag: written.md5Hex,
    ...askedFields(opts),
    ...(checksum ? { checksum } : {}),
    ...lockFields(opts.lock),
    ...versionOf(written.stat),
  };
  return { meta, checksum };
}

export const EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e";
