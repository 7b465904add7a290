// The seam between S3's rules and where objects live. Handlers, s3/ and http/ see only these
// interfaces and records; src/storage/posix/ implements them over a directory tree, and only the
// start-up wiring (src/gateway.ts) names that implementation. Versioned objects and per-user
// ownership are meant to enter here (docs/ARCHITECTURE.md, "The storage seam").
import type { Acl } from "../access/acl.ts";
import type { ChecksumAlgorithm } from "../checksums/index.ts";
import type { CompletePlanned, RequestedPart, StoredPart, UploadChecksum, UploadEntry } from "../s3/multipart-rules.ts";
import type { VersioningState } from "./versioning.ts";
import type { LockState } from "./retention.ts";

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64, as in x-amz-checksum-*; for COMPOSITE multipart values it ends in -N. */
  value: string;
  type: "FULL_OBJECT" | "COMPOSITE";
}

export interface ObjectMeta {
  /** Without quotes: 32 hex digits, or hex-N for multipart. */
  etag: string;
  /** Content-Type, Content-Encoding, …: lower-case header name → value. */
  headers: Record<string, string>;
  /** x-amz-meta-* with the prefix removed, lower-case names. */
  user: Record<string, string>;
  /** URL-encoded tag set, as in x-amz-tagging. */
  tags?: string;
  checksum?: StoredChecksum;
  /** Part sizes of a multipart object, for partNumber reads. */
  parts?: number[];
  /** Each part's checksum (base64, the upload's algorithm), when the upload had one. */
  partChecksums?: string[];
  /** Canonical ID of the user who wrote the object (absent: written before users, or not through S3). */
  owner?: string;
  /** The object's ACL when one was set (buckets whose Object Ownership enables ACLs). */
  acl?: Acl;
  /** Object Lock retention of this version (src/s3/object-lock.ts decides what it allows). */
  retention?: { mode: "GOVERNANCE" | "COMPLIANCE"; until: string };
  /** Object Lock legal hold of this version; absent: never set. */
  legalHold?: boolean;
  /** Set when read: the record was too large for the xattr and lives in this spill file. */
  spill?: string;
  /** The version this record is of; absent for the null version (and in unversioned buckets). */
  versionId?: string;
  /** A delete marker's record (an empty file in the version store, never at the key). */
  deleteMarker?: boolean;
  /** The file this record describes; checked on every read. */
  size: number;
  mtimeMs: number;
  ino?: number;
}

export interface BucketInfo {
  name: string;
  created: Date;
}

export interface ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  lastModified: Date;
  /** Quoted, as sent in the ETag header. */
  etag: string;
  meta: ObjectMeta | null;
  isDirectoryObject: boolean;
  /** The version's id; undefined for the null version. */
  versionId?: string;
  /** True when this version is a delete marker (then there is no body: `fd` is null). */
  deleteMarker?: boolean;
}

/** Which version of a key an operation acts on: the latest when versionId is absent. */
export interface VersionSelector {
  /** A version id, or "null" for the null version. */
  versionId?: string;
}

/** What a delete did: the id of the version removed, or of the delete marker it made. */
export interface DeleteResult {
  /** undefined: the null version (or an unversioned bucket). */
  versionId?: string;
  deleteMarker?: boolean;
  /** False when nothing existed to delete (S3 still answers success). */
  found: boolean;
}

/** One entry of ListObjectVersions, in S3 order: keys ascending, each key's versions newest first. */
export type VersionListEntry =
  | {
      type: "version";
      key: string;
      /** "null" for the null version. */
      versionId: string;
      isLatest: boolean;
      deleteMarker: boolean;
      size: number;
      mtimeMs: number;
      etag: string;
      checksum?: { algorithm: ChecksumAlgorithm; type: StoredChecksum["type"] };
    }
  | { type: "prefix"; prefix: string };

export interface VersionListOptions {
  prefix?: string;
  delimiter?: string;
  /** Resume after this key (with versionIdMarker: after that version of this key). */
  keyMarker?: string;
  versionIdMarker?: string;
}

/**
 * An object open for reading: headers and body come from this one descriptor, so they describe
 * one version whatever other processes do. `fd` is null for a directory object (no body). The
 * holder must call close() unless it hands `fd` on to something that closes it.
 */
export interface OpenObject extends ObjectInfo {
  fd: number | null;
  close(): void;
  /** Hands the descriptor to a new owner (a stream that closes it): close() then does nothing. */
  detach(): number;
}

/**
 * The Unix account a write is for: when the gateway runs as root, the files and directories it
 * creates for the write belong to this uid/gid (src/storage/posix/ownership.ts).
 */
export interface FileOwner {
  uid: number;
  gid: number;
}

/**
 * What a request does to the tree, for --posix-permissions: the store checks the mode bits of the
 * files and directories involved as the kernel would for a user in a shell (docs/ARCHITECTURE.md).
 */
export type FsAction =
  /** Read an object's data or record: x on each directory, r on the file. */
  | "read"
  /** Create or replace an object (rename into place): x on each directory, w+x on its parent. */
  | "write"
  /** Change an object's record in place (tags, ACL): x on each directory, w on the file. */
  | "write-meta"
  /** Remove an object: w+x on its parent, and the sticky bit's rule. */
  | "delete"
  /** List keys under a prefix: r+x on the directory the prefix names and each one above. */
  | "list"
  /** Reach the bucket at all (HEAD, settings): x on the root and the bucket. */
  | "traverse"
  /** Change a bucket's settings: own the bucket directory, as chmod would need. */
  | "configure"
  /** Create a bucket: w+x on the root. */
  | "create-bucket"
  /** Delete a bucket: w+x on the root, and the sticky bit's rule. */
  | "delete-bucket";

export interface PutOptions {
  headers: Record<string, string>;
  user: Record<string, string>;
  tags?: string;
  /** Canonical ID of the writer, kept in the record. */
  owner?: string;
  acl?: Acl;
  /** Object Lock state of the new version (its headers, or the bucket's default retention). */
  lock?: LockState;
  /** Write conditions (If-Match, If-None-Match), decided above the store: see WriteConditions. */
  check?: WriteConditions["check"];
  exclusive?: boolean;
  /** The Unix account the new files belong to (FileOwner). */
  fileOwner?: FileOwner;
}

/**
 * How a write may be refused. The store runs `check` on the object at the key (null: none) and
 * commits in one step for every process sharing the storage; `exclusive` (If-None-Match: *) also
 * makes the commit itself fail if anything appeared at the key meanwhile.
 */
export interface WriteConditions {
  check?: (current: ObjectInfo | null) => void;
  exclusive?: boolean;
}

export type CommitOptions = WriteConditions & { fileOwner?: FileOwner };

/** File names of the bucket settings in the bucket's private area. */
export type BucketSetting =
  | "bucket-tags"
  | "bucket-cors.json"
  | "bucket-policy.json"
  | "bucket-policy-principals.json"
  | "public-access-block.json"
  | "owner"
  | "ownership-controls"
  | "acl.json"
  | "versioning"
  | "object-lock.json";

/** A request body on its way in, with every promise the client made about it (checked as it ends). */
/** The part of a ReadableStream that body readers use (a decoder can offer it without the stream machinery). */
export interface BodySource {
  getReader(): BodyReader;
}

export interface BodyReader {
  read(): Promise<{ done: false; value: Uint8Array } | { done: true; value?: Uint8Array }>;
  releaseLock(): void;
  cancel(reason?: unknown): Promise<void>;
}

export interface IncomingBody {
  stream: BodySource | null;
  /** Decoded length the client declared (Content-Length or x-amz-decoded-content-length). */
  length: number | null;
  /** Lower-case hex SHA-256 the client signed, when it signed the payload. */
  sha256: string | null;
  /** base64 MD5 from Content-Md5. */
  contentMd5: string | null;
  /** Checksum to compute; expected value from a header now, or from a trailer at the end. */
  checksum: { algorithm: ChecksumAlgorithm; expected: string | null; fromTrailer: Promise<string | undefined> | null } | null;
  /**
   * Checks, once the store has read the body whole, every promise the request made about it (the
   * protocol's rules, src/http/payload.ts); returns the checksum to store. Throws to refuse.
   */
  /** What a failed read of `stream` means (the client broke off, or the body's decoding refused it): thrown as returned. */
  readError(e: unknown): unknown;
  verify(got: { size: number; md5?: Buffer; sha256?: Buffer; checksum?: Buffer }): Promise<{ algorithm: ChecksumAlgorithm; value: string } | null>;
}

/** One entry of a listing, in S3 order: an object with what a listing shows, or a common prefix. */
export type ListEntry =
  | { type: "object"; key: string; size: number; mtimeMs: number; etag: string; checksum?: { algorithm: ChecksumAlgorithm; type: StoredChecksum["type"] } }
  | { type: "prefix"; prefix: string };

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  /** Only keys (and prefixes) strictly after this, in S3 order. */
  startAfter?: string;
  /** --posix-permissions: list as this Unix account (directories it cannot read are left out). */
  reader?: FileOwner;
}

/** Buckets and objects. Failures are StorageErrors (./errors.ts) or errno errors; src/errors.ts maps both. */
export interface ObjectStore {
  listBuckets(): BucketInfo[];
  createBucket(name: string, opts?: { fileOwner?: FileOwner }): void;
  /** NoSuchBucket unless the bucket exists. */
  requireBucket(name: string): void;
  deleteBucket(name: string): void;
  bucketSetting(bucket: string, name: BucketSetting): string | undefined;
  setBucketSetting(bucket: string, name: BucketSetting, value: string | undefined): void;

  /**
   * Enabled, Suspended, or undefined (never enabled): the bucket setting `versioning`. Writes read
   * it afresh; `maxAgeMs` lets a read path use what this process saw that recently.
   */
  versioning(bucket: string, maxAgeMs?: number): VersioningState;
  headObject(bucket: string, key: string, sel?: VersionSelector): ObjectInfo;
  /**
   * Opened once: headers and body from one version. The caller closes it or hands its body on.
   * A delete marker selected by id comes back with `deleteMarker` and no descriptor.
   * NoSuchVersion for an id the key does not have.
   */
  openObject(bucket: string, key: string, sel?: VersionSelector): OpenObject;
  /** When the latest version of `key` is a delete marker, its id ("null" for the null one). */
  latestDeleteMarker(bucket: string, key: string): string | null;
  putObject(bucket: string, key: string, body: IncomingBody, opts: PutOptions): Promise<ObjectInfo & { checksum?: StoredChecksum }>;
  copyObject(src: OpenObject, bucket: string, key: string, opts: PutOptions): Promise<ObjectInfo>;
  /**
   * Idempotent. Without a versionId: removes the object (unversioned) or makes a delete marker
   * (S3's rules, src/storage/versioning.ts). With one: removes that version for good. `check`
   * sees what is about to be removed (the current object, or the selected version; null: none)
   * under the key's lock and may refuse.
   */
  deleteObject(bucket: string, key: string, opts?: VersionSelector & { check?: (current: ObjectInfo | null) => void }): Promise<DeleteResult>;
  /** Changes the record of exactly the version it reads (null from `change`: no change). */
  updateMeta(bucket: string, key: string, change: (m: ObjectMeta) => ObjectMeta | null, sel?: VersionSelector): Promise<ObjectInfo>;
  list(bucket: string, opts: ListOptions): AsyncGenerator<ListEntry>;
  /**
   * --posix-permissions: refuses (StorageError AccessDenied) what the mode bits would refuse the
   * Unix account `who` doing `action` on the key (null: the bucket; for "list", the prefix).
   * Missing names pass: the operation itself answers NoSuchKey or NoSuchBucket.
   */
  checkAccess(who: FileOwner, action: FsAction, bucket: string | null, key: string | null): void;
  /** Every version and delete marker, for ListObjectVersions; a page costs about its size. */
  listVersions(bucket: string, opts: VersionListOptions): AsyncGenerator<VersionListEntry>;
}

export interface UploadRecord {
  key: string;
  /** ISO time of CreateMultipartUpload. */
  initiated: string;
  headers: Record<string, string>;
  user: Record<string, string>;
  tags?: string;
  checksum?: UploadChecksum;
  /** Canonical ID of the user who started the upload (ListMultipartUploads' Initiator). */
  initiator?: string;
  /** The ACL the object gets when the upload completes. */
  acl?: Acl;
  /** x-amz-object-lock-* of CreateMultipartUpload, applied to the object at Complete. */
  lock?: LockState;
}

export interface PartRecord extends StoredPart {
  /** Name of the data file inside the upload directory. */
  file: string;
  /** Where the part starts in that file (the upload's shared data file); absent: at 0. */
  offset?: number;
  lastModified: string;
}

export interface UploadSummary extends UploadEntry {
  initiated: Date;
  checksum?: UploadChecksum;
  initiator?: string;
}

export interface CompletedUpload {
  key: string;
  completedAt: string;
  /** Without quotes. */
  etag: string;
  size: number;
  checksum?: StoredChecksum;
  /** The version the upload became; absent for the null version. */
  versionId?: string;
  /**
   * How the object was built from the parts ("in-place": the shared data file became the object;
   * "append": parts copied after part 1's own file; "new": all copied into a new file) and how the
   * copied bytes moved ("none" when nothing was copied). For diagnostics, tests and the benchmark.
   */
  copyMethod?: string;
  assembly?: string;
}

export interface CompleteOptions {
  check?: WriteConditions["check"];
  exclusive?: boolean;
  /**
   * The protocol's checks of the request against the parts the store lists (run again once the
   * upload is locked); returns the parts to assemble in order and what the object will be.
   */
  validate(stored: Map<number, PartRecord>, upload: UploadChecksum | undefined): CompletePlanned<PartRecord>;
  /** The Unix account the finished object belongs to (FileOwner); absent: the gateway's own. */
  fileOwner?: FileOwner;
  /** Object Lock state the completed object gets (the upload's headers or the bucket's default). */
  lock?: LockState;
}

/**
 * What Complete will do, decided after every check that can fail cheaply has passed: either the
 * answer is known (a retry of a finished upload) or `run` does the slow part.
 */
export type CompletePlan = { kind: "done"; result: CompletedUpload } | { kind: "run"; run(): Promise<CompletedUpload> };

/** Multipart uploads. The protocol's checks of a Complete run on the parts the store lists. */
export interface UploadStore {
  create(bucket: string, key: string, init: Omit<UploadRecord, "key" | "initiated">): { uploadId: string; record: UploadRecord };
  /** NoSuchUpload unless `uploadId` is an upload of `key`. */
  open(bucket: string, key: string, uploadId: string | null): { record: UploadRecord };
  /**
   * The body's checksum is the upload's algorithm (the caller decides, from open()'s record). Part
   * files belong to `owner` (their bytes count against the writer's quota while staged).
   */
  putPart(bucket: string, key: string, uploadId: string | null, partNumber: number, body: IncomingBody, owner?: FileOwner): Promise<PartRecord>;
  copyPart(bucket: string, key: string, uploadId: string | null, partNumber: number, src: OpenObject, range: { start: number; end: number } | null, owner?: FileOwner): Promise<PartRecord>;
  listParts(bucket: string, key: string, uploadId: string | null): { record: UploadRecord; parts: PartRecord[] };
  listUploads(bucket: string): UploadSummary[];
  abort(bucket: string, key: string, uploadId: string | null): Promise<void>;
  prepareComplete(bucket: string, key: string, uploadId: string | null, requested: RequestedPart[], opts: CompleteOptions): CompletePlan;
}
