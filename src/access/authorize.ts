// Access decisions, made once per request after authentication (src/app.ts calls authorize()
// between identifying the principal and running the handler). The rules, in order:
//   1. An explicit Deny in the bucket's policy or the user's own policies refuses, whoever asks.
//      The one exception keeps an admin from being locked out, as AWS keeps the root user: admins
//      may always read, replace and delete a bucket's policy.
//   2. Admins may do everything else.
//   3. A user may act on buckets they own; any user may list their buckets and create buckets.
//   4. Otherwise an Allow must come from the bucket policy, the user's inline policies or an ACL
//      grant; the anonymous principal only ever gets one from the bucket policy or an ACL.
//   5. With RestrictPublicBuckets (or --block-public) a public bucket policy grants nothing to
//      anonymous callers (every user of the gateway is in the owner's account).
//   6. Else AccessDenied.
import { S3Error } from "../errors.ts";
import { parseCopySource } from "../routes/copy.ts";
import { OPERATION_ACTIONS, VERSION_ACTIONS, resourceArn, type ResourceKind } from "../s3/actions.ts";
import type { S3Context } from "../s3/context.ts";
import type { OperationName } from "../s3/operations.ts";
import { requestContext } from "./context-keys.ts";
import { combine, evaluatePolicy, policyIsPublic, type Decision, type Policy, type PolicyPrincipal, type PolicyRequest } from "./policy/index.ts";
import { ACCOUNT_ID, type Principal } from "./principal.ts";

/** One permission a request needs: an action on a bucket (key null) or an object. */
export interface AccessCheck {
  action: string;
  on: ResourceKind;
  bucket: string | null;
  key: string | null;
  /**
   * The version of the object the check concerns (a versionId, a copy source's, a DeleteObjects
   * entry's); absent: the latest. Object ACLs and s3:ExistingObjectTag are that version's, as on
   * S3, where permissions are set per version.
   */
  versionId?: string;
}

/** Operations whose own checks run in the handler, once what they act on is known. */
const CHECKED_BY_HANDLER: ReadonlySet<OperationName> = new Set(["PostObject", "DeleteObjects", "OptionsObject"]);
/** Operations a signed-in user needs no grant for (ListBuckets shows only what they may see). */
const ANY_USER: ReadonlySet<OperationName> = new Set(["ListBuckets", "ListDirectoryBuckets", "CreateBucket"]);
/** The root-lockout guard: an admin can always repair a bucket policy. */
const POLICY_OPS: ReadonlySet<OperationName> = new Set(["GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"]);
const WITH_OBJECT_HEADERS: ReadonlySet<OperationName> = new Set(["PutObject", "CopyObject", "CreateMultipartUpload"]);
const GRANT_HEADERS = ["x-amz-acl", "x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-read-acp", "x-amz-grant-write-acp"];

/** What a request needs, from the action table (src/s3/actions.ts) and the request's headers. */
export function requiredChecks(ctx: Pick<S3Context, "op" | "bucket" | "key" | "query" | "headers">): AccessCheck[] {
  if (CHECKED_BY_HANDLER.has(ctx.op)) return [];
  const row = OPERATION_ACTIONS[ctx.op];
  if (!row.action) return [];
  const bucket = row.on === "account" ? null : ctx.bucket;
  const key = row.on === "object" ? ctx.key : null;
  const versionId = row.on === "object" ? (ctx.query.get("versionId") ?? undefined) : undefined;
  const on = (action: string): AccessCheck => ({ action, on: row.on, bucket, key, ...(versionId !== undefined ? { versionId } : {}) });
  const versioned = versionId !== undefined;
  const checks = [on(versioned ? (VERSION_ACTIONS[row.action] ?? row.action) : row.action)];
  const h = ctx.headers;
  if (WITH_OBJECT_HEADERS.has(ctx.op)) {
    if (h.get("x-amz-tagging") !== null) checks.push(on("s3:PutObjectTagging"));
    if (GRANT_HEADERS.some((g) => h.get(g) !== null)) checks.push(on("s3:PutObjectAcl"));
    if (h.get("x-amz-object-lock-mode") !== null || h.get("x-amz-object-lock-retain-until-date") !== null) checks.push(on("s3:PutObjectRetention"));
    if (h.get("x-amz-object-lock-legal-hold") !== null) checks.push(on("s3:PutObjectLegalHold"));
  }
  if ((ctx.op === "DeleteObject" || ctx.op === "PutObjectRetention") && h.get("x-amz-bypass-governance-retention")?.trim().toLowerCase() === "true") {
    checks.push(on("s3:BypassGovernanceRetention"));
  }
  // GetObjectAttributes answers what GET would (ETag, size, checksum): it takes both permissions.
  if (ctx.op === "GetObjectAttributes") checks.push(on(versioned ? "s3:GetObjectVersion" : "s3:GetObject"));
  if (ctx.op === "CopyObject" || ctx.op === "UploadPartCopy") {
    const raw = h.get("x-amz-copy-source");
    const src = parseCopySource(raw);
    const q = raw!.indexOf("?");
    const version = q >= 0 ? new URLSearchParams(raw!.slice(q + 1)).get("versionId") : null;
    checks.push({ action: version !== null ? "s3:GetObjectVersion" : "s3:GetObject", on: "object", bucket: src.bucket, key: src.key, ...(version !== null ? { versionId: version } : {}) });
  }
  return checks;
}

export function policyPrincipal(p: Principal): PolicyPrincipal {
  return p.kind === "anonymous" ? { anonymous: true } : { anonymous: false, arn: p.arn, canonicalId: p.canonicalId, userId: p.userId, account: ACCOUNT_ID };
}

const publicCache = new WeakMap<Policy, boolean>();
function isPublic(policy: Policy): boolean {
  let v = publicCache.get(policy);
  if (v === undefined) publicCache.set(policy, (v = policyIsPublic(policy)));
  return v;
}

/** Whether `principal` may do `check`; `ctx` supplies the request's condition keys. */
export function allows(ctx: S3Context, principal: Principal, check: AccessCheck): boolean {
  const access = ctx.services.access;
  const bucket = check.bucket;
  const policy = bucket ? access.bucketPolicy(bucket) : undefined;
  const userPolicies = principal.kind === "user" ? access.userPolicies(principal) : [];
  const isAdmin = principal.kind === "user" && principal.role === "admin";
  const ownsBucket = principal.kind === "user" && bucket !== null && access.bucketOwner(bucket) === principal.canonicalId;
  // The fast path: nothing to evaluate for an admin or owner when no policy is present.
  if (!policy && userPolicies.length === 0 && (isAdmin || ownsBucket)) return true;

  const req: PolicyRequest = {
    principal: policyPrincipal(principal),
    action: check.action,
    resource: resourceArn(check.on, bucket, check.key),
    context: requestContext(ctx, principal, check),
  };
  const fromBucket: Decision = policy ? evaluatePolicy(policy, req) : "None";
  const fromUser = combine(userPolicies.map((p) => evaluatePolicy(p, req)));
  if (fromBucket === "Deny" || fromUser === "Deny") return isAdmin && POLICY_OPS.has(ctx.op);
  if (isAdmin || ownsBucket) return true;
  if (principal.kind === "user" && ANY_USER.has(ctx.op)) return true;
  if (fromBucket === "Allow") {
    const restricted = principal.kind === "anonymous" && bucket !== null && access.publicAccessBlock(bucket).restrictPublicBuckets && isPublic(policy!);
    if (!restricted) return true;
  }
  if (fromUser === "Allow") return true;
  if (access.aclAllows && bucket !== null) {
    const ignorePublicAcls = access.publicAccessBlock(bucket).ignorePublicAcls;
    if (access.aclAllows({ principal, bucket, key: check.key, versionId: check.versionId, action: check.action, ignorePublicAcls })) return true;
  }
  return false;
}

/** Throws AccessDenied unless `principal` may do `check`. */
export function requireAccess(ctx: S3Context, check: AccessCheck, principal: Principal = ctx.principal): void {
  if (!allows(ctx, principal, check)) throw new S3Error("AccessDenied");
}

/** The hook: every permission the request needs, or AccessDenied. */
export function authorize(ctx: S3Context): void {
  for (const check of requiredChecks(ctx)) {
    if (allows(ctx, ctx.principal, check)) continue;
    // S3 tells a signed-in caller that a bucket does not exist (404 NoSuchBucket) rather than
    // refusing it: nothing there could be granted. Anonymous callers still learn nothing.
    if (ctx.principal.kind === "user" && check.bucket !== null && ctx.op !== "CreateBucket") ctx.services.store.requireBucket(check.bucket);
    throw new S3Error("AccessDenied");
  }
}
