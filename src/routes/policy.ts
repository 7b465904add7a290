// Bucket policies and Block Public Access: Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus,
// Put/Get/DeletePublicAccessBlock. Kept as bucket settings; every change is announced to the
// access sources so this process decides the next request with it (others within a second).
import { MAX_BUCKET_POLICY_BYTES, parseBucketPolicy } from "../access/bucket-access.ts";
import { policyIsPublic, PolicyError } from "../access/policy/index.ts";
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
  // BlockPublicPolicy refuses a public policy outright (the existing one stays).
  if (ctx.services.access.publicAccessBlock(bucket).blockPublicPolicy && policyIsPublic(policy)) throw new S3Error("AccessDenied");
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

const getBucketPolicy: Handler = (ctx) => {
  const text = storedPolicy(requireExistingBucket(ctx), ctx);
  return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
};

const deleteBucketPolicy: Handler = (ctx) => {
  const bucket = requireExistingBucket(ctx);
  ctx.services.store.setBucketSetting(bucket, "bucket-policy.json", undefined);
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
