// Files written for a user with a Unix account belong to that account, so `ls -l` shows who wrote
// what and quotas charge the right person. Only a gateway running as root can give a file away;
// any other gateway keeps its own uid on everything (there is nothing else it could do).
import { chownSync, fchownSync, lchownSync } from "node:fs";
import type { FileOwner } from "../types.ts";

const RUNNING_AS_ROOT = process.getuid?.() === 0;
const SELF: FileOwner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/** Whether `owner` asks for anything this process can and must do. */
function effective(owner: FileOwner | undefined): owner is FileOwner {
  return RUNNING_AS_ROOT && owner !== undefined && (owner.uid !== SELF.uid || owner.gid !== SELF.gid);
}

/** Gives the open file `fd` to `owner` (before it is renamed into place: never seen as root's). */
export function giveFd(fd: number, owner: FileOwner | undefined): void {
  if (effective(owner)) fchownSync(fd, owner.uid, owner.gid);
}

/** Gives the open directory named by `fdPath` (/proc/self/fd/N, which chown follows) to `owner`. */
export function givePath(fdPath: string, owner: FileOwner | undefined): void {
  if (effective(owner)) chownSync(fdPath, owner.uid, owner.gid);
}

/** Gives the name just created at `path` to `owner`; a link put there meanwhile is not followed. */
export function giveName(path: string, owner: FileOwner | undefined): void {
  if (effective(owner)) lchownSync(path, owner.uid, owner.gid);
}

/**
 * Makes the open file `fd` belong to `owner`, or to the gateway's own account when there is none:
 * for a file assembled from pieces others may own (multipart part 1 becomes the object).
 */
export function settleFd(fd: number, owner: FileOwner | undefined, current: { uid: number; gid: number }): void {
  const want = owner ?? SELF;
  if (RUNNING_AS_ROOT && (current.uid !== want.uid || current.gid !== want.gid)) fchownSync(fd, want.uid, want.gid);
}
