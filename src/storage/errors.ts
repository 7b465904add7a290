// What the storage layer reports, in its own words: a kind of failure and the names it concerns.
// It knows nothing of S3; src/errors.ts maps each kind to S3's code, status and message in one
// table. Any other failure (an errno nobody expected, a bug) is rethrown as it is, so it reaches
// the log with its stack instead of being dressed up as a client error.

export type StorageErrorKind =
  | "NoSuchBucket"
  | "NoSuchKey"
  | "NoSuchUpload"
  | "NoSuchVersion"
  | "BucketExists"
  | "BucketNotEmpty"
  | "InvalidBucketName"
  /** A key the tree cannot hold (an empty segment, `.`/`..`, a NUL…); detail.why says which rule. */
  | "UnsupportedKey"
  | "KeyTooLong"
  | "SegmentTooLong"
  /** A file stands where the key needs a directory. */
  | "ParentIsFile"
  /** A directory (with content) stands where the key's file would go. */
  | "IsDirectory"
  /** The key's path passes through a symbolic link, which writes and deletes never follow. */
  | "ThroughLink"
  /** The bucket's private area is not a plain directory. */
  | "PrivateAreaUnsafe"
  | "AccessDenied"
  /** An exclusive create (If-None-Match: *) found something at the key. */
  | "Exists"
  /** The lock around a conditional write could not be taken in time. */
  | "LockTimeout"
  /** Another request is completing or aborting the same upload. */
  | "UploadBusy"
  | "MetadataTooLarge"
  | "BodyTooLong"
  /** Stored data is not what its record says (a part's size changed under us). */
  | "Damaged"
  /** The source changed while it was being copied. */
  | "SourceChanged"
  /** A version is protected by Object Lock (retention or legal hold). */
  | "ObjectLocked"
  /** --posix-permissions: the mode bits refuse this to the user's Unix account. */
  | "ModeBits";

export class StorageError extends Error {
  readonly kind: StorageErrorKind;
  /** Names the failure concerns, rendered into S3's error document (BucketName, Key, UploadId…). */
  readonly detail: Record<string, string>;

  constructor(kind: StorageErrorKind, detail: Record<string, string> = {}, cause?: unknown) {
    super(kind, cause === undefined ? undefined : { cause });
    this.name = "StorageError";
    this.kind = kind;
    this.detail = detail;
  }
}

export function isStorageError(e: unknown, kind?: StorageErrorKind): e is StorageError {
  return e instanceof StorageError && (kind === undefined || e.kind === kind);
}

function errnoOf(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A filesystem failure while reaching something by name: ENOENT/ENOTDIR become `notFound`, every
 * other error is returned as it is (src/errors.ts maps the errnos that describe a condition, such
 * as ENOSPC or EACCES, and logs the rest as internal errors).
 */
export function absentAs(e: unknown, notFound: StorageErrorKind = "NoSuchKey", detail: Record<string, string> = {}): unknown {
  if (e instanceof StorageError) return e;
  const code = errnoOf(e);
  if (code === "ENOENT" || code === "ENOTDIR") return new StorageError(notFound, detail, e);
  return e;
}
