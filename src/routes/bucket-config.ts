// Bucket settings a plain directory has no way to carry out. Reading them gives the true answer
// for a bucket where nothing is configured (what AWS answers then); setting them is 501, never a
// pretended success. Bucket tags are real: kept with the bucket directory's metadata (as are CORS
// rules, in cors.ts).
import { S3Error, type S3ErrorCode } from "../errors.ts";
import { readSmallBody } from "../http/request-body.ts";
import { xmlResponse } from "../http/response.ts";
import { requireExistingBucket, type Handler } from "../s3/context.ts";
import type { OperationName } from "../s3/operations.ts";
import { decodeTags, encodeTags, parseTaggingXml, tagSetXml } from "../s3/tags.ts";

const notConfigured =
  (code: S3ErrorCode): Handler =>
  (ctx) => {
    requireExistingBucket(ctx);
    throw new S3Error(code, undefined, { BucketName: ctx.bucket! });
  };

const emptyDocument =
  (root: string, body: Record<string, unknown> = {}): Handler =>
  (ctx) => {
    requireExistingBucket(ctx);
    return xmlResponse(root, body);
  };

const getBucketTagging: Handler = (ctx) => {
  const tags = decodeTags(ctx.services.store.bucketSetting(requireExistingBucket(ctx), "bucket-tags"));
  if (tags.length === 0) throw new S3Error("NoSuchTagSet", undefined, { BucketName: ctx.bucket! });
  return xmlResponse("Tagging", tagSetXml(tags));
};

const putBucketTagging: Handler = async (ctx) => {
  const dir = requireExistingBucket(ctx);
  const tags = parseTaggingXml(await readSmallBody(ctx, 64 * 1024));
  ctx.services.store.setBucketSetting(dir, "bucket-tags", tags.length ? encodeTags(tags) : undefined);
  return new Response(null, { status: 204 });
};

const deleteBucketTagging: Handler = (ctx) => {
  ctx.services.store.setBucketSetting(requireExistingBucket(ctx), "bucket-tags", undefined);
  return new Response(null, { status: 204 });
};

/** Deleting a configuration the bucket does not have succeeds, as on AWS. */
const nothingToDelete: Handler = (ctx) => {
  requireExistingBucket(ctx);
  return new Response(null, { status: 204 });
};

export const bucketConfigHandlers: Partial<Record<OperationName, Handler>> = {
  GetBucketTagging: getBucketTagging,
  PutBucketTagging: putBucketTagging,
  DeleteBucketTagging: deleteBucketTagging,
  GetBucketLifecycleConfiguration: notConfigured("NoSuchLifecycleConfiguration"),
  GetBucketWebsite: notConfigured("NoSuchWebsiteConfiguration"),
  GetObjectLockConfiguration: notConfigured("ObjectLockConfigurationNotFoundError"),
  GetBucketReplication: notConfigured("ReplicationConfigurationNotFoundError"),
  GetBucketEncryption: notConfigured("ServerSideEncryptionConfigurationNotFoundError"),
  GetBucketNotificationConfiguration: emptyDocument("NotificationConfiguration"),
  GetBucketLogging: emptyDocument("BucketLoggingStatus"),
  GetBucketRequestPayment: emptyDocument("RequestPaymentConfiguration", { Payer: "BucketOwner" }),
  GetBucketAccelerateConfiguration: emptyDocument("AccelerateConfiguration"),
  DeleteBucketLifecycle: nothingToDelete,
  DeleteBucketWebsite: nothingToDelete,
  DeleteBucketEncryption: nothingToDelete,
  DeleteBucketReplication: nothingToDelete,
};
