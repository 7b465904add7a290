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
import { crc32 } from "node:zlib";
import { compareKeys } from "./key-order.ts";
import { GATEWAY_DIR, SELF_PREFIX } from "./layout.ts";

const MAGIC = Buffer.from("FGLSTIX1", "latin1");
const HEADER = 96;
export const BLOCK_NAMES = 256;
/** Sanity bounds for a header read from disk. */
const MAX_NAMES = 1 << 28;
const MAX_SECTION = 1 << 30;
/** Decoded blocks kept per open index: a page of 1,000 spans ~5, a binary search ~12 more. */
const BLOCK_CACHE = 32;

const NUL = 0;
const myUid = process.getuid?.() ?? -1;

/** The stat of a directory as an index records it. */
export interface DirStamp {
  dev: bigint;
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export const stampOf = (st: BigIntStats): DirStamp => ({ dev: st.dev, ino: st.ino, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs });

/** CRC-32 (native): catches torn writes and stray edits, cheap enough to run on every block read. */
const checksum = (buf: Uint8Array, start = 0, end = buf.length, h = 0): number => crc32(buf.subarray(start, end), h);

/** Where the index of the directory with key prefix `rel` lives inside a bucket's private area. */
export function indexFile(privateDir: string, rel: string): string {
  return join(privateDir, "listing", createHash("sha256").update(rel).digest("hex").slice(0, 32) + ".idx");
}

export class IndexBroken extends Error {}

const fatal = new TextDecoder("utf-8", { fatal: true });

/** A sort name can be an entry of one directory: not empty, no "/" inside (a directory's ends in
 * one "/"), not "." or "..", not an aliased name (`.filegate-obj.*` files take the general path),
 * and not the private area at the bucket top. (NUL cannot occur: it separates the names.) */
function validName(n: string, atBucketTop: boolean): boolean {
  const slash = n.indexOf("/");
  const dir = slash === n.length - 1;
  if (n.length === 0 || (slash !== -1 && !dir) || n === "/") return false;
  if (n === "." || n === ".." || n === "./" || n === "../") return false;
  if (!dir && n.startsWith(SELF_PREFIX)) return false;
  return !(atBucketTop && n === GATEWAY_DIR + "/");
}

/** Names split off a block of NUL-terminated UTF-8 names, or null if it is not one. */
function splitNames(buf: Buffer, start: number, end: number): string[] | null {
  if (end === start) return [];
  if (buf[end - 1] !== NUL) return null;
  try {
    return fatal.decode(buf.subarray(start, end - 1)).split("\0");
  } catch {
    return null;
  }
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
    if (checksum(meta, 0, meta.length, checksum(head, 0, 88)) !== head.readUInt32LE(88)) return null;
    const offsets = new Float64Array(h.blocks + 1);
    for (let b = 0; b <= h.blocks; b++) {
      offsets[b] = meta.readUInt32LE(8 * b) + meta.readUInt32LE(8 * b + 4) * 2 ** 32;
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
    const linkNames = splitNames(meta, ls, ls + h.linksBytes);
    if (linkNames === null) return null;
    for (const n of linkNames) if (!validName(n, trust.atBucketTop) || n.endsWith("/")) return null;
    if (linkNames.length > 0) links = new Set(linkNames);
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
    if (checksum(buf) !== this.sums[b]) throw new IndexBroken(`block ${b} checksum`);
    const want = Math.min(this.h.blockNames, this.h.count - b * this.h.blockNames);
    const names = splitNames(buf, 0, buf.length);
    if (names === null || names.length !== want) throw new IndexBroken(`block ${b} shape`);
    for (let k = 0; k < names.length; k++) {
      const n = names[k];
      if (!validName(n, this.atBucketTop)) throw new IndexBroken(`block ${b} name`);
      // UTF-16 order agrees with UTF-8 order except around surrogates: only then compare bytes.
      if (k > 0 && !(names[k - 1] < n) && compareKeys(names[k - 1], n) >= 0) throw new IndexBroken(`block ${b} order`);
    }
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
        meta.writeUInt32LE(checksum(block), 8 * (blocks + 1) + 4 * b);
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
    head.writeUInt32LE(checksum(meta, 0, meta.length, checksum(head, 0, 88)), 88);
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
