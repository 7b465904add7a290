// Copies byte ranges between open files. On Bun, libc's copy_file_range(2) through bun:ffi keeps
// the data in the kernel (page cache to page cache, or shared extents where the filesystem
// reflinks); Node has neither a binding for it nor FFI, so there the bytes go through one reused
// 1 MiB buffer with pread/pwrite: bounded memory, but a userspace copy.
//
// Neither runtime's fs.copyFile can append or take offsets, which multipart assembly and ranged
// UploadPartCopy both need.
import { closeSync, constants, copyFileSync, openSync, read as readCb, statSync, writeFileSync, write as writeCb, type Stats } from "node:fs";
import { promisify } from "node:util";
import { S3Error } from "../../errors.ts";
import { isBun } from "../../runtime.ts";
import { fdPath } from "./kernel.ts";


/** How the last copy moved its bytes; tests and the benchmark report it. */
export type CopyMethod = "copy_file_range" | "userspace";

interface Libc {
  copyFileRange(fdIn: number, offsets: BigInt64Array, fdOut: number, len: number): number;
  errno(): number;
}

// Each call blocks the event loop for its duration, so large copies go in slices with a yield in
// between; 64 MiB takes a few tens of milliseconds in the page cache.
const SLICE = 64 * 1024 * 1024;
// errno values after which copy_file_range cannot work for this pair of files: cross-filesystem on
// old kernels, filesystems without support, special files.
const FALLBACK_ERRNO = new Set([18 /* EXDEV */, 38 /* ENOSYS */, 22 /* EINVAL */, 95 /* EOPNOTSUPP */, 1 /* EPERM */]);
const EINTR = 4;

let libc: Promise<Libc | null> | undefined;

function loadLibc(): Promise<Libc | null> {
  libc ??= (async () => {
    if (!isBun || process.platform !== "linux") return null;
    try {
      const ffi = await import("bun:ffi");
      const { symbols } = ffi.dlopen("libc.so.6", {
        copy_file_range: {
          args: [ffi.FFIType.i32, ffi.FFIType.ptr, ffi.FFIType.i32, ffi.FFIType.ptr, ffi.FFIType.u64, ffi.FFIType.u32],
          returns: ffi.FFIType.i64,
        },
        __errno_location: { args: [], returns: ffi.FFIType.ptr },
      });
      return {
        copyFileRange(fdIn, offsets, fdOut, len) {
          // Both offsets live in one array the kernel advances; the files' own positions stay put.
          return Number(symbols.copy_file_range(fdIn, ffi.ptr(offsets, 0), fdOut, ffi.ptr(offsets, 8), len, 0));
        },
        errno() {
          const p = symbols.__errno_location();
          return p ? ffi.read.i32(p, 0) : 0;
        },
      };
    } catch {
      // musl or no libc.so.6: the userspace path still works
      return null;
    }
  })();
  return libc;
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));
const pread = promisify(readCb);
const pwrite = promisify(writeCb);

/**
 * Copies `length` bytes from `srcFd` at `srcOffset` to `dstFd` at `dstOffset`. Throws when the
 * source ends early (it changed underneath us).
 */
export async function copyRange(srcFd: number, srcOffset: number, dstFd: number, dstOffset: number, length: number): Promise<CopyMethod> {
  const lib = await loadLibc();
  let done = 0;
  if (lib) {
    const offsets = new BigInt64Array([BigInt(srcOffset), BigInt(dstOffset)]);
    while (done < length) {
      const n = lib.copyFileRange(srcFd, offsets, dstFd, Math.min(SLICE, length - done));
      if (n < 0) {
        const errno = lib.errno();
        if (errno === EINTR) continue;
        if (done === 0 && FALLBACK_ERRNO.has(errno)) break;
        throw Object.assign(new Error(`copy_file_range failed with errno ${errno}`), { errno, code: errno === 28 ? "ENOSPC" : "EIO" });
      }
      if (n === 0) throw Object.assign(new Error("source ended before the expected length"), { code: "ESHORT" });
      done += n;
      if (done < length) await yieldToLoop();
    }
    if (done === length) return "copy_file_range";
  }
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
 * Copies an object's bytes (all of them, or `length` from `start`) from its open descriptor into
 * the new file `dst` (CopyObject, UploadPartCopy): a whole file with copyFile (a reflink where the
 * filesystem has it), a range with copyRange. Returns the new file's stat; throws when the source
 * turned out shorter or longer than expected, i.e. it changed during the copy.
 */
export async function copyToNewFile(src: { fd: number | null; size: number; isDirectoryObject: boolean }, dst: string, range: { start: number; length: number } | null): Promise<Stats> {
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
  const st = statSync(dst);
  if (st.size !== length) throw new S3Error("InternalError", "The source object changed during the copy.");
  return st;
}
