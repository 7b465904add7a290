// Names the gateway reserves in the tree. Bucket names cannot start with '.', so ROOT/.filegate is
// never a bucket; inside a bucket, a top-level `.filegate` holds what must share the bucket's
// filesystem (temp files for atomic rename, multipart staging, sidecar metadata).
//
// Whoever may write a bucket directory can rename `.filegate` away and put a link, or a directory
// full of links, in its place. So the gateway uses a bucket's private area only when `.filegate`
// is a real directory that it owns and others cannot write: everything inside was then made by
// the gateway. (A swap between this check and the use is still possible; the window is a few
// syscalls, not a planted link waiting for the next sweep.)
import { lstatSync } from "node:fs";
import { join } from "node:path";
import { StorageError } from "../errors.ts";

export const GATEWAY_DIR = ".filegate";

const myUid = process.getuid?.() ?? -1;

/** `path` when it is absent (mkdir makes a real one) or a real directory; else AccessDenied. */
export function plainDir(path: string, owned = false): string {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return path;
  }
  if (!st.isDirectory() || (owned && ((myUid >= 0 && st.uid !== myUid) || (st.mode & 0o002) !== 0))) {
    throw new StorageError("PrivateAreaUnsafe");
  }
  return path;
}

export const bucketPrivateDir = (bucketDir: string) => plainDir(join(bucketDir, GATEWAY_DIR), true);
export const bucketTmpDir = (bucketDir: string) => plainDir(join(bucketPrivateDir(bucketDir), "tmp"));
export const bucketUploadsDir = (bucketDir: string) => plainDir(join(bucketPrivateDir(bucketDir), "uploads"));
export const bucketSidecarDir = (bucketDir: string) => plainDir(join(bucketPrivateDir(bucketDir), "meta"));

/**
 * The data of object `a` while `a` must be a directory (because `a/b` exists too) lives beside it
 * as `.filegate-obj.a`; listings show it as key `a`. Key segments starting with this are refused.
 */
export const SELF_PREFIX = ".filegate-obj.";
export const selfName = (name: string) => SELF_PREFIX + name;
