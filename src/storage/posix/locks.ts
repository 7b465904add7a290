// Short exclusive locks shared by every process serving the root (and every host, where the
// filesystem carries flock): the check and the commit of a conditional write, a metadata update,
// the claim of a multipart upload. With the addon they are flock(2) locks, which the kernel drops
// when the holder dies; without it, an exclusively created owner file naming boot id and pid,
// taken over when that process is gone.
import { closeSync, constants, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { createHash } from "node:crypto";
import { StorageError } from "../errors.ts";
import { bootId, pidAlive, tryFlock } from "./kernel.ts";
import { mkdirs } from "./mkdirs.ts";

export interface HeldLock {
  release(): void;
}

/** Locks of different keys share one of this many files: bounded, and never cleaned up. */
const SLOTS = 4096;
/** A writer that waits longer than this answers ConditionalRequestConflict, as S3 does. */
const WAIT_MS = 10_000;
/** An owner file of another host (or boot) older than this is taken over. */
const FOREIGN_OWNER_MS = 10 * 60_000;

/**
 * The lock file of an object key: one of SLOTS files in `locksDir`. Kinds of lock that may be held
 * together (an upload's claim and its key's lock) use different `kind`s, so they never share a
 * file: flock would then wait for the process's own lock.
 */
export function keyLockFile(locksDir: string, bucket: string, key: string, kind: "k" | "u" = "k"): string {
  const h = createHash("sha1").update(bucket).update("\0").update(key).digest();
  return `${locksDir}/${kind}${(h.readUInt32BE(0) % SLOTS).toString(16).padStart(3, "0")}`;
}

/** Takes the lock on `file` (created if missing) now, or returns null when someone holds it. */
export function tryLock(file: string): HeldLock | null {
  const fd = openLockFile(file);
  let taken: boolean | null;
  try {
    taken = tryFlock(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  if (taken === true) return { release: () => closeSync(fd) };
  closeSync(fd);
  if (taken === false) return null;
  return tryOwnerFile(file + ".held");
}

/** Opens (creating) a lock file; its directory is made again if someone removed it. A read-only
 * root fails here with EROFS, which the caller's write would have met anyway. */
function openLockFile(file: string): number {
  const flags = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW;
  try {
    return openSync(file, flags, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    mkdirs(dirname(file));
    return openSync(file, flags, 0o600);
  }
}

/** The lock without flock (no addon): an owner file; exported for its unit test. */
export function tryOwnerFile(owner: string): HeldLock | null {
  // At most: clear a stale takeover, take over a dead owner, then create.
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createOwnerFile(owner)) return { release: () => unlinkSync(owner) };
    if (!ownerGone(owner)) return null;
    // Two waiters can both find the owner dead; the one that then unlinked would delete the
    // other's fresh owner file. So taking over is itself exclusive, and the owner is judged again
    // once it is held.
    const takeover = owner + ".takeover";
    if (!createOwnerFile(takeover)) {
      if (!stale(takeover)) return null;
      removeQuietly(takeover);
      continue;
    }
    try {
      if (!ownerGone(owner)) return null;
      removeQuietly(owner);
    } finally {
      removeQuietly(takeover);
    }
  }
  return null;
}

/** Creates `file` naming this process, unless it exists. */
function createOwnerFile(file: string): boolean {
  let fd;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return false;
  }
  try {
    writeSync(fd, `${bootId()} ${process.pid} ${Date.now()}`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

/** A takeover takes a few syscalls; one older than this belongs to a process that stopped in it. */
const TAKEOVER_MS = 5_000;

function stale(takeover: string): boolean {
  try {
    return Date.now() - statSync(takeover).mtimeMs > TAKEOVER_MS;
  } catch {
    return true;
  }
}

function ownerGone(owner: string): boolean {
  let text: string;
  try {
    text = readFileSync(owner, "utf8");
  } catch {
    return true;
  }
  const [boot, pid, since] = text.split(" ");
  if (boot === bootId()) return !pidAlive(Number(pid));
  return Date.now() - Number(since) > FOREIGN_OWNER_MS;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for the lock on `file`; ConditionalRequestConflict after WAIT_MS. */
export async function lock(file: string, waitMs = WAIT_MS): Promise<HeldLock> {
  const deadline = Date.now() + waitMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    const held = tryLock(file);
    if (held) return held;
    if (Date.now() > deadline) throw new StorageError("LockTimeout");
    await sleep(pause);
  }
}

/** Runs `fn` holding the lock on `file`. */
export async function withLock<T>(file: string, fn: () => T | Promise<T>): Promise<T> {
  const held = await lock(file);
  try {
    return await fn();
  } finally {
    held.release();
  }
}
