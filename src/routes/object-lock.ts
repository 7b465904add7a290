// Object Lock: the bucket's configuration, each version's retention and legal hold, and the lock
// a write gives the version it creates. The rules are in src/s3/object-lock.ts; this file reads and
// writes the records (bucket setting `object-lock.json`, the object's record) around them.
import { S3Error } from "../errors.ts";
import { readSmallBody, requireBodyDigest } from "../http/request-body.ts";
import { xmlResponse } from "../http/response.ts";
import { requireExistingBucket, requireObject, type Handler, type S3Context } from "../s3/context.ts";
import {
  LOCKED_MESSAGE,
  bypassRequested,
  decodeLockConfig,
  encodeLockConfig,
  legalHoldXml,
  lockConfigXml,
  lockFromHeaders,
  newVersionLock,
  parseLegalHoldXml,
  parseLockConfigXml,
  parseRetentionXmlNow,
  removalBlock,
  requireLockConfig,
  requireLockIntegrity,
  retentionChangeBlock,
  retentionXml,
  type LockConfig,
  type LockState,
} from "../s3/object-lock.ts";
import type { OperationName } from "../s3/operations.ts";
import { readDocument } from "../s3/request-document.ts";
import type { ObjectInfo, VersionSelector } from "../storage/types.ts";
import { headSelected, selectedVersion } from "./objects.ts";

const MAX_DOCUMENT = 64 * 1024;

/** The bucket's Object Lock configuration; undefined when the bucket has none. */
export function lockConfigOf(ctx: S3Context, bucket: string): LockConfig | undefined {
  return decodeLockConfig(ctx.services.store.bucketSetting(bucket, "object-lock.json"));
}

/** Turns Object Lock on for a bucket just created with x-amz-bucket-object-lock-enabled: for good, with versioning. */
export function enableLockOnNewBucket(ctx: S3Context, bucket: string): void {
  const store = ctx.services.store;
  store.setBucketSetting(bucket, "versioning", "Enabled");
  store.setBucketSetting(bucket, "object-lock.json", encodeLockConfig({ enabled: true }));
}

export function lockedError(): S3Error {
  return new S3Error("AccessDenied", LOCKED_MESSAGE);
}

/**
 * What Object Lock asks of a write (PutObject, CopyObject, Complete), from one read of the bucket's
 * setting: `lock`, the lock its new version gets (its headers, or the bucket's default rule), and
 * `guard`, a check for the key's current object (see currentGuard). `integrity`: the write has a
 * body S3 wants a digest of when a lock applies (PutObject). `requested`: the lock asked for
 * earlier (CreateMultipartUpload's headers, for Complete) instead of this request's headers.
 * `headers`: where the lock headers are, when not in the request's (PostObject's form fields).
 */
export function writeLock(
  ctx: S3Context,
  bucket: string,
  opts: { integrity: boolean; requested?: LockState | null; headers?: Headers },
): { lock?: LockState; guard?: (current: ObjectInfo | null) => void } {
  const now = Date.now();
  const headers = opts.headers ?? ctx.headers;
  const requested = opts.requested !== undefined ? opts.requested : lockFromHeaders(headers, now);
  const config = lockConfigOf(ctx, bucket);
  const lock = newVersionLock(requested, config, now);
  if (opts.integrity && (requested || config?.rule)) requireLockIntegrity(headers);
  const guard = config ? replacementGuard(ctx, bucket, headers) : undefined;
  return {
    ...(lock.retention || lock.legalHold !== undefined ? { lock } : {}),
    ...(guard ? { guard } : {}),
  };
}

/**
 * The check for a write that may replace the key's current object: none where versioning is
 * Enabled (the current object is kept as a noncurrent version, as on S3); while Suspended, the
 * current null version is replaced; unversioned, whatever is current.
 */
function replacementGuard(ctx: S3Context, bucket: string, headers: Headers): ((current: ObjectInfo | null) => void) | undefined {
  const state = ctx.services.store.versioning(bucket);
  if (state === "Enabled") return undefined;
  const guard = currentGuard(ctx, headers);
  return (current) => {
    if (current && (state === undefined || current.versionId === undefined)) guard(current);
  };
}

/**
 * Refuses, under the key's lock, to remove for good or replace in place a version that Object
 * Lock protects; a GOVERNANCE retention gives way to x-amz-bypass-governance-retention.
 */
export function currentGuard(ctx: S3Context, headers: Headers = ctx.headers): (current: ObjectInfo | null) => void {
  const bypass = bypassRequested(headers);
  return (current) => {
    if (current && removalBlock(current.meta, bypass, Date.now()) !== null) throw lockedError();
  };
}

/**
 * The check for a delete, in every bucket (the version's own record decides, so a lock holds even
 * where the bucket's setting went missing): a delete by version id removes that version for good;
 * without one, a versioned bucket gets a delete marker and keeps every version (allowed, as on
 * S3), except that while Suspended the current null version goes; unversioned, the object goes.
 */
export function deleteGuard(ctx: S3Context, bucket: string, versionId: string | undefined): ((current: ObjectInfo | null) => void) | undefined {
  const guard = currentGuard(ctx);
  if (versionId !== undefined) return guard;
  const state = ctx.services.store.versioning(bucket);
  if (state === "Enabled") return undefined;
  return (current) => {
    if (current && (state === undefined || current.versionId === undefined)) guard(current);
  };
}

/** Both checks, in order (either may be absent). */
export function bothChecks<T>(a: ((x: T) => void) | undefined, b: ((x: T) => void) | undefined): ((x: T) => void) | undefined {
  if (!a) return b;
  if (!b) return a;
  return (x) => {
    a(x);
    b(x);
  };
}

const putObjectLockConfiguration: Handler = async (ctx) => {
  const bucket = requireExistingBucket(ctx);
  requireBodyDigest(ctx.headers);
  const config = parseLockConfigXml(await readSmallBody(ctx, MAX_DOCUMENT));
  const store = ctx.services.store;
  // A bucket without Object Lock may get it once its versioning is Enabled, as on S3 today.
  if (!lockConfigOf(ctx, bucket) && store.bucketSetting(bucket, "versioning") !== "Enabled") {
    throw new S3Error("InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration", { BucketName: bucket });
  }
  store.setBucketSetting(bucket, "object-lock.json", encodeLockConfig(config));
  return new Response(null, { status: 200 });
};

const getObjectLockConfiguration: Handler = (ctx) => {
  const bucket = requireExistingBucket(ctx);
  const config = lockConfigOf(ctx, bucket);
  if (!config) throw new S3Error("ObjectLockConfigurationNotFoundError", undefined, { BucketName: bucket });
  return xmlResponse("ObjectLockConfiguration", lockConfigXml(config));
};

const putObjectRetention: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  requireExistingBucket(ctx);
  requireLockConfig(lockConfigOf(ctx, bucket));
  requireBodyDigest(ctx.headers);
  const next = await readDocument(ctx, MAX_DOCUMENT, parseRetentionXmlNow);
  const bypass = bypassRequested(ctx.headers);
  headSelected(ctx, bucket, key);
  // Decided under the key's lock, on the record it then rewrites.
  await ctx.services.store.updateMeta(
    bucket,
    key,
    (m) => {
      if (retentionChangeBlock(m.retention, next, bypass, Date.now()) !== null) throw lockedError();
      const { retention: _old, ...rest } = m;
      return next ? { ...rest, retention: next } : rest;
    },
    selector(ctx),
  );
  return new Response(null, { status: 200 });
};

/** The version a retention or legal-hold request names (?versionId), or the latest. */
function selector(ctx: S3Context): VersionSelector | undefined {
  const versionId = selectedVersion(ctx);
  return versionId === undefined ? undefined : { versionId };
}

function noLockOnObject(): S3Error {
  return new S3Error("NoSuchObjectLockConfiguration");
}

const getObjectRetention: Handler = (ctx) => {
  const { bucket, key } = requireObject(ctx);
  requireExistingBucket(ctx);
  requireLockConfig(lockConfigOf(ctx, bucket));
  const retention = headSelected(ctx, bucket, key).meta?.retention;
  if (!retention) throw noLockOnObject();
  return xmlResponse("Retention", retentionXml(retention));
};

const putObjectLegalHold: Handler = async (ctx) => {
  const { bucket, key } = requireObject(ctx);
  requireExistingBucket(ctx);
  requireLockConfig(lockConfigOf(ctx, bucket));
  requireBodyDigest(ctx.headers);
  const on = await readDocument(ctx, MAX_DOCUMENT, parseLegalHoldXml);
  headSelected(ctx, bucket, key);
  await ctx.services.store.updateMeta(bucket, key, (m) => ({ ...m, legalHold: on }), selector(ctx));
  return new Response(null, { status: 200 });
};

const getObjectLegalHold: Handler = (ctx) => {
  const { bucket, key } = requireObject(ctx);
  requireExistingBucket(ctx);
  requireLockConfig(lockConfigOf(ctx, bucket));
  const hold = headSelected(ctx, bucket, key).meta?.legalHold;
  if (hold === undefined) throw noLockOnObject();
  return xmlResponse("LegalHold", legalHoldXml(hold));
};

export const objectLockHandlers: Partial<Record<OperationName, Handler>> = {
  PutObjectLockConfiguration: putObjectLockConfiguration,
  GetObjectLockConfiguration: getObjectLockConfiguration,
  PutObjectRetention: putObjectRetention,
  GetObjectRetention: getObjectRetention,
  PutObjectLegalHold: putObjectLegalHold,
  GetObjectLegalHold: getObjectLegalHold,
};
