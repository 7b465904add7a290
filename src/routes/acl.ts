// ACL routes and the ACLs that writes ask for. Where ACLs live and when they apply (Object
// Ownership) is src/access/stored-acls.ts; ACLs as data are src/access/acl.ts. Under
// BucketOwnerEnforced (the default) only ACLs that name the bucket owner alone are accepted, as on
// AWS; with ObjectWriter or BucketOwnerPreferred they are stored and grant access.
import type { VersionSelector } from "../storage/types.ts";
import { S3Error } from "../errors.ts";
import type { Owner, S3Context } from "../s3/context.ts";
import { parseXml } from "../xml/index.ts";
import { xmlResponse } from "../http/response.ts";
import { readSmallBody } from "../http/request-body.ts";
import {
  aclXml,
  cannedAcl,
  grantsFromHeaders,
  hasGrantHeaders,
  isCannedAcl,
  isOwnerOnly,
  isPublicAcl,
  parseAclXml,
  type Acl,
  type AclOwner,
  type CannedAcl,
  type ResolveId,
} from "../access/acl.ts";
import { OWNERSHIPS, NO_CONTROLS, aclsEnabled, bucketAcl, objectOwner, ownershipOf, type ObjectOwnership } from "../access/stored-acls.ts";

/** Canned ACLs a BucketOwnerEnforced bucket accepts on objects: both say "the bucket owner's". */
const ENFORCED_OBJECT_CANNED: readonly string[] = ["private", "bucket-owner-full-control"];
/** On a bucket, the bucket-owner-* names mean `private` (AWS ignores them there). */
const ENFORCED_BUCKET_CANNED: readonly string[] = ["private", "bucket-owner-read", "bucket-owner-full-control"];

export function ownerXml(owner: Owner) {
  return { ID: owner.id, DisplayName: owner.displayName };
}

/** Canonical IDs a grant may name: this gateway's users (and the first admin). */
export function resolverOf(ctx: S3Context): ResolveId {
  return (id) => {
    if (id === ctx.services.owner.id) return { displayName: ctx.services.owner.displayName };
    const u = ctx.services.users.byCanonicalId(id);
    return u ? { displayName: u.displayName } : undefined;
  };
}

/** BlockPublicAcls (or --block-public): a request setting a public ACL is refused. */
function refusePublic(ctx: S3Context, bucket: string | null, acl: Acl | undefined): void {
  if (!acl || !isPublicAcl(acl)) return;
  const blocked = bucket === null ? ctx.services.config.blockPublic : ctx.services.access.publicAccessBlock(bucket).blockPublicAcls;
  if (blocked) throw new S3Error("AccessDenied", "Access Denied because Block Public Access forbids public ACLs on this bucket.");
}

/** x-amz-acl and x-amz-grant-* as given: a canned name, header grants, or neither. */
function aclHeaders(h: Headers): { canned: CannedAcl | null; grants: boolean } {
  const raw = h.get("x-amz-acl")?.trim() ?? null;
  const grants = hasGrantHeaders(h);
  if (raw !== null && grants) throw new S3Error("InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed");
  if (raw !== null && !isCannedAcl(raw)) throw new S3Error("InvalidArgument", undefined, { ArgumentName: "x-amz-acl", ArgumentValue: raw });
  return { canned: raw as CannedAcl | null, grants };
}

const writerOf = (ctx: S3Context): Owner | null => (ctx.principal.kind === "user" ? { id: ctx.principal.canonicalId, displayName: ctx.principal.displayName } : null);

/**
 * The ACL a new object asks for (PutObject, CopyObject, CreateMultipartUpload, PostObject, whose
 * `acl` field arrives in `h`): undefined when it asks for none or the bucket does not keep ACLs.
 * Refuses what the bucket's Object Ownership does not allow.
 */
export function requestedObjectAcl(ctx: S3Context, bucket: string, h: Headers = ctx.headers): Acl | undefined {
  const { canned, grants } = aclHeaders(h);
  if (canned === null && !grants) return undefined;
  const ownership = ownershipOf(ctx.services, bucket);
  if (ownership === "BucketOwnerEnforced") {
    if (grants || !ENFORCED_OBJECT_CANNED.includes(canned!)) throw new S3Error("AccessControlListNotSupported");
    return undefined;
  }
  const bucketOwner = ctx.services.owners.owner(bucket);
  const writer = writerOf(ctx) ?? bucketOwner;
  // BucketOwnerPreferred: an object written with bucket-owner-full-control becomes the bucket owner's.
  const owner = ownership === "BucketOwnerPreferred" && canned === "bucket-owner-full-control" ? bucketOwner : writer;
  const acl = canned !== null ? cannedAcl(canned, owner, bucketOwner, false) : { owner, grants: grantsFromHeaders(h, resolverOf(ctx)) };
  refusePublic(ctx, bucket, acl);
  return acl;
}

/**
 * CreateBucket's x-amz-object-ownership and ACL headers: the ownership to record (null: the
 * default) and the bucket ACL (undefined: private). `creator` will own the bucket.
 */
export function newBucketAcl(ctx: S3Context, creator: Owner): { ownership: ObjectOwnership | null; acl: Acl | undefined } {
  const h = ctx.headers;
  const raw = h.get("x-amz-object-ownership")?.trim() ?? null;
  if (raw !== null && !OWNERSHIPS.includes(raw)) throw new S3Error("InvalidArgument", "Invalid x-amz-object-ownership header", { ArgumentName: "x-amz-object-ownership", ArgumentValue: raw });
  const ownership = (raw ?? "BucketOwnerEnforced") as ObjectOwnership;
  const { canned, grants } = aclHeaders(h);
  if (ownership === "BucketOwnerEnforced") {
    if (grants || (canned !== null && !ENFORCED_BUCKET_CANNED.includes(canned))) throw new S3Error("InvalidBucketAclWithObjectOwnership");
    return { ownership: null, acl: undefined };
  }
  if (canned === null && !grants) return { ownership, acl: undefined };
  const acl = canned !== null ? cannedAcl(canned, creator, creator, true) : { owner: creator, grants: grantsFromHeaders(h, resolverOf(ctx)) };
  refusePublic(ctx, null, acl);
  return { ownership, acl };
}

/** Records a new bucket's ownership and ACL (after the directory exists). */
export function storeNewBucketAcl(ctx: S3Context, bucket: string, made: { ownership: ObjectOwnership | null; acl: Acl | undefined }): void {
  if (made.ownership) ctx.services.store.setBucketSetting(bucket, "ownership-controls", made.ownership);
  if (made.acl) ctx.services.store.setBucketSetting(bucket, "acl.json", JSON.stringify(made.acl));
}

/**
 * The ACL a PutBucketAcl or PutObjectAcl request sets: from x-amz-acl, x-amz-grant-* or an
 * AccessControlPolicy body (exactly one of them). `owner` owns the resource; a document naming
 * another owner is refused, as ownership does not change through an ACL.
 */
async function requestedAcl(ctx: S3Context, owner: Owner, bucketOwner: Owner, forBucket: boolean): Promise<Acl> {
  const { canned, grants } = aclHeaders(ctx.headers);
  const text = await readSmallBody(ctx, 64 * 1024);
  const hasBody = text.trim() !== "";
  if (hasBody && (canned !== null || grants)) throw new S3Error("UnexpectedContent", "This request does not support content when an ACL header is given.");
  if (canned !== null) return cannedAcl(canned, owner, bucketOwner, forBucket);
  if (grants) return { owner, grants: grantsFromHeaders(ctx.headers, resolverOf(ctx)) };
  if (!hasBody) throw new S3Error("MissingSecurityHeader", "Your request was missing a required header: x-amz-acl or an AccessControlPolicy body.");
  const acl = parseAclXml(text, resolverOf(ctx));
  if (acl.owner.id !== owner.id) throw new S3Error("AccessDenied", "The ACL's Owner is not the owner of the resource.");
  return { owner, grants: acl.grants };
}

export function aclResponse(acl: Acl): Response {
  return xmlResponse("AccessControlPolicy", aclXml(acl));
}

export async function putBucketAcl(ctx: S3Context, bucket: string): Promise<void> {
  const owner = ctx.services.owners.owner(bucket);
  const acl = await requestedAcl(ctx, owner, owner, true);
  refusePublic(ctx, bucket, acl);
  if (!aclsEnabled(ctx.services, bucket)) {
    if (!isOwnerOnly(acl, owner.id)) throw new S3Error("AccessControlListNotSupported");
    return;
  }
  ctx.services.store.setBucketSetting(bucket, "acl.json", JSON.stringify(acl));
}

export async function putObjectAcl(ctx: S3Context, bucket: string, key: string, sel?: VersionSelector): Promise<void> {
  const store = ctx.services.store;
  const current = store.headObject(bucket, key, sel);
  const owner = objectOwner(ctx.services, bucket, current.meta);
  const acl = await requestedAcl(ctx, owner, ctx.services.owners.owner(bucket), false);
  refusePublic(ctx, bucket, acl);
  if (!aclsEnabled(ctx.services, bucket)) {
    if (!isOwnerOnly(acl, owner.id)) throw new S3Error("AccessControlListNotSupported");
    return;
  }
  await store.updateMeta(bucket, key, (m) => ({ ...m, acl }), sel);
}

export function getOwnershipControls(ctx: S3Context, bucket: string): Response {
  const ownership = ownershipOf(ctx.services, bucket);
  if (ownership === null) throw new S3Error("OwnershipControlsNotFoundError", undefined, { BucketName: bucket });
  return xmlResponse("OwnershipControls", { Rule: { ObjectOwnership: ownership } });
}

export async function putOwnershipControls(ctx: S3Context, bucket: string): Promise<void> {
  const doc = parseXml(await readSmallBody(ctx, 64 * 1024), "OwnershipControls");
  const rules = doc.Rule;
  const value = rules && typeof rules === "object" && !Array.isArray(rules) ? (rules as Record<string, unknown>).ObjectOwnership : undefined;
  if (typeof value !== "string" || !OWNERSHIPS.includes(value.trim())) throw new S3Error("MalformedXML");
  const ownership = value.trim() as ObjectOwnership;
  if (ownership === "BucketOwnerEnforced") {
    // ACLs stop applying: one that grants anyone but the owner must be removed first.
    const current = bucketAcl(ctx.services, bucket);
    if (!isOwnerOnly(current, current.owner.id)) throw new S3Error("InvalidBucketAclWithObjectOwnership");
    ctx.services.store.setBucketSetting(bucket, "acl.json", undefined);
  }
  ctx.services.store.setBucketSetting(bucket, "ownership-controls", ownership);
}

export function deleteOwnershipControls(ctx: S3Context, bucket: string): void {
  ctx.services.store.setBucketSetting(bucket, "ownership-controls", NO_CONTROLS);
}
