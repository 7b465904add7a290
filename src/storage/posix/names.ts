// Bucket names and object keys → paths. This is the one place that decides whether a name may
// touch the filesystem, so every rule that keeps a key inside its bucket lives here.
import { join } from "node:path";
import { StorageError } from "../errors.ts";
import { GATEWAY_DIR, SELF_PREFIX } from "./layout.ts";

const MAX_KEY_BYTES = 1024;
// Linux NAME_MAX; a longer segment cannot be a file name.
const MAX_SEGMENT_BYTES = 255;

/**
 * Directories made by hand become buckets even when their names break AWS's creation rules
 * (uppercase, underscores), so existing trees stay reachable. What is never a bucket: hidden
 * names, `_`-names (reserved for /_filegate), anything with a path separator.
 */
export function isServableBucketName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(name);
}

export function bucketPath(root: string, bucket: string): string {
  if (!isServableBucketName(bucket)) throw new StorageError("NoSuchBucket", { BucketName: bucket });
  return join(root, bucket);
}

export interface KeyPath {
  /** Absolute path of the file (or, for a directory object, the directory). */
  path: string;
  /** True for keys ending in '/': stored as a directory. */
  isDirectoryKey: boolean;
  /** Key segments, the last one being the file or directory name. */
  segments: string[];
}

/** Refuses keys that could alias another key, escape the bucket or reach gateway files. */
export function keyPath(bucketDir: string, key: string): KeyPath {
  const unsupported = (why: string) => new StorageError("UnsupportedKey", { why });
  if (key.length === 0) throw unsupported("empty key");
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new StorageError("KeyTooLong", { Key: key.slice(0, 64) });
  if (key.includes("\0")) throw unsupported("NUL character");
  const isDirectoryKey = key.endsWith("/");
  const segments = (isDirectoryKey ? key.slice(0, -1) : key).split("/");
  for (const s of segments) {
    if (s === "") throw unsupported("empty path segment");
    if (s === "." || s === "..") throw unsupported("'.' or '..' path segment");
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) throw new StorageError("SegmentTooLong");
  }
  if (segments[0] === GATEWAY_DIR) throw unsupported(`'${GATEWAY_DIR}' is reserved`);
  if (segments.some((s) => s.startsWith(SELF_PREFIX))) throw unsupported(`path segments starting with '${SELF_PREFIX}' are reserved`);
  // Most callers (every GET) only want the segments: the path is joined when asked for.
  let path: string | undefined;
  return {
    get path() {
      return (path ??= join(bucketDir, ...segments));
    },
    isDirectoryKey,
    segments,
  };
}
