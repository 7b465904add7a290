// Open multipart uploads for the metrics endpoint: counted from disk at scrape time, since the
// tree (not the process) is the source of truth and other processes may hold uploads too.
import { readdirSync } from "node:fs";
import { bucketUploadsDir } from "../storage/posix/layout.ts";
import { isServableBucketName } from "../storage/posix/names.ts";
import { join } from "node:path";
import { isUploadId } from "../s3/multipart-rules.ts";

export function countOpenUploads(root: string): number {
  let n = 0;
  for (const bucket of readdirSync(root)) {
    if (!isServableBucketName(bucket)) continue;
    try {
      n += readdirSync(bucketUploadsDir(join(root, bucket))).filter(isUploadId).length;
    } catch {
      // no uploads directory
    }
  }
  return n;
}
