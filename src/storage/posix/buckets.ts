// Buckets are the root's top-level directories. Everything that finds, makes, removes or
// configures one lives here, apart from the objects inside, so the object paths can take a bucket
// as a directory already opened safely and never repeat the rules about which names serve.
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./durability.ts";
import { StorageError, absentAs } from "../errors.ts";
import { GATEWAY_DIR, bucketPrivateDir } from "./layout.ts";
import { bucketPath, isServableBucketName } from "./names.ts";
import { Dir, errnoOf, openSubdir } from "./beneath.ts";
import type { FsyncPolicy } from "./incoming.ts";
import { VERSIONS_DIR, storeHasVersions } from "./versions.ts";
import { parseVersioningState, type VersioningState } from "../versioning.ts";
import { giveName } from "./ownership.ts";
import { ABSENT } from "./file-facts.ts";
import type { BucketInfo, BucketSetting, FileOwner } from "../types.ts";

export class PosixBuckets {
  constructor(
    readonly root: string,
    /** Held for the process's life: every bucket is opened beneath it. */
    readonly rootDir: Dir,
    private readonly fsync: FsyncPolicy,
  ) {}

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
  createBucket(name: string, opts: { fileOwner?: FileOwner } = {}): void {
    if (!isServableBucketName(name)) throw new StorageError("InvalidBucketName", { BucketName: name });
    try {
      mkdirSync(join(this.root, name));
      // The root is the gateway's: nobody else can have swapped the new name for a link.
      giveName(join(this.root, name), opts.fileOwner);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new StorageError("BucketExists", { BucketName: name });
      throw absentAs(e);
    }
  }

  /** Opens the bucket's directory, never through a link; NoSuchBucket when there is none. */
  openBucket(name: string): Dir {
    if (!isServableBucketName(name)) throw new StorageError("NoSuchBucket", { BucketName: name });
    try {
      return openSubdir(this.rootDir, name);
    } catch (e) {
      if (ABSENT.has(errnoOf(e) ?? "")) throw new StorageError("NoSuchBucket", { BucketName: name });
      throw absentAs(e);
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
    if (entries.length > 0) throw new StorageError("BucketNotEmpty", { BucketName: name });
    // Noncurrent versions and delete markers count as content, as on S3.
    if (storeHasVersions(join(dir, GATEWAY_DIR, VERSIONS_DIR))) throw new StorageError("BucketNotEmpty", { BucketName: name });
    rmSync(join(dir, GATEWAY_DIR), { recursive: true, force: true });
    try {
      rmdirSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOTEMPTY" || code === "EEXIST") throw new StorageError("BucketNotEmpty", { BucketName: name });
      throw absentAs(e, "NoSuchBucket", { BucketName: name });
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
    if (name === "versioning") this.seenStates.delete(bucket);
    if (value === undefined) {
      rmSync(file, { force: true });
      return;
    }
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(file, value, this.fsync !== "none");
  }

  versioning(bucket: string, maxAgeMs = 0): VersioningState {
    const now = performance.now();
    const seen = maxAgeMs > 0 ? this.seenStates.get(bucket) : undefined;
    if (seen && now - seen.at <= maxAgeMs) return seen.state;
    const state = parseVersioningState(this.bucketSetting(bucket, "versioning"));
    if (this.seenStates.size >= 4096) this.seenStates.clear();
    this.seenStates.set(bucket, { state, at: now });
    return state;
  }

  /** States read for versioning(bucket, maxAgeMs): GETs need one for a header, not a file read each. */
  private readonly seenStates = new Map<string, { state: VersioningState; at: number }>();
}
