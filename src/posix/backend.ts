// The POSIX backend: buckets are directories under the root, objects are files. Routes call only
// this module's methods; it owns every filesystem path and every rule about what may change on
// disk, and it turns errno values into S3 errors.
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  type Stats,
} from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fsyncPath, writeFileAtomic } from "./durability.ts";
import { hashFile } from "./hash-file.ts";
import { copyToNewFile } from "./kernel-copy.ts";
import { S3Error, fsError } from "../errors.ts";
import { mkdirs } from "./mkdirs.ts";
import { GATEWAY_DIR, bucketPrivateDir, bucketTmpDir } from "./layout.ts";
import { bucketPath, isServableBucketName, keyPath, validateNewBucketName, type KeyPath } from "./names.ts";
import { receiveToTemp, tempPathIn, type FsyncPolicy, type IncomingBody } from "./incoming.ts";
import { versionOf, type FileIdentity, type MetaLocation, type MetaStore, type ObjectMeta, type StoredChecksum } from "./meta.ts";
import { ListedCache, type ListedFields } from "./listed-cache.ts";
import type { WalkEntry } from "./walk.ts";

export const EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e";

export interface BucketInfo {
  name: string;
  created: Date;
}

export interface ObjectInfo {
  bucket: string;
  key: string;
  path: string;
  size: number;
  lastModified: Date;
  /** Quoted, as sent in the ETag header. */
  etag: string;
  meta: ObjectMeta | null;
  isDirectoryObject: boolean;
}

export interface PutOptions {
  headers: Record<string, string>;
  user: Record<string, string>;
  tags?: string;
  /** Compare-and-swap against the current object: '*' for If-None-Match, an ETag for If-Match. */
  ifNoneMatch?: string;
  ifMatch?: string;
}

/**
 * A file nobody stored through S3 gets an ETag derived from what identifies its contents' version
 * on disk. The `-1` suffix makes clients treat it as a multipart ETag, never as an MD5.
 *
 * Four murmur3-style 32-bit lanes over the numbers themselves (no string is built): 32
 * well-mixed hex digits. An MD5 here cost more than the stat and the xattr read together in a
 * listing; nothing relies on it being one. mtime counts to the microsecond, finer than any two
 * runtimes' doubles might disagree on. */
function foreignEtagOf(ino: number, size: number, mtimeMs: number): string {
  const ms = Math.floor(mtimeMs);
  const words = [ino >>> 0, Math.floor(ino / 2 ** 32), size >>> 0, Math.floor(size / 2 ** 32), ms >>> 0, Math.floor(ms / 2 ** 32), Math.round((mtimeMs - ms) * 1000)];
  for (let lane = 0; lane < 4; lane++) {
    let h = Math.imul(lane + 1, 0x9e3779b1);
    for (const w of words) {
      let k = Math.imul(w, 0xcc9e2d51);
      k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    FOREIGN_ETAG.writeUInt32BE(h >>> 0, 4 * lane);
  }
  return FOREIGN_ETAG.toString("hex") + "-1";
}

/** Scratch for foreignEtagOf; it is synchronous, so one buffer serves every call. */
const FOREIGN_ETAG = Buffer.alloc(16);

const DIRECTORY_IDENTITY: FileIdentity = { size: 0, mtimeMs: 0, ino: 0, isDirectory: () => true };

/** File names of the bucket settings in the bucket's private area. */
export type BucketSetting = "bucket-tags" | "bucket-cors.json";

export class PosixBackend {
  constructor(
    readonly root: string,
    readonly meta: MetaStore,
    readonly fsync: FsyncPolicy,
  ) {
    this.listed = meta.kind === "xattr" ? new ListedCache() : null;
  }

  /** See listed-cache.ts: xattr records move the file's ctime when they change; sidecars do not. */
  private readonly listed: ListedCache | null;

  // ---- buckets ----

  listBuckets(): BucketInfo[] {
    const out: BucketInfo[] = [];
    for (const d of readdirSync(this.root, { withFileTypes: true })) {
      if (!isServableBucketName(d.name)) continue;
      try {
        const st = statSync(join(this.root, d.name));
        if (st.isDirectory()) out.push({ name: d.name, created: new Date(st.birthtimeMs || st.mtimeMs) });
      } catch {
        // vanished or unreadable: not a bucket we can serve
      }
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  createBucket(name: string): void {
    validateNewBucketName(name);
    try {
      mkdirSync(join(this.root, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new S3Error("BucketAlreadyOwnedByYou", undefined, { BucketName: name });
      throw fsError(e);
    }
  }

  /** The bucket's directory; NoSuchBucket when there is none. */
  bucketDir(name: string): string {
    const dir = bucketPath(this.root, name);
    let st: Stats;
    try {
      st = statSync(dir);
    } catch (e) {
      throw fsError(e, "NoSuchBucket", { BucketName: name });
    }
    if (!st.isDirectory()) throw new S3Error("NoSuchBucket", undefined, { BucketName: name });
    return dir;
  }

  deleteBucket(name: string): void {
    const dir = this.bucketDir(name);
    const entries = readdirSync(dir).filter((n) => n !== GATEWAY_DIR);
    if (entries.length > 0) throw new S3Error("BucketNotEmpty", undefined, { BucketName: name });
    rmSync(join(dir, GATEWAY_DIR), { recursive: true, force: true });
    try {
      rmdirSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOTEMPTY" || code === "EEXIST") throw new S3Error("BucketNotEmpty", undefined, { BucketName: name });
      throw fsError(e, "NoSuchBucket", { BucketName: name });
    }
  }

  /**
   * A bucket setting (tags, CORS rules) as stored text, kept in the bucket's private area so any
   * filesystem can hold it and every gateway process sharing the tree sees the same.
   */
  bucketSetting(bucketDir: string, name: BucketSetting): string | undefined {
    try {
      return readFileSync(join(bucketPrivateDir(bucketDir), name), "utf8") || undefined;
    } catch {
      return undefined;
    }
  }

  /** Replaces (undefined: removes) a bucket setting atomically. */
  setBucketSetting(bucketDir: string, name: BucketSetting, value: string | undefined): void {
    const file = join(bucketPrivateDir(bucketDir), name);
    if (value === undefined) {
      rmSync(file, { force: true });
      return;
    }
    mkdirSync(bucketPrivateDir(bucketDir), { recursive: true });
    writeFileAtomic(file, value, this.fsync !== "none");
  }

  // ---- objects ----

  location(bucket: string, key: string): MetaLocation & KeyPath {
    const bucketDir = this.bucketDir(bucket);
    return { bucketDir, ...keyPath(bucketDir, key) };
  }

  /** Stat and metadata of an object; NoSuchKey when the key names no object. */
  headObject(bucket: string, key: string): ObjectInfo {
    // Reads skip the bucket's own stat: only a miss needs to know which of the two is missing.
    const bucketDir = bucketPath(this.root, bucket);
    const loc = { bucketDir, ...keyPath(bucketDir, key) };
    const info = this.infoAt(bucket, key, loc);
    if (!info) {
      this.bucketDir(bucket);
      throw new S3Error("NoSuchKey", undefined, { Key: key });
    }
    return info;
  }

  private infoAt(bucket: string, key: string, loc: MetaLocation): ObjectInfo | null {
    let st: Stats;
    try {
      st = statSync(loc.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR" || code === "ENAMETOOLONG") return null;
      throw fsError(e);
    }
    const meta = this.meta.read(loc, st) ?? null;
    if (st.isDirectory()) {
      // Only a directory stored as `key/` is an object; other directories are just parents.
      if (!loc.isDirectoryKey || !meta) return null;
      return { bucket, key, path: loc.path, size: 0, lastModified: st.mtime, etag: `"${meta.etag}"`, meta, isDirectoryObject: true };
    }
    if (!st.isFile() || loc.isDirectoryKey) return null;
    const etag = meta ? meta.etag : foreignEtagOf(st.ino, st.size, st.mtimeMs);
    return { bucket, key, path: loc.path, size: st.size, lastModified: st.mtime, etag: `"${etag}"`, meta, isDirectoryObject: false };
  }

  async putObject(bucket: string, key: string, body: IncomingBody, opts: PutOptions): Promise<ObjectInfo & { checksum?: StoredChecksum }> {
    const loc = this.location(bucket, key);
    if (loc.isDirectoryKey) return this.putDirectoryObject(bucket, key, loc, body, opts);
    const written = await receiveToTemp(bucketTmpDir(loc.bucketDir), body, this.fsync);
    const checksum: StoredChecksum | undefined = written.checksum
      ? { algorithm: written.checksum.algorithm, value: written.checksum.value, type: "FULL_OBJECT" }
      : undefined;
    const meta: ObjectMeta = {
      etag: written.md5Hex,
      headers: opts.headers,
      user: opts.user,
      ...(opts.tags ? { tags: opts.tags } : {}),
      ...(checksum ? { checksum } : {}),
      ...versionOf(written.stat),
    };
    try {
      this.meta.writeForTemp(loc, written.tmpPath, meta);
      this.commit(bucket, key, loc, written.tmpPath, opts);
    } catch (e) {
      rmSync(written.tmpPath, { force: true });
      throw e;
    }
    return {
      bucket,
      key,
      path: loc.path,
      size: written.size,
      lastModified: written.stat.mtime,
      etag: `"${meta.etag}"`,
      meta,
      isDirectoryObject: false,
      checksum,
    };
  }

  /** Moves a finished temp file to its key, honouring write conditions. */
  commit(bucket: string, key: string, loc: MetaLocation & KeyPath, tmpPath: string, opts: Pick<PutOptions, "ifMatch" | "ifNoneMatch">): void {
    for (let attempt = 0; ; attempt++) {
      this.makeParents(loc);
      try {
        if (opts.ifMatch !== undefined) checkIfMatch(key, this.infoAt(bucket, key, loc), opts.ifMatch);
        if (opts.ifNoneMatch === "*") {
          // link() fails when the name exists, so of two racing conditional writers one wins.
          linkSync(tmpPath, loc.path);
          unlinkSync(tmpPath);
        } else {
          renameSync(tmpPath, loc.path);
        }
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EEXIST" && opts.ifNoneMatch === "*") {
          throw existsSync(loc.path) && statSync(loc.path).isDirectory()
            ? new S3Error("ExistingObjectIsDirectory", undefined, { Key: key })
            : new S3Error("PreconditionFailed", undefined, { Condition: "If-None-Match" });
        }
        if (code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST") throw new S3Error("ExistingObjectIsDirectory", undefined, { Key: key });
        // A concurrent delete may have pruned the parent directory we just made.
        if (code === "ENOENT" && attempt < 3) continue;
        throw fsError(e);
      }
    }
    if (this.fsync === "full") fsyncPath(dirname(loc.path));
  }

  private makeParents(loc: KeyPath & MetaLocation): void {
    if (loc.segments.length === 1 && !loc.isDirectoryKey) return;
    const parent = loc.isDirectoryKey ? loc.path : dirname(loc.path);
    try {
      mkdirs(parent);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOTDIR" || code === "EEXIST") throw new S3Error("ObjectParentIsFile", undefined, { Key: loc.segments.join("/") });
      throw fsError(e);
    }
  }

  private async putDirectoryObject(bucket: string, key: string, loc: MetaLocation & KeyPath, body: IncomingBody, opts: PutOptions) {
    // A declared body is refused before anything is written; an undeclared one is drained and
    // verified through the same checks as any upload.
    if (body.length !== null && body.length > 0) throw new S3Error("DirectoryObjectContainsData", undefined, { Key: key });
    const written = await receiveToTemp(bucketTmpDir(loc.bucketDir), body, "none");
    rmSync(written.tmpPath, { force: true });
    if (written.size > 0) throw new S3Error("DirectoryObjectContainsData", undefined, { Key: key });
    if (opts.ifNoneMatch === "*" && this.infoAt(bucket, key, loc)) throw new S3Error("PreconditionFailed", undefined, { Condition: "If-None-Match" });
    if (opts.ifMatch !== undefined) checkIfMatch(key, this.infoAt(bucket, key, loc), opts.ifMatch);
    this.makeParents(loc);
    const st = statSync(loc.path);
    const checksum: StoredChecksum | undefined = written.checksum
      ? { algorithm: written.checksum.algorithm, value: written.checksum.value, type: "FULL_OBJECT" }
      : undefined;
    const meta: ObjectMeta = {
      etag: EMPTY_MD5,
      headers: opts.headers,
      user: opts.user,
      ...(opts.tags ? { tags: opts.tags } : {}),
      ...(checksum ? { checksum } : {}),
      size: 0,
      mtimeMs: Math.trunc(st.mtimeMs),
    };
    this.meta.update(loc, meta);
    return { bucket, key, path: loc.path, size: 0, lastModified: st.mtime, etag: `"${EMPTY_MD5}"`, meta, isDirectoryObject: true, checksum };
  }

  /**
   * Copies `src` to a temp file in the destination bucket with copyFile (reflink where the
   * filesystem has it, else copy_file_range: no bytes through JavaScript), then commits it.
   */
  async copyObject(src: ObjectInfo, bucket: string, key: string, opts: PutOptions): Promise<ObjectInfo> {
    const loc = this.location(bucket, key);
    if (loc.isDirectoryKey) throw new S3Error("NotImplemented", "Copying onto a directory object key is not supported.");
    const tmp = tempPathIn(bucketTmpDir(loc.bucketDir));
    try {
      const st = await copyToNewFile(src, tmp, null);
      if (this.fsync !== "none") fsyncPath(tmp);
      // A file nobody stored through S3 has no MD5 yet: hash the copy (page cache, no extra I/O).
      const etag = src.meta ? src.meta.etag : (await hashFile(tmp, null)).md5;
      const meta: ObjectMeta = {
        etag,
        headers: opts.headers,
        user: opts.user,
        ...(opts.tags ? { tags: opts.tags } : {}),
        ...(src.meta?.checksum ? { checksum: src.meta.checksum } : {}),
        ...(src.meta?.parts ? { parts: src.meta.parts } : {}),
        ...versionOf(st),
      };
      this.meta.writeForTemp(loc, tmp, meta);
      this.commit(bucket, key, loc, tmp, opts);
      return { bucket, key, path: loc.path, size: st.size, lastModified: st.mtime, etag: `"${etag}"`, meta, isDirectoryObject: false };
    } catch (e) {
      rmSync(tmp, { force: true });
      throw fsError(e);
    }
  }

  /** S3 deletes are idempotent: a missing key is success. */
  deleteObject(bucket: string, key: string): void {
    const loc = this.location(bucket, key);
    const info = this.infoAt(bucket, key, loc);
    if (!info) return;
    try {
      if (info.isDirectoryObject) {
        this.meta.remove(loc);
        try {
          rmdirSync(loc.path);
        } catch {
          // still holds other objects: it stays as a plain parent directory
        }
      } else {
        unlinkSync(loc.path);
        if (this.meta.kind === "sidecar") this.meta.remove(loc);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw fsError(e);
    }
    this.pruneParents(loc);
  }

  /** Removes parent directories left empty, up to the bucket, stopping at directory objects. */
  private pruneParents(loc: MetaLocation & KeyPath): void {
    let dir = dirname(loc.path);
    const segments = loc.segments.slice(0, -1);
    while (segments.length > 0 && dir !== loc.bucketDir) {
      const parentLoc: MetaLocation = { bucketDir: loc.bucketDir, segments: [...segments], path: dir, isDirectoryKey: true };
      try {
        // A directory's record needs no stat to be trusted; a vanished one fails rmdir below.
        if (this.meta.read(parentLoc, DIRECTORY_IDENTITY)) return;
        rmdirSync(dir);
      } catch {
        return;
      }
      segments.pop();
      dir = dirname(dir);
    }
  }

  // ---- listing ----

  /** Whether a directory found by a walk is a directory object (`key/`) rather than a parent. */
  isDirectoryObject(bucketDir: string, absPath: string): boolean {
    const segments = relative(bucketDir, absPath).split(sep);
    const loc: MetaLocation = { bucketDir, segments, path: absPath, isDirectoryKey: true };
    return this.meta.read(loc, DIRECTORY_IDENTITY) != null;
  }

  /** What a listing shows of a key found by a walk beyond its stat, without another stat. */
  listedObject(bucketDir: string, e: Extract<WalkEntry, { type: "object" }>): ListedFields {
    const isDirectoryKey = e.isDirectoryObject;
    // A directory's ctime moves with its entries, so directory objects would rarely hit. A symlink's
    // stat is its target's, but its xattrs are its own: remembering them would misstate the target.
    const cacheable = !isDirectoryKey && !e.viaLink;
    const cached = cacheable ? this.listed?.get(e) : undefined;
    if (cached !== undefined) return cached ?? { etag: `"${foreignEtagOf(e.ino, e.size, e.mtimeMs)}"` };
    const segments = (isDirectoryKey ? e.key.slice(0, -1) : e.key).split("/");
    const loc: MetaLocation = { bucketDir, segments, path: e.path, isDirectoryKey };
    const identity: FileIdentity = { size: e.size, mtimeMs: e.mtimeMs, ino: e.ino, isDirectory: () => isDirectoryKey };
    const meta = this.meta.read(loc, identity);
    const fields: ListedFields | null = meta ? {
      etag: `"${meta.etag}"`,
      checksum: meta.checksum && { algorithm: meta.checksum.algorithm, type: meta.checksum.type },
    } : null;
    if (isDirectoryKey) return fields ?? { etag: `"${EMPTY_MD5}"` };
    if (cacheable && meta !== undefined) this.listed?.set(e, fields);
    return fields ?? { etag: `"${foreignEtagOf(e.ino, e.size, e.mtimeMs)}"` };
  }

  /** Rewrites an object's metadata record in place (tagging). */
  updateMeta(info: ObjectInfo, change: (m: ObjectMeta) => ObjectMeta): void {
    const loc = this.location(info.bucket, info.key);
    const st = statSync(loc.path);
    const base: ObjectMeta = info.meta ?? {
      etag: info.etag.slice(1, -1),
      headers: {},
      user: {},
      ...versionOf(st),
    };
    this.meta.update(loc, change(base));
  }
}

/** If-Match on a write, against what is at the key now (null: nothing, which S3 calls NoSuchKey). */
export function checkIfMatch(key: string, current: { etag: string } | null, ifMatch: string): void {
  if (!current) throw new S3Error("NoSuchKey", undefined, { Key: key });
  if (!etagMatches(ifMatch, current.etag)) throw new S3Error("PreconditionFailed", undefined, { Condition: "If-Match" });
}

export function etagMatches(condition: string, etag: string): boolean {
  const bare = etag.replace(/^"|"$/g, "");
  return condition
    .split(",")
    .map((s) => s.trim().replace(/^W\//, "").replace(/^"|"$/g, ""))
    .some((c) => c === "*" || c === bare);
}


