// Names the gateway reserves in the tree. Bucket names cannot start with '.', so ROOT/.filegate is
// never a bucket; inside a bucket, a top-level `.filegate` holds what must share the bucket's
// filesystem (temp files for atomic rename, multipart staging, sidecar metadata).
import { join } from "node:path";

export const GATEWAY_DIR = ".filegate";

export const bucketPrivateDir = (bucketDir: string) => join(bucketDir, GATEWAY_DIR);
export const bucketTmpDir = (bucketDir: string) => join(bucketDir, GATEWAY_DIR, "tmp");
export const bucketUploadsDir = (bucketDir: string) => join(bucketDir, GATEWAY_DIR, "uploads");
export const bucketSidecarDir = (bucketDir: string) => join(bucketDir, GATEWAY_DIR, "meta");

/**
 * The data of object `a` while `a` must be a directory (because `a/b` exists too) lives beside it
 * as `.filegate-obj.a`; listings show it as key `a`. Key segments starting with this are refused.
 */
export const SELF_PREFIX = ".filegate-obj.";
export const selfName = (name: string) => SELF_PREFIX + name;
