// Lists a bucket's keys straight off the directory tree, in S3 order, without an index.
//
// Order: S3 sorts keys by their UTF-8 bytes. Inside one directory we sort entry names with a
// directory's sort name being `name + "/"`; because every key below directory `d` starts with
// `d/`, and names contain no "/", a depth-first walk over such sorted directories yields keys in
// global byte order (`a-b` < `a/` < `a/b` < `a0`). So we never hold more than one directory's names
// per level of the current path, plus a bounded cache of large directories' sorted names (below).
//
// startAfter: a directory whose keys all sort at or before startAfter is dropped by name without
// being opened; only the directories that are ancestors of startAfter are read again. Resuming a
// listing therefore costs the page plus the directories on startAfter's path.
//
// startAfter vs common prefixes (delimiter set). S3 rolls every key whose remainder after the
// prefix contains the delimiter into a common prefix CP (the remainder up to and including the
// first delimiter). Rule used here:
//   * if startAfter itself lies under a common prefix CP_S (it starts with the prefix and its
//     remainder contains the delimiter), every key under CP_S counts as already listed: CP_S is
//     not repeated and none of its keys are returned;
//   * otherwise a common prefix is returned iff it sorts after startAfter.
// Together: a common prefix CP is returned iff CP > startAfter (bytes), and only if at least one
// key exists below it. This is what makes NextMarker = <last common prefix> resume correctly, and
// it is the behaviour the Ceph s3-tests expect of AWS (test_bucket_list_delimiter_prefix: after
// marker "boo/" with delimiter "/", the next page starts at "cquux/", not "boo/" again). Ceph RGW
// implements the same rule by fast-forwarding a marker that contains the delimiter past its
// common prefix. A startAfter equal to a prefix's stem (e.g. "prefix1" for "prefix1/") does not
// lie under it, so "prefix1/" is still returned (matches versitygw#1275 / AWS).

import { realpathSync, statSync, type Stats } from "node:fs";
import { lstat, opendir } from "node:fs/promises";
import { resolve } from "node:path";
import { constants as osConstants } from "node:os";
import { StorageError, absentAs, isStorageError } from "../errors.ts";
import { DirListings, classify, classifyByLstat, SKIP, UNKNOWN, type Listing, type SortNames } from "./dir-listing.ts";
import { compareKeys } from "./key-order.ts";
import { GATEWAY_DIR } from "./layout.ts";
import { SLOW_STAT_MS, SLOW_STATS, STAT_AHEAD, errCode, statNow, statQuiet, unreadable, vanished, type StatResult } from "./stat-schedule.ts";
import { STAT_FIELDS, statNames, xattrSizes } from "./kernel.ts";

export { compareKeys } from "./key-order.ts";

/** The gateway's private area at a bucket's top level; never part of the key space. */
const PRIVATE_AREA = GATEWAY_DIR;

const SLASH = 47;



export interface WalkOptions {
  /** The tree's directory listings (and their cache); a fresh one when absent. */
  listings?: DirListings;
  /** Stats slower than this switch the walk to issuing them ahead (negative: from the start). */
  slowStatMs?: number;
  /** Only keys starting with prefix. */
  prefix?: string;
  /** Only keys strictly greater (UTF-8 bytes) than this. */
  startAfter?: string;
  /** Group keys into common prefixes. */
  delimiter?: string;
  isDirectoryObject(absPath: string): Promise<boolean>;
  /** --posix-permissions: directories the listing's Unix account may not read are not entered. */
  mayEnter?(absPath: string): boolean;
  /**
   * Batch mode: for the files whose `needed` says their record must be read, ask in the same
   * batch whether they have the xattr `attr` at all; entries without get `noRecord` (a foreign
   * file then costs no record read of its own).
   */
  recordProbe?: { attr: string; needed(st: StatLike): boolean };
}

const MAX_KEY_BYTES = 1024;

export type WalkEntry =
  | { type: "object"; key: string; path: string; size: number; mtimeMs: number; ctimeMs: number; ino: number; dev: number; isDirectoryObject: boolean; viaLink: boolean; noRecord: boolean }
  | { type: "prefix"; prefix: string };

interface Frame {
  abs: string;
  /** Key prefix of this directory's entries: "" at the bucket top, else "a/b/". */
  rel: string;
  /** Sorted sort names; directories carry a trailing "/". Shared with the cache: never mutated. */
  names: SortNames;
  /** Names that are symlinks: only a stat tells whether they are files. */
  links: Set<string> | null;
  aliases: Map<string, string> | null;
  /** Next index to visit, and the end of the range this walk needs. */
  i: number;
  end: number;
  /** Thread-pool mode only: index up to which stats have been issued ahead, and those stats in a
   * ring of STAT_AHEAD slots, each tagged with the index it is for. */
  ahead: number;
  pendingAt: number[];
  pending: (Promise<StatResult> | undefined)[];
  /** Batch mode (the addon): stats of names [batchFrom, batchFrom + BATCH) taken in one call;
   * batchRow maps an index to its row in batchOut (-1: not a file this walk stats). */
  batchFrom: number;
  batchRow: Int32Array | null;
  batchOut: Float64Array | null;
  /** Rows whose file had no record xattr when probed (recordProbe). */
  batchNoRecord: Uint8Array | null;
}

/** Files stat'ed per native call in batch mode: a page of 1,000 takes ~16 calls, wasting at most
 * BATCH - 1 stats past its end. */
const BATCH = 64;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
/** errnos of a stat that mean the entry is not an object (vanished, unreadable, a loop). */
const NOT_AN_OBJECT = new Set([2, 20, 13, 1, 40]); // ENOENT, ENOTDIR, EACCES, EPERM, ELOOP

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

const ENODATA = osConstants.errno.ENODATA;

/** What a listing needs of a stat. */
export interface StatLike {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
  /** Probed in the batch: the file has no record xattr. */
  noRecord?: boolean;
}

async function isDirObject(opts: WalkOptions, abs: string): Promise<boolean> {
  try {
    return await opts.isDirectoryObject(abs);
  } catch (e) {
    if (vanished(e)) return false;
    throw e;
  }
}

/** First index in [lo, hi) whose name does not satisfy `before` (which must be true, then false). */
function partition(names: SortNames, lo: number, hi: number, before: (sn: string) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(names.at(mid)!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The index range of a sorted listing that can hold keys with the given name prefix and keys
 * greater than startAfter, for a directory whose entries have key prefix `rel`.
 */
function visibleRange(names: SortNames, rel: string, namePrefix: string, startAfter: string | undefined): [number, number] {
  let lo = 0;
  let hi = names.length;
  if (namePrefix !== "") {
    lo = partition(names, lo, hi, (sn) => compareKeys(sn, namePrefix) < 0);
    hi = partition(names, lo, hi, (sn) => sn.startsWith(namePrefix));
  }
  if (startAfter !== undefined && startAfter.startsWith(rel)) {
    // Only startAfter's own path component matters: names before it sort entirely before
    // startAfter, names after it entirely after.
    const rest = startAfter.slice(rel.length);
    const slash = rest.indexOf("/");
    const bound = slash >= 0 ? rest.slice(0, slash + 1) : rest;
    lo = partition(names, lo, hi, (sn) => compareKeys(sn, bound) < 0);
    // A file equal to the bound is startAfter itself; a directory equal to it (bound ends in "/")
    // contains startAfter and must be re-entered.
    if (lo < hi && names.at(lo)! === bound && bound.charCodeAt(bound.length - 1) !== SLASH) lo++;
  }
  return [lo, hi];
}

/**
 * Early-exit check that at least one listable key exists at or below a directory (its own
 * directory object included). Reads entries in small batches and stops at the first file, so a
 * common prefix over a huge subtree costs about one batch.
 */
async function hasKey(abs: string, opts: WalkOptions, rootReal: string): Promise<boolean> {
  if (await isDirObject(opts, abs)) return true;
  let dir;
  try {
    dir = await opendir(abs);
  } catch (e) {
    if (unreadable(e)) return false;
    throw absentAs(e);
  }
  const subdirs: string[] = [];
  try {
    for (let d = await dir.read(); d !== null; d = await dir.read()) {
      let sn = classify(d);
      if (sn === UNKNOWN) sn = await classifyByLstat(abs, d.name);
      if (sn === SKIP) continue;
      if (sn.charCodeAt(sn.length - 1) === SLASH) {
        subdirs.push(sn.slice(0, -1));
        continue;
      }
      // Regular files are trusted from the dirent; a symlink counts only if it leads to a file.
      if (d.isFile()) return true;
      if (linkedFileInside(rootReal, abs + "/" + sn)) return true;
    }
  } finally {
    await dir.close().catch(() => {});
  }
  // Descend only after the directory is exhausted: at most one open handle at a time.
  for (const name of subdirs) if (await hasKey(abs + "/" + name, opts, rootReal)) return true;
  return false;
}

function objectEntry(key: string, path: string, st: StatLike, isDirectoryObject: boolean, viaLink = false): WalkEntry {
  return {
    type: "object",
    key,
    path,
    size: isDirectoryObject ? 0 : st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
    dev: st.dev,
    isDirectoryObject,
    viaLink,
    noRecord: st.noRecord === true,
  };
}

/**
 * Streams a bucket's keys (and common prefixes, with a delimiter) in S3 order. The caller stops
 * iterating once it has max-keys entries; no handles stay open between yields.
 */
/**
 * Where the symlink `path` leads, when that is a regular file inside the bucket (whose real path
 * is `rootReal`) and outside its private area; else null. Links out of the bucket are not keys.
 */
function linkedFileInside(rootReal: string, path: string): string | null {
  try {
    const real = realpathSync(path);
    if (!real.startsWith(rootReal + "/") || real.startsWith(rootReal + "/" + PRIVATE_AREA + "/")) return null;
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

export async function* walkBucket(bucketDir: string, opts: WalkOptions): AsyncGenerator<WalkEntry> {
  const root = resolve(bucketDir);
  const listings = opts.listings ?? new DirListings();
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
  } catch {
    rootReal = root;
  }
  const prefix = opts.prefix ?? "";
  const startAfter = opts.startAfter ? opts.startAfter : undefined;
  const delimiter = opts.delimiter ? opts.delimiter : undefined;

  // Every key starts with prefix; if that whole range sorts before startAfter, nothing is left.
  if (startAfter !== undefined && compareKeys(prefix, startAfter) <= 0 && !startAfter.startsWith(prefix)) return;

  const cut = prefix.lastIndexOf("/") + 1;
  const dirPart = prefix.slice(0, cut);
  const namePrefix = prefix.slice(cut);

  const commonPrefixOf = (key: string): string | undefined => {
    if (delimiter === undefined) return undefined;
    const at = key.indexOf(delimiter, prefix.length);
    return at < 0 ? undefined : key.slice(0, at + delimiter.length);
  };

  // Keys under `skip` count as already listed: the common prefix startAfter lies in, then each
  // common prefix once returned. Those keys are contiguous in order, so one prefix suffices.
  let skip = startAfter !== undefined && startAfter.startsWith(prefix) ? commonPrefixOf(startAfter) : undefined;

  // The deepest directory the prefix names. Its components must be real directories: symlinked
  // directories are not part of the key space, and "", ".", ".." cannot be file names.
  let startAbs = root;
  if (dirPart !== "") {
    const parts = dirPart.slice(0, -1).split("/");
    if (parts[0] === PRIVATE_AREA) return;
    for (const p of parts) if (p === "" || p === "." || p === ".." || p.includes("\ufffd")) return;
    for (let i = 0; i < parts.length; i++) {
      startAbs += "/" + parts[i];
      try {
        if (!(await lstat(startAbs)).isDirectory()) return;
      } catch (e) {
        // The first lookup fails with EACCES only when the bucket root itself is not searchable.
        if (i === 0 && (errCode(e) === "EACCES" || errCode(e) === "EPERM")) throw new StorageError("AccessDenied");
        if (unreadable(e)) return;
        throw absentAs(e);
      }
    }
  }

  // With an empty name part the prefix names a directory, whose own directory object is a key.
  const selfKey = dirPart !== "" && namePrefix === "" && (startAfter === undefined || compareKeys(dirPart, startAfter) > 0);
  const [first, selfIsObject] = await Promise.all([
    listings.read(startAbs, dirPart === "", dirPart === "", root),
    selfKey ? isDirObject(opts, startAbs) : false,
  ]);
  if (first === null) return;
  if (selfIsObject) {
    const st = statNow(startAbs);
    if (st?.isDirectory()) yield objectEntry(dirPart, startAbs, st, true);
  }

  const frame = (abs: string, rel: string, l: Listing, namePrefix: string): Frame => {
    const [i, end] = visibleRange(l.names, rel, namePrefix, startAfter);
    return { abs, rel, names: l.names, links: l.links, aliases: l.aliases, i, end, ahead: i, pendingAt: [], pending: [], batchFrom: -1, batchRow: null, batchOut: null, batchNoRecord: null };
  };
  const stack: Frame[] = [frame(startAbs, dirPart, first, namePrefix)];

  const slowStatMs = opts.slowStatMs ?? SLOW_STAT_MS;
  let slowStats = slowStatMs < 0 ? SLOW_STATS : 0;
  const statAhead = (f: Frame, from: number) => {
    const end = Math.min(f.end, from + STAT_AHEAD);
    for (let j = Math.max(f.ahead, from); j < end; j++) {
      const sn = f.names.at(j)!;
      if (sn.charCodeAt(sn.length - 1) === SLASH) continue;
      if (delimiter !== undefined && commonPrefixOf(f.rel + sn) !== undefined) continue;
      f.pendingAt[j % STAT_AHEAD] = j;
      f.pending[j % STAT_AHEAD] = statQuiet(f.abs + "/" + (f.aliases?.get(sn) ?? sn));
    }
    if (end > f.ahead) f.ahead = end;
  };
  let batchOk = true;
  /**
   * Batch mode: the stat of names[idx] from one native call covering the next BATCH names.
   * undefined when the addon is missing (the caller stats on its own); null when it is no object.
   */
  const statBatched = (f: Frame, idx: number): StatLike | null | undefined => {
    if (!batchOk) return undefined;
    if (f.batchRow === null || idx < f.batchFrom || idx >= f.batchFrom + BATCH) {
      f.batchRow ??= new Int32Array(BATCH);
      f.batchOut ??= new Float64Array(BATCH * STAT_FIELDS);
      f.batchFrom = idx;
      const names: string[] = [];
      const end = Math.min(f.end, idx + BATCH);
      for (let j = idx; j < end; j++) {
        const sn = f.names.at(j)!;
        if (sn.charCodeAt(sn.length - 1) === SLASH || (delimiter !== undefined && commonPrefixOf(f.rel + sn) !== undefined)) {
          f.batchRow[j - idx] = -1;
          continue;
        }
        f.batchRow[j - idx] = names.length;
        names.push(f.aliases?.get(sn) ?? sn);
      }
      for (let j = end; j < idx + BATCH; j++) f.batchRow[j - idx] = -1;
      const t0 = performance.now();
      let done: number | null;
      try {
        done = names.length ? statNames(f.abs, names, f.batchOut) : 0;
      } catch (e) {
        // The directory itself vanished or became unreadable: as each stat would have found.
        if (!unreadable(e)) throw absentAs(e);
        for (let k = 0; k < names.length; k++) f.batchOut[k * STAT_FIELDS] = 2;
        done = names.length;
      }
      if (done === null) {
        batchOk = false;
        return undefined;
      }
      // Stats slower than slowStatMs each (a remote or cold file system): issue them ahead instead.
      if (names.length && (performance.now() - t0) / names.length > slowStatMs) slowStats = SLOW_STATS;
      if (opts.recordProbe) probeRecords(f, names);
    }
    const row = f.batchRow[idx - f.batchFrom];
    if (row < 0) return null;
    const o = f.batchOut!;
    const at = row * STAT_FIELDS;
    const err = o[at];
    if (err !== 0) {
      if (NOT_AN_OBJECT.has(err)) return null;
      const code = ERRNO_NAMES.get(err) ?? "EIO";
      throw absentAs(Object.assign(new Error(`${code}: stat ${f.abs}/${f.names.at(idx)!}`), { code, errno: -err }));
    }
    if ((o[at + 1] & S_IFMT) !== S_IFREG) return null;
    const st = statOf(o, row);
    if (f.batchNoRecord?.[row] === 1) st.noRecord = true;
    return st;
  };
  // As node:fs and Bun compute them from the timespec.
  const statOf = (o: Float64Array, row: number): StatLike => {
    const at = row * STAT_FIELDS;
    return { size: o[at + 2], mtimeMs: o[at + 3] * 1e3 + o[at + 4] / 1e6, ctimeMs: o[at + 5] * 1e3 + o[at + 6] / 1e6, ino: o[at + 7], dev: o[at + 8] };
  };
  /** recordProbe over a fresh batch: which regular files (not links) have no record at all. */
  const probeRecords = (f: Frame, names: string[]) => {
    const probe = opts.recordProbe!;
    const o = f.batchOut!;
    const rows: number[] = [];
    const ask: string[] = [];
    f.batchNoRecord ??= new Uint8Array(BATCH);
    f.batchNoRecord.fill(0);
    for (let row = 0; row < names.length; row++) {
      if (o[row * STAT_FIELDS] !== 0 || (o[row * STAT_FIELDS + 1] & S_IFMT) !== S_IFREG) continue;
      if (f.links !== null && (f.links.has(names[row]) || f.aliases !== null)) continue;
      if (!probe.needed(statOf(o, row))) continue;
      rows.push(row);
      ask.push(names[row]);
    }
    if (ask.length === 0) return;
    const sizes = new Float64Array(ask.length);
    try {
      if (xattrSizes(f.abs, ask, probe.attr, sizes) === null) return;
    } catch {
      return; // the record reads will tell
    }
    for (let k = 0; k < rows.length; k++) if (sizes[k] === -ENODATA) f.batchNoRecord[rows[k]] = 1;
  };
  const statPooled = async (f: Frame, idx: number, path: string): Promise<Stats | null> => {
    statAhead(f, idx);
    const slot = idx % STAT_AHEAD;
    const pending = f.pendingAt[slot] === idx ? f.pending[slot] : undefined;
    f.pending[slot] = undefined;
    const st = await (pending ?? statQuiet(path));
    if (st instanceof Error) throw absentAs(st);
    return st;
  };

  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.i >= f.end || (skip !== undefined && f.rel.startsWith(skip))) {
      stack.pop();
      continue;
    }
    const idx = f.i++;
    const sn = f.names.at(idx)!;
    const key = f.rel + sn;
    if (skip !== undefined && key.startsWith(skip)) continue;
    // S3 keys are at most 1024 bytes: a deeper name could be listed but never read or deleted
    // through the API (a directory whose own prefix is that long holds no key at all). Up to
    // 341 UTF-16 units a key cannot be longer, so most keys cost no byte count.
    if (key.length > 341 && Buffer.byteLength(key) > MAX_KEY_BYTES) continue;

    if (sn.charCodeAt(sn.length - 1) === SLASH) {
      const abs = f.abs + "/" + sn.slice(0, -1);
      if (opts.mayEnter && !opts.mayEnter(abs)) continue;
      const cp = commonPrefixOf(key);
      if (cp !== undefined) {
        // Everything below rolls up into cp (cp > startAfter, see the header), so one key
        // anywhere below is all that needs to be known.
        if (await hasKey(abs, opts, rootReal)) {
          skip = cp;
          yield { type: "prefix", prefix: cp };
        }
        continue;
      }
      const selfListed = startAfter === undefined || compareKeys(key, startAfter) > 0;
      const [sub, isObject] = await Promise.all([
        listings.read(abs, false, false, root),
        selfListed ? isDirObject(opts, abs) : false,
      ]);
      if (sub === null) continue;
      if (isObject) {
        const st = statNow(abs);
        if (st?.isDirectory()) yield objectEntry(key, abs, st, true);
      }
      const child = frame(abs, key, sub, "");
      if (child.i < child.end) stack.push(child);
      continue;
    }

    const path = f.abs + "/" + (f.aliases?.get(sn) ?? sn);
    const cp = commonPrefixOf(key);
    if (cp !== undefined) {
      // A symlink only counts if it leads to a file in the bucket; a regular file is trusted from its dirent.
      if (f.links?.has(sn) && !linkedFileInside(rootReal, path)) continue;
      skip = cp;
      yield { type: "prefix", prefix: cp };
      continue;
    }

    let st: StatLike | null;
    let batched: StatLike | null | undefined;
    if (slowStats >= SLOW_STATS) {
      const full = await statPooled(f, idx, path);
      st = full !== null && full.isFile() ? full : null;
    } else if ((batched = statBatched(f, idx)) !== undefined) st = batched;
    else {
      const t0 = performance.now();
      const full = statNow(path);
      st = full !== null && full.isFile() ? full : null;
      if (performance.now() - t0 > slowStatMs) slowStats++;
    }
    // Vanished since readdir, a symlink to a directory, or broken: not an object.
    if (st === null) continue;
    if (f.links?.has(sn)) {
      // Through a link: only a target inside the bucket is an object, and its metadata is the target's.
      const target = linkedFileInside(rootReal, path);
      if (target === null) continue;
      yield objectEntry(key, target, st, false, true);
      continue;
    }
    yield objectEntry(key, path, st, false, false);
  }
}
