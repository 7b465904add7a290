// What the POSIX store's object paths (object-read.ts, object-write.ts, object-delete.ts, …)
// share: the tree's root, its record store, version store and locks. They take it as a parameter
// rather than reaching into PosixBackend, so each path can be read on its own and none imports
// the facade that imports them.
import type { Dir } from "./beneath.ts";
import type { FsyncPolicy } from "./incoming.ts";
import type { MetaStore } from "./meta.ts";
import type { OpenFiles } from "./open-files.ts";
import type { VersionStore } from "./versions.ts";
import type { VersioningState } from "../versioning.ts";

export interface PosixContext {
  readonly root: string;
  /** Held for the process's life: every bucket is opened beneath it. */
  readonly rootDir: Dir;
  readonly meta: MetaStore;
  readonly fsync: FsyncPolicy;
  /** Noncurrent versions and delete markers of versioned buckets. */
  readonly versions: VersionStore;
  /** Small objects kept open between reads; null for sidecar records. */
  readonly openFiles: OpenFiles | null;
  /** The lock file of object key `name` in `bucket`. */
  lockFile(bucket: string, name: string): string;
  /** The bucket's directory, never through a link; NoSuchBucket when there is none. */
  openBucket(name: string): Dir;
  bucketDir(name: string): string;
  requireBucket(name: string): void;
  versioning(bucket: string, maxAgeMs?: number): VersioningState;
}
