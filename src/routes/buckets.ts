// Bucket operations: list, create (with its owner, ACL and Object Lock), head, delete, location,
// bucket ACL, versioning and ownership controls.
import { fileOwnerOf } from "../access/unix.ts";
import { S3Error } from "../errors.ts";
import { isStorageError } from "../storage/errors.ts";
import { validateNewBucketName } from "../s3/bucket-names.ts";
import { readSmallBody } from "../http/request-body.ts";
import { s3Time, xmlResponse } from "../http/response.ts";
import { requireBucket, type Handler, requireExistingBucket, writerId } from "../s3/context.ts";
import type { OperationName } from "../s3/operations.ts";
import { parseXml } from "../xml/index.ts";
import { bucketAcl } from "../access/stored-acls.ts";
import { aclResponse, deleteOwnershipControls, getOwnershipControls, newBucketAcl, ownerXml, putBucketAcl as storeBucketAcl, putOwnershipControls, storeNewBucketAcl } from "./acl.ts";
import { enableLockOnNewBucket } from "./object-lock.ts";

const listBuckets: Handler = (ctx) => {
  const q = ctx.query;
  const prefix = q.get("prefix") ?? "";
  const maxRaw = q.get("max-buckets");
  let max = 10000;
  if (maxRaw !== null) {
    max = Number(maxRaw);
    if (!/^\d+$/.test(maxRaw) || max < 1 || max > 10000) {
      throw new S3Error("InvalidArgument", "max-buckets must be an integer between 1 and 10000.", { ArgumentName: "max-buckets" });
    }
  }
  const token = q.get("continuation-token");
  let after = "";
  if (token !== null) {
    after = Buffer.from(token, "base64url").toString("utf8");
    if (!after) throw new S3Error("InvalidArgument", "The continuation token provided is incorrect.", { ArgumentName: "continuation-token" });
  }
  // Every bucket here is in the gateway's one region.
  const bucketRegion = q.get("bucket-region");
  const inRegion = bucketRegion === null || bucketRegion === "" || bucketRegion === ctx.services.config.region;
  // A user lists the buckets it owns; an admin lists them all.
  const me = ctx.principal;
  const owners = ctx.services.owners;
  const mine = (name: string) => me.kind === "user" && (me.role === "admin" || owners.ownerId(name) === me.canonicalId);
  const all = inRegion ? ctx.services.store.listBuckets().filter((b) => b.name.startsWith(prefix) && b.name > after && mine(b.name)) : [];
  const page = all.slice(0, max);
  const truncated = all.length > page.length;
  const region = ctx.services.config.region;
  return xmlResponse("ListAllMyBucketsResult", {
    Buckets: { Bucket: page.map((b) => ({ Name: b.name, CreationDate: s3Time(b.created), BucketRegion: region })) },
    Owner: ownerXml(me.kind === "user" ? { id: me.canonicalId, displayName: me.displayName } : ctx.services.owner),
    ...(truncated ? { ContinuationToken: Buffer.from(page[page.length - 1].name).toString("base64url") } : {}),
    ...(q.has("prefix") ? { Prefix: prefix } : {}),
  });
};

/** AWS region names (eu-west-1, us-gov-west-1, ap-southeast-5, cn-north-1), and the legacy EU. */
const REGION_NAME = /^(EU|[a-z]{2}(-(gov|iso[a-z]?))?-[a-z]+-\d{1,2})$/;

const createBucket: Handler = async (ctx) => {
  const bucket = requireBucket(ctx);
  const creatorOwner = ctx.principal.kind === "user" ? { id: ctx.principal.canonicalId, displayName: ctx.principal.displayName } : ctx.services.owner;
  const made = newBucketAcl(ctx, creatorOwner);
  const withLock = ctx.headers.get("x-amz-bucket-object-lock-enabled")?.trim().toLowerCase() === "true";
  const text = await readSmallBody(ctx, 64 * 1024);
  if (text.trim() !== "") {
    const conf = parseXml(text, "CreateBucketConfiguration");
    const raw = conf.LocationConstraint;
    if (raw !== undefined && typeof raw !== "string") throw new S3Error("MalformedXML");
    const constraint = raw?.trim();
    // us-east-1 is the region with no constraint: AWS refuses it spelled out, even there. A name
    // that is no region at all is invalid too; a real region that is not ours is "illegal".
    if (constraint === "us-east-1" || (constraint && constraint !== ctx.services.config.region && !REGION_NAME.test(constraint))) {
      throw new S3Error("InvalidLocationConstraint");
    }
    if (constraint && constraint !== ctx.services.config.region) {
      throw new S3Error("IllegalLocationConstraintException", `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`);
    }
  }
  validateNewBucketName(bucket);
  const creator = writerId(ctx) ?? ctx.services.owner.id;
  try {
    ctx.services.store.createBucket(bucket, { fileOwner: fileOwnerOf(ctx.principal) });
    // Only a bucket this request created gets the lock (and with it versioning, for good).
    if (withLock) enableLockOnNewBucket(ctx, bucket);
  } catch (e) {
    if (!isStorageError(e, "BucketExists")) throw e;
    // Bucket names are one namespace: someone else's bucket is BucketAlreadyExists.
    if (ctx.services.owners.ownerId(bucket) !== creator) throw new S3Error("BucketAlreadyExists", undefined, { BucketName: bucket });
    // AWS's us-east-1 answers 200 to creating a bucket its owner already has; other regions say
    // BucketAlreadyOwnedByYou.
    if (ctx.services.config.region !== "us-east-1") throw e;
    return new Response(null, { status: 200, headers: { location: `/${bucket}` } });
  }
  // The first admin owns what has no record, so its buckets need none (and stay readable as before).
  if (creator !== ctx.services.owner.id) ctx.services.owners.record(bucket, creator);
  storeNewBucketAcl(ctx, bucket, made);
  return new Response(null, { status: 200, headers: { location: `/${bucket}` } });
};

const headBucket: Handler = (ctx) => {
  requireExistingBucket(ctx);
  return new Response(null, { status: 200, headers: { "x-amz-bucket-region": ctx.services.config.region, "x-amz-access-point-alias": "false" } });
};

const deleteBucket: Handler = (ctx) => {
  const bucket = requireBucket(ctx);
  ctx.services.store.deleteBucket(bucket);
  ctx.services.owners.forget(bucket);
  // A bucket of the same name created later starts without the old one's policy.
  ctx.services.access.changed(bucket);
  return new Response(null, { status: 204 });
};

const getBucketLocation: Handler = (ctx) => {
  requireExistingBucket(ctx);
  const region = ctx.services.config.region;
  // S3 reports us-east-1 as an empty constraint.
  return xmlResponse("LocationConstraint", region === "us-east-1" ? {} : { "#text": region });
};

const getBucketAcl: Handler = (ctx) => {
  const bucket = requireExistingBucket(ctx);
  return aclResponse(bucketAcl(ctx.services, bucket));
};

const putBucketAcl: Handler = async (ctx) => {
  await storeBucketAcl(ctx, requireExistingBucket(ctx));
  return new Response(null, { status: 200 });
};

const getBucketVersioning: Handler = (ctx) => {
  const bucket = requireExistingBucket(ctx);
  // A bucket that has never had versioning enabled has an empty configuration.
  const state = ctx.services.store.versioning(bucket);
  return xmlResponse("VersioningConfiguration", state ? { Status: state } : {});
};

/**
 * Enabled or Suspended; never back to unversioned, as on S3. MFA Delete cannot be had here (it
 * needs an MFA device tied to the root account): asking to enable it is refused the way S3
 * refuses a request without the x-amz-mfa header; "Disabled" is what the bucket has anyway.
 */
const putBucketVersioning: Handler = async (ctx) => {
  const bucket = requireExistingBucket(ctx);
  const doc = parseXml(await readSmallBody(ctx, 64 * 1024), "VersioningConfiguration");
  const status = typeof doc.Status === "string" ? doc.Status.trim() : doc.Status;
  const mfa = typeof doc.MfaDelete === "string" ? doc.MfaDelete.trim() : doc.MfaDelete;
  if (status !== "Enabled" && status !== "Suspended") throw new S3Error("MalformedXML");
  if (mfa !== undefined && mfa !== "Enabled" && mfa !== "Disabled") throw new S3Error("MalformedXML");
  if (mfa === "Enabled" || ctx.headers.get("x-amz-mfa") !== null) {
    throw new S3Error("InvalidRequest", "MFA Delete is not supported by filegate: it needs an MFA device of the bucket owner's root account.");
  }
  const store = ctx.services.store;
  // Object Lock keeps versioning on for good.
  if (status === "Suspended" && store.bucketSetting(bucket, "object-lock.json") !== undefined) {
    throw new S3Error("InvalidBucketState", "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.");
  }
  store.setBucketSetting(bucket, "versioning", status);
  return new Response(null, { status: 200 });
};

const getBucketOwnershipControls: Handler = (ctx) => getOwnershipControls(ctx, requireExistingBucket(ctx));

const putBucketOwnershipControls: Handler = async (ctx) => {
  await putOwnershipControls(ctx, requireExistingBucket(ctx));
  return new Response(null, { status: 200 });
};

const deleteBucketOwnershipControls: Handler = (ctx) => {
  deleteOwnershipControls(ctx, requireExistingBucket(ctx));
  return new Response(null, { status: 204 });
};

export const bucketHandlers: Partial<Record<OperationName, Handler>> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  GetBucketAcl: getBucketAcl,
  PutBucketAcl: putBucketAcl,
  GetBucketVersioning: getBucketVersioning,
  PutBucketVersioning: putBucketVersioning,
  GetBucketOwnershipControls: getBucketOwnershipControls,
  PutBucketOwnershipControls: putBucketOwnershipControls,
  DeleteBucketOwnershipControls: deleteBucketOwnershipControls,
};
