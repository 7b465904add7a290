// Object Lock on the host: a version file Object Lock protects also carries the filesystem's
// immutable flag (chattr +i) where the process may set it, so tools on the host cannot change,
// rename or remove it either (docs/ARCHITECTURE.md, "Object Lock", says what that does and does
// not stop). The S3 rules decide above the store; here the flag only follows the record. The
// gateway's own moves and removals, which the rules already allowed, clear the flag when it is
// what refuses them (EPERM), so the usual path pays nothing.
import { closeSync, constants, openSync } from "node:fs";
import { isLocked, type LockState } from "../retention.ts";
import type { ObjectMeta } from "../types.ts";
import { errnoOf } from "./beneath.ts";
import { isImmutable, setImmutable } from "./kernel.ts";

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

function withFile<T>(path: string, use: (fd: number) => T, absent: T): T {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch {
    return absent;
  }
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

/** The record fields of a new version's lock (none when it has none). */
export function lockFields(lock: LockState | undefined): Pick<ObjectMeta, "retention" | "legalHold"> {
  return {
    ...(lock?.retention ? { retention: lock.retention } : {}),
    ...(lock?.legalHold !== undefined ? { legalHold: lock.legalHold } : {}),
  };
}

/** Whether a record asks for the flag now. */
export function wantsImmutable(meta: ObjectMeta | null | undefined, now = Date.now()): boolean {
  return isLocked(meta, now);
}

/**
 * Gives the open file the flag its record calls for (set while locked, cleared otherwise); true
 * when the file now has it as asked, false where the flag is unavailable.
 */
export function syncImmutable(fd: number, meta: ObjectMeta | null | undefined, now = Date.now()): boolean {
  const want = wantsImmutable(meta, now);
  // Files never locked are never touched: no ioctl on the write path of unlocked buckets.
  if (!want && meta?.retention === undefined && meta?.legalHold === undefined) return true;
  return setImmutable(fd, want);
}

/** syncImmutable on the file at `path` (after a rename put it there). */
export function syncImmutableAt(path: string, meta: ObjectMeta | null | undefined, now = Date.now()): boolean {
  if (meta?.retention === undefined && meta?.legalHold === undefined) return true;
  return withFile(path, (fd) => syncImmutable(fd, meta, now), false);
}

/** Clears the flag of the file at `path`; true when it had one and no longer has. */
function clearAt(path: string): boolean {
  return withFile(path, (fd) => isImmutable(fd) === true && setImmutable(fd, false), false);
}

/**
 * Runs `op`, a rename, unlink or record write on `paths` that the S3 rules already allowed; when the
 * immutable flag refuses it (EPERM), clears the flag on those files and runs it once more.
 * `beforeClear` may still refuse (throw) then: the store's own last look at the file's record.
 */
export function evenIfImmutable<T>(paths: string[], op: () => T, beforeClear?: () => void): T {
  try {
    return op();
  } catch (e) {
    if (errnoOf(e) !== "EPERM") throw e;
    beforeClear?.();
    let cleared = false;
    for (const p of paths) cleared = clearAt(p) || cleared;
    if (!cleared) throw e;
    return op();
  }
}

/** The same for a record write on the open file `fd`. */
export function evenIfImmutableFd<T>(fd: number, op: () => T): T {
  try {
    return op();
  } catch (e) {
    if (errnoOf(e) !== "EPERM" || isImmutable(fd) !== true || !setImmutable(fd, false)) throw e;
    return op();
  }
}

/**
 * Runs `op`, which moves the file at `from` to `to` (same inode: a link and unlink, or a rename)
 * without changing it: a locked version moving beside a directory that now shares its name. When
 * the flag refuses the move, it is cleared for the move and set again on the file wherever it ended.
 */
export function moveEvenIfImmutable(from: string, to: string, op: () => void): void {
  try {
    op();
    return;
  } catch (e) {
    if (errnoOf(e) !== "EPERM" || !clearAt(from)) throw e;
  }
  try {
    op();
  } finally {
    const restore = (fd: number) => setImmutable(fd, true);
    if (!withFile(to, restore, false)) withFile(from, restore, false);
  }
}
