// Where ACLs live and when they apply, for the routes (answers) and the access decision (grants)
// alike. A bucket's Object Ownership is the bucket setting `ownership-controls` (absent:
// BucketOwnerEnforced, AWS's default since 2023; `none` after DeleteBucketOwnershipControls, which
// behaves as ObjectWriter). Under BucketOwnerEnforced ACLs grant nothing and show only the
// bucket owner; otherwise the bucket's ACL is the setting `acl.json` and an object's is its record.
import { aclPermits, cannedAcl, withoutPublicGrants, type Acl, type AclOwner, type Permission } from "./acl.ts";
import type { BucketOwners } from "./owners.ts";
import type { Owner } from "../s3/context.ts";
import type { AclQuery } from "./sources.ts";
import type { ObjectMeta, ObjectStore } from "../storage/types.ts";

export type ObjectOwnership = "BucketOwnerEnforced" | "ObjectWriter" | "BucketOwnerPreferred";
export const OWNERSHIPS: readonly string[] = ["BucketOwnerEnforced", "ObjectWriter", "BucketOwnerPreferred"];
/** Stored after DeleteBucketOwnershipControls: no controls, and ACLs work as with ObjectWriter. */
export const NO_CONTROLS = "none";

/** What reading ACLs needs: the store's bucket settings and objects, and who owns each bucket. */
export interface AclSources {
  store: Pick<ObjectStore, "bucketSetting" | "headObject">;
  owners: Pick<BucketOwners, "owner" | "describe">;
}

/** The bucket's Object Ownership; null when its controls were deleted. */
export function ownershipOf(s: AclSources, bucket: string): ObjectOwnership | null {
  const v = s.store.bucketSetting(bucket, "ownership-controls")?.trim();
  if (v === NO_CONTROLS) return null;
  return v && OWNERSHIPS.includes(v) ? (v as ObjectOwnership) : "BucketOwnerEnforced";
}

export function aclsEnabled(s: AclSources, bucket: string): boolean {
  return ownershipOf(s, bucket) !== "BucketOwnerEnforced";
}

export const ownerOnly = (owner: AclOwner): Acl => cannedAcl("private", owner, owner, true);

function readAcl(text: string | undefined): Acl | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Acl;
  } catch {
    return undefined;
  }
}

/** The bucket's ACL as S3 shows it and grants are read from. */
export function bucketAcl(s: AclSources, bucket: string): Acl {
  const owner = s.owners.owner(bucket);
  if (!aclsEnabled(s, bucket)) return ownerOnly(owner);
  const stored = readAcl(s.store.bucketSetting(bucket, "acl.json"));
  // The owner is always the bucket's current one, whatever an old record says.
  return stored ? { owner, grants: stored.grants } : ownerOnly(owner);
}

/** Who owns an object: the bucket owner under BucketOwnerEnforced, else the ACL's, else the writer. */
export function objectOwner(s: AclSources, bucket: string, meta: Pick<ObjectMeta, "acl" | "owner"> | null): Owner {
  if (!aclsEnabled(s, bucket)) return s.owners.owner(bucket);
  if (meta?.acl) return s.owners.describe(meta.acl.owner.id);
  return meta?.owner ? s.owners.describe(meta.owner) : s.owners.owner(bucket);
}

/** The object's ACL as S3 shows it and grants are read from. */
export function objectAcl(s: AclSources, bucket: string, meta: ObjectMeta | null): Acl {
  const owner = objectOwner(s, bucket, meta);
  if (!aclsEnabled(s, bucket) || !meta?.acl) return ownerOnly(owner);
  return { owner, grants: meta.acl.grants };
}

/**
 * The ACL permission each IAM action needs, after AWS's table ("Mapping of ACL permissions and
 * access policy permissions"): on the bucket's ACL or on the object's.
 */
const NEEDS: Readonly<Record<string, { on: "bucket" | "object"; permission: Permission }>> = {
  "s3:ListBucket": { on: "bucket", permission: "READ" },
  "s3:ListBucketVersions": { on: "bucket", permission: "READ" },
  "s3:ListBucketMultipartUploads": { on: "bucket", permission: "READ" },
  "s3:PutObject": { on: "bucket", permission: "WRITE" },
  "s3:DeleteObject": { on: "bucket", permission: "WRITE" },
  "s3:DeleteObjectVersion": { on: "bucket", permission: "WRITE" },
  // The uploader's own follow-ups: whoever may write objects may finish or drop an upload.
  "s3:AbortMultipartUpload": { on: "bucket", permission: "WRITE" },
  "s3:ListMultipartUploadParts": { on: "bucket", permission: "WRITE" },
  "s3:GetBucketAcl": { on: "bucket", permission: "READ_ACP" },
  "s3:PutBucketAcl": { on: "bucket", permission: "WRITE_ACP" },
  "s3:GetObject": { on: "object", permission: "READ" },
  "s3:GetObjectVersion": { on: "object", permission: "READ" },
  "s3:GetObjectAcl": { on: "object", permission: "READ_ACP" },
  "s3:GetObjectVersionAcl": { on: "object", permission: "READ_ACP" },
  "s3:PutObjectAcl": { on: "object", permission: "WRITE_ACP" },
  "s3:PutObjectVersionAcl": { on: "object", permission: "WRITE_ACP" },
};

/**
 * The access decision's question to the ACLs (AccessSources.aclAllows). Nothing is granted under
 * BucketOwnerEnforced; with IgnorePublicAcls grants to AllUsers and AuthenticatedUsers count for
 * nothing. An object ACL is read from the object's record (one open, only when no policy allowed).
 */
export function aclAllows(s: AclSources, q: AclQuery): boolean {
  const need = NEEDS[q.action];
  if (!need || !aclsEnabled(s, q.bucket)) return false;
  let acl: Acl;
  if (need.on === "object" && q.key !== null) {
    let meta: ObjectMeta | null;
    try {
      meta = s.store.headObject(q.bucket, q.key, q.versionId !== undefined ? { versionId: q.versionId } : undefined).meta;
    } catch {
      // No such object: an ACL write that comes with a new object (PutObject's x-amz-acl) is the
      // bucket's WRITE; anything else about a missing object is answered by the operation (404).
      if (q.action === "s3:PutObjectAcl") return aclAllows(s, { ...q, action: "s3:PutObject" });
      return false;
    }
    acl = objectAcl(s, q.bucket, meta);
  } else {
    acl = bucketAcl(s, q.bucket);
  }
  return aclPermits(q.ignorePublicAcls ? withoutPublicGrants(acl) : acl, q.principal, need.permission);
}
