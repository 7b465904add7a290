// The version store: a versioned bucket's noncurrent versions and delete markers, out of other
// tools' way in the bucket's private area. The current version of a key is never here: it is the
// plain file at the key.
//
//   BUCKET/.filegate/versions/<seg1>/…/<segN>/.filegate-obj./<name>
//
// mirrors key `seg1/…/segN`; `.filegate-obj.` is a name no key segment can have, so a key and the
// keys below it (`a` and `a/b`) never share a directory of versions. <name> is the version id
// (time-ordered, src/storage/version-id.ts), or `<id>.null` for the null version, whose id is
// "null" but which still needs a place in time. Each entry is a file: the version's bytes (a
// delete marker: empty), its record in the same xattr as an object's (so a GET of a version is
// one open), or in `<name>.json` beside it when the record is too large for the xattr or the
// bucket uses sidecar metadata.
//
// Every rename, link and unlink of a version file happens in this module (keep, restore, remove,
// writeMarker), and every write of a version record (writeRecord, recordFiles): a filesystem
// flag or an owner that must be cleared or set around them has one place to go.
import { closeSync, constants, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmdirSync, rmSync, unlinkSync, writeSync, type Stats } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fsyncPath, writeFileAtomic } from "./durability.ts";
import { fgetxattr, fsetxattr } from "./kernel.ts";
import { evenIfImmutable, evenIfImmutableFd, syncImmutable } from "./immutable.ts";
import { XATTR_NAME } from "./meta.ts";
import { GATEWAY_DIR, SELF_PREFIX, bucketPrivateDir, plainDir } from "./layout.ts";
import { compareKeys } from "./key-order.ts";
import type { FsyncPolicy } from "./incoming.ts";
import type { ObjectMeta } from "../types.ts";

export const VERSIONS_DIR = "versions";
/** Inside a key's directory of the version store: the directory of that key's own versions. */
const OWN = SELF_PREFIX;
const NULL_SUFFIX = ".null";
const RECORD_SUFFIX = ".json";
/** Records longer than this go to `<name>.json` (as meta.ts spills past the same size). */
const INLINE_MAX = 2048;

/** The version id an entry name stands for ("null" for the null version). */
export function versionIdOfName(name: string): string {
  return name.endsWith(NULL_SUFFIX) ? "null" : name;
}

/** The entry name of the null version placed at (ordered as) `seq`. */
export const nullName = (seq: string) => seq + NULL_SUFFIX;

/** A version file opened for reading: its descriptor, stat and record (null: none that fits it). */
export interface OpenVersion {
  name: string;
  versionId: string;
  fd: number;
  st: Stats;
  record: ObjectMeta | null;
}

function decode(text: string | Buffer | null): ObjectMeta | null {
  if (!text) return null;
  try {
    const m = JSON.parse(text.toString()) as ObjectMeta;
    return typeof m.etag === "string" ? m : null;
  } catch {
    return null;
  }
}

function fits(meta: ObjectMeta, st: Stats): boolean {
  return meta.size === st.size && meta.mtimeMs === Math.trunc(st.mtimeMs);
}

export class VersionStore {
  constructor(
    private readonly metaKind: "xattr" | "sidecar",
    private readonly fsync: FsyncPolicy,
  ) {}

  /** The bucket's version store (checked to be the gateway's own area; may not exist yet). */
  root(bucketDir: string): string {
    return plainDir(join(bucketPrivateDir(bucketDir), VERSIONS_DIR));
  }

  /** The directory of the noncurrent versions of the key with these segments. */
  dirOf(bucketDir: string, segments: string[]): string {
    return dirIn(this.root(bucketDir), segments);
  }

  /** Entry names, newest first; [] when the key has none. */
  names(dir: string): string[] {
    let all: string[];
    try {
      all = readdirSync(dir);
    } catch {
      return [];
    }
    return all.filter((n) => !n.endsWith(RECORD_SUFFIX) && !n.startsWith(".")).sort().reverse();
  }

  /** The entry of the key's noncurrent null version, if it has one. */
  findNull(dir: string): string | null {
    return this.names(dir).find((n) => n.endsWith(NULL_SUFFIX)) ?? null;
  }

  /** Opens entry `name`; null when it does not exist. */
  open(dir: string, name: string): OpenVersion | null {
    let fd: number;
    try {
      fd = openSync(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR" || code === "ENAMETOOLONG") return null;
      throw e;
    }
    try {
      const st = fstatSync(fd);
      return { name, versionId: versionIdOfName(name), fd, st, record: this.readRecord(fd, dir, name, st) };
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Opens, reads and closes: the entry's stat and record. */
  peek(dir: string, name: string): Omit<OpenVersion, "fd"> | null {
    const v = this.open(dir, name);
    if (v === null) return null;
    closeSync(v.fd);
    return { name: v.name, versionId: v.versionId, st: v.st, record: v.record };
  }

  private readRecord(fd: number, dir: string, name: string, st: Stats): ObjectMeta | null {
    let meta: ObjectMeta | null = null;
    if (this.metaKind === "xattr") {
      try {
        meta = decode(fgetxattr(fd, XATTR_NAME));
      } catch {
        meta = null;
      }
    }
    if (meta === null || meta.spill !== undefined) {
      try {
        meta = decode(readFileSync(join(dir, name + RECORD_SUFFIX)));
      } catch {
        // none beside it: the xattr's (or nothing)
      }
    }
    if (meta === null || !fits(meta, st)) return null;
    const { spill: _, ...record } = meta;
    return record;
  }

  // ---- every change to version files and records is below ----

  /**
   * Stores `record` for the version file open as `fd` (entry `name`): in its xattr when it fits
   * there, else in `<name>.json` (with only a pointer in the xattr).
   */
  writeRecord(fd: number, dir: string, name: string, record: ObjectMeta): void {
    const { spill: _, ...clean } = record;
    const text = JSON.stringify(clean);
    // Object Lock's immutable flag refuses xattr writes: cleared for the write, then set again
    // if the new record still locks the version.
    if (this.metaKind === "xattr" && text.length <= INLINE_MAX) {
      evenIfImmutableFd(fd, () => fsetxattr(fd, XATTR_NAME, text));
      rmSync(join(dir, name + RECORD_SUFFIX), { force: true });
    } else {
      writeFileAtomic(join(dir, name + RECORD_SUFFIX), text, this.fsync !== "none");
      if (this.metaKind === "xattr") {
        evenIfImmutableFd(fd, () => fsetxattr(fd, XATTR_NAME, JSON.stringify({ etag: clean.etag, size: clean.size, mtimeMs: clean.mtimeMs, spill: "beside" })));
      }
    }
    syncImmutable(fd, clean);
  }

  /**
   * Keeps the file at `currentPath` as noncurrent version `name`, by a hard link: the key keeps
   * its file until the caller replaces or unlinks it, so a crash in between leaves the old latest
   * in place and a second name for it here (readers drop an entry with the current's inode).
   * `record` is the current's record as read: written beside it when the xattr cannot carry it
   * (sidecar metadata, a record spilled to the key's spill files, which the next commit drops).
   */
  keep(dir: string, name: string, currentPath: string, record: ObjectMeta | null): void {
    const target = join(dir, name);
    for (let attempt = 0; ; attempt++) {
      try {
        // A locked current file carries the immutable flag, which refuses a link: the flag is
        // cleared here and set again on the kept version once the key's name is gone (the caller).
        evenIfImmutable([currentPath], () => linkSync(currentPath, target));
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // Gone meanwhile (another tool removed it): there is nothing left to keep.
        if (code === "ENOENT" && !exists(currentPath)) return;
        if (code === "ENOENT" && attempt < 3) {
          // The directory is new, or was pruned by a delete of a neighbour's last version.
          mkdirSync(dir, { recursive: true });
          continue;
        }
        if (code === "EEXIST" && sameFile(currentPath, target)) break;
        throw e;
      }
    }
    if (record && (this.metaKind === "sidecar" || record.spill !== undefined)) {
      const { spill: _, ...full } = record;
      writeFileAtomic(join(dir, name + RECORD_SUFFIX), JSON.stringify(full), this.fsync !== "none");
    }
    if (this.fsync === "full") fsyncPath(dir);
  }

  /** Puts noncurrent version `name` back at the key (`target`), replacing what is there. */
  restore(dir: string, name: string, target: string): void {
    // The caller sets the flag again from the restored version's record.
    evenIfImmutable([join(dir, name), target], () => renameSync(join(dir, name), target));
    rmSync(join(dir, name + RECORD_SUFFIX), { force: true });
    this.prune(dir);
  }

  /** Removes entry `name` for good. */
  remove(dir: string, name: string): void {
    try {
      // The caller's check allowed the removal: a flag left by an ended lock goes with the file.
      evenIfImmutable([join(dir, name)], () => unlinkSync(join(dir, name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    rmSync(join(dir, name + RECORD_SUFFIX), { force: true });
    this.prune(dir);
  }

  /** Writes delete marker `name` (an empty file with its record): whole, or not at all. */
  writeMarker(dir: string, name: string, record: ObjectMeta): void {
    const tmp = join(dir, `.${name}.${randomBytes(6).toString("hex")}.tmp`);
    let fd: number;
    for (let attempt = 0; ; attempt++) {
      try {
        fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
        break;
      } catch (e) {
        // New directory, or pruned between our mkdir and open by a neighbour's last removal.
        if ((e as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 3) throw e;
        mkdirSync(dir, { recursive: true });
      }
    }
    try {
      writeSync(fd, "");
      const st = fstatSync(fd);
      this.writeRecord(fd, dir, name, { ...record, size: 0, mtimeMs: Math.trunc(st.mtimeMs) });
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, join(dir, name));
    if (this.fsync === "full") fsyncPath(dir);
  }

  /** Removes the key's directory of versions once empty, and its parents up to the store's root. */
  private prune(dir: string): void {
    const stop = `/${GATEWAY_DIR}/${VERSIONS_DIR}`;
    for (let d = dir; !d.endsWith(stop); d = d.slice(0, d.lastIndexOf("/"))) {
      try {
        rmdirSync(d);
      } catch {
        return; // not empty (or gone): the rest is in use
      }
    }
  }
}

/** dirOf for a store root already found (a listing checks it once, not per key). */
export function dirIn(root: string, segments: string[]): string {
  return join(root, ...segments, OWN);
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = lstatSync(a);
    const y = lstatSync(b);
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}

export interface VersionKeyWalk {
  prefix: string;
  /** Only keys strictly after this. */
  startAfter?: string;
  delimiter?: string;
}

/**
 * Keys that have noncurrent versions, in S3 order (with a delimiter, rolled up into common
 * prefixes). Directory by directory like the object walk: a key `n`'s own versions are visited at
 * sort name `n`, the keys below it at `n/`, so `a` < `a!` < `a/b` as S3 orders them. Subtrees that
 * sort entirely before startAfter or outside the prefix are never opened.
 */
export async function* walkVersionKeys(root: string, opts: VersionKeyWalk): AsyncGenerator<{ type: "key"; key: string } | { type: "prefix"; prefix: string }> {
  const { prefix, startAfter, delimiter } = opts;
  const commonPrefixOf = (key: string): string | undefined => {
    if (!delimiter) return undefined;
    const at = key.indexOf(delimiter, prefix.length);
    return at < 0 ? undefined : key.slice(0, at + delimiter.length);
  };
  // Keys under `skip` were listed already (as a common prefix, or startAfter lies under it).
  let skip = startAfter !== undefined && startAfter.startsWith(prefix) ? commonPrefixOf(startAfter) : undefined;
  const after = (key: string) => startAfter === undefined || compareKeys(key, startAfter) > 0;

  type Token = { sort: string; name: string; self: boolean };
  const tokensOf = (abs: string): Token[] => {
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch {
      return [];
    }
    const tokens: Token[] = [];
    for (const name of names) {
      if (name === OWN) continue;
      tokens.push({ sort: name, name, self: true }, { sort: name + "/", name, self: false });
    }
    return tokens.sort((a, b) => compareKeys(a.sort, b.sort));
  };

  const stack: { abs: string; rel: string; tokens: Token[]; i: number }[] = [{ abs: root, rel: "", tokens: tokensOf(root), i: 0 }];
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.i >= f.tokens.length) {
      stack.pop();
      continue;
    }
    const t = f.tokens[f.i++];
    const key = f.rel + t.sort;
    if (skip !== undefined && key.startsWith(skip)) continue;
    if (t.self) {
      if (!key.startsWith(prefix) || !after(key)) continue;
      if (!hasEntries(join(f.abs, t.name, OWN))) continue;
      const cp = commonPrefixOf(key);
      if (cp !== undefined) {
        skip = cp;
        yield { type: "prefix", prefix: cp };
      } else {
        yield { type: "key", key };
      }
      continue;
    }
    // Every key below starts with `key` ("…/"): prune what the prefix or startAfter excludes.
    if (!(key.startsWith(prefix) || prefix.startsWith(key))) continue;
    if (startAfter !== undefined && compareKeys(key, startAfter) <= 0 && !startAfter.startsWith(key)) continue;
    const abs = join(f.abs, t.name);
    stack.push({ abs, rel: key, tokens: tokensOf(abs), i: 0 });
  }
}

/**
 * Whether the version store at `root` holds any version or marker (a bucket holding one is not
 * empty). Empty directories a crash or a race left behind do not count; the walk stops at the first
 * entry.
 */
export function storeHasVersions(root: string): boolean {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return false;
  }
  for (const n of names) {
    if (n === OWN ? hasEntries(join(root, n)) : storeHasVersions(join(root, n))) return true;
  }
  return false;
}

function hasEntries(dir: string): boolean {
  try {
    return readdirSync(dir).some((n) => !n.endsWith(RECORD_SUFFIX) && !n.startsWith("."));
  } catch {
    return false;
  }
}
