// What a version's Object Lock record means for the store: whether it may be removed or replaced
// now. The store checks this itself as a last line (a record that says "locked" is never
// destroyed, whatever the caller asked); the protocol's documents and headers are
// src/s3/object-lock.ts.

export type LockMode = "GOVERNANCE" | "COMPLIANCE";

/** A version's retention: until when (ISO 8601, UTC, milliseconds) and how strictly. */
export interface Retention {
  mode: LockMode;
  until: string;
}

/** What a version carries: both parts are optional and independent, as on S3. */
export interface LockState {
  retention?: Retention;
  legalHold?: boolean;
}

/** The retention still in force at `now`, if any. */
export function activeRetention(s: LockState | null | undefined, now: number): Retention | null {
  const r = s?.retention;
  return r && Date.parse(r.until) > now ? r : null;
}

/** Whether anything protects the version at `now` (what the immutable flag mirrors). */
export function isLocked(s: LockState | null | undefined, now: number): boolean {
  return s?.legalHold === true || activeRetention(s, now) !== null;
}

/** Why a version may not be removed (permanently deleted, or replaced in place) now; null: it may. */
export function removalBlock(s: LockState | null | undefined, bypassGovernance: boolean, now: number): "legal-hold" | LockMode | null {
  if (s?.legalHold === true) return "legal-hold";
  const r = activeRetention(s, now);
  if (!r) return null;
  if (r.mode === "GOVERNANCE" && bypassGovernance) return null;
  return r.mode;
}

