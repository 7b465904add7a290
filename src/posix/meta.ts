// S3 metadata for a file: in one extended attribute (`user.filegate`, JSON) or, where the
// filesystem has no user xattrs, in a sidecar tree under the bucket's private directory.
//
// Other tools may rewrite a file in place and keep its xattrs, or replace it and orphan a
// sidecar; so the record carries the size and mtime (and, for sidecars, the inode) it was written
// for, and a record that no longer matches the file is ignored: the file is then served as a
// foreign file with a derived ETag instead of a stale one.
import { getAttributeSync, setAttributeSync, removeAttributeSync } from "@napi-rs/xattr";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { writeFileAtomic } from "./durability.ts";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { constants as osConstants } from "node:os";
import type { ChecksumAlgorithm } from "../checksums/index.ts";
import { S3Error } from "../errors.ts";
import { bucketSidecarDir } from "./layout.ts";

export const XATTR_NAME = "user.filegate";

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64, as in x-amz-checksum-*; for COMPOSITE multipart values it ends in -N. */
  value: string;
  type: "FULL_OBJECT" | "COMPOSITE";
}

export interface ObjectMeta {
  /** Without quotes: 32 hex digits, or hex-N for multipart. */
  etag: string;
  /** Content-Type, Content-Encoding, …: lower-case header name → value. */
  headers: Record<string, string>;
  /** x-amz-meta-* with the prefix removed, lower-case names. */
  user: Record<string, string>;
  /** URL-encoded tag set, as in x-amz-tagging. */
  tags?: string;
  checksum?: StoredChecksum;
  /** Part sizes of a multipart object, for partNumber reads. */
  parts?: number[];
  /** The file this record describes; checked on every read. */
  size: number;
  mtimeMs: number;
  ino?: number;
}

export interface MetaLocation {
  bucketDir: string;
  segments: string[];
  path: string;
  isDirectoryKey: boolean;
}

/** What a record is checked against: a Stats, or the same facts from a directory walk. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
  isDirectory(): boolean;
}

export interface MetaStore {
  readonly kind: "xattr" | "sidecar";
  /**
   * The record for `loc`; null when there is none or it describes another version of the file;
   * undefined when it could not be read (permissions, I/O errors), which callers treat as no record
   * for this request but must not remember.
   */
  read(loc: MetaLocation, st: FileIdentity): ObjectMeta | null | undefined;
  /** Writes the record for the file currently at `tmpPath`, before it is moved to `loc.path`. */
  writeForTemp(loc: MetaLocation, tmpPath: string, meta: ObjectMeta): void;
  /** Rewrites the record of the file in place (tagging changes). */
  update(loc: MetaLocation, meta: ObjectMeta): void;
  remove(loc: MetaLocation): void;
}

/** The file version a new record describes, in the form `matches` compares (whole milliseconds). */
export function versionOf(st: { size: number; mtimeMs: number; ino: number }): Pick<ObjectMeta, "size" | "mtimeMs" | "ino"> {
  return { size: st.size, mtimeMs: Math.trunc(st.mtimeMs), ino: st.ino };
}

function matches(meta: ObjectMeta, st: FileIdentity, checkIno: boolean): boolean {
  if (st.isDirectory()) return true; // a directory's mtime moves with its entries
  return meta.size === st.size && meta.mtimeMs === Math.trunc(st.mtimeMs) && (!checkIno || meta.ino === st.ino);
}

function decode(buf: Buffer | string | null): ObjectMeta | null {
  if (!buf) return null;
  try {
    const m = JSON.parse(buf.toString()) as ObjectMeta;
    return typeof m.etag === "string" ? m : null;
  } catch {
    return null;
  }
}

function encode(meta: ObjectMeta): string {
  return JSON.stringify(meta);
}

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/**
 * @napi-rs/xattr throws code "GenericFailure" with "(os error N)" in the message; this gives the
 * error its errno name, so errors.ts maps it like any other filesystem error (EROFS, EACCES, …).
 */
function withErrno(e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  const n = /\(os error (\d+)\)/.exec(String(err?.message))?.[1];
  const name = n === undefined ? undefined : ERRNO_NAMES.get(Number(n));
  if (name && err instanceof Error && err.code !== name) err.code = name;
  return e;
}

function tooLarge(e: unknown): never {
  const code = (withErrno(e) as NodeJS.ErrnoException).code;
  // ext4 keeps all of a file's xattrs within one block.
  if (code === "E2BIG" || code === "ENOSPC" || code === "ERANGE") {
    throw new S3Error("MetadataTooLarge", "The metadata and tags of this object do not fit in the filesystem's extended attributes.");
  }
  throw e;
}

export class XattrMetaStore implements MetaStore {
  readonly kind = "xattr" as const;
  read(loc: MetaLocation, st: FileIdentity): ObjectMeta | null | undefined {
    let raw: Buffer | null;
    try {
      raw = getAttributeSync(loc.path, XATTR_NAME); // null for a missing file or attribute
    } catch {
      return undefined;
    }
    const meta = decode(raw);
    return meta && matches(meta, st, false) ? meta : null;
  }
  writeForTemp(_loc: MetaLocation, tmpPath: string, meta: ObjectMeta): void {
    try {
      setAttributeSync(tmpPath, XATTR_NAME, encode(meta));
    } catch (e) {
      tooLarge(e);
    }
  }
  update(loc: MetaLocation, meta: ObjectMeta): void {
    this.writeForTemp(loc, loc.path, meta);
  }
  remove(loc: MetaLocation): void {
    try {
      removeAttributeSync(loc.path, XATTR_NAME);
    } catch {
      // absent already
    }
  }
}

/**
 * Sidecar records mirror the key's path under BUCKET/.filegate/meta with suffixes that keep every
 * key's record distinct: directories get `.d`, files `.m`, a directory object's record is `.dirobj`
 * inside its directory's `.d` (no `.m` or `.d` name can equal it).
 */
export function sidecarPath(loc: MetaLocation): string {
  const dirs = loc.isDirectoryKey ? loc.segments : loc.segments.slice(0, -1);
  const base = join(bucketSidecarDir(loc.bucketDir), ...dirs.map((s) => s + ".d"));
  return loc.isDirectoryKey ? join(base, ".dirobj") : join(base, loc.segments[loc.segments.length - 1] + ".m");
}

export class SidecarMetaStore implements MetaStore {
  readonly kind = "sidecar" as const;
  /** `sync`: fsync each record before it is renamed into place, as --fsync asks of object data. */
  constructor(private readonly sync = false) {}

  read(loc: MetaLocation, st: FileIdentity): ObjectMeta | null | undefined {
    let raw: Buffer;
    try {
      raw = readFileSync(sidecarPath(loc));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === "ENOENT" || code === "ENOTDIR" ? null : undefined;
    }
    const meta = decode(raw);
    return meta && matches(meta, st, true) ? meta : null;
  }
  writeForTemp(loc: MetaLocation, _tmpPath: string, meta: ObjectMeta): void {
    const target = sidecarPath(loc);
    mkdirSync(dirname(target), { recursive: true });
    writeFileAtomic(target, encode(meta), this.sync);
  }
  update(loc: MetaLocation, meta: ObjectMeta): void {
    this.writeForTemp(loc, loc.path, meta);
  }
  remove(loc: MetaLocation): void {
    rmSync(sidecarPath(loc), { force: true });
  }
}

/** True when `dir`'s filesystem accepts user.* extended attributes. */
export function probeXattr(dir: string): boolean {
  const file = join(dir, `xattr-probe-${randomBytes(6).toString("hex")}`);
  try {
    writeFileSync(file, "");
    setAttributeSync(file, XATTR_NAME + ".probe", "1");
    return getAttributeSync(file, XATTR_NAME + ".probe")?.toString() === "1";
  } catch {
    return false;
  } finally {
    try {
      rmSync(file, { force: true });
    } catch {
      // never created (a read-only filesystem refuses even the unlink of a missing name)
    }
  }
}
