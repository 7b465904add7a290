// `filegate versions list|purge BUCKET`: the operator's view of a bucket's versions, through the
// same store the gateway uses (every removal under the key's lock, so it is safe beside running
// gateways).
import type { ObjectStore, VersionListEntry } from "../storage/types.ts";

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

/**
 * Removes every noncurrent version and every delete marker; current objects stay as they are.
 * Per key, the oldest go first and a latest marker last: removing a latest marker (or the newest
 * of a key whose file vanished) would otherwise bring the version below it back as current.
 */
export async function purgeVersionsCommand(store: ObjectStore, bucket: string, dryRun: boolean, write: (s: string) => void): Promise<{ versions: number; markers: number; bytes: number }> {
  store.requireBucket(bucket);
  const doomed: Version[] = [];
  for await (const e of store.listVersions(bucket, {})) {
    if (e.type === "version" && (!e.isLatest || e.deleteMarker)) doomed.push(e);
  }
  const totals = { versions: 0, markers: 0, bytes: 0 };
  // Listing order is key ascending, newest first: walk each key's run backwards.
  for (let end = doomed.length; end > 0; ) {
    let start = end - 1;
    while (start > 0 && doomed[start - 1].key === doomed[end - 1].key) start--;
    for (let i = end - 1; i >= start; i--) {
      const v = doomed[i];
      write(`${dryRun ? "would remove" : "removed"}\t${line(v)}\n`);
      if (!dryRun) await store.deleteObject(bucket, v.key, { versionId: v.versionId });
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
