// `filegate versions list|purge BUCKET`: the operator's view of a bucket's versions, through the
// same store the gateway uses (every removal under the key's lock, so it is safe beside running
// gateways).
import { removalBlock } from "../s3/object-lock.ts";
import { StorageError, isStorageError } from "../storage/errors.ts";
import type { ObjectInfo, ObjectStore, VersionListEntry } from "../storage/types.ts";

type Version = Extract<VersionListEntry, { type: "version" }>;

function line(v: Version): string {
  const kind = v.deleteMarker ? "marker" : "version";
  return [v.key, v.versionId, v.isLatest ? "latest" : "noncurrent", kind, v.deleteMarker ? "-" : String(v.size), new Date(v.mtimeMs).toISOString()].join("\t");
}

export async function listVersionsCommand(store: ObjectStore, bucket: string, write: (s: string) => void): Promise<number> {
  store.requireBucket(bucket);
  let n = 0;
  for await (const e of store.listVersions(bucket, {})) {
    if (e.type !== "version") continue;
    write(line(e) + "\n");
    n++;
  }
  return n;
}

/** Refuses (under the key's lock) a version Object Lock protects: the operator gets no bypass. */
function unlessLocked(current: ObjectInfo | null): void {
  if (current && removalBlock(current.meta, false, Date.now()) !== null) throw new StorageError("ObjectLocked", { Key: current.key });
}

/**
 * Removes every noncurrent version and every delete marker; current objects stay as they are, and
 * so do versions under an Object Lock retention or legal hold (listed as kept).
 * Per key, the oldest go first and a latest marker last: removing a latest marker (or the newest
 * of a key whose file vanished) would otherwise bring the version below it back as current.
 */
export async function purgeVersionsCommand(store: ObjectStore, bucket: string, dryRun: boolean, write: (s: string) => void): Promise<{ versions: number; markers: number; bytes: number; locked: number }> {
  store.requireBucket(bucket);
  const doomed: Version[] = [];
  for await (const e of store.listVersions(bucket, {})) {
    if (e.type === "version" && (!e.isLatest || e.deleteMarker)) doomed.push(e);
  }
  const totals = { versions: 0, markers: 0, bytes: 0, locked: 0 };
  // Listing order is key ascending, newest first: walk each key's run backwards.
  for (let end = doomed.length; end > 0; ) {
    let start = end - 1;
    while (start > 0 && doomed[start - 1].key === doomed[end - 1].key) start--;
    let keptOne = false;
    for (let i = end - 1; i >= start; i--) {
      const v = doomed[i];
      // With a locked version left, removing the latest marker would make that version current.
      if (keptOne && v.isLatest) {
        write(`kept (above a locked version)\t${line(v)}\n`);
        continue;
      }
      try {
        if (dryRun) {
          if (!v.deleteMarker) unlessLocked(store.headObject(bucket, v.key, { versionId: v.versionId }));
        } else await store.deleteObject(bucket, v.key, { versionId: v.versionId, check: unlessLocked });
      } catch (e) {
        if (!isStorageError(e, "ObjectLocked")) throw e;
        write(`kept (object lock)\t${line(v)}\n`);
        totals.locked++;
        keptOne = true;
        continue;
      }
      write(`${dryRun ? "would remove" : "removed"}\t${line(v)}\n`);
      if (v.deleteMarker) totals.markers++;
      else {
        totals.versions++;
        totals.bytes += v.size;
      }
    }
    end = start;
  }
  return totals;
}
