// The POSIX backend: buckets are directories under the root, objects are files. PosixBackend is
// the ObjectStore the rest of the gateway holds; it owns the shared state (root, record store,
// version store, locks, caches) and hands it to the path that does the work (buckets.ts,
// object-read.ts, object-write.ts, object-copy.ts, object-delete.ts, version-listing.ts,
// meta-update.ts), so each of those can be read alone. Listing (list, listedObject) stays here.
import { constants, mkdirSync, openSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { GATEWAY_DIR } from "./layout.ts";
import { Dir } from "./beneath.ts";
import { O_PATH } from "./kernel.ts";
import { keyLockFile } from "./locks.ts";
import type { FsyncPolicy } from "./incoming.ts";
import { XATTR_NAME, type FileIdentity, type MetaLocation, type MetaStore } from "./meta.ts";
import { ListedCache, type FileVersion, type ListedFields } from "./listed-cache.ts";
import { walkBucket, type WalkEntry } from "./walk.ts";
import { VersionStore } from "./versions.ts";
import type { VersioningState } from "../versioning.ts";
import { DirListings, type ListingCacheOptions } from "./dir-listing.ts";
import { OpenFiles } from "./open-files.ts";
import { checkModeBits, mayEnter } from "./permission-check.ts";
import { UnixAccounts } from "./unix-accounts.ts";
import { PosixBuckets } from "./buckets.ts";
import { DIRECTORY_IDENTITY } from "./file-facts.ts";
import type { BucketInfo, BucketSetting, CommitOptions, DeleteResult, FileOwner, FsAction, IncomingBody, ListEntry, ListOptions, ObjectInfo, ObjectMeta, ObjectStore, OpenObject, PutOptions, StoredChecksum, VersionListEntry, VersionListOptions, VersionSelector } from "../types.ts";
import { foreignEtagOf } from "./foreign-etag.ts";
import { headObject, latestDeleteMarker, openObject } from "./object-read.ts";
import { EMPTY_MD5, commitFile, putObject } from "./object-write.ts";
import { copyObject } from "./object-copy.ts";
import { deleteObject } from "./object-delete.ts";
import { listVersions } from "./version-listing.ts";
import { updateMeta } from "./meta-update.ts";

export class PosixBackend implements ObjectStore {
  constructor(
    readonly root: string,
    readonly meta: MetaStore,
    readonly fsync: FsyncPolicy,
    listing: Partial<ListingCacheOptions> = {},
  ) {
    this.listings = new DirListings(listing);
    this.listed = meta.kind === "xattr" ? new ListedCache() : null;
    this.versions = new VersionStore(meta.kind, fsync);
    this.buckets = new PosixBuckets(root, new Dir(openSync(root, O_PATH | constants.O_DIRECTORY)), fsync);
    this.openFiles = meta.kind === "xattr" ? new OpenFiles(this.rootDir.fd, root) : null;
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
  /** Small objects kept open between reads (open-files.ts); the listed cache's xattr-only rule. */
  readonly openFiles: OpenFiles | null;
  /** Large directories' sorted listings, kept between listing requests (dir-listing.ts). */
  private readonly listings: DirListings;
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

  // ---- listing ----

  listVersions(bucket: string, opts: VersionListOptions): AsyncGenerator<VersionListEntry> {
    return listVersions(this, bucket, opts);
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

  updateMeta(bucket: string, key: string, change: (m: ObjectMeta) => ObjectMeta | null, sel?: VersionSelector): Promise<ObjectInfo> {
    return updateMeta(this, bucket, key, change, sel);
  }
}
