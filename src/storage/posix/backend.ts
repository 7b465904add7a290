// The POSIX backend: buckets are directories under the root, objects are files. Routes call only
// this module's methods; it owns every filesystem path and every rule about what may change on
// disk, and it turns errno values into S3 errors.
import { closeSync, constants, fstatSync, mkdirSync, openSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { isStorageError } from "../errors.ts";
import { GATEWAY_DIR } from "./layout.ts";
import { bucketPath, keyPath } from "./names.ts";
import { evenIfImmutableFd, syncImmutable } from "./immutable.ts";
import { Dir, errnoOf } from "./beneath.ts";
import { O_PATH, openBeneath } from "./kernel.ts";
import { keyLockFile, withLock } from "./locks.ts";
import type { FsyncPolicy } from "./incoming.ts";
import { XATTR_NAME, versionOf, type FileIdentity, type MetaLocation, type MetaStore } from "./meta.ts";
import { ListedCache, type FileVersion, type ListedFields } from "./listed-cache.ts";
import { walkBucket, type WalkEntry } from "./walk.ts";
import { compareKeys } from "./key-order.ts";
import { VersionStore, dirIn, versionIdOfName, walkVersionKeys } from "./versions.ts";
import type { VersioningState } from "../versioning.ts";
import { DirListings } from "./dir-listing.ts";
import { checkModeBits, mayEnter } from "./permission-check.ts";
import { UnixAccounts } from "./unix-accounts.ts";
import { PosixBuckets } from "./buckets.ts";
import { DIRECTORY_IDENTITY, lstatOrNull, throughLink } from "./file-facts.ts";
import type { BucketInfo, BucketSetting, CommitOptions, DeleteResult, FileOwner, FsAction, IncomingBody, ListEntry, ListOptions, ObjectInfo, ObjectMeta, ObjectStore, OpenObject, PutOptions, StoredChecksum, VersionListEntry, VersionListOptions, VersionSelector } from "../types.ts";
import { foreignEtagOf } from "./foreign-etag.ts";
import { currentObject, describeVersion, headObject, latestDeleteMarker, openLatest, openObject } from "./object-read.ts";
import { EMPTY_MD5, commitFile, putObject } from "./object-write.ts";
import { copyObject } from "./object-copy.ts";
import { deleteObject } from "./object-delete.ts";

export class PosixBackend implements ObjectStore {
  constructor(
    readonly root: string,
    readonly meta: MetaStore,
    readonly fsync: FsyncPolicy,
  ) {
    this.listed = meta.kind === "xattr" ? new ListedCache() : null;
    this.versions = new VersionStore(meta.kind, fsync);
    this.buckets = new PosixBuckets(root, new Dir(openSync(root, O_PATH | constants.O_DIRECTORY)), fsync);
    this.locksDir = join(root, GATEWAY_DIR, "locks");
    try {
      mkdirSync(this.locksDir, { recursive: true });
    } catch {
      // a read-only root: nothing will be locked because nothing will be written
    }
  }

  /** See listed-cache.ts: xattr records move the file's ctime when they change; sidecars do not. */
  private readonly listed: ListedCache | null;
  /** The root's top-level directories (buckets.ts). */
  readonly buckets: PosixBuckets;
  /** Large directories' sorted listings, kept between listing requests (dir-listing.ts). */
  private readonly listings = new DirListings();
  private readonly locksDir: string;
  /** Supplementary groups for --posix-permissions, from the system's account files. */
  private readonly accounts = new UnixAccounts();
  /** Noncurrent versions and delete markers of versioned buckets (versions.ts). */
  readonly versions: VersionStore;

  /** The lock file of object key `name` in `bucket`. */
  lockFile(bucket: string, name: string): string {
    return keyLockFile(this.locksDir, bucket, name);
  }

  /** The lock file of multipart upload `uploadId` in `bucket` (held while Complete commits a key). */
  uploadLockFile(bucket: string, uploadId: string): string {
    return keyLockFile(this.locksDir, bucket, uploadId, "u");
  }

  // ---- buckets (buckets.ts) ----

  /** Held for the process's life: every bucket is opened beneath it. */
  get rootDir(): Dir {
    return this.buckets.rootDir;
  }

  listBuckets(): BucketInfo[] {
    return this.buckets.listBuckets();
  }

  createBucket(name: string, opts: { fileOwner?: FileOwner } = {}): void {
    this.buckets.createBucket(name, opts);
  }

  openBucket(name: string): Dir {
    return this.buckets.openBucket(name);
  }

  bucketDir(name: string): string {
    return this.buckets.bucketDir(name);
  }

  deleteBucket(name: string): void {
    this.buckets.deleteBucket(name);
  }

  requireBucket(name: string): void {
    this.buckets.requireBucket(name);
  }

  bucketSetting(bucket: string, name: BucketSetting): string | undefined {
    return this.buckets.bucketSetting(bucket, name);
  }

  setBucketSetting(bucket: string, name: BucketSetting, value: string | undefined): void {
    this.buckets.setBucketSetting(bucket, name, value);
  }

  versioning(bucket: string, maxAgeMs = 0): VersioningState {
    return this.buckets.versioning(bucket, maxAgeMs);
  }

  // ---- objects ----

  headObject(bucket: string, key: string, sel?: VersionSelector): ObjectInfo {
    return headObject(this, bucket, key, sel);
  }

  openObject(bucket: string, key: string, sel?: VersionSelector): OpenObject {
    return openObject(this, bucket, key, sel);
  }

  latestDeleteMarker(bucket: string, key: string): string | null {
    return latestDeleteMarker(this, bucket, key);
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

  putObject(bucket: string, key: string, body: IncomingBody, opts: PutOptions): Promise<ObjectInfo & { checksum?: StoredChecksum }> {
    return putObject(this, bucket, key, body, opts);
  }

  commitFile(bucket: string, key: string, tmpPath: string, meta: ObjectMeta, opts: CommitOptions): Promise<ObjectMeta> {
    return commitFile(this, bucket, key, tmpPath, meta, opts);
  }

  copyObject(src: OpenObject, bucket: string, key: string, opts: PutOptions): Promise<ObjectInfo> {
    return copyObject(this, src, bucket, key, opts);
  }

  deleteObject(bucket: string, key: string, opts: VersionSelector & { check?: (current: ObjectInfo | null) => void } = {}): Promise<DeleteResult> {
    return deleteObject(this, bucket, key, opts);
  }

  /** updateMeta for a noncurrent version, open as `o` (closed here). */
  private updateVersionRecord(bucket: string, key: string, o: OpenObject, change: (m: ObjectMeta) => ObjectMeta | null): ObjectInfo {
    try {
      const base: ObjectMeta = o.meta ?? { etag: o.etag.slice(1, -1), headers: {}, user: {}, size: o.size, mtimeMs: Math.trunc(o.lastModified.getTime()) };
      const next = change(base);
      if (next === null || o.fd === null) return o;
      const vdir = this.versions.dirOf(bucketPath(this.root, bucket), keyPath("", key).segments);
      const st = fstatSync(o.fd);
      const name = o.versionId ?? this.versions.findNull(vdir)!;
      this.versions.writeRecord(o.fd, vdir, name, { ...next, ...versionOf(st) });
      return { ...o, meta: next };
    } finally {
      o.close();
    }
  }

  // ---- listing ----

  /**
   * ListObjectVersions: the keys of the plain tree (current objects) and of the version store,
   * merged in S3 order; per key the current object first, then the noncurrent entries newest
   * first. A page costs the page plus the directories on the marker's path in both trees.
   */
  async *listVersions(bucket: string, opts: VersionListOptions): AsyncGenerator<VersionListEntry> {
    const bucketDir = this.bucketDir(bucket);
    const prefix = opts.prefix ?? "";
    const delimiter = opts.delimiter || undefined;
    // Checked once per listing; "" when the bucket has no version store (never versioned).
    let vroot = "";
    try {
      const root = this.versions.root(bucketDir);
      if (lstatOrNull(root)?.isDirectory()) vroot = root;
    } catch {
      // not the gateway's own area: nothing of it is listed
    }
    const keyMarker = opts.keyMarker || undefined;
    // The rest of the marker key's versions first, when the page ended inside them.
    if (keyMarker !== undefined && opts.versionIdMarker && keyMarker.startsWith(prefix)) {
      const cp = delimiter ? keyMarker.indexOf(delimiter, prefix.length) : -1;
      if (cp < 0) yield* this.versionsOfKey(bucket, vroot, keyMarker, opts.versionIdMarker);
    }
    const unversioned = vroot === "" && this.versioning(bucket) === undefined;
    const plain = this.list(bucket, { prefix, delimiter, startAfter: keyMarker });
    const kept = vroot ? walkVersionKeys(vroot, { prefix, delimiter, startAfter: keyMarker }) : null;
    try {
      let a = await plain.next();
      let b = kept ? await kept.next() : { done: true as const, value: undefined };
      while (!a.done || !b.done) {
        const an = a.done ? undefined : a.value.type === "prefix" ? a.value.prefix : a.value.key;
        const bn = b.done ? undefined : b.value.type === "prefix" ? b.value.prefix : b.value.key;
        const c = an === undefined ? 1 : bn === undefined ? -1 : compareKeys(an, bn);
        const isPrefix = c <= 0 ? a.value!.type === "prefix" : b.value!.type === "prefix";
        const name = (c <= 0 ? an : bn)!;
        if (isPrefix) yield { type: "prefix", prefix: name };
        else if (unversioned && c <= 0 && a.value!.type === "object") {
          // Every object of a bucket that was never versioned is its null version: what the
          // object walk already knows is all there is to say.
          const o = a.value!;
          yield { type: "version", key: o.key, versionId: "null", isLatest: true, deleteMarker: false, size: o.size, mtimeMs: o.mtimeMs, etag: o.etag, checksum: o.checksum };
        } else yield* this.versionsOfKey(bucket, vroot, name, undefined);
        if (c <= 0) a = await plain.next();
        if (c >= 0 && kept) b = await kept.next();
      }
    } finally {
      await plain.return(undefined);
      await kept?.return(undefined);
    }
  }

  /** One key's versions, newest first; after `afterVersion` only those older than it. */
  private *versionsOfKey(bucket: string, vroot: string, key: string, afterVersion: string | undefined): Generator<VersionListEntry> {
    let current: ObjectInfo | null = null;
    let currentIno: number | undefined;
    try {
      const o = openLatest(this, bucket, key);
      if (o.fd !== null) currentIno = fstatSync(o.fd).ino;
      o.close();
      current = o;
    } catch (e) {
      if (!isStorageError(e, "NoSuchKey")) throw e;
    }
    const kp = keyPath("", key);
    const vdir = kp.isDirectoryKey || vroot === "" ? null : dirIn(vroot, kp.segments);
    const names = vdir === null ? [] : this.versions.names(vdir);
    let skipping = afterVersion !== undefined;
    const entry = (o: ObjectInfo, versionId: string, isLatest: boolean): VersionListEntry => ({
      type: "version",
      key,
      versionId,
      isLatest,
      deleteMarker: o.deleteMarker === true,
      size: o.size,
      mtimeMs: o.lastModified.getTime(),
      etag: o.etag,
      checksum: o.meta?.checksum && { algorithm: o.meta.checksum.algorithm, type: o.meta.checksum.type },
    });
    if (current) {
      const id = current.versionId ?? "null";
      if (!skipping) yield entry(current, id, true);
      else if (id === afterVersion) skipping = false;
    }
    for (let i = 0; i < names.length; i++) {
      const id = versionIdOfName(names[i]);
      if (skipping) {
        if (id === afterVersion) skipping = false;
        continue;
      }
      const v = this.versions.open(vdir!, names[i]);
      if (v === null) continue;
      // A second name for the current file, left by a crash between keeping and replacing it.
      if (currentIno !== undefined && v.st.ino === currentIno) {
        closeSync(v.fd);
        continue;
      }
      const o = describeVersion(bucket, key, v);
      o.close();
      yield entry(o, id, !current && i === 0 && o.deleteMarker === true);
    }
  }

  // ---- listing ----

  /** The bucket's keys (and common prefixes) in S3 order, walked straight off the tree. */
  async *list(bucket: string, opts: ListOptions): AsyncGenerator<ListEntry> {
    const bucketDir = this.bucketDir(bucket);
    const reader = opts.reader && { ...opts.reader, groups: this.accounts.groupsOf(opts.reader.uid, opts.reader.gid) };
    const walk = walkBucket(bucketDir, {
      ...opts,
      ...(reader ? { mayEnter: (abs: string) => mayEnter(abs, reader) } : {}),
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

  checkAccess(who: FileOwner, action: FsAction, bucket: string | null, key: string | null): void {
    checkModeBits(this.root, { ...who, groups: this.accounts.groupsOf(who.uid, who.gid) }, action, bucket, key);
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
  async updateMeta(bucket: string, key: string, change: (m: ObjectMeta) => ObjectMeta | null, sel?: VersionSelector): Promise<ObjectInfo> {
    return withLock(this.lockFile(bucket, key), () => {
      this.refuseLinkedKey(bucket, key);
      const o = openObject(this, bucket, key, sel);
      if (sel?.versionId !== undefined && !keyPath("", key).isDirectoryKey) {
        const cur = currentObject(this, bucket, key);
        // A noncurrent version: its record lives in the version store.
        if (!cur || (cur.versionId ?? "null") !== sel.versionId || o.deleteMarker) return this.updateVersionRecord(bucket, key, o, change);
      }
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
          const fd = o.fd;
          this.meta.afterCommit(loc, evenIfImmutableFd(fd, () => this.meta.updateFd(fd, loc, { ...next, ...versionOf(st) })));
          syncImmutable(fd, next);
        }
        return { ...o, meta: next };
      } finally {
        o.close();
      }
    });
  }
}
