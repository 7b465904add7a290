// S3 metadata for a file: in one extended attribute (`user.filegate`, JSON) or, where the
// filesystem has no user xattrs, in a sidecar tree under the bucket's private directory.
//
// Other tools may rewrite a file in place and keep its xattrs, or replace it and orphan a
// sidecar; so the record carries the size and mtime (and, for sidecars, the inode) it was written
// for, and a record that no longer matches the file is ignored: the file is then served as a
// foreign file with a derived ETag instead of a stale one.
import { getAttributeSync, setAttributeSync, removeAttributeSync } from "@napi-rs/xattr";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { writeFileAtomic } from "./durability.ts";
import { fgetxattr, fsetxattr } from "./kernel.ts";
import { dirname, join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { constants as osConstants } from "node:os";
import type { ChecksumAlgorithm } from "../../checksums/index.ts";
import { StorageError } from "../errors.ts";
import { GATEWAY_DIR, bucketPrivateDir, bucketSidecarDir, plainDir } from "./layout.ts";
import type { ObjectMeta } from "../types.ts";

export const XATTR_NAME = "user.filegate";



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
  /** The same for the file open as `fd` (whose stat is `st`): the record of exactly that file. */
  readFd(fd: number, loc: MetaLocation, st: FileIdentity): ObjectMeta | null | undefined;
  /** Gives the finished temp file at `tmpPath`, to become `loc`, its record, before anything is decided. */
  prepare(loc: MetaLocation, tmpPath: string, meta: ObjectMeta): ObjectMeta;
  /**
   * Stores the record of a file about to be renamed to `loc.path`, once the write has been
   * decided (under the key's lock): a refused write must leave the current record alone.
   */
  attach(loc: MetaLocation, meta: ObjectMeta): void;
  /** Rewrites the record of the file open as `fd`, which is at `loc` (tagging changes). */
  updateFd(fd: number, loc: MetaLocation, meta: ObjectMeta): ObjectMeta;
  remove(loc: MetaLocation): void;
  /**
   * After `loc` got a new file (or lost its file: `current` null), under the key's lock: drops what
   * only the replaced record used (spill files).
   */
  afterCommit(loc: MetaLocation, current: ObjectMeta | null): void;
}

/** The file version a new record describes, in the form `matches` compares (whole milliseconds). */
export function versionOf(st: { size: number; mtimeMs: number; ino: number }): Pick<ObjectMeta, "size" | "mtimeMs" | "ino"> {
  return { size: st.size, mtimeMs: Math.trunc(st.mtimeMs), ino: st.ino };
}

function matches(meta: ObjectMeta, st: FileIdentity, checkIno: boolean): boolean {
  // A directory's mtime moves with its entries, so only the kind is checked: a directory's own
  // record has no inode, the record of `d/`'s data file (same sidecar place) has one.
  if (st.isDirectory()) return meta.ino === undefined;
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

/**
 * Records larger than this leave the xattr for a spill file, and the xattr keeps a pointer: ext4
 * keeps all of a file's xattrs in one 4 KiB block, while S3 allows 2 KiB of user metadata plus ten
 * 128+256-character tags, content headers, checksums and part lists.
 */
const INLINE_MAX = 2048;
const SPILL_NAME = /^[0-9a-f]{40}\/[0-9a-f]{24}$/;

function keyOf(loc: MetaLocation): string {
  return loc.segments.join("/") + (loc.isDirectoryKey ? "/" : "");
}

/** Each key's spill files live in their own directory, so a commit can drop the replaced ones. */
function spillDirOf(loc: MetaLocation): string {
  const spill = plainDir(join(bucketPrivateDir(loc.bucketDir), "spill"));
  return plainDir(join(spill, createHash("sha1").update(keyOf(loc)).digest("hex")));
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

/** A filesystem-level "no room" error for an xattr (ext4 says ENOSPC when its block is full). */
function noRoom(e: unknown): boolean {
  const code = (withErrno(e) as NodeJS.ErrnoException).code;
  return code === "E2BIG" || code === "ENOSPC" || code === "ERANGE";
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
    return this.checked(loc, decode(raw), st);
  }
  readFd(fd: number, loc: MetaLocation, st: FileIdentity): ObjectMeta | null | undefined {
    let raw: Buffer | null;
    try {
      raw = fgetxattr(fd, XATTR_NAME);
    } catch {
      return undefined;
    }
    return this.checked(loc, decode(raw), st);
  }
  /** The whole record (from its spill file when the xattr points to one), if it is this file's. */
  private checked(loc: MetaLocation, meta: ObjectMeta | null, st: FileIdentity): ObjectMeta | null {
    if (!meta || !matches(meta, st, false)) return null;
    if (typeof meta.spill !== "string" || !SPILL_NAME.test(meta.spill)) return meta;
    try {
      const full = decode(readFileSync(join(bucketPrivateDir(loc.bucketDir), "spill", meta.spill)));
      if (full && full.etag === meta.etag) return { ...full, spill: meta.spill };
    } catch {
      // the spill file is gone: the pointer still knows the ETag
    }
    return { etag: meta.etag, headers: {}, user: {}, size: meta.size, mtimeMs: meta.mtimeMs };
  }
  /** The xattr value for `meta`: the record itself, or a pointer to a new spill file holding it. */
  private value(loc: MetaLocation, meta: ObjectMeta, force = false): { value: string; stored: ObjectMeta } {
    const { spill: _, ...record } = meta;
    const text = encode(record);
    if (text.length <= INLINE_MAX && !force) return { value: text, stored: record };
    const dir = spillDirOf(loc);
    const name = `${dir.slice(-40)}/${randomBytes(12).toString("hex")}`;
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, name.slice(41)), text, false);
    const pointer = { etag: meta.etag, spill: name, size: meta.size, mtimeMs: meta.mtimeMs, ...(meta.ino !== undefined ? { ino: meta.ino } : {}) };
    return { value: JSON.stringify(pointer), stored: { ...record, spill: name } };
  }
  /** Writes the record with `set`; returns it as stored (with its spill file's name, if any). */
  private write(loc: MetaLocation, meta: ObjectMeta, set: (value: string) => void): ObjectMeta {
    try {
      const v = this.value(loc, meta);
      set(v.value);
      return v.stored;
    } catch (e) {
      if (!noRoom(e)) throw withErrno(e);
      // Other attributes (security labels, ACLs) took the room: the pointer is small.
      try {
        const v = this.value(loc, meta, true);
        set(v.value);
        return v.stored;
      } catch (e2) {
        if (!noRoom(e2)) throw withErrno(e2);
        throw new StorageError("MetadataTooLarge");
      }
    }
  }
  prepare(loc: MetaLocation, tmpPath: string, meta: ObjectMeta): ObjectMeta {
    return this.write(loc, meta, (v) => setAttributeSync(tmpPath, XATTR_NAME, v));
  }
  attach(): void {
    // the record travels with the file, written by prepare()
  }
  updateFd(fd: number, loc: MetaLocation, meta: ObjectMeta): ObjectMeta {
    return this.write(loc, meta, (v) => fsetxattr(fd, XATTR_NAME, v));
  }
  remove(loc: MetaLocation): void {
    try {
      removeAttributeSync(loc.path, XATTR_NAME);
    } catch {
      // absent already
    }
  }
  afterCommit(loc: MetaLocation, current: ObjectMeta | null): void {
    // A bucket that never spilled a record has no spill area: one look instead of the checked
    // walk to the key's spill directory (three lstats and a readdir on every PUT). Only a
    // "nothing to do" is taken from this unchecked look; removals go through spillDirOf.
    if (current?.spill === undefined && !existsSync(`${loc.bucketDir}/${GATEWAY_DIR}/spill`)) return;
    const dir = spillDirOf(loc);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // the common case: this key never spilled
    }
    const keep = current?.spill?.slice(41);
    for (const n of names) if (n !== keep) rmSync(join(dir, n), { force: true });
    if (keep === undefined) rmdirOrKeep(dir);
  }
}

function rmdirOrKeep(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // a concurrent writer's new spill file
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
    // The inode ties a record to its file: a record written for another file never describes this one.
    return meta && matches(meta, st, true) ? meta : null;
  }
  readFd(_fd: number, loc: MetaLocation, st: FileIdentity): ObjectMeta | null | undefined {
    return this.read(loc, st);
  }
  prepare(_loc: MetaLocation, _tmpPath: string, meta: ObjectMeta): ObjectMeta {
    return meta; // nothing may change before the write is decided
  }
  afterCommit(): void {
    // a sidecar record has no size limit and nothing beside it
  }
  attach(loc: MetaLocation, meta: ObjectMeta): void {
    const target = sidecarPath(loc);
    mkdirSync(dirname(target), { recursive: true });
    writeFileAtomic(target, encode(meta), this.sync);
  }
  updateFd(_fd: number, loc: MetaLocation, meta: ObjectMeta): ObjectMeta {
    this.attach(loc, meta);
    return meta;
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
