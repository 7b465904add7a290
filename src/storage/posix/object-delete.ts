// The delete path: removing a key's object, or one version of it, under the key's lock; in a
// versioned bucket keeping the current file and writing a delete marker, or putting the next
// version back at the key; then pruning the directories the key leaves empty.
import { closeSync, constants, openSync, renameSync, rmdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { absentAs } from "../errors.ts";
import { selfName } from "./layout.ts";
import { keyPath, type KeyPath } from "./names.ts";
import { evenIfImmutable, evenIfImmutableFd, moveEvenIfImmutable, syncImmutableAt } from "./immutable.ts";
import { Dir, errnoOf, openSubdir } from "./beneath.ts";
import { withLock } from "./locks.ts";
import type { MetaLocation } from "./meta.ts";
import { nullName, versionIdOfName } from "./versions.ts";
import { newVersionId } from "../version-id.ts";
import { planDelete, type VersioningState } from "../versioning.ts";
import { ABSENT, DIRECTORY_IDENTITY, lstatOrNull, throughLink, unlinkQuiet } from "./file-facts.ts";
import type { DeleteResult, ObjectInfo, ObjectMeta, VersionSelector } from "../types.ts";
import { currentObject, describeVersion } from "./object-read.ts";
import { type Kept, keptName, maxId, seqOf } from "./kept-versions.ts";
import { ParentIsFile, parentDir, refuseLockedForGood } from "./object-write.ts";
import type { PosixContext } from "./context.ts";

/**
 * S3 deletes are idempotent: a missing key is success. `check` sees the current object under the
 * key's lock and may refuse (a conditional delete). A key that is a symlink loses the link, never
 * the link's target.
 */
export async function deleteObject(ctx: PosixContext, bucket: string, key: string, opts: VersionSelector & { check?: (current: ObjectInfo | null) => void } = {}): Promise<DeleteResult> {
  const kp = keyPath("", key);
  const dir = ctx.openBucket(bucket);
  const { versionId, check } = opts;
  try {
    // Directory keys are never versioned: their one version is the null one.
    const state = kp.isDirectoryKey ? undefined : ctx.versioning(bucket);
    let result: DeleteResult & { removedCurrent?: boolean };
    if (versionId !== undefined && !kp.isDirectoryKey) {
      result = await withLock(ctx.lockFile(bucket, key), () => deleteVersionLocked(ctx, dir, bucket, key, kp, versionId, check));
    } else if (versionId !== undefined && versionId !== "null") {
      result = { versionId, found: false };
    } else if (state === undefined || versionId !== undefined) {
      const removed = await withLock(ctx.lockFile(bucket, key), () => deleteLocked(ctx, dir, bucket, key, kp, check));
      result = { found: removed, removedCurrent: removed };
    } else {
      result = await withLock(ctx.lockFile(bucket, key), () => deleteMarkLocked(ctx, dir, bucket, key, kp, state, check));
    }
    // A directory object's own directory goes too when nothing else is in it.
    if (result.removedCurrent) await pruneParents(ctx, dir, bucket, kp.isDirectoryKey ? kp.segments : kp.segments.slice(0, -1));
    const { removedCurrent: _, ...answer } = result;
    return answer;
  } finally {
    dir.close();
  }
}

/**
 * DELETE without a version id in a versioned bucket (under the key's lock), as planDelete
 * says. The current file is linked into the version store before it leaves the key, and the
 * marker is written last: a crash in between leaves the key without a current object and
 * every version kept.
 */
export function deleteMarkLocked(ctx: PosixContext, dir: Dir, bucket: string, key: string, kp: KeyPath, state: VersioningState, check?: (current: ObjectInfo | null) => void): DeleteResult & { removedCurrent: boolean } {
  const current = currentObject(ctx, bucket, key);
  check?.(current);
  const plan = planDelete(state, current ? { versionId: current.versionId ?? null } : null);
  const vdir = ctx.versions.dirOf(dir.path, kp.segments);
  const names = ctx.versions.names(vdir);
  let floor = maxId(names[0] === undefined ? undefined : seqOf(names[0]), current?.versionId);
  let removed = false;
  if (plan.current !== "none" && current) {
    const kept: Kept[] = [];
    const keep = plan.current === "keep"
      ? (target: string) => {
          const name = keptName(current.meta, names, floor, state);
          floor = maxId(floor, seqOf(name));
          ctx.versions.keep(vdir, name, target, current.meta);
          kept.push({ path: join(vdir, name), record: current.meta });
        }
      : undefined;
    try {
      removed = deleteLocked(ctx, dir, bucket, key, kp, undefined, keep);
    } finally {
      for (const k of kept) syncImmutableAt(k.path, k.record);
    }
  }
  if (plan.dropNoncurrentNull) for (const n of names) if (versionIdOfName(n) === "null") ctx.versions.remove(vdir, n);
  const markerId = newVersionId(Date.now(), floor);
  const name = plan.marker === "new" ? markerId : nullName(markerId);
  ctx.versions.writeMarker(vdir, name, { etag: "", headers: {}, user: {}, deleteMarker: true, ...(plan.marker === "new" ? { versionId: markerId } : {}), size: 0, mtimeMs: 0 });
  return { versionId: plan.marker === "new" ? markerId : undefined, deleteMarker: true, found: true, removedCurrent: removed };
}

/**
 * Removes one version for good (under the key's lock). When it is the current object, the
 * newest noncurrent version takes its place in one rename, unless that is a delete marker; when
 * it is the delete marker that was latest, the version below it becomes the current object.
 */
export function deleteVersionLocked(ctx: PosixContext, dir: Dir, bucket: string, key: string, kp: KeyPath, versionId: string, check?: (current: ObjectInfo | null) => void): DeleteResult & { removedCurrent: boolean } {
  const vdir = ctx.versions.dirOf(dir.path, kp.segments);
  const current = currentObject(ctx, bucket, key);
  const idOf = (v: string | undefined) => v ?? "null";
  if (current && idOf(current.versionId) === versionId) {
    check?.(current);
    // Entries with the current's id are what a crash left behind: the same file twice.
    const below = ctx.versions.names(vdir).filter((n) => {
      if (versionIdOfName(n) !== versionId) return true;
      ctx.versions.remove(vdir, n);
      return false;
    });
    const next = below[0] === undefined ? null : ctx.versions.peek(vdir, below[0]);
    if (next && !next.record?.deleteMarker && restoreLocked(ctx, dir, key, kp, vdir, next.name, next.record)) {
      return { versionId: current.versionId, found: true, removedCurrent: false };
    }
    const removed = deleteLocked(ctx, dir, bucket, key, kp);
    return { versionId: current.versionId, found: removed, removedCurrent: removed };
  }
  const names = ctx.versions.names(vdir);
  const name = versionId === "null" ? names.find((n) => versionIdOfName(n) === "null") : names.find((n) => n === versionId);
  const v = name === undefined ? null : ctx.versions.open(vdir, name);
  if (v === null) return { versionId: versionId === "null" ? undefined : versionId, found: false, removedCurrent: false };
  const info = describeVersion(bucket, key, v);
  info.close();
  check?.(info);
  ctx.versions.remove(vdir, v.name);
  if (!current && names[0] === v.name) {
    const next = names[1] === undefined ? null : ctx.versions.peek(vdir, names[1]);
    if (next && !next.record?.deleteMarker) restoreLocked(ctx, dir, key, kp, vdir, next.name, next.record);
  }
  return { versionId: info.versionId, deleteMarker: info.deleteMarker, found: true, removedCurrent: false };
}

/**
 * Puts noncurrent version `name` back at the key as its current object (under the key's
 * lock), replacing whatever file is there. False when the key's place cannot be made (a file
 * where a parent directory must be): the version then stays noncurrent.
 */
export function restoreLocked(ctx: PosixContext, dir: Dir, key: string, kp: KeyPath, vdir: string, name: string, record: ObjectMeta | null): boolean {
  let parent: Dir;
  try {
    parent = parentDir(dir, key, kp);
  } catch (e) {
    if (e instanceof ParentIsFile) return false;
    throw e;
  }
  try {
    const last = kp.segments[kp.segments.length - 1];
    const beside = lstatOrNull(`${parent.path}/${last}`)?.isDirectory() === true;
    const target = `${parent.path}/${beside ? selfName(last) : last}`;
    const loc: MetaLocation = { bucketDir: dir.path, segments: kp.segments, path: target, isDirectoryKey: false };
    let stored: ObjectMeta | null = record;
    if (record) {
      // The key's record must stand on its own there (a version's may live beside it).
      if (ctx.meta.kind === "sidecar") ctx.meta.attach(loc, record);
      else {
        const fd = openSync(`${vdir}/${name}`, constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          const r = record;
          stored = evenIfImmutableFd(fd, () => ctx.meta.updateFd(fd, loc, r));
        } finally {
          closeSync(fd);
        }
      }
    }
    try {
      ctx.versions.restore(vdir, name, target);
    } finally {
      // The restored version keeps its lock (and flag) at the key; if the move failed, where it was.
      if (!syncImmutableAt(target, record)) syncImmutableAt(`${vdir}/${name}`, record);
    }
    ctx.meta.afterCommit(loc, stored);
    return true;
  } finally {
    parent.close();
  }
}

/**
 * Removes the object at `kp` (under its lock); false when there was none. `keep` runs just
 * before the current file is unlinked, with its path (a versioned delete links it away first).
 */
export function deleteLocked(ctx: PosixContext, dir: Dir, bucket: string, key: string, kp: KeyPath, check?: (current: ObjectInfo | null) => void, keep?: (target: string) => void): boolean {
  if (check) check(currentObject(ctx, bucket, key));
  const parents = kp.segments.slice(0, -1);
  const name = kp.segments[kp.segments.length - 1];
  let parent: Dir;
  try {
    parent = openSubdir(dir, parents.length ? parents.join("/") : ".");
  } catch (e) {
    const code = errnoOf(e);
    if (code === "ELOOP") throw throughLink(key);
    if (ABSENT.has(code ?? "")) return false;
    throw absentAs(e);
  }
  try {
    let target = `${parent.path}/${name}`;
    let st = lstatOrNull(target);
    if (kp.isDirectoryKey) {
      if (!st?.isDirectory()) return false;
      const loc: MetaLocation = { bucketDir: dir.path, segments: kp.segments, path: target, isDirectoryKey: true };
      const data = `${target}/${selfName("")}`;
      const hadData = lstatOrNull(data) !== null;
      if (!hadData && !ctx.meta.read(loc, DIRECTORY_IDENTITY)) return false;
      if (hadData) evenIfImmutable([data], () => unlinkQuiet(data, true), () => refuseLockedForGood(ctx.meta, { ...loc, path: data, isDirectoryKey: false }, key));
      ctx.meta.remove(loc);
      ctx.meta.afterCommit(loc, null);
      return true;
    }
    // The name is a directory (it holds other keys): the object, if any, is beside it.
    if (st?.isDirectory() || st === null) {
      target = `${parent.path}/${selfName(name)}`;
      st = lstatOrNull(target);
    }
    if (st === null || st.isDirectory()) return false;
    const at: MetaLocation = { bucketDir: dir.path, segments: kp.segments, path: target, isDirectoryKey: false };
    keep?.(target);
    try {
      evenIfImmutable([target], () => unlinkSync(target), () => refuseLockedForGood(ctx.meta, at, key));
    } catch (e) {
      if (errnoOf(e) === "ENOENT") return false;
      throw absentAs(e);
    }
    const loc: MetaLocation = { bucketDir: dir.path, segments: kp.segments, path: target, isDirectoryKey: false };
    if (ctx.meta.kind === "sidecar") ctx.meta.remove(loc);
    ctx.meta.afterCommit(loc, null);
    return true;
  } finally {
    parent.close();
  }
}

/**
 * Removes directories left empty, from `segments` up to the bucket, stopping at directory
 * objects. An object kept beside a removed directory (`.filegate-obj.a`) moves back to its name,
 * under its key's lock; readers look beside a missing name, so they find it throughout.
 */
export async function pruneParents(ctx: PosixContext, dir: Dir, bucket: string, segments: string[]): Promise<void> {
  for (let n = segments.length; n > 0; n--) {
    let above: Dir;
    try {
      above = openSubdir(dir, n > 1 ? segments.slice(0, n - 1).join("/") : ".");
    } catch {
      return;
    }
    try {
      const name = segments[n - 1];
      const path = `${above.path}/${name}`;
      const loc: MetaLocation = { bucketDir: dir.path, segments: segments.slice(0, n), path, isDirectoryKey: true };
      // A directory's record needs no stat to be trusted; a vanished one fails rmdir below.
      if (ctx.meta.read(loc, DIRECTORY_IDENTITY)) return;
      const beside = `${above.path}/${selfName(name)}`;
      if (lstatOrNull(beside) === null) {
        try {
          rmdirSync(path);
        } catch {
          return; // still holds keys, or gone already
        }
        continue;
      }
      // The object waiting beside the directory takes its name back the moment the directory
      // goes, under the object's lock, so readers see its name missing only between two syscalls.
      const outcome = await withLock(ctx.lockFile(bucket, segments.slice(0, n).join("/")), () => {
        try {
          rmdirSync(path);
        } catch {
          return "kept"; // still holds keys
        }
        try {
          moveEvenIfImmutable(beside, path, () => renameSync(beside, path));
          return "moved";
        } catch {
          return "gone"; // deleted meanwhile: nothing to move back
        }
      });
      // A name holding an object again keeps its parent; a name that is gone lets it go too.
      if (outcome !== "gone") return;
    } finally {
      above.close();
    }
  }
}
