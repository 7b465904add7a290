// S3's rules for what a write or a delete does to a key's versions, as data: which id the new
// latest gets, and what becomes of the object that was current. Pure, so the null-version rules
// are unit-tested on their own (tests/unit/versioning-rules.test.ts); the POSIX backend carries
// the plans out under the key's lock.

/** A bucket's versioning state; undefined: versioning was never enabled. */
export type VersioningState = "Enabled" | "Suspended" | undefined;

/** The object current at the key when the plan is made: its version id, null for the null version. */
export interface CurrentVersion {
  versionId: string | null;
}

export interface WritePlan {
  /** The id the written object gets: a new one, or null (the null version). */
  newId: "new" | "null";
  /** The current object: kept as a noncurrent version, or replaced (its bytes are gone). */
  current: "keep" | "replace" | "none";
  /** A noncurrent null version is removed: a key has at most one null version. */
  dropNoncurrentNull: boolean;
}

export interface DeletePlan {
  /** The delete marker that becomes latest: with a new id, with id null, or none (unversioned). */
  marker: "new" | "null" | "none";
  /** The current object: kept as a noncurrent version, or removed for good. */
  current: "keep" | "remove" | "none";
  dropNoncurrentNull: boolean;
}

/**
 * PUT, Copy and Complete. Enabled: a new id, the current object kept whatever its id. Suspended:
 * the null version; a current null version is overwritten, a current real version kept, and any
 * noncurrent null version goes (the new object is the key's one null version). Unversioned: the
 * current object is simply replaced.
 */
export function planWrite(state: VersioningState, current: CurrentVersion | null): WritePlan {
  if (state === undefined) return { newId: "null", current: current ? "replace" : "none", dropNoncurrentNull: false };
  if (state === "Enabled") return { newId: "new", current: current ? "keep" : "none", dropNoncurrentNull: false };
  return { newId: "null", current: current === null ? "none" : current.versionId === null ? "replace" : "keep", dropNoncurrentNull: true };
}

/**
 * DELETE without a version id. Enabled: a delete marker with a new id, the current object kept.
 * Suspended: a delete marker whose id is null, replacing the null version wherever it is; a
 * current real version is kept. Unversioned: the object is removed, no marker.
 */
export function planDelete(state: VersioningState, current: CurrentVersion | null): DeletePlan {
  if (state === undefined) return { marker: "none", current: current ? "remove" : "none", dropNoncurrentNull: false };
  if (state === "Enabled") return { marker: "new", current: current ? "keep" : "none", dropNoncurrentNull: false };
  return { marker: "null", current: current === null ? "none" : current.versionId === null ? "remove" : "keep", dropNoncurrentNull: true };
}

/** The setting's text as a state; anything else stored there reads as never enabled. */
export function parseVersioningState(text: string | undefined): VersioningState {
  const t = text?.trim();
  return t === "Enabled" || t === "Suspended" ? t : undefined;
}
