// Stats for a walk. Every listed object needs its size and mtime; where the filesystem answers
// slowly the walk issues them ahead on the thread pool instead (walk.ts decides when).
import { statSync, type Stats } from "node:fs";
import { stat } from "node:fs/promises";
import { absentAs } from "../errors.ts";

/** Synchronous stats slower than this mean the file system is remote or the disk is cold: after
 * SLOW_STATS of them (one could be a GC pause or a preemption) the rest of the walk issues its
 * stats ahead on the thread pool instead (see statNow). */
export const SLOW_STAT_MS = 1;
export const SLOW_STATS = 3;
/** How many upcoming files of a directory get their stat issued concurrently in that mode. */
export const STAT_AHEAD = 48;

export type StatResult = Stats | null | Error;

export function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

export function vanished(e: unknown): boolean {
  const c = errCode(e);
  return c === "ENOENT" || c === "ENOTDIR";
}

export function unreadable(e: unknown): boolean {
  const c = errCode(e);
  return c === "ENOENT" || c === "ENOTDIR" || c === "EACCES" || c === "EPERM";
}

/**
 * Every listed object needs its size and mtime. Stats start out synchronous: on a cached inode the
 * syscall takes about a microsecond, while a promise round trip through the thread pool costs the
 * main thread more than that (1.3 vs 2 µs per file measured on Bun), and a listing's cost is the
 * main thread's. Where one takes longer than SLOW_STAT_MS (NFS, a parallel file system, a cold
 * disk) the walk switches to statQuiet issued ahead, so the round trips overlap instead of
 * blocking the event loop one after another. Null when the entry vanished, may not be read, or loops.
 */
export function statNow(path: string): Stats | null {
  try {
    return statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch (e) {
    if (unreadable(e) || errCode(e) === "ELOOP") return null;
    throw absentAs(e);
  }
}

/** Never rejects: a stat issued ahead may be abandoned when the caller stops early, and an
 * unobserved rejection would take the process down. */
export function statQuiet(path: string): Promise<StatResult> {
  return stat(path).then(
    (s) => s,
    (e) => (unreadable(e) || errCode(e) === "ELOOP" ? null : (e as Error)),
  );
}

