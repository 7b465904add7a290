// --posix-permissions: what a request may do, decided from the mode bits of the files and
// directories it involves, as the kernel would decide for the user's Unix account in a shell
// (docs/ARCHITECTURE.md, "Unix accounts"). The gateway itself runs as root, so this is a check
// before the operation, not the kernel's own: a chmod between the check and the operation is
// seen by a later request (of a directory: within a second, see dirStat).
import { statSync, type Stats } from "node:fs";
import { StorageError } from "../errors.ts";
import { SELF_PREFIX, selfName } from "./layout.ts";
import { isServableBucketName, keyPath } from "./names.ts";
import { R, W, X, permits, stickyPermits, type UnixCredential } from "./mode-bits.ts";
import type { FsAction } from "../types.ts";

const refused = (what: string) => new StorageError("ModeBits", { Resource: what });

/** stat that answers null for a name that is not there (or cannot be, ENOTDIR). */
function statOrNull(path: string): Stats | null {
  try {
    return statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR" || code === "ENAMETOOLONG") return null;
    throw e;
  }
}

/**
 * Directories on the way (the root, the bucket, a key's parents) are stat'ed at most once a
 * second per path: a request passes several, and a stat each cost more than the rest of the check.
 * So a chmod of a directory takes up to a second to apply; the file itself is stat'ed every time.
 */
const DIR_TTL_MS = 1000;
const MAX_DIRS = 10_000;
const dirStats = new Map<string, { st: Stats | null; at: number }>();
function dirStat(path: string): Stats | null {
  const now = Date.now();
  const hit = dirStats.get(path);
  if (hit && now - hit.at < DIR_TTL_MS) return hit.st;
  const st = statOrNull(path);
  if (dirStats.size >= MAX_DIRS) dirStats.clear();
  // Only directories are kept: a missing name may be made by the very next request.
  if (st?.isDirectory()) dirStats.set(path, { st, at: now });
  else dirStats.delete(path);
  return st;
}

/**
 * Throws StorageError("ModeBits") when `who` may not do `action`. `key` is the object's key, or for
 * "list" the prefix. Names that do not exist pass: the operation itself answers for them.
 */
export function checkModeBits(root: string, who: UnixCredential, action: FsAction, bucket: string | null, key: string | null): void {
  if (who.uid === 0) return;
  const rootSt = dirStat(root);
  if (rootSt === null) return;
  if (!permits(rootSt, who, X)) throw refused("/");
  if (action === "create-bucket") {
    if (!permits(rootSt, who, W | X)) throw refused("/");
    return;
  }
  if (bucket === null || !isServableBucketName(bucket)) return;
  let dirPath = `${root}/${bucket}`;
  const bucketSt = dirStat(dirPath);
  if (bucketSt === null || !bucketSt.isDirectory()) return;
  if (action === "delete-bucket") {
    if (!permits(rootSt, who, W | X) || !stickyPermits(rootSt, bucketSt, who)) throw refused(bucket);
    return;
  }
  if (action === "configure") {
    // Like chmod or setfacl: only the directory's owner changes what the bucket allows.
    if (bucketSt.uid !== who.uid) throw refused(bucket);
    return;
  }
  if (!permits(bucketSt, who, X)) throw refused(bucket);
  if (action === "traverse") return;
  if (action === "list") return checkList(dirPath, bucketSt, who, bucket, key ?? "");
  if (key === null) return;
  let segments: string[];
  let isDirectoryKey: boolean;
  try {
    ({ segments, isDirectoryKey } = keyPath("", key));
  } catch {
    return; // a key the tree cannot hold: the operation refuses it with the right error
  }
  // x on every directory down to the key's parent; a missing one ends the walk.
  let dirSt = bucketSt;
  const parents = segments.slice(0, -1);
  for (let i = 0; i < parents.length; i++) {
    const next = dirStat(`${dirPath}/${parents[i]}`);
    if (next === null || !next.isDirectory()) {
      // Where a write would make the first missing directory: w+x on the deepest one there is.
      if (action === "write" && next === null && !permits(dirSt, who, W | X)) throw refused(`${bucket}/${parents.slice(0, i).join("/")}`);
      return;
    }
    if (!permits(next, who, X)) throw refused(`${bucket}/${parents.slice(0, i + 1).join("/")}`);
    dirPath += `/${parents[i]}`;
    dirSt = next;
  }
  const name = segments[segments.length - 1];
  let target = statOrNull(`${dirPath}/${name}`);
  // A plain key whose name is a directory keeps its data beside it (layout.ts).
  if (!isDirectoryKey && target?.isDirectory()) target = statOrNull(`${dirPath}/${selfName(name)}`);
  const where = `${bucket}/${key}`;
  switch (action) {
    case "read":
      if (target !== null && !permits(target, who, isDirectoryKey ? R | X : R)) throw refused(where);
      return;
    case "write-meta":
      if (target !== null && !permits(target, who, W)) throw refused(where);
      return;
    case "write":
      // Stored by rename(2), as `mv` would: the parent decides, and the sticky bit protects others' files.
      if (isDirectoryKey && target !== null) return;
      if (!permits(dirSt, who, W | X) || (target !== null && !stickyPermits(dirSt, target, who))) throw refused(where);
      return;
    case "delete":
      if (target === null) return;
      if (!permits(dirSt, who, W | X) || !stickyPermits(dirSt, target, who)) throw refused(where);
      return;
  }
}

/**
 * A listing reads the directory the prefix names (r+x on it, x on those above). Directories deeper
 * down are skipped by the walk when they are not r+x for the account (mayEnter).
 */
function checkList(bucketPath: string, bucketSt: Stats, who: UnixCredential, bucket: string, prefix: string): void {
  const dirs = prefix.slice(0, prefix.lastIndexOf("/") + 1).split("/").filter((s) => s !== "");
  let path = bucketPath;
  let st = bucketSt;
  for (const seg of dirs) {
    if (seg === "." || seg === ".." || seg.startsWith(SELF_PREFIX)) return;
    const next = dirStat(`${path}/${seg}`);
    if (next === null || !next.isDirectory()) return; // nothing to list there
    if (!permits(st, who, X)) throw refused(bucket);
    path += `/${seg}`;
    st = next;
  }
  if (!permits(st, who, R | X)) throw refused(`${bucket}/${dirs.join("/")}`);
}

/** For the walk: whether `who` may read and search the directory at `path`. */
export function mayEnter(path: string, who: UnixCredential): boolean {
  if (who.uid === 0) return true;
  const st = statOrNull(path);
  return st !== null && permits(st, who, R | X);
}
