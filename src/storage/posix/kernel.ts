// The one way filegate reaches the kernel beyond node:fs (copy_file_range included, which Bun
// used to reach through bun:ffi and Node not at all): the native addon (native/filegate.c,
// built by node-gyp at install) on Bun, on Node and inside the compiled executable. Where it did
// not build or cannot load, each call has a JavaScript fallback built from node:fs and
// /proc/self/fd; `FILEGATE_NO_ADDON=1` forces the fallbacks, so tests cover both paths.
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { getAttributeSync, setAttributeSync } from "@napi-rs/xattr";

interface Addon {
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  flock(fd: number, op: number): boolean;
  fgetxattr(fd: number, name: string): Buffer | null;
  fsetxattr(fd: number, name: string, value: Buffer): void;
  parentDeathSignal(signal: number): void;
  copyFileRange(fdIn: number, offIn: number, fdOut: number, offOut: number, len: number): number;
  fsFlags(fd: number, set: number, clear: number): number;
  cloneRange(srcFd: number, srcOff: number, len: number, dstFd: number, dstOff: number): void;
  rangeLock(fd: number, start: number, len: number, exclusive: boolean): boolean;
  statNames(dirPath: string, names: string, out: Float64Array): number;
  lstatAt(dirfd: number, rel: string, out: Float64Array): number;
  readDirTypes(path: string): string;
  readDirSorted(path: string, skip: string): string;
  xattrSizes(dirPath: string, names: string, attr: string, out: Float64Array): number;
}

// linux/openat2.h
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_NO_SYMLINKS = 0x04;
const RESOLVE_BENEATH = 0x08;
const LOCK_EX = 2;
export const O_PATH = 0o10000000;

function loadAddon(): Addon | null {
  if (process.env.FILEGATE_NO_ADDON === "1" || process.platform !== "linux") return null;
  try {
    // Static, so `bun build` embeds the addon in the compiled executable and the Node bundle.
    return require("../../../build/Release/filegate_native.node") as Addon;
  } catch {
    // not built here, or a bundle whose copy went missing: look in the other places
  }
  const load = createRequire(import.meta.url);
  // Source checkout (src/storage/posix/), the bundles (dist/node/, dist/bun/), an installed package, or beside a
  // compiled executable.
  const here = dirname(new URL(import.meta.url).pathname);
  const candidates = [
    process.env.FILEGATE_ADDON,
    join(here, "../../build/Release/filegate_native.node"),
    join(here, "../../../build/Release/filegate_native.node"),
    join(process.cwd(), "build/Release/filegate_native.node"),
    join(dirname(process.execPath), "filegate_native.node"),
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      return load(c) as Addon;
    } catch {
      // try the next place
    }
  }
  return null;
}

const addon = loadAddon();

/** Which path the process runs: tests and the start-up banner report it. */
export const kernelPath: "addon" | "fallback" = addon ? "addon" : "fallback";

const procFd = (fd: number) => `/proc/self/fd/${fd}`;

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/**
 * Opens `rel` beneath the directory `dirfd`. `links`: "none" refuses every symlink on the way
 * (ELOOP); "inside" follows links whose targets stay beneath `dirfd` and refuses the others
 * (EXDEV). Never follows magic links.
 */
export function openBeneath(dirfd: number, rel: string, flags: number, mode: number, links: "none" | "inside"): number {
  if (!addon) return links === "none" ? openNoLinks(dirfd, rel, flags, mode) : openInside(dirfd, rel, flags, mode);
  try {
    return addon.openat2(dirfd, rel, flags, mode, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (links === "none" ? RESOLVE_NO_SYMLINKS : 0));
  } catch (e) {
    // RESOLVE_BENEATH refuses every absolute link, even one naming a file inside: those are
    // followed and the result checked instead.
    if (links === "inside" && (e as NodeJS.ErrnoException).code === "EXDEV") return openInside(dirfd, rel, flags, mode);
    throw e;
  }
}

/** Fallback: one component at a time through /proc/self/fd, each opened without following links. */
function openNoLinks(dirfd: number, rel: string, flags: number, mode: number): number {
  const parts = rel.split("/");
  let fd = dirfd;
  try {
    for (let i = 0; i < parts.length - 1; i++) {
      const next = openNoFollow(`${procFd(fd)}/${parts[i]}`, O_PATH | constants.O_DIRECTORY, 0);
      if (fd !== dirfd) closeSync(fd);
      fd = next;
    }
    return openNoFollow(`${procFd(fd)}/${parts[parts.length - 1]}`, flags, mode);
  } finally {
    if (fd !== dirfd) closeSync(fd);
  }
}

/** open(O_NOFOLLOW), reporting a link as ELOOP as openat2 does (O_PATH|O_DIRECTORY says ENOTDIR). */
function openNoFollow(path: string, flags: number, mode: number): number {
  try {
    const fd = openSync(path, flags | constants.O_NOFOLLOW, mode);
    // O_PATH | O_NOFOLLOW opens a link itself instead of failing: refuse it as openat2 would.
    if ((flags & O_PATH) !== 0 && fstatSync(fd).isSymbolicLink()) {
      closeSync(fd);
      throw errnoError("ELOOP", `${path} is a symbolic link`);
    }
    return fd;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR" && isLink(path)) throw errnoError("ELOOP", `${path} is a symbolic link`);
    throw e;
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Fallback: open through the path, then ask the kernel where the file really is. A file outside
 * `dirfd` is closed again unread; non-blocking so a FIFO planted outside cannot stall the open.
 */
function openInside(dirfd: number, rel: string, flags: number, mode: number): number {
  const fd = openSync(`${procFd(dirfd)}/${rel}`, flags | constants.O_NONBLOCK | constants.O_NOCTTY, mode);
  if (isBeneath(readlinkSync(procFd(dirfd)), readlinkSync(procFd(fd)))) return fd;
  closeSync(fd);
  throw errnoError("EXDEV", `${rel} leads outside its directory`);
}

export function isBeneath(dir: string, path: string): boolean {
  return path.startsWith(dir.endsWith("/") ? dir : dir + "/");
}

/** Where an open descriptor's file is now, as the kernel names it. */
export function pathOfFd(fd: number): string {
  return readlinkSync(procFd(fd));
}

/** A path through which any path-taking call reaches exactly the file `fd` has open. */
export const fdPath = procFd;

/**
 * Takes an exclusive flock on `fd` without waiting; false when another open file holds it. The
 * kernel drops the lock when the holder closes it or dies. null: no addon, callers fall back.
 */
export function tryFlock(fd: number): boolean | null {
  return addon ? addon.flock(fd, LOCK_EX) : null;
}

// Without the addon: the xattr binding never follows a final symlink, so /proc/self/fd/N would
// name the magic link itself; the file's current name is used instead. A file renamed over in
// between is caught by the caller, who checks the record against the descriptor's stat.

/** The value of xattr `name` of the open file `fd`; null when it has none. */
export function fgetxattr(fd: number, name: string): Buffer | null {
  if (addon) return addon.fgetxattr(fd, name);
  return getAttributeSync(pathOfFd(fd), name);
}

export function fsetxattr(fd: number, name: string, value: Buffer | string): void {
  if (addon) return addon.fsetxattr(fd, name, typeof value === "string" ? Buffer.from(value) : value);
  setAttributeSync(pathOfFd(fd), name, value);
}

/**
 * copy_file_range(2) between two open files at the given offsets, in the kernel (page cache to
 * page cache, or shared extents where the filesystem reflinks). Bytes copied, 0 at the source's
 * end; null without the addon (callers then copy through a buffer).
 */
export function copyFileRange(fdIn: number, offIn: number, fdOut: number, offOut: number, len: number): number | null {
  return addon ? addon.copyFileRange(fdIn, offIn, fdOut, offOut, len) : null;
}

// linux/fs.h
const FS_IMMUTABLE_FL = 0x10;
// What a missing capability (EPERM), a filesystem without inode flags (ENOTTY, EOPNOTSUPP) or an
// odd file (EINVAL) answers: the flag is simply not available there.
const NO_FLAGS = new Set(["EPERM", "EACCES", "ENOTTY", "EOPNOTSUPP", "ENOTSUP", "EINVAL", "ENOSYS", "EROFS"]);

/**
 * Sets or clears the filesystem's immutable flag (chattr +i / -i) on the open file `fd`: true when
 * the flag now has that value; false where it cannot be changed: no addon (the JavaScript
 * fallback does nothing), no CAP_LINUX_IMMUTABLE, or a filesystem without inode flags.
 */
export function setImmutable(fd: number, on: boolean): boolean {
  if (!addon) return false;
  try {
    const flags = addon.fsFlags(fd, on ? FS_IMMUTABLE_FL : 0, on ? 0 : FS_IMMUTABLE_FL);
    return (flags & FS_IMMUTABLE_FL) !== 0 === on;
  } catch (e) {
    if (NO_FLAGS.has((e as NodeJS.ErrnoException).code ?? "")) return false;
    throw e;
  }
}

/** Whether the open file carries the immutable flag; null when that cannot be known here. */
export function isImmutable(fd: number): boolean | null {
  if (!addon) return null;
  try {
    return (addon.fsFlags(fd, 0, 0) & FS_IMMUTABLE_FL) !== 0;
  } catch (e) {
    if (NO_FLAGS.has((e as NodeJS.ErrnoException).code ?? "")) return null;
    throw e;
  }
}

/**
 * FICLONERANGE: `len` bytes of `srcFd` at `srcOff` become the bytes of `dstFd` at `dstOff` by
 * sharing extents (xfs, btrfs), no data moved. false without the addon; throws the errno (EOPNOTSUPP,
 * EXDEV, EINVAL for unaligned ranges) when the filesystem cannot.
 */
export function cloneRange(srcFd: number, srcOff: number, len: number, dstFd: number, dstOff: number): boolean {
  if (!addon) return false;
  addon.cloneRange(srcFd, srcOff, len, dstFd, dstOff);
  return true;
}

/**
 * An exclusive open-file-description lock (F_OFD_SETLK) on bytes [start, start + len) of `fd`
 * (len 0: to the end and beyond), without waiting: true when taken, false when another open of the
 * file holds an overlapping one. It lives until `fd` is closed (or its process dies). null without
 * the addon.
 */
export function tryRangeLock(fd: number, start: number, len: number): boolean | null {
  return addon ? addon.rangeLock(fd, start, len, true) : null;
}

/** Numbers statNames gives per name: errno (0: ok), mode, size, mtime s, mtime ns, ctime s, ctime ns, ino, dev, nlink. */
export const STAT_FIELDS = 10;

/**
 * stat(2) of each of `names` inside `dirPath` in one call (see native/filegate.c), into `out`
 * (STAT_FIELDS numbers per name). How many were done; null without the addon.
 */
export function statNames(dirPath: string, names: string[], out: Float64Array): number | null {
  return addon ? addon.statNames(dirPath, names.join("\0"), out) : null;
}

/**
 * lstat(2) of `rel` beneath the open directory `dirfd` into `out` (STAT_FIELDS numbers, errno
 * first); its errno, 0 when it exists. null without the addon.
 */
export function lstatAt(dirfd: number, rel: string, out: Float64Array): number | null {
  return addon ? addon.lstatAt(dirfd, rel, out) : null;
}

/**
 * A directory's entries as one string: per entry a type letter (f file, d directory, l symlink,
 * o other, u unknown) and the name, ended by NUL. null without the addon.
 */
export function readDirTypes(path: string): string | null {
  return addon ? addon.readDirTypes(path) : null;
}

/**
 * A directory's files, directories and links in S3 key order (sorted by their UTF-8 bytes, a
 * directory's name with "/" appended), each as a type letter (f, d, l), that sort name and NUL;
 * without `skip` and names that are not UTF-8. null without the addon.
 */
export function readDirSorted(path: string, skip: string): string | null {
  return addon ? addon.readDirSorted(path, skip) : null;
}

/**
 * The size of xattr `attr` of each of `names` inside `dirPath` (links not followed), into `out`:
 * the size, or -errno (-ENODATA when there is none). How many were done; null without the addon.
 */
export function xattrSizes(dirPath: string, names: string[], attr: string, out: Float64Array): number | null {
  return addon ? addon.xattrSizes(dirPath, names.join("\0"), attr, out) : null;
}

/** Asks the kernel to send `signal` to this process when its parent dies; false without the addon. */
export function parentDeathSignal(signal: number): boolean {
  if (!addon) return false;
  addon.parentDeathSignal(signal);
  return true;
}

let bootIdCache: string | undefined;
/**
 * Where a pid means one process: this boot of this machine, in this pid namespace (a container on
 * the same host sees the same boot id but numbers its processes apart). Letters and digits only.
 */
export function bootId(): string {
  bootIdCache ??= (() => {
    let boot = "noboot";
    try {
      boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim().replace(/-/g, "").slice(0, 12);
    } catch {
      // no /proc: every pid is then foreign, and only age decides
    }
    let ns = "";
    try {
      ns = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1] ?? "";
    } catch {
      // no namespaces to tell apart
    }
    return ns ? `${boot}n${Number(ns).toString(36)}` : boot;
  })();
  return bootIdCache;
}

/** Whether process `pid` of this boot still runs. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
