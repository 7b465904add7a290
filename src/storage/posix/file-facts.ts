// Small answers about files that the read, write and delete paths of the POSIX store all need
// the same way: which errors mean "not there", where a key's data sits while its name is a
// directory, and quiet stat/unlink. One definition each so the three paths cannot drift apart.
import { lstatSync, unlinkSync, type Stats } from "node:fs";
import { StorageError } from "../errors.ts";
import { errnoOf } from "./beneath.ts";
import { selfName } from "./layout.ts";
import type { FileIdentity } from "./meta.ts";

/** What a directory's record is read against: a directory's record needs no stat to be trusted. */
export const DIRECTORY_IDENTITY: FileIdentity = { size: 0, mtimeMs: 0, ino: 0, isDirectory: () => true };

/** Errors of a lookup that mean "no such object here" rather than a fault. */
export const ABSENT = new Set(["ENOENT", "ENOTDIR", "ENAMETOOLONG", "EXDEV", "ELOOP", "ENXIO", "ENODEV"]);

/** Where key `segments`' data sits while its name is a directory: `.filegate-obj.<name>` beside it. */
export function selfRel(segments: string[]): string {
  return [...segments.slice(0, -1), selfName(segments[segments.length - 1])].join("/");
}

/** A write or delete whose path passes through a symlink: refused, never followed. */
export const throughLink = (key: string) =>
  new StorageError("ThroughLink", { Key: key });

/** `eperm`: a refusal by the immutable flag is thrown, for evenIfImmutable to clear it. */
export function unlinkQuiet(path: string, eperm = false): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if (eperm && errnoOf(e) === "EPERM") throw e;
    // not there: the usual case
  }
}

export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
