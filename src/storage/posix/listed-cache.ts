import type { StoredChecksum } from "../types.ts";
// What a listing shows of a file beyond its stat (its ETag and checksum type), remembered per
// inode, so that listing a bucket again costs one stat per object instead of a stat plus an
// xattr read (measured: the xattr read was the largest single cost of a 1,000-key page).
//
// Safe with other processes and foreign writers on the same tree: an entry is used only while the
// file's size, mtime and ctime are all unchanged, and every write to a file's data or to its
// xattrs moves its ctime. Timestamps are coarse (a kernel tick, or a second on some file systems),
// so a change in the same tick as the read could keep the ctime; entries are therefore made only
// for files whose ctime was already QUIET_MS old when read. Only valid for a metadata store whose
// records live in the file's own xattrs: a sidecar record can change without touching the file.
//
// Memory is fixed and small because listings touch every object: typed-array columns and an
// open-addressing index instead of a Map of objects (which measured ~200 bytes per entry with
// an ETag string), the ETag kept as its 16 MD5 bytes plus the multipart part count. About 70 bytes
// per entry. The columns start small and double as entries come, up to the capacity: allocating
// (and zero-filling) all 18 MB at once was ~15 ms of a fresh process's first listing page.

export interface ListedFields {
  /** Quoted, as sent. */
  etag: string;
  checksum?: Pick<StoredChecksum, "algorithm" | "type">;
}

export interface FileVersion {
  ino: number;
  /** Buckets may span file systems (bind mounts); inode numbers are only unique within one. */
  dev: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

const QUIET_MS = 3000;
const CAPACITY = 1 << 18;
const FIRST_COLUMNS = 1 << 12;

/** No record: a foreign file, whose ETag the caller derives from its stat. */
const NO_RECORD = -1;
const ETAG = /^"([0-9a-f]{32})(?:-([1-9]\d{0,4}))?"$/;

interface Columns {
  /** Open addressing with linear probing, twice the capacity: slot + 1, or 0 when empty. */
  index: Int32Array;
  inos: Float64Array;
  devs: Float64Array;
  sizes: Float64Array;
  mtimes: Float64Array;
  ctimes: Float64Array;
  md5: Buffer;
  /** NO_RECORD, 0 for a plain MD5 ETag, else the multipart part count. */
  parts: Int32Array;
}

export class ListedCache {
  private cols: Columns | null = null;
  /** The few entries that carry a checksum type, by slot. */
  private readonly checksums = new Map<number, ListedFields["checksum"]>();
  /** Slots fill in order, then are reused oldest first (FIFO: no reordering on hits). */
  private next = 0;
  private used = 0;

  constructor(
    private readonly capacity = CAPACITY,
    private readonly quietMs = QUIET_MS,
  ) {}

  /** Columns for `n` slots, the used ones copied from `old` (slots keep their numbers). */
  private static alloc(n: number): Columns {
    return {
      index: new Int32Array(2 * n),
      inos: new Float64Array(n),
      devs: new Float64Array(n),
      sizes: new Float64Array(n),
      mtimes: new Float64Array(n),
      ctimes: new Float64Array(n),
      md5: Buffer.alloc(16 * n),
      parts: new Int32Array(n),
    };
  }

  /** Slots in the current columns. */
  private get slots(): number {
    return this.cols === null ? 0 : this.cols.inos.length;
  }

  /** Columns with room for one more entry: grown (doubled) while below the capacity. */
  private columns(): Columns {
    const have = this.slots;
    if (this.cols !== null && (this.used < have || have >= this.capacity)) return this.cols;
    const n = Math.min(this.capacity, Math.max(FIRST_COLUMNS, 2 * have));
    const c = ListedCache.alloc(n);
    const old = this.cols;
    this.cols = c;
    if (old !== null) {
      // While filling, slots are 0..used-1 in order: copy them and index them again.
      for (const k of ["inos", "devs", "sizes", "mtimes", "ctimes", "parts"] as const) c[k].set(old[k].subarray(0, this.used));
      old.md5.copy(c.md5, 0, 0, 16 * this.used);
      for (let slot = 0; slot < this.used; slot++) c.index[this.find(c, c.inos[slot])] = slot + 1;
    }
    return c;
  }

  private home(ino: number, size: number): number {
    // Inode numbers fit 53 bits as doubles; fold both halves. Fibonacci hashing: the product's
    // high bits, which every input bit reaches (its low bits depend on the input's low bits only,
    // so inodes a power of two apart would share a few homes).
    const h = Math.imul((ino >>> 0) ^ Math.floor(ino / 4294967296), 0x9e3779b1) >>> 0;
    return Math.floor((h * size) / 4294967296);
  }

  /** Index position holding `ino`, or the empty position where it would go. */
  private find(c: Columns, ino: number): number {
    const size = c.index.length;
    let i = this.home(ino, size);
    while (c.index[i] !== 0 && c.inos[c.index[i] - 1] !== ino) i = (i + 1) % size;
    return i;
  }

  /** Backward-shift deletion: keeps every probe chain unbroken without tombstones. */
  private unindex(c: Columns, pos: number): void {
    const size = c.index.length;
    let hole = pos;
    c.index[hole] = 0;
    for (let j = (hole + 1) % size; c.index[j] !== 0; j = (j + 1) % size) {
      const h = this.home(c.inos[c.index[j] - 1], size);
      // Move the entry at j into the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? hole < h && h <= j : hole < h || h <= j;
      if (stays) continue;
      c.index[hole] = c.index[j];
      c.index[j] = 0;
      hole = j;
    }
  }

  /** The remembered fields, null when the file is known to have no record, undefined when
   * nothing valid is remembered. */
  get(f: FileVersion): ListedFields | null | undefined {
    const c = this.cols;
    if (c === null || !Number.isSafeInteger(f.ino)) return undefined;
    const at = c.index[this.find(c, f.ino)];
    if (at === 0) return undefined;
    const slot = at - 1;
    if (c.devs[slot] !== f.dev || c.sizes[slot] !== f.size || c.mtimes[slot] !== f.mtimeMs || c.ctimes[slot] !== f.ctimeMs) return undefined;
    const parts = c.parts[slot];
    if (parts === NO_RECORD) return null;
    const hex = c.md5.toString("hex", 16 * slot, 16 * slot + 16);
    const etag = parts > 0 ? `"${hex}-${parts}"` : `"${hex}"`;
    const checksum = this.checksums.get(slot);
    return checksum ? { etag, checksum } : { etag };
  }

  /** Remembers `fields` (null: no record) for this version of the file if it has been quiet long
   * enough. ETags that are not an MD5 (or an MD5 with a part count) are not remembered. */
  set(f: FileVersion, fields: ListedFields | null, now = Date.now()): void {
    // Stats give inodes as doubles: above 2^53 (Lustre FIDs, overlayfs xino) neighbours collide.
    if (!(f.ctimeMs < now - this.quietMs) || !Number.isSafeInteger(f.ino)) return;
    const m = fields === null ? null : ETAG.exec(fields.etag);
    if (fields !== null && m === null) return;
    const c = this.columns();
    let pos = this.find(c, f.ino);
    let slot: number;
    if (c.index[pos] !== 0) slot = c.index[pos] - 1;
    else {
      slot = this.next;
      this.next = (this.next + 1) % this.capacity;
      if (this.used === this.capacity) {
        this.unindex(c, this.find(c, c.inos[slot]));
        this.checksums.delete(slot);
        pos = this.find(c, f.ino);
      } else this.used++;
      c.index[pos] = slot + 1;
      c.inos[slot] = f.ino;
    }
    c.devs[slot] = f.dev;
    c.sizes[slot] = f.size;
    c.mtimes[slot] = f.mtimeMs;
    c.ctimes[slot] = f.ctimeMs;
    if (m === null) {
      c.parts[slot] = NO_RECORD;
      this.checksums.delete(slot);
      return;
    }
    c.parts[slot] = m[2] === undefined ? 0 : Number(m[2]);
    c.md5.write(m[1], 16 * slot, 16, "hex");
    if (fields!.checksum) this.checksums.set(slot, fields!.checksum);
    else this.checksums.delete(slot);
  }

  get size(): number {
    return this.used;
  }
}
