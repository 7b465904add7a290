// The AccessSources this gateway serves from its own tree: bucket policies and Block Public
// Access settings kept as bucket settings (cached per process, see setting-cache.ts). Owners,
// user policies and ACLs come from the identity and ACL layers when they are wired; until then
// every bucket is the first admin's, users have no inline policies and there are no ACLs.
import type { ObjectStore } from "../storage/types.ts";
import { decodePublicAccessBlock } from "../s3/public-access-block.ts";
import { S3_ACTIONS } from "../s3/actions.ts";
import { parsePolicy, type Policy } from "./policy/index.ts";
import { applyBinding, bindPrincipals, decodeBinding, encodeBinding, type UserLookup } from "./policy-principals.ts";
import { SettingCache } from "./setting-cache.ts";
import { FULL_BLOCK, NO_BLOCK, type AccessSources, type PublicAccessBlock } from "./sources.ts";

/** S3's limit on a bucket policy. */
export const MAX_BUCKET_POLICY_BYTES = 20 * 1024;

export function parseBucketPolicy(text: string, bucket: string): Policy {
  return parsePolicy(text, { kind: "bucket", bucket, s3Actions: S3_ACTIONS, maxBytes: MAX_BUCKET_POLICY_BYTES });
}

export interface BucketAccessOptions {
  store: ObjectStore;
  /** --block-public: every bucket behaves as if all four settings were on. */
  blockPublic: boolean;
  /** The canonical ID that owns buckets without an owner record (the first admin's). */
  defaultOwner: string;
  log?: (line: string) => void;
  /** Who a user name is now: binds the users a policy names (policy-principals.ts). Absent: ARNs match by name. */
  users?: UserLookup;
}

export function bucketAccess(opts: BucketAccessOptions): AccessSources {
  const broken = (what: string) => (bucket: string, err: unknown) =>
    opts.log?.(`filegate: the stored ${what} of bucket ${bucket} cannot be read (${(err as Error).message}); it is ignored until replaced`);
  // The policy and its binding are read together: either changing is a new policy to decide with.
  const readPolicy = (b: string) => {
    const text = opts.store.bucketSetting(b, "bucket-policy.json");
    return text === undefined ? undefined : text + "\0" + (opts.store.bucketSetting(b, "bucket-policy-principals.json") ?? "");
  };
  const parseBound = (both: string, bucket: string): Policy => {
    const cut = both.lastIndexOf("\0");
    const text = both.slice(0, cut);
    const policy = parseBucketPolicy(text, bucket);
    const users = opts.users;
    if (!users) return policy;
    let binding = decodeBinding(text, both.slice(cut + 1) || undefined);
    if (!binding) {
      // Stored before bindings were (or its binding was lost): bound to today's users, once.
      binding = bindPrincipals(policy, users);
      try {
        opts.store.setBucketSetting(bucket, "bucket-policy-principals.json", encodeBinding(text, binding));
      } catch (e) {
        opts.log?.(`filegate: cannot record whom the policy of bucket ${bucket} names (${(e as Error).message}); bound for this process only`);
      }
    }
    return applyBinding(policy, binding);
  };
  const policies = new SettingCache<Policy>(readPolicy, parseBound, broken("bucket policy"));
  const blocks = new SettingCache<PublicAccessBlock>((b) => opts.store.bucketSetting(b, "public-access-block.json"), decodePublicAccessBlock, broken("public access block"));
  return {
    bucketOwner: () => opts.defaultOwner,
    bucketPolicy: (bucket) => policies.get(bucket),
    storedPublicAccessBlock: (bucket) => blocks.get(bucket),
    publicAccessBlock: (bucket) => (opts.blockPublic ? FULL_BLOCK : (blocks.get(bucket) ?? NO_BLOCK)),
    userPolicies: () => [],
    changed(bucket) {
      policies.forget(bucket);
      blocks.forget(bucket);
    },
  };
}
