// Streams a request body into a temp file beside its destination, hashing on the way, and checks
// every promise the client made about it (length, Content-MD5, x-amz-content-sha256, checksum
// header or trailer). A body that breaks one leaves nothing behind.
import { closeSync, fdatasyncSync, lstatSync, fstatSync, openSync, readdirSync, rmSync, statSync, unlinkSync, writeSync, mkdirSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { createHasher, type ChecksumAlgorithm, type Hasher } from "../../checksums/index.ts";
import { StorageError } from "../errors.ts";
import { bucketTmpDir } from "./layout.ts";
import { hashBeside } from "./md5-beside.ts";
import { isServableBucketName } from "./names.ts";
import { bootId, pidAlive } from "./kernel.ts";
import { giveFd } from "./ownership.ts";
import type { FileOwner, IncomingBody } from "../types.ts";


export interface WrittenFile {
  tmpPath: string;
  size: number;
  md5Hex: string;
  checksum: { algorithm: ChecksumAlgorithm; value: string } | null;
  stat: Stats;
}

const HASH_BESIDE_MIN = 8 * 1024 * 1024;

export type FsyncPolicy = "none" | "file" | "full";

const tmpDirsMade = new Set<string>();

/**
 * Creates BUCKET/.filegate/tmp level by level, never the bucket itself: a recursive mkdir racing a
 * DeleteBucket would bring the bucket back.
 */
function makeTmpDir(tmpDir: string): void {
  for (const dir of [dirname(tmpDir), tmpDir]) {
    try {
      mkdirSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new StorageError("NoSuchBucket");
      if (code !== "EEXIST") throw e;
    }
  }
}

export function tempPathIn(tmpDir: string): string {
  if (!tmpDirsMade.has(tmpDir)) {
    makeTmpDir(tmpDir);
    tmpDirsMade.add(tmpDir);
  }
  return join(tmpDir, tempName());
}

/** Opens a fresh temp file; recreates the temp dir if someone removed it meanwhile. */
function openTemp(tmpDir: string): { fd: number; path: string } {
  for (let attempt = 0; ; attempt++) {
    const path = tempPathIn(tmpDir);
    try {
      return { fd: openSync(path, "wx", 0o644), path };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || attempt > 2) throw e;
      tmpDirsMade.delete(tmpDir);
    }
  }
}

function writeAll(fd: number, chunk: Uint8Array, position: number): void {
  let off = 0;
  while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off, position + off);
}

/**
 * Writes the body to a new temp file in `tmpDir`. On success the caller owns `tmpPath` (and must
 * rename or unlink it); on failure the temp file is already gone.
 */
export async function receiveToTemp(tmpDir: string, body: IncomingBody, fsync: FsyncPolicy, owner?: FileOwner): Promise<WrittenFile> {
  const { fd, path } = openTemp(tmpDir);
  let ok = false;
  try {
    // Owned by the writer from the start: the file is never the gateway's under its key.
    giveFd(fd, owner);
    const got = await receiveInto(fd, path, 0, body, fsync);
    const stat = fstatSync(fd);
    ok = true;
    return { tmpPath: path, ...got, stat };
  } finally {
    closeSync(fd);
    if (!ok) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Writes the body into the open file `fd` from byte `start` on (`path` reaches the same file, for
 * the MD5 worker), checking every promise the client made about it. On failure the bytes written
 * stay where they are: the caller knows whether they matter.
 */
export async function receiveInto(fd: number, path: string, start: number, body: IncomingBody, fsync: FsyncPolicy): Promise<Omit<WrittenFile, "tmpPath" | "stat">> {
  // Large bodies hash on another core, behind the writer; small ones inline (a thread hop costs
  // more than hashing a few megabytes).
  const beside = body.length !== null && body.length >= HASH_BESIDE_MIN ? hashBeside(path, start) : null;
  const md5 = beside ? null : createHasher("MD5");
  const sha = body.sha256 ? createHasher("SHA256") : null;
  const ck: Hasher | null = body.checksum ? createHasher(body.checksum.algorithm) : null;
  let size = 0;
  let ok = false;
  try {
    if (body.stream) {
      const reader = body.stream.getReader();
      try {
        for (;;) {
          let next;
          try {
            next = await reader.read();
          } catch (e) {
            throw body.readError(e);
          }
          const { done, value } = next;
          if (done) break;
          if (body.length !== null && size + value.byteLength > body.length) {
            throw new StorageError("BodyTooLong");
          }
          md5?.update(value);
          sha?.update(value);
          ck?.update(value);
          writeAll(fd, value, start + size);
          size += value.byteLength;
          beside?.advance(size);
        }
      } finally {
        reader.releaseLock();
      }
    }
    const md5Digest = beside ? Buffer.from(await beside.finish(), "hex") : md5!.digest();
    const checksum = await body.verify({ size, md5: md5Digest, sha256: sha?.digest(), checksum: ck?.digest() });
    if (fsync !== "none") fdatasyncSync(fd);
    ok = true;
    return { size, md5Hex: md5Digest.toString("hex"), checksum };
  } finally {
    if (!ok) beside?.abort();
  }
}

/** Temp files name their owner (`<boot id>.<pid>.<random>`), so a sweep knows a dead process's. */
export function tempName(): string {
  return `${bootId()}.${process.pid}.${randomBytes(8).toString("hex")}`;
}

/** Whether the temp file `name` belongs to a process of this boot that is gone. */
export function tempOwnerGone(name: string): boolean {
  const [boot, pid] = name.split(".");
  return boot === bootId() && /^\d+$/.test(pid ?? "") && !pidAlive(Number(pid));
}

/** A temp file idle this long belongs to no live upload (bodies keep writing to theirs). */
export const TEMP_MIN_AGE_MS = 60 * 60 * 1000;

/**
 * Removes temp files left by crashed processes: those of a dead process of this boot at once, any
 * other not written to for `olderThanMs` (another host's, or an earlier boot's).
 */
export function sweepTempFiles(root: string, olderThanMs: number, now = Date.now()): number {
  let removed = 0;
  for (const bucket of readdirSync(root)) {
    if (!isServableBucketName(bucket)) continue;
    let dir: string;
    let names: string[];
    try {
      // A link is no bucket; a bucket whose private area is not the gateway's own is not swept.
      if (!lstatSync(join(root, bucket)).isDirectory()) continue;
      dir = bucketTmpDir(join(root, bucket));
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      try {
        const path = join(dir, name);
        if (tempOwnerGone(name) || now - statSync(path).mtimeMs > olderThanMs) {
          rmSync(path, { force: true, recursive: true });
          removed++;
        }
      } catch {
        // gone meanwhile
      }
    }
  }
  return removed;
}
