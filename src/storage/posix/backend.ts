// The POSIX backend: buckets are directories under the root, objects are files. Routes call only
// this module's methods; it owns every filesystem path and every rule about what may change on
// disk, and it turns errno values into S3 errors.
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  type Stats,
} from "node:fs";
import { join, relative, sep } from "node:path";
import { fsyncPath, writeFileAtomic } from "./durability.ts";
import { hashFile } from "./hash-file.ts";
import { copyToNewFile } from "./kernel-copy.ts";
import { S3Error, fsError } from "../../errors.ts";
import { GATEWAY_DIR, bucketPrivateDir, bucketTmpDir, selfName } from "./layout.ts";
import { bucketPath, isServableBucketName, keyPath, type KeyPath } from "./names.ts";
import { Dir, READ_FLAGS, errnoOf, makeSubdirs, openForRead, openSubdir } from "./beneath.ts";
import { O_PATH, kernelPath, openBeneath } from "./kernel.ts";
import { keyLockFile, withLock } from "./locks.ts";
import { receiveToTemp, tempPathIn, type FsyncPolicy, type WrittenFile } from "./incoming.ts";
import { XATTR_NAME, versionOf, type FileIdentity, type MetaLocation, type MetaStore } from "./meta.ts";
import { ListedCache, type FileVersion, type ListedFields } from "./listed-cache.ts";
import { walkBucket, type WalkEntry } from "./walk.ts";
import { DirListings } from "./dir-listing.ts";
import type { BucketInfo, BucketSetting, CommitOptions, IncomingBody, ListEntry, ListOptions, ObjectInfo, ObjectMeta, ObjectStore, OpenObject, PutOptions, StoredChecksum } from "../types.ts";

export const EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e";





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
  // A scratch array, not a fresh one per call: listings call this once per object.
  const words = FOREIGN_WORDS;
  words[0] = ino >>> 0;
  words[1] = Math.floor(ino / 2 ** 32);
  words[2] = size >>> 0;
  words[3] = Math.floor(size / 2 ** 32);
  words[4] = ms >>> 0;
  words[5] = Math.floor(ms / 2 ** 32);
  words[6] = Math.round((mtimeMs - ms) * 1000);
  for (let lane = 0; lane < 4; lane++) {
    let h = Math.imul(lane + 1, 0x9e3779b1);
    for (let i = 0; i < 7; i++) {
      const w = words[i];
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
const FOREIGN_WORDS = new Uint32Array(7);

const DIRECTORY_IDENTITY: FileIdentity = { size: 0, mtimeMs: 0, ino: 0, isDirectory: () => true };


/** Errors of a lookup that mean "no such object here" rather than a fault. */
const ABSENT = new Set(["ENOENT", "ENOTDIR", "ENAMETOOLONG", "EXDEV", "ELOOP", "ENXIO", "ENODEV"]);

/** Where key `segments`' data sits while its name is a directory: `.filegate-obj.<name>` beside it. */
function selfRel(segments: string[]): string {
  return [...segments.slice(0, -1), selfName(segments[segments.length - 1])].join("/");
}

/** makeSubdirs met a file where a parent directory must be (it appeared after room was made). */
class ParentIsFile extends Error {}

/** A write or delete whose path passes through a symlink: refused, never followed. */
const throughLink = (key: string) =>
  new S3Error("AccessDenied", "The key's path passes through a symbolic link; filegate does not write or delete through links.", { Key: key });


export class PosixBackend implements ObjectStore {
  constructor(
    readonly root: string,
    readonly meta: MetaStore,
    readonly fsync: FsyncPolicy,
  ) {
    this.listed = meta.kind === "xattr" ? new ListedCache() : null;
    this.rootDir = new Dir(openSync(root, O_PATH | constants.O_DIRECTORY));
    this.locksDir = join(root, GATEWAY_DIR, "locks");
    try {
      mkdirSync(this.locksDir, { recursive: true });
    } catch {
      // a read-only root: nothing will be locked because nothing will be written
    }
  }

  /** See listed-cache.ts: xattr records move the file's ctime when they change; sidecars do not. */
  private readonly listed: ListedCache | null;
  /** Held for the process's life: every bucket is opened beneath it. */
  private readonly rootDir: Dir;
  /** Large directories' sorted listings, kept between listing requests (dir-listing.ts). */
  private readonly listings = new DirListings();
  private readonly locksDir: string;

  /** The lock file of object key `name` in `bucket`. */
  lockFile(bucket: string, name: string): string {
    return keyLockFile(this.locksDir, bucket, name);
  }

  /** The lock file of multipart upload `uploadId` in `bucket` (held while Complete commits a key). */
  uploadLockFile(bucket: string, uploadId: string): string {
    return keyLockFile(this.locksDir, bucket, uploadId, "u");
  }

  // ---- buckets ----

  /** Buckets are real directories: a symlink at the top of the root is never one. */
  listBuckets(): BucketInfo[] {
    const out: BucketInfo[] = [];
    for (const d of readdirSync(this.root, { withFileTypes: true })) {
      if (!isServableBucketName(d.name) || d.isSymbolicLink()) continue;
      try {
        const st = lstatSync(join(this.root, d.name));
        if (st.isDirectory()) out.push({ name: d.name, created: new Date(st.birthtimeMs || st.mtimeMs) });
      } catch {
        // vanished or unreadable: not a bucket we can serve
      }
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The name has passed the protocol's naming rules (s3/bucket-names.ts); the tree's own still apply. */
  createBucket(name: string): void {
    if (!isServableBucketName(name)) throw new S3Error("InvalidBucketName", undefined, { BucketName: name });
    try {
      mkdirSync(join(this.root, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new S3Error("BucketAlreadyOwnedByYou", undefined, { BucketName: name });
      throw fsError(e);
    }
  }

  /** Opens the bucket's directory, never through a link; NoSuchBucket when there is none. */
  openBucket(name: string): Dir {
    if (!isServableBucketName(name)) throw new S3Error("NoSuchBucket", undefined, { BucketName: name });
    try {
      return openSubdir(this.rootDir, name);
    } catch (e) {
      if (ABSENT.has(errnoOf(e) ?? "")) throw new S3Error("NoSuchBucket", undefined, { BucketName: name });
      throw fsError(e);
    }
  }

  /** The bucket's directory path; NoSuchBucket when there is none (or it is a link). */
  bucketDir(name: string): string {
    this.openBucket(name).close();
    return bucketPath(this.root, name);
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

  requireBucket(name: string): void {
    this.openBucket(name).close();
  }

  /**
   * A bucket setting (tags, CORS rules) as stored text, kept in the bucket's private area so any
   * filesystem can hold it and every gateway process sharing the tree sees the same. No check
   * that the bucket exists, nor of whose its private area is: browsers' CORS lookups pay one read
   * (writes check, setBucketSetting; whoever could plant a link there owns the bucket anyway).
   */
  bucketSetting(bucket: string, name: BucketSetting): string | undefined {
    try {
      return readFileSync(join(bucketPath(this.root, bucket), GATEWAY_DIR, name), "utf8") || undefined;
    } catch {
      return undefined;
    }
  }

  /** Replaces (undefined: removes) a bucket setting atomically. */
  setBucketSetting(bucket: string, name: BucketSetting, value: string | undefined): void {
    const dir = bucketPrivateDir(this.bucketDir(bucket));
    const file = join(dir, name);
    if (value === undefined) {
      rmSync(file, { force: true });
      return;
    }
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(file, value, this.fsync !== "none");
  }

  // ---- objects ----

  /** Stat and metadata of an object; NoSuchKey when the key names no object. */
  headObject(bucket: string, key: string): ObjectInfo {
    const o = this.openObject(bucket, key);
    o.close();
    return o;
  }

  /**
   * Opens an object once: size, time and metadata come from the descriptor the body will be read
   * from. NoSuchKey when the key names no object, NoSuchBucket when the bucket is missing.
   */
  openObject(bucket: string, key: string): OpenObject {
    const kp = keyPath("", key);
    const bucketDir = bucketPath(this.root, bucket);
    const rel = kp.segments.join("/");
    // `a` is a directory while it holds `a/b`: its data sits beside it then. A key moving between
    // the two forms is at one of the two names at every moment, but it can move back between our
    // two looks: look again.
    if (kp.isDirectoryKey) {
      // `d/` is its directory's record, or, when it has data, the file `d/.filegate-obj.`.
      const plain = this.openRel(bucket, rel);
      const found = plain === null ? null : this.describe(bucket, key, kp, bucketDir, plain);
      if (found) return found;
      const data = plain === null ? null : this.openRel(bucket, `${rel}/${selfName("")}`);
      const object = data === null ? null : this.describe(bucket, key, kp, bucketDir, data, true);
      if (object) return object;
      return this.missing(bucket, key);
    }
    for (let round = 0; round < 3; round++) {
      const plain = this.openRel(bucket, rel);
      const found = plain === null ? null : this.describe(bucket, key, kp, bucketDir, plain);
      if (found) return found;
      const beside = this.openRel(bucket, selfRel(kp.segments));
      const object = beside === null ? null : this.describe(bucket, key, kp, bucketDir, beside);
      if (object) return object;
      // Nothing at either name twice running: absent (a move takes two syscalls, not a round).
      if (plain === null && beside === null && round > 0) break;
    }
    return this.missing(bucket, key);
  }

  /** No object at the key: NoSuchKey, or NoSuchBucket when that is what is missing. */
  private missing(bucket: string, key: string): never {
    this.requireBucket(bucket);
    throw new S3Error("NoSuchKey", undefined, { Key: key });
  }

  /** A descriptor for `rel` in the bucket (links only inside it), or null when there is none. */
  private openRel(bucket: string, rel: string): number | null {
    // Common case in one call: no link anywhere between the root and the object.
    if (kernelPath === "addon" && isServableBucketName(bucket)) {
      try {
        return openBeneath(this.rootDir.fd, `${bucket}/${rel}`, READ_FLAGS, 0, "none");
      } catch (e) {
        const code = errnoOf(e) ?? "";
        // Only a link on the way needs the slower look that follows links staying inside.
        if (code !== "ELOOP" && code !== "EXDEV") {
          if (ABSENT.has(code)) return null;
          throw fsError(e);
        }
      }
    }
    const dir = this.openBucket(bucket);
    try {
      return openForRead(dir, rel);
    } catch (e) {
      if (ABSENT.has(errnoOf(e) ?? "")) return null;
      throw fsError(e);
    } finally {
      dir.close();
    }
  }

  /** What the open file `fd` is as an object of `key`, or null (closing it) when it is none. */
  private describe(bucket: string, key: string, kp: KeyPath, bucketDir: string, fd: number, dataOfDirKey = false): OpenObject | null {
    let st: Stats;
    let meta: ObjectMeta | null;
    const loc: MetaLocation = { bucketDir, segments: kp.segments, path: join(bucketDir, ...kp.segments), isDirectoryKey: kp.isDirectoryKey };
    try {
      st = fstatSync(fd);
      const isDir = st.isDirectory();
      // Only a directory stored as `key/` is an object; other directories are just parents.
      if (isDir !== (kp.isDirectoryKey && !dataOfDirKey) || (!isDir && !st.isFile())) {
        closeSync(fd);
        return null;
      }
      meta = this.meta.readFd(fd, loc, st) ?? null;
      if (isDir && !meta) {
        closeSync(fd);
        return null;
      }
    } catch (e) {
      closeSync(fd);
      throw fsError(e);
    }
    const base = { bucket, key, lastModified: st.mtime, meta };
    if (kp.isDirectoryKey && !dataOfDirKey) {
      closeSync(fd);
      return { ...base, size: 0, etag: `"${meta!.etag}"`, isDirectoryObject: true, fd: null, close: () => {}, detach: () => -1 };
    }
    const etag = meta ? meta.etag : foreignEtagOf(st.ino, st.size, st.mtimeMs);
    let open = true;
    return {
      ...base,
      size: st.size,
      etag: `"${etag}"`,
      isDirectoryObject: false,
      fd,
      close: () => {
        if (open) closeSync(fd);
        open = false;
      },
      detach: () => {
        open = false;
        return fd;
      },
    };
  }

  /**
   * A metadata write is a write: a key reached through a link (read as its target) is refused
   * rather than changing the target's record.
   */
  private refuseLinkedKey(bucket: string, key: string): void {
    const dir = this.openBucket(bucket);
    try {
      closeSync(openBeneath(dir.fd, keyPath("", key).segments.join("/"), O_PATH, 0, "none"));
    } catch (e) {
      if (errnoOf(e) === "ELOOP") throw throughLink(key);
    } finally {
      dir.close();
    }
  }

  /** The object at `key` now, or null; for write conditions, read under the key's lock. */
  private currentObject(bucket: string, key: string): ObjectInfo | null {
    try {
      return this.headObject(bucket, key);
    } catch (e) {
      if (e instanceof S3Error && e.code === "NoSuchKey") return null;
      throw e;
    }
  }

  /** A directory for temp files on the bucket's filesystem, reached through no link. */
  private tempDir(bucket: Dir): Dir {
    bucketPrivateDir(bucket.path);
    try {
      return makeSubdirs(bucket, [GATEWAY_DIR, "tmp"]);
    } catch (e) {
      if (errnoOf(e) === "ELOOP" || errnoOf(e) === "ENOTDIR") {
        throw new S3Error("AccessDenied", `The bucket's ${GATEWAY_DIR} area is not a plain directory; filegate writes nothing through links.`);
      }
      throw fsError(e);
    }
  }

  async putObject(bucket: string, key: string, body: IncomingBody, opts: PutOptions): Promise<ObjectInfo & { checksum?: StoredChecksum }> {
    const kp = keyPath("", key);
    const dir = this.openBucket(bucket);
    try {
      if (kp.isDirectoryKey) return await this.putDirectoryObject(bucket, key, dir, kp, body, opts);
      const tmp = this.tempDir(dir);
      try {
        const written = await receiveToTemp(tmp.path, body, this.fsync);
        const { meta, checksum } = recordOf(written, opts);
        try {
          await this.commitIn(dir, bucket, key, kp, written.tmpPath, meta, opts);
        } catch (e) {
          rmSync(written.tmpPath, { force: true });
          throw e;
        }
        return { bucket, key, size: written.size, lastModified: written.stat.mtime, etag: `"${meta.etag}"`, meta, isDirectoryObject: false, checksum };
      } finally {
        tmp.close();
      }
    } finally {
      dir.close();
    }
  }

  /**
   * Moves a finished temp file (on the bucket's filesystem) to `key` with its record, honouring
   * write conditions: check and rename are one step for every process sharing the root.
   */
  async commitFile(bucket: string, key: string, tmpPath: string, meta: ObjectMeta, opts: CommitOptions): Promise<void> {
    const dir = this.openBucket(bucket);
    try {
      await this.commitIn(dir, bucket, key, keyPath("", key), tmpPath, meta, opts);
    } finally {
      dir.close();
    }
  }

  private async commitIn(dir: Dir, bucket: string, key: string, kp: KeyPath, tmpPath: string, meta: ObjectMeta, opts: CommitOptions): Promise<void> {
    const stored = this.meta.prepare({ bucketDir: dir.path, segments: kp.segments, path: "", isDirectoryKey: kp.isDirectoryKey }, tmpPath, meta);
    for (let attempt = 0; ; attempt++) {
      // Files in the way of the parents (`a` when writing `a/b`) move beside their directory first.
      await this.makeRoomForParents(dir, bucket, kp);
      try {
        await withLock(this.lockFile(bucket, key), () => this.commitLocked(dir, bucket, key, kp, tmpPath, meta, stored, opts));
        return;
      } catch (e) {
        // Someone stored `a` again between making room and taking the lock: make room again.
        if (!(e instanceof ParentIsFile) || attempt >= 3) throw e instanceof ParentIsFile ? new S3Error("ObjectParentIsFile", undefined, { Key: key }) : e;
      }
    }
  }

  private commitLocked(dir: Dir, bucket: string, key: string, kp: KeyPath, tmpPath: string, meta: ObjectMeta, stored: ObjectMeta, opts: CommitOptions): void {
    if (opts.check) opts.check(this.currentObject(bucket, key));
    const name = kp.segments[kp.segments.length - 1];
    for (let attempt = 0; ; attempt++) {
      const parent = this.parentDir(dir, key, kp);
      try {
        // A key whose name is also a directory (it holds other keys) keeps its data beside it; a
        // directory key's data is the file `.filegate-obj.` inside its directory.
        const beside = !kp.isDirectoryKey && lstatOrNull(`${parent.path}/${name}`)?.isDirectory() === true;
        const target = kp.isDirectoryKey ? `${parent.path}/${selfName("")}` : `${parent.path}/${beside ? selfName(name) : name}`;
        const loc: MetaLocation = { bucketDir: dir.path, segments: kp.segments, path: target, isDirectoryKey: kp.isDirectoryKey };
        this.meta.attach(loc, meta);
        if (opts.exclusive) {
          // Every writer through filegate holds this lock, so nothing appears at the key between the
          // check above and link(), which still catches another tool's file.
          linkSync(tmpPath, target);
          unlinkSync(tmpPath);
        } else {
          renameSync(tmpPath, target);
        }
        if (this.fsync === "full") fsyncPath(parent.path);
        // A copy left beside by a crash mid-move would resurface once this one is deleted.
        if (!beside && !kp.isDirectoryKey) unlinkQuiet(`${parent.path}/${selfName(name)}`);
        // The directory's own record (the empty form of `d/`) gives way to the data's.
        // (`/.`: the xattr binding does not follow a final /proc/self/fd link; `.` is the directory.)
        if (kp.isDirectoryKey && this.meta.kind === "xattr") this.meta.remove({ ...loc, path: `${parent.path}/.` });
        this.meta.afterCommit(loc, stored);
        return;
      } catch (e) {
        const code = errnoOf(e);
        if (code === "EEXIST" && opts.exclusive) throw new S3Error("PreconditionFailed", undefined, { Condition: "If-None-Match" });
        // The name became a directory between the check and the rename: go again, beside it.
        if ((code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST") && attempt < 3) continue;
        if (code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST") throw new S3Error("ExistingObjectIsDirectory", undefined, { Key: key });
        // A concurrent delete may have pruned the parent directory we just made.
        if (code === "ENOENT" && attempt < 3) continue;
        throw fsError(e);
      } finally {
        parent.close();
      }
    }
  }

  /**
   * Moves every object file that stands where a parent directory of `kp` must be (`a` when
   * `a/b` is written) beside that directory, as `.filegate-obj.a`: link it there, unlink it, make
   * the directory. Readers look beside a name that is missing or a directory, so at every moment
   * they find the object. Each move holds that object's own key lock.
   */
  private async makeRoomForParents(dir: Dir, bucket: string, kp: KeyPath): Promise<void> {
    const parents = kp.isDirectoryKey ? kp.segments : kp.segments.slice(0, -1);
    for (let n = 1; n <= parents.length; n++) {
      const st = lstatOrNull(`${dir.path}/${parents.slice(0, n).join("/")}`);
      if (st === null) return; // the rest is made by makeSubdirs
      if (st.isDirectory()) continue;
      if (!st.isFile()) return; // a link: refused by makeSubdirs
      const segs = parents.slice(0, n);
      await withLock(this.lockFile(bucket, segs.join("/")), () => {
        let above: Dir;
        try {
          above = openSubdir(dir, n > 1 ? segs.slice(0, -1).join("/") : ".");
        } catch (e) {
          if (errnoOf(e) === "ELOOP") throw throughLink(kp.segments.join("/"));
          throw fsError(e);
        }
        try {
          const name = segs[n - 1];
          const at = `${above.path}/${name}`;
          if (!lstatOrNull(at)?.isFile()) return;
          const beside = `${above.path}/${selfName(name)}`;
          // A file at the name is the object; anything beside it is left over.
          rmSync(beside, { force: true });
          linkSync(at, beside);
          unlinkSync(at);
          try {
            mkdirSync(at, 0o755);
          } catch (e) {
            if (errnoOf(e) !== "EEXIST") throw e;
          }
        } catch (e) {
          throw fsError(e);
        } finally {
          above.close();
        }
      });
    }
  }

  /** The directory that holds `key`, made where missing; never through a link. */
  private parentDir(dir: Dir, key: string, kp: KeyPath): Dir {
    const parents = kp.isDirectoryKey ? kp.segments : kp.segments.slice(0, -1);
    try {
      return makeSubdirs(dir, parents);
    } catch (e) {
      const code = errnoOf(e);
      if (code === "ELOOP") throw throughLink(key);
      if (code === "ENOTDIR" || code === "EEXIST") throw kp.isDirectoryKey ? new S3Error("ObjectParentIsFile", undefined, { Key: key }) : new ParentIsFile();
      throw fsError(e);
    }
  }

  private async putDirectoryObject(bucket: string, key: string, dir: Dir, kp: KeyPath, body: IncomingBody, opts: PutOptions) {
    const tmp = this.tempDir(dir);
    try {
      const written = await receiveToTemp(tmp.path, body, this.fsync);
      const { meta, checksum } = recordOf(written, opts);
      // With data (or replacing data) `d/` is a file inside its directory; empty, it is the
      // directory's own record, the form other tools and older trees have.
      const rel = kp.segments.join("/");
      if (written.size > 0 || lstatOrNull(`${dir.path}/${rel}/${selfName("")}`) !== null) {
        try {
          await this.commitIn(dir, bucket, key, kp, written.tmpPath, meta, opts);
        } catch (e) {
          rmSync(written.tmpPath, { force: true });
          throw e;
        }
        return { bucket, key, size: written.size, lastModified: written.stat.mtime, etag: `"${meta.etag}"`, meta, isDirectoryObject: true, checksum };
      }
      rmSync(written.tmpPath, { force: true });
      return await this.putEmptyDirectoryObject(bucket, key, dir, kp, opts, checksum);
    } finally {
      tmp.close();
    }
  }

  private async putEmptyDirectoryObject(bucket: string, key: string, dir: Dir, kp: KeyPath, opts: PutOptions, checksum: StoredChecksum | undefined) {
    await this.makeRoomForParents(dir, bucket, kp);
    return withLock(this.lockFile(bucket, key), () => {
      opts.check?.(this.currentObject(bucket, key));
      const self = this.parentDir(dir, key, kp);
      try {
        // Data another writer gave `d/` since this one chose the empty form goes: the later write wins.
        unlinkQuiet(`${self.path}/${selfName("")}`);
      } finally {
        self.close();
      }
      const fd = openBeneath(dir.fd, kp.segments.join("/"), constants.O_RDONLY | constants.O_DIRECTORY, 0, "none");
      try {
        const st = fstatSync(fd);
        const meta: ObjectMeta = {
          etag: EMPTY_MD5,
          headers: opts.headers,
          user: opts.user,
          ...(opts.tags ? { tags: opts.tags } : {}),
          ...(checksum ? { checksum } : {}),
          size: 0,
          mtimeMs: Math.trunc(st.mtimeMs),
        };
        const loc: MetaLocation = { bucketDir: dir.path, segments: kp.segments, path: `${dir.path}/${kp.segments.join("/")}`, isDirectoryKey: true };
        this.meta.afterCommit(loc, this.meta.updateFd(fd, loc, meta));
        return { bucket, key, size: 0, lastModified: st.mtime, etag: `"${EMPTY_MD5}"`, meta, isDirectoryObject: true, checksum };
      } finally {
        closeSync(fd);
      }
    });
  }

  /**
   * Copies the open object `src` to a temp file in the destination bucket with copyFile (reflink
   * where the filesystem has it, else copy_file_range: no bytes through JavaScript), then commits it.
   */
  async copyObject(src: OpenObject, bucket: string, key: string, opts: PutOptions): Promise<ObjectInfo> {
    const kp = keyPath("", key);
    const dir = this.openBucket(bucket);
    const tmpDir = this.tempDir(dir);
    const tmp = tempPathIn(tmpDir.path);
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
        ...(src.meta?.partChecksums ? { partChecksums: src.meta.partChecksums } : {}),
        ...versionOf(st),
      };
      await this.commitIn(dir, bucket, key, kp, tmp, meta, opts);
      return { bucket, key, size: st.size, lastModified: st.mtime, etag: `"${etag}"`, meta, isDirectoryObject: false };
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e instanceof S3Error ? e : fsError(e);
    } finally {
      tmpDir.close();
      dir.close();
    }
  }

  /**
   * S3 deletes are idempotent: a missing key is success. `check` sees the current object under the
   * key's lock and may refuse (a conditional delete). A key that is a symlink loses the link, never
   * the link's target.
   */
  async deleteObject(bucket: string, key: string, check?: (current: ObjectInfo | null) => void): Promise<void> {
    const kp = keyPath("", key);
    const dir = this.openBucket(bucket);
    try {
      const removed = await withLock(this.lockFile(bucket, key), () => this.deleteLocked(dir, bucket, key, kp, check));
      // A directory object's own directory goes too when nothing else is in it.
      if (removed) await this.pruneParents(dir, bucket, kp.isDirectoryKey ? kp.segments : kp.segments.slice(0, -1));
    } finally {
      dir.close();
    }
  }

  /** Removes the object at `kp` (under its lock); false when there was none. */
  private deleteLocked(dir: Dir, bucket: string, key: string, kp: KeyPath, check?: (current: ObjectInfo | null) => void): boolean {
    if (check) check(this.currentObject(bucket, key));
    const parents = kp.segments.slice(0, -1);
    const name = kp.segments[kp.segments.length - 1];
    let parent: Dir;
    try {
      parent = openSubdir(dir, parents.length ? parents.join("/") : ".");
    } catch (e) {
      const code = errnoOf(e);
      if (code === "ELOOP") throw throughLink(key);
      if (ABSENT.has(code ?? "")) return false;
      throw fsError(e);
    }
    try {
      let target = `${parent.path}/${name}`;
      let st = lstatOrNull(target);
      if (kp.isDirectoryKey) {
        if (!st?.isDirectory()) return false;
        const loc: MetaLocation = { bucketDir: dir.path, segments: kp.segments, path: target, isDirectoryKey: true };
        const data = `${target}/${selfName("")}`;
        const hadData = lstatOrNull(data) !== null;
        if (!hadData && !this.meta.read(loc, DIRECTORY_IDENTITY)) return false;
        if (hadData) unlinkQuiet(data);
        this.meta.remove(loc);
        this.meta.afterCommit(loc, null);
        return true;
      }
      // The name is a directory (it holds other keys): the object, if any, is beside it.
      if (st?.isDirectory() || st === null) {
        target = `${parent.path}/${selfName(name)}`;
        st = lstatOrNull(target);
      }
      if (st === null || st.isDirectory()) return false;
      try {
        unlinkSync(target);
      } catch (e) {
        if (errnoOf(e) === "ENOENT") return false;
        throw fsError(e);
      }
      const loc: MetaLocation = { bucketDir: dir.path, segments: kp.segments, path: target, isDirectoryKey: false };
      if (this.meta.kind === "sidecar") this.meta.remove(loc);
      this.meta.afterCommit(loc, null);
      return true;
    } finally {
      parent.close();
    }
  }

  /**
   * Removes directories left empty, from `segments` up to the bucket, stopping at directory
   * objects. An object kept beside a removed directory (`.filegate-obj.a`) moves back to its name,
   * under its key's lock; readers look beside a missing name, so they find it throughout.
   */
  private async pruneParents(dir: Dir, bucket: string, segments: string[]): Promise<void> {
    for (let n = segments.length; n > 0; n--) {
      let above: Dir;
      try {
        above = openSubdir(dir, n > 1 ? segments.slice(0, n - 1).join("/") : ".");
      } catch {
        return;
      }
      try {
        const name = segments[n - 1];
        const path = `${above.path}/${name}`;
        const loc: MetaLocation = { bucketDir: dir.path, segments: segments.slice(0, n), path, isDirectoryKey: true };
        // A directory's record needs no stat to be trusted; a vanished one fails rmdir below.
        if (this.meta.read(loc, DIRECTORY_IDENTITY)) return;
        const beside = `${above.path}/${selfName(name)}`;
        if (lstatOrNull(beside) === null) {
          try {
            rmdirSync(path);
          } catch {
            return; // still holds keys, or gone already
          }
          continue;
        }
        // The object waiting beside the directory takes its name back the moment the directory
        // goes, under the object's lock, so readers see its name missing only between two syscalls.
        const outcome = await withLock(this.lockFile(bucket, segments.slice(0, n).join("/")), () => {
          try {
            rmdirSync(path);
          } catch {
            return "kept"; // still holds keys
          }
          try {
            renameSync(beside, path);
            return "moved";
          } catch {
            return "gone"; // deleted meanwhile: nothing to move back
          }
        });
        // A name holding an object again keeps its parent; a name that is gone lets it go too.
        if (outcome !== "gone") return;
      } finally {
        above.close();
      }
    }
  }

  // ---- listing ----

  /** The bucket's keys (and common prefixes) in S3 order, walked straight off the tree. */
  async *list(bucket: string, opts: ListOptions): AsyncGenerator<ListEntry> {
    const bucketDir = this.bucketDir(bucket);
    const walk = walkBucket(bucketDir, {
      ...opts,
      listings: this.listings,
      isDirectoryObject: async (abs) => this.isDirectoryObject(bucketDir, abs),
      // Files the listed cache does not know yet are asked, in the walk's batches, whether they
      // have a record at all: a tree of foreign files then costs no xattr read per file.
      ...(this.listed ? { recordProbe: { attr: XATTR_NAME, needed: (st) => this.listed!.get(st as FileVersion) === undefined } } : {}),
    });
    try {
      for await (const e of walk) {
        if (e.type === "prefix") {
          yield e;
          continue;
        }
        const { etag, checksum } = this.listedObject(bucketDir, e);
        yield { type: "object", key: e.key, size: e.size, mtimeMs: e.mtimeMs, etag, checksum };
      }
    } finally {
      await walk.return(undefined);
    }
  }

  /** Whether a directory found by a walk is a directory object (`key/`) rather than a parent. */
  isDirectoryObject(bucketDir: string, absPath: string): boolean {
    const segments = relative(bucketDir, absPath).split(sep);
    const loc: MetaLocation = { bucketDir, segments, path: absPath, isDirectoryKey: true };
    return this.meta.read(loc, DIRECTORY_IDENTITY) != null;
  }

  /** What a listing shows of a key found by a walk beyond its stat, without another stat. */
  listedObject(bucketDir: string, e: Extract<WalkEntry, { type: "object" }>): ListedFields {
    // `d/` with data is a file (`d/.filegate-obj.`); without, the directory itself.
    const isDirectoryKey = e.key.endsWith("/");
    // A directory's ctime moves with its entries, so directory objects would rarely hit. A symlink's
    // stat is its target's, but its xattrs are its own: remembering them would misstate the target.
    const cacheable = !isDirectoryKey && !e.viaLink;
    const cached = cacheable ? this.listed?.get(e) : undefined;
    if (cached !== undefined) return cached ?? { etag: `"${foreignEtagOf(e.ino, e.size, e.mtimeMs)}"` };
    const segments = (isDirectoryKey ? e.key.slice(0, -1) : e.key).split("/");
    const loc: MetaLocation = { bucketDir, segments, path: e.path, isDirectoryKey };
    const identity: FileIdentity = { size: e.size, mtimeMs: e.mtimeMs, ino: e.ino, isDirectory: () => e.isDirectoryObject };
    const meta = e.noRecord ? null : this.meta.read(loc, identity);
    const fields: ListedFields | null = meta ? {
      etag: `"${meta.etag}"`,
      checksum: meta.checksum && { algorithm: meta.checksum.algorithm, type: meta.checksum.type },
    } : null;
    if (e.isDirectoryObject) return fields ?? { etag: `"${EMPTY_MD5}"` };
    if (cacheable && meta !== undefined) this.listed?.set(e, fields);
    return fields ?? { etag: `"${foreignEtagOf(e.ino, e.size, e.mtimeMs)}"` };
  }

  /**
   * Rewrites an object's metadata record (tagging) under the key's lock, on exactly the file it
   * read the record from: an object replaced meanwhile keeps its own record.
   */
  async updateMeta(bucket: string, key: string, change: (m: ObjectMeta) => ObjectMeta | null): Promise<ObjectInfo> {
    return withLock(this.lockFile(bucket, key), () => {
      this.refuseLinkedKey(bucket, key);
      const o = this.openObject(bucket, key);
      try {
        const base: ObjectMeta = o.meta ?? { etag: o.etag.slice(1, -1), headers: {}, user: {}, size: o.size, mtimeMs: Math.trunc(o.lastModified.getTime()) };
        const next = change(base);
        if (next === null) return o;
        const kp = keyPath("", key);
        const bucketDir = bucketPath(this.root, bucket);
        const loc: MetaLocation = { bucketDir, segments: kp.segments, path: join(bucketDir, ...kp.segments), isDirectoryKey: kp.isDirectoryKey };
        if (o.fd === null) {
          // A directory object: its record sits on the directory itself.
          const d = this.openBucket(bucket);
          try {
            const fd = openBeneath(d.fd, kp.segments.join("/"), constants.O_RDONLY | constants.O_DIRECTORY, 0, "none");
            try {
              this.meta.afterCommit({ ...loc, bucketDir: d.path }, this.meta.updateFd(fd, { ...loc, bucketDir: d.path }, next));
            } finally {
              closeSync(fd);
            }
          } finally {
            d.close();
          }
        } else {
          const st = fstatSync(o.fd);
          this.meta.afterCommit(loc, this.meta.updateFd(o.fd, loc, { ...next, ...versionOf(st) }));
        }
        return { ...o, meta: next };
      } finally {
        o.close();
      }
    });
  }
}

/** The record of a body just received whole, stored with what the write asked for. */
function recordOf(written: WrittenFile, opts: PutOptions): { meta: ObjectMeta; checksum: StoredChecksum | undefined } {
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
  return { meta, checksum };
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there: the usual case
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}



