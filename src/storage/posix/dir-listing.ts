// One directory's entries as sort names in key order (a directory's sort name ends in "/"), and
// the bounded cache of large directories' listings that makes resuming a listing cheap. The cache
// belongs to whoever owns the tree (PosixBackend); its timings are given, not global. Very large
// directories also get a sorted index in the bucket's private area (dir-index.ts), which a fresh
// process uses instead of reading the whole directory.
import { statSync, unlinkSync, type BigIntStats, type Dirent, type Stats } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { StorageError, absentAs, isStorageError } from "../errors.ts";
import { ANY_HIGH, HIGH_BMP, SURROGATE, sortKeys } from "./key-order.ts";
import { GATEWAY_DIR, SELF_PREFIX, bucketPrivateDir, bucketTmpDir, plainDir } from "./layout.ts";
import { BLOCK_NAMES, IndexBroken, indexFile, openIndex, stampOf, writeIndex, type IndexedNames } from "./dir-index.ts";
import { mkdirs } from "./mkdirs.ts";
import { errCode, unreadable } from "./stat-schedule.ts";
import { readDirSorted, readDirTypes } from "./kernel.ts";

// readDirTypes' type letters (kernel.ts).
const T_FILE = 102; // f
const T_DIR = 100; // d
const T_LINK = 108; // l
const T_OTHER = 111; // o
const T_UNKNOWN = 117; // u

const SLASH = 47;

/** Sort names by index: a plain array, or PackedNames. */
export interface SortNames {
  readonly length: number;
  /** Defined for 0 <= i < length. */
  at(i: number): string | undefined;
}

/**
 * A directory's sort names as readDirSorted returns them, kept in that one string: entry i is
 * the text between starts[i] + 1 (after its type letter) and the NUL before starts[i + 1]. A
 * million names take ~20 MB this way against ~60 MB as an array of strings; a name becomes a
 * string only when a walk visits it.
 */
class PackedNames implements SortNames {
  constructor(
    private readonly raw: string,
    private readonly starts: Int32Array,
    readonly length: number,
  ) {}
  at(i: number): string {
    return this.raw.slice(this.starts[i] + 1, this.starts[i + 1] - 1);
  }
}

/** The Listing of readDirSorted's string; null when it holds an aliased name (`.filegate-obj.*`),
 * whose key sorts elsewhere: those directories take the general path. */
function unpack(raw: string): Listing | null {
  let count = 0;
  for (let at = raw.indexOf("\0"); at >= 0; at = raw.indexOf("\0", at + 1)) count++;
  const starts = new Int32Array(count + 1);
  let links: Set<string> | null = null;
  let at = 0;
  for (let k = 0; k < count; k++) {
    starts[k] = at;
    const nul = raw.indexOf("\0", at);
    const type = raw.charCodeAt(at);
    if (type !== T_DIR && raw.startsWith(SELF_PREFIX, at + 1)) return null;
    if (type === T_LINK) (links ??= new Set()).add(raw.slice(at + 1, nul));
    at = nul + 1;
  }
  starts[count] = at;
  return { names: new PackedNames(raw, starts, count), links, aliases: null };
}

export interface Listing {
  names: SortNames;
  links: Set<string> | null;
  /** Sort names whose file on disk has another name: `.filegate-obj.a` is key `a`. */
  aliases: Map<string, string> | null;
}

interface Cached extends Listing {
  dev: bigint;
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** Names it counts against maxNames. */
  weight: number;
}

/** An index's names, falling back to a full read of the directory if a block turns out damaged. */
class IndexBacked implements SortNames {
  private fallback: SortNames | null = null;
  constructor(
    private readonly index: IndexedNames,
    private readonly recover: () => SortNames,
  ) {}
  get length(): number {
    return this.index.length;
  }
  at(i: number): string | undefined {
    if (this.fallback !== null) return this.fallback.at(i);
    try {
      return this.index.at(i);
    } catch (e) {
      if (!(e instanceof IndexBroken)) throw e;
      this.fallback = this.recover();
      return this.fallback.at(i);
    }
  }
}

// Resuming a listing re-reads every directory on startAfter's path; for a directory with
// thousands of entries that readdir + sort costs more than the page itself. Large directories'
// sorted names are kept, keyed by path and validated on each use by one stat of the directory:
// any entry created, removed or renamed changes its ctime.
const CACHE_MIN_ENTRIES = 256;

export interface ListingCacheOptions {
  /** Directory timestamps have coarse granularity (kernel tick, whole seconds on some file
   * systems); a listing is cached only if the directory had been quiet this long before the read,
   * so that any later change is guaranteed a different ctime. */
  quietMs: number;
  /** Names kept over all cached directories. */
  maxNames: number;
  /** Directories with at least this many entries get an index in the tree (dir-index.ts). */
  indexMinEntries: number;
}

export const DEFAULT_LISTING_CACHE: ListingCacheOptions = { quietMs: 3000, maxNames: 1_100_000, indexMinEntries: 10_000 };

/** A directory's st_size from which it may hold an index's worth of entries: ext4 and xfs count
 * the bytes of its entries (~300 of them per 8 KiB), tmpfs 20 per entry, btrfs twice the names'
 * bytes, ZFS one per entry. Smaller directories cost no index lookup. */
const INDEX_PROBE_BYTES = 8193;

/** What an index-backed listing counts against maxNames: its decoded blocks. */
const INDEX_WEIGHT = 32 * BLOCK_NAMES;

export const UNKNOWN = 0;
export const SKIP = 1;

/** Sort name for a dirent (directories get a trailing "/"), SKIP when the entry can never be or
 * contain a key, UNKNOWN when the file system did not report a type. Synchronous on purpose: it
 * runs once per directory entry. */
export function classify(d: Dirent): string | typeof UNKNOWN | typeof SKIP {
  const name = d.name;
  // Names that are not valid UTF-8 decode with U+FFFD; they cannot be turned back into the
  // on-disk bytes, so they would produce keys that address nothing.
  if (name.includes("\ufffd")) return SKIP;
  if (d.isFile() || d.isSymbolicLink()) return name;
  if (d.isDirectory()) return name + "/";
  if (d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice()) return SKIP;
  return UNKNOWN;
}

/** DT_UNKNOWN (some network and older file systems): the type costs an lstat. */
export async function classifyByLstat(parentAbs: string, name: string): Promise<string | typeof SKIP> {
  let st: Stats;
  try {
    st = await lstat(parentAbs + "/" + name);
  } catch (e) {
    if (unreadable(e)) return SKIP;
    throw absentAs(e);
  }
  if (st.isDirectory()) return name + "/";
  if (st.isFile() || st.isSymbolicLink()) return name;
  return SKIP;
}

function dirStampNow(abs: string): BigIntStats | null {
  try {
    return statSync(abs, { bigint: true });
  } catch {
    return null;
  }
}

async function dirStamp(abs: string) {
  try {
    return await stat(abs, { bigint: true });
  } catch {
    return null;
  }
}

export class DirListings {
  /** Insertion-ordered, so the first entry is the least recently used. */
  private readonly cache = new Map<string, Cached>();
  private cachedNames = 0;
  private readonly quietMs: number;
  private readonly maxNames: number;
  private readonly indexMin: number;
  /** Index files being written by this process. */
  private readonly building = new Set<string>();
  private readonly writing = new Set<Promise<void>>();

  constructor(opts: Partial<ListingCacheOptions> = {}) {
    const o = { ...DEFAULT_LISTING_CACHE, ...opts };
    this.quietMs = o.quietMs;
    this.maxNames = o.maxNames;
    this.indexMin = o.indexMinEntries;
  }

  /** Directories whose listings are cached now. */
  get size(): number {
    return this.cache.size;
  }

  private uncache(abs: string): void {
    const old = this.cache.get(abs);
    if (old === undefined) return;
    this.cache.delete(abs);
    this.cachedNames -= old.weight;
  }

  private remember(abs: string, listing: Listing, st: BigIntStats, weight: number): void {
    this.uncache(abs);
    this.cache.set(abs, { ...listing, dev: st.dev, ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, weight });
    this.cachedNames += weight;
    for (const [k, v] of this.cache) {
      if (this.cachedNames <= this.maxNames) break;
      this.cache.delete(k);
      this.cachedNames -= v.weight;
    }
  }

  /** The directory's key prefix inside `bucketDir` ("" for the bucket itself), undefined when
   * `abs` is not inside it. */
  private static relOf(abs: string, bucketDir: string): string | undefined {
    if (abs === bucketDir) return "";
    return abs.startsWith(bucketDir + "/") ? abs.slice(bucketDir.length + 1) + "/" : undefined;
  }

  /** The listing from the directory's index, if there is one that is intact and current. */
  private fromIndex(abs: string, bucketDir: string, atBucketTop: boolean, st: BigIntStats): Listing | null {
    const rel = DirListings.relOf(abs, bucketDir);
    if (rel === undefined) return null;
    let path: string;
    try {
      path = indexFile(bucketPrivateDir(bucketDir), rel);
    } catch {
      return null; // an unsafe private area: never read from it
    }
    const idx = openIndex(path, { stamp: stampOf(st), rel, atBucketTop, quietMs: this.quietMs });
    if (idx === null) return null;
    const recover = (): SortNames => {
      // A damaged block: the index is dropped and the directory read whole, which gives the same
      // names at the same places unless the directory changed meanwhile.
      try {
        unlinkSync(path);
      } catch {
        // gone already
      }
      this.uncache(abs);
      const raw = readDirSorted(abs, atBucketTop ? GATEWAY_DIR : "");
      const fresh = raw === null ? null : unpack(raw);
      if (fresh === null || fresh.names.length !== idx.names.length) throw new Error(`listing index of ${abs} damaged and the directory changed meanwhile`);
      return fresh.names;
    };
    return { names: new IndexBacked(idx.names, recover), links: idx.links, aliases: null };
  }

  /** Writes the directory's index in the background; failures only mean there is none. */
  private buildIndex(abs: string, bucketDir: string, atBucketTop: boolean, listing: Listing, st: BigIntStats, readStart: number): void {
    const rel = DirListings.relOf(abs, bucketDir);
    if (rel === undefined || listing.aliases !== null) return;
    let path: string;
    let tmpDir: string;
    try {
      const priv = bucketPrivateDir(bucketDir);
      mkdirs(join(priv, "listing"));
      plainDir(join(priv, "listing"), true);
      tmpDir = bucketTmpDir(bucketDir);
      mkdirs(tmpDir);
      path = indexFile(priv, rel);
    } catch {
      return; // read-only tree, unsafe private area
    }
    if (this.building.has(path)) return;
    this.building.add(path);
    const done = writeIndex(path, tmpDir, rel, atBucketTop, listing.names, listing.links, stampOf(st), readStart)
      .then(
        // From now on the index serves this directory: its names need not stay in memory.
        () => this.uncache(abs),
        () => {},
      )
      .finally(() => {
        this.building.delete(path);
        this.writing.delete(done);
      });
    this.writing.add(done);
  }

  /** Settles when the index writes started so far are done (tests, benchmarks). */
  get indexWrites(): Promise<unknown> {
    return Promise.all([...this.writing]);
  }
  /**
   * One directory's entries as sorted sort names. Returns null when the directory vanished or may
   * not be read.
   */
  async read(abs: string, atBucketTop: boolean, isBucketRoot: boolean, bucketDir?: string): Promise<Listing | null> {
    const hit = this.cache.get(abs);
    if (hit !== undefined) {
      const st = await dirStamp(abs);
      if (st !== null && st.ctimeNs === hit.ctimeNs && st.mtimeNs === hit.mtimeNs && st.ino === hit.ino && st.dev === hit.dev) {
        this.cache.delete(abs);
        this.cache.set(abs, hit);
        return hit;
      }
      this.uncache(abs);
    }

    if (bucketDir !== undefined) {
      // Synchronous: one stat, where the thread pool's round trip would cost more for the many
      // small directories of a deep tree. Only directories whose size says they may hold
      // thousands of entries look for an index.
      const st = dirStampNow(abs);
      const indexed = st !== null && st.size >= INDEX_PROBE_BYTES ? this.fromIndex(abs, bucketDir, atBucketTop, st) : null;
      if (indexed !== null) {
        this.remember(abs, indexed, st!, INDEX_WEIGHT);
        return indexed;
      }
    }

    const readStart = Date.now();
    // With the addon the whole directory comes back as one string (type letter + name + NUL per
    // entry): no Dirent object per entry, which for large directories cost more than the read.
    let raw: string | null = null;
    let dirents: Dirent[] = [];
    let packed: Listing | null = null;
    try {
      const sorted = readDirSorted(abs, atBucketTop ? GATEWAY_DIR : "");
      if (sorted !== null) packed = unpack(sorted);
      if (packed === null) {
        raw = readDirTypes(abs);
        if (raw === null) dirents = await readdir(abs, { withFileTypes: true });
      }
    } catch (e) {
      if (isBucketRoot) {
        const c = errCode(e);
        if (c === "EACCES" || c === "EPERM") throw new StorageError("AccessDenied");
        throw absentAs(e, "NoSuchBucket");
      }
      if (unreadable(e)) return null;
      throw absentAs(e);
    }
    const listing = packed ?? (await this.general(abs, atBucketTop, raw, dirents));
    const names = listing.names;

    const cacheable = names.length >= CACHE_MIN_ENTRIES && names.length <= this.maxNames;
    const indexable = bucketDir !== undefined && names.length >= this.indexMin;
    if (cacheable || indexable) {
      // Stamped after the read: a change during the read leaves a recent ctime and is neither
      // cached nor indexed.
      const st = await dirStamp(abs);
      if (st !== null && Number(st.ctimeNs / 1_000_000n) < readStart - this.quietMs) {
        if (cacheable) this.remember(abs, listing, st, names.length);
        if (indexable) this.buildIndex(abs, bucketDir, atBucketTop, listing, st, readStart);
      }
    }
    return listing;
  }

  /** Entries from readDirTypes' string (or Dirents, without the addon) sorted in JavaScript, with
   * aliased names (`.filegate-obj.a` is key `a`) moved to their keys' places. */
  private async general(abs: string, atBucketTop: boolean, raw: string | null, dirents: Dirent[]): Promise<Listing> {
    const names: string[] = [];
    let links: Set<string> | null = null;
    let aliases: Map<string, string> | null = null;
    let surrogates = false;
    let highBmp = false;
    const count = raw !== null ? -1 : dirents.length;
    let at = 0;
    for (let k = 0; raw !== null ? at < raw.length : k < count; k++) {
      let name: string;
      let type: number;
      if (raw !== null) {
        const nul = raw.indexOf("\0", at);
        type = raw.charCodeAt(at);
        name = raw.slice(at + 1, nul);
        at = nul + 1;
      } else {
        const d = dirents[k];
        name = d.name;
        type = d.isFile() ? T_FILE : d.isDirectory() ? T_DIR : d.isSymbolicLink() ? T_LINK : d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice() ? T_OTHER : T_UNKNOWN;
      }
      if (atBucketTop && name === GATEWAY_DIR) continue;
      // Names that are not valid UTF-8 decode with U+FFFD; they cannot be turned back into the
      // on-disk bytes, so they would produce keys that address nothing.
      if (name.includes("\ufffd") || type === T_OTHER) continue;
      let sn: string | typeof SKIP;
      // Without a type a file might be a symlink: have it checked like one.
      const link = type === T_LINK || type === T_UNKNOWN;
      if (type === T_FILE || type === T_LINK) sn = name;
      else if (type === T_DIR) sn = name + "/";
      else sn = await classifyByLstat(abs, name);
      if (sn === SKIP) continue;
      if (sn.startsWith(SELF_PREFIX) && sn.charCodeAt(sn.length - 1) !== SLASH) {
        // An object whose key names a directory too (`.filegate-obj.a` is `a`; `.filegate-obj.`
        // inside `d` is `d/` with data): listed under its key, at its key's place.
        if (atBucketTop && sn === SELF_PREFIX) continue;
        (aliases ??= new Map()).set(sn.slice(SELF_PREFIX.length), sn);
        if (link) (links ??= new Set()).add(sn.slice(SELF_PREFIX.length));
        continue;
      }
      if (link && sn.charCodeAt(sn.length - 1) !== SLASH) (links ??= new Set()).add(sn);
      if (ANY_HIGH.test(sn)) {
        surrogates ||= SURROGATE.test(sn);
        highBmp ||= HIGH_BMP.test(sn);
      }
      names.push(sn);
    }
    if (aliases !== null) {
      const plain = new Set(names);
      for (const key of aliases.keys()) {
        // While a file is being moved into that form both names exist for a moment: list it once.
        if (plain.has(key)) aliases.delete(key);
        else names.push(key);
      }
      if (aliases.size === 0) aliases = null;
    }
    sortKeys(names, surrogates, highBmp);
    return { names, links, aliases };
  }
}
