// Bucket policies and Block Public Access: Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus,
// Put/Get/DeletePublicAccessBlock. Kept as bucket settings; every change is announced to the
// access sources so this process decides the next request with it (others within a second).
import { MAX_BUCKET_POLICY_BYTES, parseBucketPolicy } from "../access/bucket-access.ts";
import { policyIsPublic, PolicyError } from "../access/policy/index.ts";
import { bindPrincipals, decodeBinding, encodeBinding, policyAsShown, unknownUserArns, userArnsOf, type UserLookup } from "../access/policy-principals.ts";
import { S3Error } from "../errors.ts";
import { readSmallBody } from "../http/request-body.ts";
import { xmlResponse } from "../http/response.ts";
import { requireExistingBucket, type Handler } from "../s3/context.ts";
import type { OperationName } from "../s3/operations.ts";
import { encodePublicAccessBlock, parsePublicAccessBlockXml, publicAccessBlockXml } from "../s3/public-access-block.ts";

const putBucketPolicy: Handler = async (ctx) => {
  const bucket = requireExistingBucket(ctx);
  // Read past the limit so that an oversized policy gets S3's policy message, not a size error.
  const text = await readSmallBody(ctx, 4 * MAX_BUCKET_POLICY_BYTES);
  let policy;
  try {
    policy = parseBucketPolicy(text, bucket);
  } catch (e) {
    if (e instanceof PolicyError) throw new S3Error("MalformedPolicy", e.message);
    throw e;
  }
  // As on AWS, a user ARN must name a user that exists (a deleted one is refused too).
  const users = lookupOf(ctx);
  // Whom the names mean now, not as of this process's last look at the user file.
  if (userArnsOf(policy).length > 0) ctx.services.users.refresh();
  if (unknownUserArns(policy, users).length > 0) throw new S3Error("MalformedPolicy", "Invalid principal in policy");
  // BlockPublicPolicy refuses a public policy outright (the existing one stays).
  if (ctx.services.access.publicAccessBlock(bucket).blockPublicPolicy && policyIsPublic(policy)) throw new S3Error("AccessDenied");
  // The users named are bound now (policy-principals.ts); the binding first, so that a crash
  // between the two writes leaves the old text with a binding that is not its own (rebound at read).
  ctx.services.store.setBucketSetting(bucket, "bucket-policy-principals.json", encodeBinding(text, bindPrincipals(policy, users)));
  // Kept as sent: GetBucketPolicy gives back the very bytes that were set.
  ctx.services.store.setBucketSetting(bucket, "bucket-policy.json", text);
  ctx.services.access.changed(bucket);
  return new Response(null, { status: 204 });
};

function storedPolicy(bucket: string, ctx: Parameters<Handler>[0]): string {
  const text = ctx.services.store.bucketSetting(bucket, "bucket-policy.json");
  if (text === undefined) throw new S3Error("NoSuchBucketPolicy", undefined, { BucketName: bucket });
  return text;
}

const lookupOf = (ctx: Parameters<Handler>[0]): UserLookup => (name) => ctx.services.users.user(name);

const getBucketPolicy: Handler = (ctx) => {
  const bucket = requireExistingBucket(ctx);
  const stored = storedPolicy(bucket, ctx);
  // A user named and since deleted shows as the unique ID the policy was bound to.
  const binding = decodeBinding(stored, ctx.services.store.bucketSetting(bucket, "bucket-policy-principals.json"));
  let text = stored;
  if (binding) {
    try {
      text = policyAsShown(stored, binding, lookupOf(ctx));
    } catch {
      // Not JSON any more (edited by hand): shown as stored.
    }
  }
  return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
};

const deleteBucketPolicy: Handler = (ctx) => {
  const bucket = requireExistingBucket(ctx);
  ctx.services.store.setBucketSetting(bucket, "bucket-policy.json", undefined);
  ctx.services.store.setBucketSetting(bucket, "bucket-policy-principals.json", undefined);
  ctx.services.access.changed(bucket);
  return new Response(null, { status: 204 });
};

const getBucketPolicyStatus: Handler = (ctx) => {
  const bucket = requireExistingBucket(ctx);
  storedPolicy(bucket, ctx);
  // A stored policy that no longer parses (edited by hand) is ignored by access decisions: not public.
  const policy = ctx.services.access.bucketPolicy(bucket);
  return xmlResponse("PolicyStatus", { IsPublic: String(policy !== undefined && policyIsPublic(policy)) });
};

const putPublicAccessBlock: Handler = async (ctx) => {
  const bucket = requireExistingBucket(ctx);
  const block = parsePublicAccessBlockXml(await readSmallBody(ctx, 64 * 1024));
  ctx.services.store.setBucketSetting(bucket, "public-access-block.json", encodePublicAccessBlock(block));
  ctx.services.access.changed(bucket);
  return new Response(null, { status: 200 });
};

const getPublicAccessBlock: Handler = (ctx) => {
  const bucket = requireExistingBucket(ctx);
  const block = ctx.services.access.storedPublicAccessBlock(bucket);
  if (!block) throw new S3Error("NoSuchPublicAccessBlockConfiguration", undefined, { BucketName: bucket });
  return xmlResponse("PublicAccessBlockConfiguration", publicAccessBlockXml(block));
};

const deletePublicAccessBlock: Handler = (ctx) => {
  const bucket = requireExistingBucket(ctx);
  ctx.services.store.setBucketSetting(bucket, "public-access-block.json", undefined);
  ctx.services.access.changed(bucket);
  return new Response(null, { status: 204 });
};

export const policyHandlers: Partial<Record<OperationName, Handler>> = {
  PutBucketPolicy: putBucketPolicy,
  GetBucketPolicy: getBucketPolicy,
  DeleteBucketPolicy: deleteBucketPolicy,
  GetBucketPolicyStatus: getBucketPolicyStatus,
  PutPublicAccessBlock: putPublicAccessBlock,
  GetPublicAccessBlock: getPublicAccessBlock,
  DeletePublicAccessBlock: deletePublicAccessBlock,
};
