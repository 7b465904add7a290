// Copies byte ranges between open files. FICLONERANGE first where the range is block-aligned (xfs,
// btrfs: the destination shares the source's extents, nothing is copied); then copy_file_range(2) through the addon (kernel.ts) keeps the
// data in the kernel on Bun and Node alike (page cache to page cache, or shared extents where the
// filesystem reflinks); without the addon the bytes go through one reused 1 MiB buffer with
// pread/pwrite: bounded memory, but a userspace copy.
//
// Neither runtime's fs.copyFile can append or take offsets, which multipart assembly and ranged
// UploadPartCopy both need.
import { closeSync, constants, copyFileSync, fstatSync, openSync, read as readCb, statSync, writeFileSync, write as writeCb, type Stats } from "node:fs";
import { promisify } from "node:util";
import { StorageError } from "../errors.ts";
import { cloneRange, copyFileRange, fdPath } from "./kernel.ts";
import { giveName } from "./ownership.ts";
import type { FileOwner } from "../types.ts";


/** How the last copy moved its bytes; tests and the benchmark report it. */
export type CopyMethod = "none" | "reflink" | "copy_file_range" | "userspace";

/** Of two copies' methods, the one that moved more data (what a caller reports for several). */
export function worseCopy(a: CopyMethod, b: CopyMethod): CopyMethod {
  const rank: CopyMethod[] = ["none", "reflink", "copy_file_range", "userspace"];
  return rank.indexOf(a) >= rank.indexOf(b) ? a : b;
}

// Each call blocks the event loop for its duration, so large copies go in slices with a yield in
// between; 64 MiB takes a few tens of milliseconds in the page cache.
const SLICE = 64 * 1024 * 1024;
// Errors after which copy_file_range cannot work for this pair of files: cross-filesystem on old
// kernels, filesystems without support, special files.
const FALLBACK_CODES = new Set(["EXDEV", "ENOSYS", "EINVAL", "EOPNOTSUPP", "EPERM"]);

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));
const pread = promisify(readCb);
const pwrite = promisify(writeCb);

/**
 * Copies `length` bytes from `srcFd` at `srcOffset` to `dstFd` at `dstOffset`. Throws when the
 * source ends early (it changed underneath us).
 */
export async function copyRange(srcFd: number, srcOffset: number, dstFd: number, dstOffset: number, length: number): Promise<CopyMethod> {
  if (length > 0 && tryClone(srcFd, srcOffset, dstFd, dstOffset, length)) return "reflink";
  let done = 0;
  while (done < length) {
    let n: number | null;
    try {
      n = copyFileRange(srcFd, srcOffset + done, dstFd, dstOffset + done, Math.min(SLICE, length - done));
    } catch (e) {
      // Cross-filesystem on old kernels, filesystems without support, special files: copy below.
      if (done === 0 && FALLBACK_CODES.has((e as NodeJS.ErrnoException).code ?? "")) break;
      throw e;
    }
    if (n === null) break; // no addon
    if (n === 0) throw Object.assign(new Error("source ended before the expected length"), { code: "ESHORT" });
    done += n;
    if (done < length) await yieldToLoop();
  }
  if (done === length) return "copy_file_range";
  const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, Math.max(1, length)));
  while (done < length) {
    const { bytesRead } = await pread(srcFd, buf, 0, Math.min(buf.length, length - done), srcOffset + done);
    if (bytesRead === 0) throw Object.assign(new Error("source ended before the expected length"), { code: "ESHORT" });
    let off = 0;
    while (off < bytesRead) off += (await pwrite(dstFd, buf, off, bytesRead - off, dstOffset + done + off)).bytesWritten;
    done += bytesRead;
  }
  return "userspace";
}

/**
 * FICLONERANGE when the range can be one: both offsets on block boundaries, and the length too
 * unless the range ends at the source's end. False when the filesystem cannot share extents
 * (ext4, tmpfs, across filesystems) or without the addon.
 */
function tryClone(srcFd: number, srcOffset: number, dstFd: number, dstOffset: number, length: number): boolean {
  const src = fstatSync(srcFd);
  const bs = src.blksize || 4096;
  if (srcOffset % bs !== 0 || dstOffset % bs !== 0 || (length % bs !== 0 && srcOffset + length !== src.size)) return false;
  try {
    return cloneRange(srcFd, srcOffset, length, dstFd, dstOffset);
  } catch (e) {
    if (FALLBACK_CODES.has((e as NodeJS.ErrnoException).code ?? "") || (e as NodeJS.ErrnoException).code === "ETXTBSY") return false;
    throw e;
  }
}

/**
 * Copies an object's bytes (all of them, or `length` from `start`) from its open descriptor into
 * the new file `dst` (CopyObject, UploadPartCopy): a whole file with copyFile (a reflink where the
 * filesystem has it), a range with copyRange. Returns the new file's stat; throws when the source
 * turned out shorter or longer than expected, i.e. it changed during the copy.
 */
export async function copyToNewFile(src: { fd: number | null; size: number; isDirectoryObject: boolean }, dst: string, range: { start: number; length: number } | null, owner?: FileOwner): Promise<Stats> {
  const length = range ? range.length : src.size;
  if (src.isDirectoryObject || src.fd === null || length === 0) writeFileSync(dst, "", { flag: "wx" });
  // Through /proc/self/fd the copy reads the very file the caller opened, not what the key names now.
  else if (!range) copyFileSync(fdPath(src.fd), dst, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  else {
    const out = openSync(dst, "wx", 0o644);
    try {
      await copyRange(src.fd, range.start, out, 0, length);
    } finally {
      closeSync(out);
    }
  }
  // `dst` is a fresh name in the gateway's own temp directory: nobody else can have replaced it.
  giveName(dst, owner);
  const st = statSync(dst);
  if (st.size !== length) throw new StorageError("SourceChanged");
  return st;
}
