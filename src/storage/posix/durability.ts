// fsync helpers for the --fsync policy.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

/** fsync of a file, or of a directory to make a rename in it durable. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a small file whole under a temp name beside it and renames it into place, so readers
 * see the old content or the new, never half.
 */
export function writeFileAtomic(path: string, data: string, sync: boolean): void {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    writeFileSync(tmp, data, { flag: "wx" });
    if (sync) fsyncPath(tmp);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
