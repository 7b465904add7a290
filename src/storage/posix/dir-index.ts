// A large directory's sorted entry names kept in the tree, so that a fresh process (or another
// host) lists its first page without reading and sorting the whole directory. The tree is the
// only durable state and foreign tools change it without telling us, so an index is trusted only
// while it provably describes the directory as it is now:
//   * it names the directory's identity (dev, ino) and its mtime and ctime (ns) as stat'ed after
//     the read it was made from, and is used only while all four are unchanged: creating,
//     removing or renaming an entry moves both times, and ctime cannot be set back by anyone;
//   * it is written only from a read of a directory that had been quiet (ctime older than a
//     margin when the read began): timestamps are coarse, so a change in the same tick as the read
//     might not move them ("racy git"), but a change after a quiet period always does.
// Rewriting a file in place does not touch its directory; listings stat each page's entries anyway.
//
// Layout (little endian), so that a page reads O(page) of it, never the whole file:
//   header (HEADER bytes): magic, counts, the directory's stamp, section sizes, a checksum of the
//     header, the block table, the directory's key prefix and the links section;
//   block table: (blocks + 1) byte offsets of the name blocks, then one checksum per block;
//   the directory's key prefix ("" at the bucket top, else "a/b/"), UTF-8;
//   links section: the names that are symlinks, each followed by NUL;
//   name blocks: BLOCK_NAMES sort names each (the last block fewer), UTF-8, each followed by NUL,
//     in key order.
// A block is read and checked (checksum, name count, name shape, order) when a walk first needs a
// name in it; a header, table or block that fails a check means the index is ignored.
import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { GATEWAY_DIR, SELF_PREFIX } from "./layout.ts";

const MAGIC = Buffer.from("FGLSTIX1", "latin1");
const HEADER = 96;
export const BLOCK_NAMES = 256;
/** Sanity bounds for a header read from disk. */
const MAX_NAMES = 1 << 28;
const MAX_SECTION = 1 << 30;
/** Decoded blocks kept per open index: a page of 1,000 spans ~5, a binary search ~12 more. */
const BLOCK_CACHE = 32;

const SLASH = 47;
const NUL = 0;
const DOT = 46;
const myUid = process.getuid?.() ?? -1;

/** The stat of a directory as an index records it. */
export interface DirStamp {
  dev: bigint;
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export const stampOf = (st: BigIntStats): DirStamp => ({ dev: st.dev, ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs });

/** FNV-1a, 32 bits: catches torn writes and stray edits, cheap enough to run on every block read. */
export function fnv1a(buf: Uint8Array, start = 0, end = buf.length, h = 0x811c9dc5): number {
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h >>> 0;
}

/** Where the index of the directory with key prefix `rel` lives inside a bucket's private area. */
export function indexFile(privateDir: string, rel: string): string {
  return join(privateDir, "listing", createHash("sha256").update(rel).digest("hex").slice(0, 32) + ".idx");
}

export class IndexBroken extends Error {}

const fatal = new TextDecoder("utf-8", { fatal: true });

/** A sort name can be an entry of one directory: no NUL or "/" inside (a directory's ends in one
 * "/"), not "." or "..", not an aliased name (`.filegate-obj.*` files take the general path), and
 * not the private area at the bucket top. */
function validName(bytes: Uint8Array, start: number, end: number, atBucketTop: boolean): boolean {
  let stop = end;
  if (stop > start && bytes[stop - 1] === SLASH) stop--;
  if (stop === start) return false;
  for (let i = start; i < stop; i++) if (bytes[i] === SLASH || bytes[i] === NUL) return false;
  const len = stop - start;
  if (bytes[start] === DOT && (len === 1 || (len === 2 && bytes[start + 1] === DOT))) return false;
  return true;
}

function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let i = 0; i < n; i++) if (a[as + i] !== b[bs + i]) return a[as + i] - b[bs + i];
  return ae - as - (be - bs);
}

interface Header {
  count: number;
  blocks: number;
  blockNames: number;
  stamp: DirStamp;
  builtAtMs: number;
  tableBytes: number;
  relBytes: number;
  linksBytes: number;
  dataBytes: number;
}

function parseHeader(h: Buffer): Header {
  if (h.length < HEADER || !h.subarray(0, 8).equals(MAGIC) || h.readUInt32LE(8) !== HEADER) throw new IndexBroken("magic");
  const blockNames = h.readUInt32LE(12);
  const count = h.readUInt32LE(16);
  const blocks = h.readUInt32LE(20);
  if (blockNames === 0 || blockNames > 65536 || count > MAX_NAMES || blocks !== Math.ceil(count / blockNames)) throw new IndexBroken("counts");
  const relBytes = h.readUInt32LE(64);
  const linksBytes = h.readUInt32LE(68);
  const dataBytes = Number(h.readBigUInt64LE(72));
  if (relBytes > 4096 || linksBytes > MAX_SECTION || dataBytes > 8 * MAX_SECTION) throw new IndexBroken("sizes");
  return {
    count,
    blocks,
    blockNames,
    stamp: { dev: h.readBigUInt64LE(24), ino: h.readBigUInt64LE(32), mtimeNs: h.readBigInt64LE(40), ctimeNs: h.readBigInt64LE(48) },
    builtAtMs: Number(h.readBigInt64LE(56)),
    tableBytes: (blocks + 1) * 8 + blocks * 4,
    relBytes,
    linksBytes,
    dataBytes,
  };
}

/** What an index holds; `names.at(i)` reads blocks lazily. */
export interface OpenIndex {
  names: IndexedNames;
  links: Set<string> | null;
}

export interface IndexTrust {
  /** The directory's stamp now. */
  stamp: DirStamp;
  /** The directory's key prefix ("" at the bucket top). */
  rel: string;
  atBucketTop: boolean;
  /** The quiet margin: the directory's ctime must have been this much older than the read the
   * index was made from. */
  quietMs: number;
}

function sameStamp(a: DirStamp, b: DirStamp): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** Opens the index file read-only, not through a symlink, only if we own it and nobody else may
 * write it. */
function openOwned(path: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  const st = fstatSync(fd);
  if (!st.isFile() || (myUid >= 0 && st.uid !== myUid) || (st.mode & 0o022) !== 0) {
    closeSync(fd);
    return null;
  }
  return fd;
}

function readExactly(fd: number, len: number, pos: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) throw new IndexBroken("short read");
    got += n;
  }
  return buf;
}

/**
 * The index at `path` if it is intact and current for the directory described by `trust`; null
 * when it is absent, foreign, damaged or stale (then the caller reads the directory whole).
 */
export function openIndex(path: string, trust: IndexTrust): OpenIndex | null {
  const fd = openOwned(path);
  if (fd === null) return null;
  try {
    const size = fstatSync(fd).size;
    if (size < HEADER) return null;
    const head = readExactly(fd, HEADER, 0);
    let h: Header;
    try {
      h = parseHeader(head);
    } catch {
      return null;
    }
    if (!sameStamp(h.stamp, trust.stamp)) return null;
    // Made from a read of a directory that had not been quiet long enough: a later change might
    // have kept the same timestamps.
    if (!(Number(h.stamp.ctimeNs / 1_000_000n) < h.builtAtMs - trust.quietMs)) return null;
    const dataStart = HEADER + h.tableBytes + h.relBytes + h.linksBytes;
    if (size !== dataStart + h.dataBytes) return null;
    const meta = readExactly(fd, dataStart - HEADER, HEADER);
    let sum = fnv1a(head, 0, 88);
    sum = fnv1a(meta, 0, meta.length, sum);
    if (sum !== head.readUInt32LE(88)) return null;
    const offsets = new Float64Array(h.blocks + 1);
    for (let b = 0; b <= h.blocks; b++) {
      offsets[b] = Number(meta.readBigUInt64LE(8 * b));
      if (b > 0 && !(offsets[b] > offsets[b - 1])) return null;
    }
    if (offsets[0] !== 0 || offsets[h.blocks] !== h.dataBytes) return null;
    const sums = new Uint32Array(h.blocks);
    for (let b = 0; b < h.blocks; b++) sums[b] = meta.readUInt32LE(8 * (h.blocks + 1) + 4 * b);
    let rel: string;
    try {
      rel = fatal.decode(meta.subarray(h.tableBytes, h.tableBytes + h.relBytes));
    } catch {
      return null;
    }
    if (rel !== trust.rel) return null;
    let links: Set<string> | null = null;
    const ls = h.tableBytes + h.relBytes;
    const le = ls + h.linksBytes;
    if (h.linksBytes > 0) {
      if (meta[le - 1] !== NUL) return null;
      links = new Set();
      for (let at = ls; at < le; ) {
        const nul = meta.indexOf(NUL, at);
        if (!validName(meta, at, nul, trust.atBucketTop) || meta[nul - 1] === SLASH) return null;
        try {
          links.add(fatal.decode(meta.subarray(at, nul)));
        } catch {
          return null;
        }
        at = nul + 1;
      }
    }
    return { names: new IndexedNames(path, head, h, offsets, sums, dataStart, trust.atBucketTop), links };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * The names of an index, block by block. Each block read reopens the file and checks that its
 * header is still the one this object was made from (a rebuild renames a new file over it), then
 * the block's checksum and contents. A failed check throws IndexBroken; DirListings turns that
 * into a full read of the directory.
 */
export class IndexedNames {
  private readonly blocks = new Map<number, string[]>();
  readonly length: number;

  constructor(
    readonly path: string,
    private readonly head: Buffer,
    private readonly h: Header,
    private readonly offsets: Float64Array,
    private readonly sums: Uint32Array,
    private readonly dataStart: number,
    private readonly atBucketTop: boolean,
  ) {
    this.length = h.count;
  }

  at(i: number): string | undefined {
    if (!(i >= 0 && i < this.length)) return undefined;
    const b = Math.floor(i / this.h.blockNames);
    let names = this.blocks.get(b);
    if (names === undefined) {
      names = this.load(b);
      if (this.blocks.size >= BLOCK_CACHE) this.blocks.delete(this.blocks.keys().next().value!);
      this.blocks.set(b, names);
    }
    return names[i - b * this.h.blockNames];
  }

  private load(b: number): string[] {
    const fd = openOwned(this.path);
    if (fd === null) throw new IndexBroken("index vanished");
    let buf: Buffer;
    try {
      if (!readExactly(fd, HEADER, 0).equals(this.head)) throw new IndexBroken("index replaced");
      const start = this.offsets[b];
      const end = this.offsets[b + 1];
      buf = readExactly(fd, end - start, this.dataStart + start);
    } catch (e) {
      throw e instanceof IndexBroken ? e : new IndexBroken(String(e));
    } finally {
      closeSync(fd);
    }
    if (fnv1a(buf) !== this.sums[b]) throw new IndexBroken(`block ${b} checksum`);
    const want = Math.min(this.h.blockNames, this.h.count - b * this.h.blockNames);
    if (buf[buf.length - 1] !== NUL) throw new IndexBroken(`block ${b} end`);
    const names: string[] = [];
    let prevStart = -1;
    let prevEnd = -1;
    for (let at = 0; at < buf.length; ) {
      const nul = buf.indexOf(NUL, at);
      if (!validName(buf, at, nul, this.atBucketTop)) throw new IndexBroken(`block ${b} name`);
      if (prevStart >= 0 && compareBytes(buf, prevStart, prevEnd, buf, at, nul) >= 0) throw new IndexBroken(`block ${b} order`);
      let name: string;
      try {
        name = fatal.decode(buf.subarray(at, nul));
      } catch {
        throw new IndexBroken(`block ${b} utf-8`);
      }
      if (this.atBucketTop && name === GATEWAY_DIR + "/") throw new IndexBroken(`block ${b} private area`);
      if (name.startsWith(SELF_PREFIX) && name.charCodeAt(name.length - 1) !== SLASH) throw new IndexBroken(`block ${b} alias`);
      names.push(name);
      prevStart = at;
      prevEnd = nul;
      at = nul + 1;
    }
    if (names.length !== want) throw new IndexBroken(`block ${b} count`);
    return names;
  }
}

/** Names in key order, as a listing holds them. */
export interface NameSource {
  readonly length: number;
  at(i: number): string | undefined;
}

/**
 * Writes the index of a directory listing: to a temp file in `tmpDir`, then renamed into place,
 * so a reader sees the old file or the new one whole. Another process may do the same at the same
 * time; both files are then equally valid. Names are encoded block by block, yielding between
 * chunks, so a large directory does not hold the event loop or a second copy of its names.
 */
export async function writeIndex(
  path: string,
  tmpDir: string,
  rel: string,
  atBucketTop: boolean,
  names: NameSource,
  links: Set<string> | null,
  stamp: DirStamp,
  builtAtMs: number,
  blockNames = BLOCK_NAMES,
): Promise<void> {
  const count = names.length;
  const blocks = Math.ceil(count / blockNames);
  const relBuf = Buffer.from(rel, "utf8");
  const linksBuf = Buffer.from(links === null ? "" : [...links].map((l) => l + "\0").join(""), "utf8");
  const tableBytes = (blocks + 1) * 8 + blocks * 4;
  const meta = Buffer.alloc(tableBytes + relBuf.length + linksBuf.length);
  relBuf.copy(meta, tableBytes);
  linksBuf.copy(meta, tableBytes + relBuf.length);
  const dataStart = HEADER + meta.length;
  const tmp = join(tmpDir, `listing-${process.pid}-${randomBytes(6).toString("hex")}`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  let done = false;
  try {
    let dataBytes = 0;
    const CHUNK_BLOCKS = 64;
    for (let b0 = 0; b0 < blocks; b0 += CHUNK_BLOCKS) {
      const parts: Buffer[] = [];
      for (let b = b0; b < Math.min(blocks, b0 + CHUNK_BLOCKS); b++) {
        const from = b * blockNames;
        const to = Math.min(count, from + blockNames);
        let text = "";
        for (let i = from; i < to; i++) text += names.at(i)! + "\0";
        const block = Buffer.from(text, "utf8");
        meta.writeBigUInt64LE(BigInt(dataBytes), 8 * b);
        meta.writeUInt32LE(fnv1a(block), 8 * (blocks + 1) + 4 * b);
        dataBytes += block.length;
        parts.push(block);
      }
      const chunk = Buffer.concat(parts);
      await fh.write(chunk, 0, chunk.length, dataStart + dataBytes - chunk.length);
    }
    meta.writeBigUInt64LE(BigInt(dataBytes), 8 * blocks);
    const head = Buffer.alloc(HEADER);
    MAGIC.copy(head, 0);
    head.writeUInt32LE(HEADER, 8);
    head.writeUInt32LE(blockNames, 12);
    head.writeUInt32LE(count, 16);
    head.writeUInt32LE(blocks, 20);
    head.writeBigUInt64LE(stamp.dev, 24);
    head.writeBigUInt64LE(stamp.ino, 32);
    head.writeBigInt64LE(stamp.mtimeNs, 40);
    head.writeBigInt64LE(stamp.ctimeNs, 48);
    head.writeBigInt64LE(BigInt(Math.floor(builtAtMs)), 56);
    head.writeUInt32LE(relBuf.length, 64);
    head.writeUInt32LE(linksBuf.length, 68);
    head.writeBigUInt64LE(BigInt(dataBytes), 72);
    head.writeUInt32LE(fnv1a(meta, 0, meta.length, fnv1a(head, 0, 88)), 88);
    await fh.write(head, 0, HEADER, 0);
    await fh.write(meta, 0, meta.length, HEADER);
    await fh.close();
    done = true;
    await rename(tmp, path);
  } finally {
    if (!done) await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
  }
}
