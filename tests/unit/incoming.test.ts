import { expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bucketTmpDir } from "../../src/storage/posix/layout.ts";
import { tempPathIn } from "../../src/storage/posix/incoming.ts";

test("the temp directory is made inside an existing bucket, and never brings a deleted bucket back", () => {
  const root = mkdtempSync(join(tmpdir(), "filegate-incoming-"));
  try {
    const bucket = join(root, "b1");
    mkdirSync(bucket);
    expect(tempPathIn(bucketTmpDir(bucket)).startsWith(bucketTmpDir(bucket) + "/")).toBe(true);
    expect(existsSync(bucketTmpDir(bucket))).toBe(true);
    const gone = join(root, "gone");
    expect(() => tempPathIn(bucketTmpDir(gone))).toThrow(expect.objectContaining({ kind: "NoSuchBucket" }));
    expect(existsSync(gone)).toBe(false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
