// Who owns a bucket: the user who created it, recorded as the bucket setting `owner` (a canonical
// ID). A bucket without the record (a directory that was there before, or made before users) is
// the first admin's. Access decisions ask on every request, so answers are kept for TTL_MS: a
// bucket deleted and created again by someone else may show its former owner to another process
// for that long.
import type { Owner } from "../s3/context.ts";
import type { ObjectStore } from "../storage/types.ts";

const TTL_MS = 1000;
/** Past this many buckets the cache starts over rather than growing without bound. */
const MAX_CACHED = 10_000;

export class BucketOwners {
  private readonly cache = new Map<string, { id: string; until: number }>();

  constructor(
    private readonly store: Pick<ObjectStore, "bucketSetting" | "setBucketSetting">,
    /** The first admin: owner of buckets without a record. */
    private readonly fallback: Owner,
    /** The display name of a canonical ID (a user's), when it is known. */
    private readonly displayNameOf: (canonicalId: string) => string | undefined,
  ) {}

  /** The canonical ID of the bucket's owner. Does not check that the bucket exists. */
  ownerId(bucket: string): string {
    const now = Date.now();
    const hit = this.cache.get(bucket);
    if (hit && hit.until > now) return hit.id;
    const recorded = this.store.bucketSetting(bucket, "owner")?.trim();
    const id = recorded && /^[A-Za-z0-9]{1,64}$/.test(recorded) ? recorded : this.fallback.id;
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(bucket, { id, until: now + TTL_MS });
    return id;
  }

  /** The owner as S3 shows it (ID and DisplayName). */
  owner(bucket: string): Owner {
    return this.describe(this.ownerId(bucket));
  }

  /** Any canonical ID as S3 shows it; an ID no user has any more shows as itself. */
  describe(id: string): Owner {
    if (id === this.fallback.id) return this.fallback;
    return { id, displayName: this.displayNameOf(id) ?? id };
  }

  /** Records the creator of a new bucket. */
  record(bucket: string, canonicalId: string): void {
    this.store.setBucketSetting(bucket, "owner", canonicalId + "\n");
    this.cache.set(bucket, { id: canonicalId, until: Date.now() + TTL_MS });
  }

  forget(bucket: string): void {
    this.cache.delete(bucket);
  }
}
