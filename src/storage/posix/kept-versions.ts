// Naming and ordering of the noncurrent entries a versioned write or delete keeps: both paths
// must agree on which name a kept file gets and on the floor a new version id must sort above.
import { nullName, versionIdOfName } from "./versions.ts";
import { newVersionId } from "../version-id.ts";
import type { VersioningState } from "../versioning.ts";
import type { ObjectMeta } from "../types.ts";

/**
 * The entry name a current file gets when it becomes noncurrent: its id; a null version is
 * placed at the time it is kept. A key has one null version: a second (a file another tool
 * put at the key while a noncurrent null version exists) is kept under an id of its own.
 */
export function keptName(record: ObjectMeta | null, names: string[], floor: string | undefined, state: VersioningState): string {
  if (record?.versionId) return record.versionId;
  const seq = newVersionId(Date.now(), floor);
  const nullTaken = state === "Enabled" && names.some((n) => versionIdOfName(n) === "null");
  return nullTaken ? seq : nullName(seq);
}

/** A current file just linked into the version store, whose immutable flag is set again after. */
export interface Kept {
  path: string;
  record: ObjectMeta | null;
}

/** The time-ordered part of an entry name (a null version's name carries a suffix). */
export function seqOf(name: string): string {
  return name.endsWith(".null") ? name.slice(0, -".null".length) : name;
}

export function maxId(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}
