// Every failure that reaches a client is an S3Error. The code table is the one place that maps
// AWS error codes to HTTP statuses and default messages (from the S3 API reference's error list),
// and the one table that maps the storage layer's failures (src/storage/errors.ts) to them.
import { StorageError, type StorageErrorKind } from "./storage/errors.ts";

const CODES = {
  AccessControlListNotSupported: [400, "The bucket does not allow ACLs"],
  AccessDenied: [403, "Access Denied"],
  AccessForbidden: [403, "CORSResponse: This CORS request is not allowed."],
  AuthorizationHeaderMalformed: [400, "The authorization header is malformed."],
  AuthorizationQueryParametersError: [400, "Error parsing the X-Amz-Credential parameter."],
  BadRequest: [400, "Bad Request"],
  BadDigest: [400, "The Content-MD5 or checksum value that you specified did not match what the server received."],
  BucketAlreadyExists: [409, "The requested bucket name is not available."],
  BucketAlreadyOwnedByYou: [409, "Your previous request to create the named bucket succeeded and you already own it."],
  BucketNotEmpty: [409, "The bucket you tried to delete is not empty"],
  EntityTooLarge: [400, "Your proposed upload exceeds the maximum allowed object size."],
  EntityTooSmall: [400, "Your proposed upload is smaller than the minimum allowed object size."],
  ExpiredToken: [400, "The provided token has expired."],
  IllegalLocationConstraintException: [400, "The specified location-constraint is not valid."],
  IncompleteBody: [400, "You did not provide the number of bytes specified by the Content-Length HTTP header."],
  InternalError: [500, "We encountered an internal error. Please try again."],
  InvalidAccessKeyId: [403, "The AWS access key ID you provided does not exist in our records."],
  InvalidArgument: [400, "Invalid Argument"],
  InvalidBucketAclWithObjectOwnership: [400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"],
  InvalidPolicyDocument: [400, "The content of the form does not meet the conditions specified in the policy document."],
  MalformedPOSTRequest: [400, "The body of your POST request is not well-formed multipart/form-data."],
  MaxPostPreDataLengthExceededError: [400, "Your POST request fields preceding the upload file were too large."],
  IncorrectNumberOfFilesInPostRequest: [400, "POST requires exactly one file upload per request."],
  InvalidBucketName: [400, "The specified bucket is not valid."],
  InvalidBucketState: [409, "The request is not valid with the current state of the bucket."],
  InvalidDigest: [400, "The Content-MD5 you specified is not valid."],
  InvalidLocationConstraint: [400, "The specified location constraint is not valid."],
  InvalidObjectState: [403, "The operation is not valid for the current state of the object."],
  InvalidPart: [400, "One or more of the specified parts could not be found."],
  InvalidPartOrder: [400, "The list of parts was not in ascending order."],
  InvalidPartNumber: [416, "The requested partnumber is not satisfiable"],
  NoSuchVersion: [404, "The specified version does not exist."],
  InvalidRange: [416, "The requested range is not satisfiable"],
  InvalidRequest: [400, "Invalid Request"],
  InvalidStorageClass: [400, "The storage class you specified is not valid."],
  InvalidTag: [400, "The tag provided was not a valid tag."],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  KeyTooLongError: [400, "Your key is too long."],
  MalformedACLError: [400, "The XML you provided was not well-formed or did not validate against our published schema"],
  MalformedPolicy: [400, "This policy contains invalid Json"],
  MalformedXML: [400, "The XML you provided was not well-formed or did not validate against our published schema."],
  MaxMessageLengthExceeded: [400, "Your request was too big."],
  MetadataTooLarge: [400, "Your metadata headers exceed the maximum allowed metadata size."],
  MethodNotAllowed: [405, "The specified method is not allowed against this resource."],
  MissingContentLength: [411, "You must provide the Content-Length HTTP header."],
  MissingSecurityHeader: [400, "Your request is missing a required header."],
  NoSuchBucket: [404, "The specified bucket does not exist"],
  NoSuchKey: [404, "The specified key does not exist."],
  NoSuchUpload: [404, "The specified multipart upload does not exist."],
  NoSuchTagSet: [404, "The TagSet does not exist"],
  NoSuchBucketPolicy: [404, "The bucket policy does not exist"],
  OwnershipControlsNotFoundError: [404, "The bucket ownership controls were not found"],
  NoSuchCORSConfiguration: [404, "The CORS configuration does not exist"],
  NoSuchLifecycleConfiguration: [404, "The lifecycle configuration does not exist"],
  NoSuchWebsiteConfiguration: [404, "The specified bucket does not have a website configuration"],
  NoSuchPublicAccessBlockConfiguration: [404, "The public access block configuration was not found"],
  ObjectLockConfigurationNotFoundError: [404, "Object Lock configuration does not exist for this bucket"],
  ReplicationConfigurationNotFoundError: [404, "The replication configuration was not found"],
  ServerSideEncryptionConfigurationNotFoundError: [404, "The server side encryption configuration was not found"],
  NotImplemented: [501, "A header or operation you provided implies functionality that is not implemented."],
  NotModified: [304, "Not Modified"],
  PreconditionFailed: [412, "At least one of the preconditions you specified did not hold."],
  RequestTimeTooSkewed: [403, "The difference between the request time and the current time is too large."],
  RequestTimeout: [400, "Your socket connection to the server was not read from or written to within the timeout period."],
  UnresolvableGrantByEmailAddress: [400, "The email address you provided does not match any account on record."],
  SignatureDoesNotMatch: [403, "The request signature we calculated does not match the signature you provided. Check your key and signing method."],
  ServiceUnavailable: [503, "Please reduce your request rate."],
  SlowDown: [503, "Please reduce your request rate."],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
  InvalidChunkSizeError: [403, "Only the last chunk is allowed to have a size less than 8192 bytes"],
  ConditionalRequestConflict: [409, "A conflicting conditional operation is currently in progress against this resource."],
  // Not AWS codes: a POSIX tree cannot hold both `a` and `a/b`. Named as versitygw names them so
  // tools written against it recognise them.
  ObjectParentIsFile: [409, "Object parent already exists as a file."],
  ExistingObjectIsDirectory: [409, "Existing Object is a directory."],
  DirectoryObjectContainsData: [400, "Directory object contains data payload."],
  UnexpectedContent: [400, "This request does not support content."],
  // Not an AWS code: S3 never runs out of space. 507 (RFC 4918 Insufficient Storage), as MinIO
  // answers a full drive, because no SDK retries it: the AWS SDKs (JS v3, botocore, Go v2) and
  // minio-js retry 500, 502, 503, 504 (minio-js also 408, 429, 499, 520), so a 500 for a full
  // disk made them resend the whole body into the same full disk. A 4xx would not be retried
  // either, but it blames the client for the server's disk.
  InsufficientStorage: [507, "There is not enough space left on the server's storage for this request."],
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof CODES;

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  /** Extra elements rendered into the error document (e.g. BucketName, Key, ArgumentName). */
  readonly extra: Record<string, string>;
  /** Response headers HTTP asks for with this status (Allow on 405, Content-Range on 416). */
  readonly headers: Record<string, string>;

  /** `cause`: the failure this answer stands for (an errno error, a bug), kept for the log. */
  constructor(code: S3ErrorCode, message?: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}, cause?: unknown) {
    const [status, fallback] = CODES[code];
    super(message ?? fallback, cause === undefined ? undefined : { cause });
    this.code = code;
    this.status = status;
    this.extra = extra;
    this.headers = headers;
  }
}

export function isS3Error(e: unknown): e is S3Error {
  return e instanceof S3Error;
}

function errnoOf(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * The S3 answer to a filesystem condition that says something about the request or the storage,
 * not about a bug: null for any other errno and for non-errno errors. The original error is kept
 * as the cause. Paths never reach the client (errno messages hold them).
 */
export function conditionError(e: unknown): S3Error | null {
  switch (errnoOf(e)) {
    case "EACCES":
    case "EPERM":
      return new S3Error("AccessDenied", undefined, {}, {}, e);
    case "EROFS":
      // 403 like --readonly's refusal: retrying cannot help until an operator remounts.
      return new S3Error("AccessDenied", "The storage behind this gateway is read-only.", {}, {}, e);
    case "ENOSPC":
    case "EDQUOT":
      return new S3Error("InsufficientStorage", undefined, {}, {}, e);
    case "ENAMETOOLONG":
      return new S3Error("KeyTooLongError", "A segment of the key, or the whole key, is too long for the filesystem.", {}, {}, e);
    case "ELOOP":
      return new S3Error("InvalidRequest", "The key resolves through too many symbolic links.", {}, {}, e);
    case "EMFILE":
    case "ENFILE":
      // Transient by nature: SlowDown is what clients back off and retry on.
      return new S3Error("SlowDown", "The server is out of file descriptors; retry shortly.", {}, {}, e);
    default:
      return null;
  }
}

/** Each storage failure's S3 answer: code, and the message when it is not the code's default. */
const STORAGE_ANSWERS: Record<StorageErrorKind, readonly [S3ErrorCode, string?]> = {
  NoSuchBucket: ["NoSuchBucket"],
  NoSuchKey: ["NoSuchKey"],
  NoSuchUpload: ["NoSuchUpload"],
  NoSuchVersion: ["NoSuchVersion"],
  BucketExists: ["BucketAlreadyOwnedByYou"],
  BucketNotEmpty: ["BucketNotEmpty"],
  InvalidBucketName: ["InvalidBucketName"],
  UnsupportedKey: ["InvalidArgument"],
  KeyTooLong: ["KeyTooLongError"],
  SegmentTooLong: ["KeyTooLongError", "A path segment of the key is longer than 255 bytes."],
  ParentIsFile: ["ObjectParentIsFile"],
  IsDirectory: ["ExistingObjectIsDirectory"],
  ThroughLink: ["AccessDenied", "The key's path passes through a symbolic link; filegate does not write or delete through links."],
  PrivateAreaUnsafe: ["AccessDenied", "The bucket's .filegate area is not a plain directory; filegate writes nothing through links."],
  AccessDenied: ["AccessDenied"],
  Exists: ["PreconditionFailed"],
  LockTimeout: ["ConditionalRequestConflict"],
  UploadBusy: ["SlowDown", "Another request is completing or aborting this upload; try again."],
  MetadataTooLarge: ["MetadataTooLarge", "The filesystem has no room for even a small extended attribute on this file."],
  BodyTooLong: ["InvalidRequest", "The request body is longer than its declared length."],
  Damaged: ["InternalError", "Stored data does not match its record."],
  SourceChanged: ["InternalError", "The source object changed during the copy."],
  ObjectLocked: ["AccessDenied", "Access Denied because object protected by object lock."],
  ModeBits: ["AccessDenied", "Access Denied: the file permissions refuse this to your Unix account."],
};

/** The S3 answer to a storage failure; its detail becomes the error document's extra elements. */
export function storageAnswer(e: StorageError): S3Error {
  const [code, message] = STORAGE_ANSWERS[e.kind];
  const extra = { ...e.detail };
  let text = message;
  if (e.kind === "UnsupportedKey") {
    text = `Object key is not supported by this gateway: ${extra.why ?? "unsupported"}.`;
    delete extra.why;
    extra.ArgumentName = "key";
  }
  if (e.kind === "Exists") extra.Condition ??= "If-None-Match";
  return new S3Error(code, text, extra, {}, e.cause ?? (STORAGE_ANSWERS[e.kind][0] === "InternalError" ? e : undefined));
}

/**
 * Any thrown value as an S3Error: S3Errors as they are, storage failures by their table, known
 * filesystem conditions mapped by conditionError, everything else InternalError with the original kept as its cause (a TypeError
 * is a bug and must reach the log, never be dressed up as a client error).
 */
export function toS3Error(e: unknown): S3Error {
  if (isS3Error(e)) return e;
  if (e instanceof StorageError) return storageAnswer(e);
  return conditionError(e) ?? new S3Error("InternalError", undefined, {}, {}, e);
}
