// IAM's errors: its codes and statuses (IAM API reference, "Common Errors" and each action's
// list), and how the store's refusals and the signature check's S3 errors read in IAM's terms.
import { S3Error } from "../errors.ts";
import { isIdentityError } from "../identity/records.ts";

const CODES = {
  AccessDenied: 403,
  DeleteConflict: 409,
  EntityAlreadyExists: 409,
  IncompleteSignature: 400,
  InvalidAction: 400,
  InvalidClientTokenId: 403,
  InvalidParameterValue: 400,
  LimitExceeded: 409,
  MalformedPolicyDocument: 400,
  MissingAction: 400,
  NoSuchEntity: 404,
  NotImplemented: 501,
  ServiceFailure: 500,
  SignatureDoesNotMatch: 403,
  RequestExpired: 400,
  UnmodifiableEntity: 400,
  ValidationError: 400,
} as const;

export type IamErrorCode = keyof typeof CODES;

export class IamError extends Error {
  readonly status: number;
  constructor(
    readonly code: IamErrorCode,
    message: string,
  ) {
    super(message);
    this.status = CODES[code];
  }
  /** IAM's error Type: Receiver for its own failures, Sender for the caller's. */
  get type(): "Sender" | "Receiver" {
    return this.status >= 500 ? "Receiver" : "Sender";
  }
}

/** Any failure as IAM answers it; null for one that is not the caller's (a 500, logged by the caller). */
export function toIamError(e: unknown): IamError | null {
  if (e instanceof IamError) return e;
  if (isIdentityError(e)) return new IamError(e.code, e.message);
  if (e instanceof S3Error) {
    switch (e.code) {
      case "InvalidAccessKeyId":
        return new IamError("InvalidClientTokenId", "The security token included in the request is invalid.");
      case "SignatureDoesNotMatch":
        return new IamError("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
      case "RequestTimeTooSkewed":
        return new IamError("SignatureDoesNotMatch", "Signature expired: the request time is too far from the server's time.");
      case "AccessDenied":
        return new IamError("AccessDenied", e.message);
      case "SlowDown":
      case "InternalError":
        return null;
      default:
        if (e.status < 500) return new IamError(e.status === 403 ? "AccessDenied" : "IncompleteSignature", e.message);
        return null;
    }
  }
  return null;
}
