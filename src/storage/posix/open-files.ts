// Small objects kept open between reads, so that a GET of a hot small object costs one lstat(2) of
// its path instead of an open, fstat, xattr read and close. Measured on the 4 KiB GET: those four
// calls were half of the gateway's CPU per request under load (docs/PERFORMANCE.md), far more than
// the same calls cost in a tight loop.
//
// An entry is used only while the path still names the same file, unchanged: the lstat of the
// path must show the entry's device, inode, size, mtime and ctime. Every way the answer could
// change moves one of them:
// - a new version renamed over the key, or a delete: another inode, or no file;
// - data rewritten in place, a record (xattr) changed, a hard link made or the file renamed:
//   the file's ctime moves, because entries are made only of files whose ctime was already
//   QUIET_MS old when opened (timestamps are coarse; a change in the same tick as the open could
//   otherwise keep them all — the rule listed-cache.ts uses).
// Only for records kept in xattrs: a sidecar record can change without touching the file.
//
// Confinement: the entry's descriptor was opened beneath the bucket. The lstat does not refuse
// links on the way as that open does, but it can only match a file this cache opened beneath the
// bucket, with the same ctime, so it hands out the bytes of a file the bucket served before and
// that nothing has changed since. Whatever else a path leads to misses and takes the full open.
//
// Descriptors are shared by concurrent readers: each reader holds a reference, and a descriptor
// is closed only when it has left the cache and its last reader is done. Entries not read for
// IDLE_MS are closed, so a deleted file's space is not held for long.
import { closeSync, fstatSync, lstatSync, openSync } from "node:fs";
import { join } from "node:path";
import type { OpenObject } from "../types.ts";
import { lstatAt, STAT_FIELDS } from "./kernel.ts";

const QUIET_MS = 3000;
const IDLE_MS = 2000;
const CAPACITY = 256;
/** Bodies this small are read in one call, in the request's own turn (serve/*-runtime.ts): a
 * shared descriptor is never handed to the runtime's own file sending. */
export const SMALL_OBJECT = 64 * 1024;

// Fields of a stamp (kernel.ts statNames' layout): errno, mode, size, mtime s, mtime ns, ctime s,
// ctime ns, ino, dev, nlink. Everything but errno and nlink must match; a link count alone
// changes only with a hard link, which moves the ctime too.
const S_ERRNO = 0;
const S_MODE = 1;
const S_CTIME_S = 5;
const S_CTIME_NS = 6;
const S_INO = 7;
const S_DEV = 8;
const COMPARED = [1, 2, 3, 4, 5, 6, 7, 8];
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

interface Entry {
  path: string;
  stamp: Float64Array;
  info: OpenObject;
  fd: number;
  readers: number;
  cached: boolean;
  lastUse: number;
}

export class OpenFiles {
  private readonly entries = new Map<string, Entry>();
  private timer: ReturnType<typeof setInterval> | null = null;
  /** One stamp buffer for lookups: JavaScript runs one lookup at a time. */
  private readonly scratch = new Float64Array(STAT_FIELDS);

  /** `rootFd`/`root`: the directory paths are relative to, open and by name. */
  constructor(
    private readonly rootFd: number,
    private readonly root: string,
    private readonly capacity = CAPACITY,
    private readonly quietMs = QUIET_MS,
    private readonly idleMs = IDLE_MS,
  ) {}

  /** The object at `path` (relative to the root) when an entry still describes it; null sends
   * the caller to the full open. */
  lookup(path: string): OpenObject | null {
    const e = this.entries.get(path);
    if (e === undefined) return null;
    const now = this.stamp(path, this.scratch);
    if (now[S_ERRNO] !== 0 || !sameStamp(e.stamp, now)) {
      this.drop(e);
      return null;
    }
    e.lastUse = performance.now();
    return this.share(e);
  }

  /**
   * Offers a just-opened object found at `path`. Returns what the caller hands out: a shared
   * reference when the object was taken in, else the object itself.
   */
  offer(path: string, found: OpenObject): OpenObject {
    // A file modified within the quiet time also changed (ctime) within it: refused before any
    // syscall, so a GET of a young small object pays nothing here.
    if (found.fd === null || found.size >= SMALL_OBJECT || this.entries.has(path) || Date.now() - found.lastModified.getTime() < this.quietMs) return found;
    // The name's stamp, which lookups compare with; it must be of the file that was opened.
    const stamp = this.stamp(path, new Float64Array(STAT_FIELDS));
    const fdStat = fstatSync(found.fd);
    if (
      stamp[S_ERRNO] !== 0 || (stamp[S_MODE] & S_IFMT) !== S_IFREG || stamp[S_INO] !== fdStat.ino || stamp[S_DEV] !== fdStat.dev ||
      Date.now() - (stamp[S_CTIME_S] * 1000 + stamp[S_CTIME_NS] / 1e6) < this.quietMs
    ) {
      return found;
    }
    if (this.entries.size >= this.capacity) this.drop(this.entries.values().next().value as Entry);
    const fd = found.detach();
    const e: Entry = {
      path,
      stamp,
      info: { ...found, fd },
      fd,
      readers: 0,
      cached: true,
      lastUse: performance.now(),
    };
    this.entries.set(path, e);
    this.timer ??= setInterval(() => this.sweep(), this.idleMs);
    this.timer.unref?.();
    return this.share(e);
  }

  /** Closes every descriptor no reader holds (tests, shutdown). */
  clear(): void {
    for (const e of [...this.entries.values()]) this.drop(e);
  }

  private share(e: Entry): OpenObject {
    e.readers++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      e.readers--;
      if (!e.cached && e.readers === 0) closeSync(e.fd);
    };
    return {
      ...e.info,
      close: release,
      // A new owner gets a descriptor of its own (the same open file, reopened through /proc).
      detach: () => {
        const own = openSync(`/proc/self/fd/${e.fd}`, "r");
        release();
        return own;
      },
    };
  }

  /** lstat(2) of `path` into `out`: through the addon, else lstatSync (same layout). */
  private stamp(path: string, out: Float64Array): Float64Array {
    if (lstatAt(this.rootFd, path, out) !== null) return out;
    const st = lstatSync(join(this.root, path), { bigint: true, throwIfNoEntry: false });
    if (st === undefined) {
      out[S_ERRNO] = 2;
      return out;
    }
    const ns = 1_000_000_000n;
    out.set([0, Number(st.mode), Number(st.size), Number(st.mtimeNs / ns), Number(st.mtimeNs % ns), Number(st.ctimeNs / ns), Number(st.ctimeNs % ns), Number(st.ino), Number(st.dev), Number(st.nlink)]);
    return out;
  }

  private drop(e: Entry): void {
    if (!e.cached) return;
    e.cached = false;
    this.entries.delete(e.path);
    if (e.readers === 0) closeSync(e.fd);
    if (this.entries.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private sweep(): void {
    const before = performance.now() - this.idleMs;
    for (const e of [...this.entries.values()]) if (e.lastUse < before) this.drop(e);
  }
}

function sameStamp(a: Float64Array, b: Float64Array): boolean {
  for (const i of COMPARED) if (a[i] !== b[i]) return false;
  return true;
}
