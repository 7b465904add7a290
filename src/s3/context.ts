// What a route handler receives: the resolved operation, its target, the verified caller, and the
// storage behind its seam. Handlers return a Response; they throw S3Error for anything a client did wrong.
import type { Principal, UserPrincipal } from "../access/principal.ts";
import type { BucketOwners } from "../access/owners.ts";
import type { AccessSources } from "../access/sources.ts";
import type { AuthResult } from "../auth/types.ts";
import type { UserStore } from "../identity/user-store.ts";
import type { Config } from "../config.ts";
import type { ObjectStore, UploadStore } from "../storage/types.ts";
import { S3Error } from "../errors.ts";
import type { OperationName } from "./operations.ts";
import type { QueryParams } from "../http/request-target.ts";
import type { Prefetched } from "./request-document.ts";

export interface Owner {
  id: string;
  displayName: string;
}

export interface Services {
  config: Config;
  /** Buckets and objects, behind the storage seam (src/storage/types.ts). */
  store: ObjectStore;
  uploads: UploadStore;
  /** The first admin (the root's own credentials): owner of buckets nobody recorded. */
  owner: Owner;
  /** The users of the root (src/identity/): keys, roles, inline policies. */
  users: UserStore;
  /** Who owns each bucket (src/access/owners.ts). */
  owners: BucketOwners;
  lookupSecret(accessKey: string): string | undefined;
  /** The user an access key (one lookupSecret knows) belongs to; InvalidAccessKeyId if it went meanwhile. */
  identify(accessKey: string): UserPrincipal;
  /** What access decisions read: owners, bucket policies, Block Public Access, user policies, ACLs. */
  access: AccessSources;
  /** MAC key for listing continuation tokens; derived from the secret so every process agrees. */
  tokenKey: Buffer;
  /** The server log, for failures a handler answers inside a 200 (DeleteObjects' per-key errors). */
  log?: (line: string) => void;
}

export interface S3Context {
  op: OperationName;
  bucket: string | null;
  key: string | null;
  /** The decoded query (get/has/keys, as on URLSearchParams). */
  query: QueryParams;
  headers: Headers;
  request: Request;
  requestId: string;
  auth: AuthResult;
  /** Who the request acts for: the signing user, or anonymous for an unsigned operation. */
  principal: Principal;
  services: Services;
  /** The client's address (aws:SourceIp), looked up only when asked: it costs a syscall. */
  remote?: () => string | null;
  /**
   * An unsigned operation calls this once it has verified who sent it (PostObject's policy): the
   * request moves from the --max-unsigned pool to --max-requests (SlowDown if that is full).
   */
  authenticated?: () => void;
  /** The body, read before the access decision when a policy's conditions need it (request-document.ts). */
  document?: Prefetched;
}

export type Handler = (ctx: S3Context) => Promise<Response> | Response;

/** The canonical ID a write records as its writer (none for an anonymous one). */
export function writerId(ctx: S3Context): string | undefined {
  return ctx.principal.kind === "user" ? ctx.principal.canonicalId : undefined;
}

// The operation table only routes bucket operations to requests that name a bucket (and object
// operations to ones that name a key); these narrow the types and guard that promise.

export function requireBucket(ctx: S3Context): string {
  if (!ctx.bucket) throw new S3Error("InvalidRequest", "A bucket is required for this operation.");
  return ctx.bucket;
}

export function requireObject(ctx: S3Context): { bucket: string; key: string } {
  if (!ctx.bucket || ctx.key === null) throw new S3Error("InvalidRequest", "A bucket and key are required for this operation.");
  return { bucket: ctx.bucket, key: ctx.key };
}

/** The named bucket, which must exist (NoSuchBucket otherwise). */
export function requireExistingBucket(ctx: S3Context): string {
  const bucket = requireBucket(ctx);
  ctx.services.store.requireBucket(bucket);
  return bucket;
}
