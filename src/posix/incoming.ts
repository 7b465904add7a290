// Streams a request body into a temp file beside its destination, hashing on the way, and checks
// every promise the client made about it (length, Content-MD5, x-amz-content-sha256, checksum
// header or trailer). A body that breaks one leaves nothing behind.
import { closeSync, fdatasyncSync, fstatSync, openSync, readdirSync, rmSync, statSync, unlinkSync, writeSync, mkdirSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { createHasher, type ChecksumAlgorithm, type Hasher } from "../checksums/index.ts";
import { S3Error } from "../errors.ts";
import { bucketTmpDir } from "./layout.ts";
import { hashBeside } from "./md5-beside.ts";
import { isServableBucketName } from "./names.ts";
import { bootId, pidAlive } from "./kernel.ts";

export interface IncomingBody {
  stream: ReadableStream<Uint8Array> | null;
  /** Decoded length the client declared (Content-Length or x-amz-decoded-content-length). */
  length: number | null;
  /** Lower-case hex SHA-256 the client signed, when it signed the payload. */
  sha256: string | null;
  /** base64 MD5 from Content-Md5. */
  contentMd5: string | null;
  /** Checksum to compute; expected value from a header now, or from a trailer at the end. */
  checksum: { algorithm: ChecksumAlgorithm; expected: string | null; fromTrailer: Promise<string | undefined> | null } | null;
}

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
      if (code === "ENOENT") throw new S3Error("NoSuchBucket");
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

function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off);
}

/**
 * One read of a request body. A body that breaks off (the client closed or reset the connection)
 * is the client's short body, not a server fault: IncompleteBody. Errors raised by our own
 * decoders (aws-chunked) are S3Errors already and pass through.
 */
export async function readChunk<R>(reader: { read(): Promise<R> }): Promise<R> {
  try {
    return await reader.read();
  } catch (e) {
    if (e instanceof S3Error) throw e;
    throw new S3Error("IncompleteBody", "The request body ended before its declared length (connection closed).");
  }
}

export function validateContentMd5(value: string | null): Buffer | null {
  if (value === null) return null;
  const buf = Buffer.from(value, "base64");
  if (buf.length !== 16 || buf.toString("base64") !== value.trim()) throw new S3Error("InvalidDigest");
  return buf;
}

/**
 * Checks, once a body has been received whole, everything its request declared about it: length,
 * x-amz-content-sha256, Content-MD5 and the x-amz-checksum-* header or trailer. Returns the
 * checksum to store, if one was asked for.
 */
export async function checkDeclared(
  body: IncomingBody,
  got: { size: number; md5?: Buffer; sha256?: Buffer; checksum?: Buffer },
): Promise<WrittenFile["checksum"]> {
  if (body.length !== null && got.size !== body.length) throw new S3Error("IncompleteBody");
  if (body.sha256 && got.sha256?.toString("hex") !== body.sha256) throw new S3Error("XAmzContentSHA256Mismatch");
  const expectedMd5 = validateContentMd5(body.contentMd5);
  if (expectedMd5 && !got.md5?.equals(expectedMd5)) throw new S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
  if (!body.checksum || !got.checksum) return null;
  const value = got.checksum.toString("base64");
  const expected = body.checksum.expected ?? (await body.checksum.fromTrailer);
  if (expected !== undefined && expected !== null && expected !== value) {
    throw new S3Error("BadDigest", `The ${body.checksum.algorithm} you specified did not match the calculated checksum.`);
  }
  return { algorithm: body.checksum.algorithm, value };
}

/**
 * Writes the body to a new temp file in `tmpDir`. On success the caller owns `tmpPath` (and must
 * rename or unlink it); on failure the temp file is already gone.
 */
export async function receiveToTemp(tmpDir: string, body: IncomingBody, fsync: FsyncPolicy): Promise<WrittenFile> {
  // A malformed Content-MD5 is refused before any byte is read.
  validateContentMd5(body.contentMd5);
  const { fd, path } = openTemp(tmpDir);
  // Large bodies hash on another core, behind the writer; small ones inline (a thread hop costs
  // more than hashing a few megabytes).
  const beside = body.length !== null && body.length >= HASH_BESIDE_MIN ? hashBeside(path) : null;
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
          const { done, value } = await readChunk(reader);
          if (done) break;
          size += value.byteLength;
          if (body.length !== null && size > body.length) {
            throw new S3Error("InvalidRequest", "The request body is longer than its declared length.");
          }
          md5?.update(value);
          sha?.update(value);
          ck?.update(value);
          writeAll(fd, value);
          beside?.advance(size);
        }
      } finally {
        reader.releaseLock();
      }
    }
    const md5Digest = beside ? Buffer.from(await beside.finish(), "hex") : md5!.digest();
    const checksum = await checkDeclared(body, { size, md5: md5Digest, sha256: sha?.digest(), checksum: ck?.digest() });
    if (fsync !== "none") fdatasyncSync(fd);
    const stat = fstatSync(fd);
    ok = true;
    return { tmpPath: path, size, md5Hex: md5Digest.toString("hex"), checksum, stat };
  } finally {
    if (!ok) beside?.abort();
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
    const dir = bucketTmpDir(join(root, bucket));
    let names: string[];
    try {
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
