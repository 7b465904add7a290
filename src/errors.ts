// Every failure that reaches a client is an S3Error. The code table is the one place that maps
// AWS error codes to HTTP statuses and default messages (from the S3 API reference's error list).

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
  InvalidPolicyDocument: [400, "The content of the form does not meet the conditions specified in the policy document."],
  MalformedPOSTRequest: [400, "The body of your POST request is not well-formed multipart/form-data."],
  MaxPostPreDataLengthExceededError: [400, "Your POST request fields preceding the upload file were too large."],
  IncorrectNumberOfFilesInPostRequest: [400, "POST requires exactly one file upload per request."],
  InvalidBucketName: [400, "The specified bucket is not valid."],
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
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof CODES;

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  /** Extra elements rendered into the error document (e.g. BucketName, Key, ArgumentName). */
  readonly extra: Record<string, string>;
  /** Response headers HTTP asks for with this status (Allow on 405, Content-Range on 416). */
  readonly headers: Record<string, string>;

  constructor(code: S3ErrorCode, message?: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
    const [status, fallback] = CODES[code];
    super(message ?? fallback);
    this.code = code;
    this.status = status;
    this.extra = extra;
    this.headers = headers;
  }
}

export function isS3Error(e: unknown): e is S3Error {
  return e instanceof S3Error;
}

/** Maps errno-style failures from the filesystem to S3 errors without leaking paths. */
export function fsError(e: unknown, notFound: S3ErrorCode = "NoSuchKey", notFoundExtra: Record<string, string> = {}): S3Error {
  if (isS3Error(e)) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return new S3Error(notFound, undefined, notFoundExtra);
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new S3Error("AccessDenied");
    case "ENOSPC":
    case "EDQUOT":
      return new S3Error("InternalError", "The server has no space left for this request.");
    case "ENAMETOOLONG":
      return new S3Error("KeyTooLongError");
    default:
      return new S3Error("InternalError");
  }
}
