// The seam between S3's rules and where objects live. Handlers, s3/ and http/ see only these
// interfaces and records; src/storage/posix/ implements them over a directory tree, and only the
// start-up wiring (src/gateway.ts) names that implementation. Versioned objects and per-user
// ownership are meant to enter here (docs/ARCHITECTURE.md, "The storage seam").
import type { ChecksumAlgorithm } from "../checksums/index.ts";
import type { PartChecksum, RequestedPart, StoredPart, UploadChecksum, UploadEntry } from "../s3/multipart-rules.ts";

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
  /** Set when read: the record was too large for the xattr and lives in this spill file. */
  spill?: string;
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

export interface PutOptions {
  headers: Record<string, string>;
  user: Record<string, string>;
  tags?: string;
  /** Write conditions (If-Match, If-None-Match), decided above the store: see WriteConditions. */
  check?: WriteConditions["check"];
  exclusive?: boolean;
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

export type CommitOptions = WriteConditions;

/** File names of the bucket settings in the bucket's private area. */
export type BucketSetting = "bucket-tags" | "bucket-cors.json";

/** A request body on its way in, with every promise the client made about it (checked as it ends). */
export interface IncomingBody {
  stream: ReadableStream<Uint8Array> | null;
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
}

/** Buckets and objects. Errors are S3Errors with S3's codes (NoSuchBucket, NoSuchKey, …). */
export interface ObjectStore {
  listBuckets(): BucketInfo[];
  createBucket(name: string): void;
  /** NoSuchBucket unless the bucket exists. */
  requireBucket(name: string): void;
  deleteBucket(name: string): void;
  bucketSetting(bucket: string, name: BucketSetting): string | undefined;
  setBucketSetting(bucket: string, name: BucketSetting, value: string | undefined): void;

  headObject(bucket: string, key: string): ObjectInfo;
  /** Opened once: headers and body from one version. The caller closes it or hands its body on. */
  openObject(bucket: string, key: string): OpenObject;
  putObject(bucket: string, key: string, body: IncomingBody, opts: PutOptions): Promise<ObjectInfo & { checksum?: StoredChecksum }>;
  copyObject(src: OpenObject, bucket: string, key: string, opts: PutOptions): Promise<ObjectInfo>;
  /** Idempotent; `check` sees the current object (null: none) atomically with the delete and may refuse. */
  deleteObject(bucket: string, key: string, check?: (current: ObjectInfo | null) => void): Promise<void>;
  /** Changes the record of exactly the object it reads (null from `change`: no change). */
  updateMeta(bucket: string, key: string, change: (m: ObjectMeta) => ObjectMeta | null): Promise<ObjectInfo>;
  list(bucket: string, opts: ListOptions): AsyncGenerator<ListEntry>;
}

export interface UploadRecord {
  key: string;
  /** ISO time of CreateMultipartUpload. */
  initiated: string;
  headers: Record<string, string>;
  user: Record<string, string>;
  tags?: string;
  checksum?: UploadChecksum;
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
}

export interface CompletedUpload {
  key: string;
  completedAt: string;
  /** Without quotes. */
  etag: string;
  size: number;
  checksum?: StoredChecksum;
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
  /** x-amz-checksum-<alg> sent with Complete: the whole object's checksum the client expects. */
  expectChecksum?: PartChecksum;
  expectType?: string;
  /** x-amz-mp-object-size. */
  expectSize?: number;
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
  putPart(bucket: string, key: string, uploadId: string | null, partNumber: number, body: IncomingBody): Promise<PartRecord>;
  copyPart(bucket: string, key: string, uploadId: string | null, partNumber: number, src: OpenObject, range: { start: number; end: number } | null): Promise<PartRecord>;
  listParts(bucket: string, key: string, uploadId: string | null): { record: UploadRecord; parts: PartRecord[] };
  listUploads(bucket: string): UploadSummary[];
  abort(bucket: string, key: string, uploadId: string | null): Promise<void>;
  prepareComplete(bucket: string, key: string, uploadId: string | null, requested: RequestedPart[], opts: CompleteOptions): CompletePlan;
}
