// Confinement: every path the gateway touches inside a bucket is resolved from an open directory
// descriptor, so a symlink or a rename elsewhere in the tree cannot lead a request outside its
// bucket. Reads may follow links whose targets stay inside the bucket (users keep links such as
// `latest -> v2`); writes, deletes and directory creation follow no link at all.
//
// A `Dir` is an open directory; its `path` (/proc/self/fd/N) names that very directory for any
// path-taking call (rename, link, unlink, mkdir, xattr), whatever happens to its name meanwhile.
import { closeSync, constants, mkdirSync } from "node:fs";
import { O_PATH, fdPath, isBeneath, openBeneath, pathOfFd } from "./kernel.ts";
import { GATEWAY_DIR } from "./layout.ts";
import { givePath } from "./ownership.ts";
import type { FileOwner } from "../types.ts";

const DIR_FLAGS = O_PATH | constants.O_DIRECTORY;
/** Reading an object: never block on a FIFO, never become a terminal's controlling process. */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

export class Dir {
  constructor(readonly fd: number) {}
  get path(): string {
    return fdPath(this.fd);
  }
  close(): void {
    closeSync(this.fd);
  }
}

export function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** `name` in `base` as a directory, following no link. Throws the errno (ENOENT, ELOOP, ENOTDIR). */
export function openSubdir(base: Dir, rel: string): Dir {
  return new Dir(openBeneath(base.fd, rel, DIR_FLAGS, 0, "none"));
}

/**
 * The directory `segments` beneath `base`, created level by level where missing (never through a
 * link: a link or a file on the way fails with ELOOP or ENOTDIR). Creating level by level keeps
 * a racing delete of `base` from being undone by a recursive mkdir. Directories it creates belong
 * to `owner` (ownership.ts); existing ones keep theirs.
 */
export function makeSubdirs(base: Dir, segments: string[], owner?: FileOwner): Dir {
  if (segments.length === 0) return new Dir(openBeneath(base.fd, ".", DIR_FLAGS, 0, "none"));
  try {
    return openSubdir(base, segments.join("/"));
  } catch (e) {
    if (errnoOf(e) !== "ENOENT") throw e;
  }
  let cur: Dir | null = null;
  try {
    for (const seg of segments) {
      const at: Dir = cur ?? base;
      let next: Dir;
      try {
        next = openSubdir(at, seg);
      } catch (e) {
        if (errnoOf(e) !== "ENOENT") throw e;
        let made = false;
        try {
          mkdirSync(`${at.path}/${seg}`, 0o755);
          made = true;
        } catch (e2) {
          if (errnoOf(e2) !== "EEXIST") throw e2;
        }
        next = openSubdir(at, seg);
        // Through the descriptor: the very directory just made, even if its name moved meanwhile.
        if (made) givePath(next.path, owner);
      }
      cur?.close();
      cur = next;
    }
    const out = cur!;
    cur = null;
    return out;
  } finally {
    cur?.close();
  }
}

/**
 * Opens an object for reading: `rel` beneath the bucket `bucket`, following only links that stay
 * inside the bucket and never into its private area. Throws ENOENT for anything that is not there
 * for S3 (including EXDEV: a link leading out).
 */
export function openForRead(bucket: Dir, rel: string): number {
  let fd: number;
  try {
    fd = openBeneath(bucket.fd, rel, READ_FLAGS, 0, "none");
    return fd;
  } catch (e) {
    if (errnoOf(e) !== "ELOOP") throw e;
  }
  fd = openBeneath(bucket.fd, rel, READ_FLAGS, 0, "inside");
  // A link was followed: it stays in the bucket, but must not reach the gateway's own files.
  let where: string;
  try {
    where = pathOfFd(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  const bucketPath = pathOfFd(bucket.fd);
  if (isBeneath(bucketPath + "/" + GATEWAY_DIR, where) || where === bucketPath + "/" + GATEWAY_DIR) {
    closeSync(fd);
    throw Object.assign(new Error("link into the private area"), { code: "ENOENT" });
  }
  return fd;
}
