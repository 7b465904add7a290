// fsync helpers for the --fsync policy.
import { closeSync, fsyncSync, openSync } from "node:fs";

/** fsync of a file, or of a directory to make a rename in it durable. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
