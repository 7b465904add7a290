// What access decisions read, behind one interface in Services (`services.access`): who owns a
// bucket, its policy and Block Public Access settings, a user's inline policies, and ACL grants.
// The gateway wires the real sources at start-up; the defaults here make one gateway with one
// admin work on its own (every bucket the first admin's, no user policies, no ACLs).
import type { Policy } from "./policy/index.ts";
import type { Principal, UserPrincipal } from "./principal.ts";

export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

export const NO_BLOCK: PublicAccessBlock = Object.freeze({ blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false });
export const FULL_BLOCK: PublicAccessBlock = Object.freeze({ blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true });

/** One question to the ACLs: may `principal` do `action` on the bucket (key null) or object? */
export interface AclQuery {
  principal: Principal;
  bucket: string;
  key: string | null;
  /** The object version asked about; absent: the latest. */
  versionId?: string;
  /** The IAM action asked for (s3:GetObject, s3:ListBucket, …). */
  action: string;
  /** The effective IgnorePublicAcls: grants to AllUsers / AuthenticatedUsers then count for nothing. */
  ignorePublicAcls: boolean;
}

export interface AccessSources {
  /** The canonical ID of the bucket's owner; undefined when the bucket has no owner record. */
  bucketOwner(bucket: string): string | undefined;
  /** The bucket's policy, parsed; undefined when it has none. Cheap: called on every request. */
  bucketPolicy(bucket: string): Policy | undefined;
  /** The bucket's Block Public Access settings, with the gateway-wide --block-public applied. */
  publicAccessBlock(bucket: string): PublicAccessBlock;
  /** The bucket's own stored settings (what GetPublicAccessBlock shows); undefined when none. */
  storedPublicAccessBlock(bucket: string): PublicAccessBlock | undefined;
  /** The user's inline (identity) policies. */
  userPolicies(user: UserPrincipal): readonly Policy[];
  /** Whether an ACL grant allows the request; absent: no ACLs (BucketOwnerEnforced everywhere). */
  aclAllows?(q: AclQuery): boolean;
  /** Called after this process changed a bucket's policy or settings: it sees the change at once. */
  changed(bucket: string): void;
}
