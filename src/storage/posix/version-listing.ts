// ListObjectVersions: merges the plain tree's keys with the version store's in S3 order, so a
// page costs the page and the directories on the marker's path, never the whole bucket.
import { closeSync, fstatSync } from "node:fs";
import { isStorageError } from "../errors.ts";
import { keyPath } from "./names.ts";
import { compareKeys } from "./key-order.ts";
import { dirIn, versionIdOfName, walkVersionKeys } from "./versions.ts";
import { lstatOrNull } from "./file-facts.ts";
import type { ObjectInfo, ObjectStore, VersionListEntry, VersionListOptions } from "../types.ts";
import { describeVersion, openLatest } from "./object-read.ts";
import type { PosixContext } from "./context.ts";

/**
 * ListObjectVersions: the keys of the plain tree (current objects) and of the version store,
 * merged in S3 order; per key the current object first, then the noncurrent entries newest
 * first. A page costs the page plus the directories on the marker's path in both trees.
 */
export async function* listVersions(ctx: PosixContext & Pick<ObjectStore, "list">, bucket: string, opts: VersionListOptions): AsyncGenerator<VersionListEntry> {
  const bucketDir = ctx.bucketDir(bucket);
  const prefix = opts.prefix ?? "";
  const delimiter = opts.delimiter || undefined;
  // Checked once per listing; "" when the bucket has no version store (never versioned).
  let vroot = "";
  try {
    const root = ctx.versions.root(bucketDir);
    if (lstatOrNull(root)?.isDirectory()) vroot = root;
  } catch {
    // not the gateway's own area: nothing of it is listed
  }
  const keyMarker = opts.keyMarker || undefined;
  // The rest of the marker key's versions first, when the page ended inside them.
  if (keyMarker !== undefined && opts.versionIdMarker && keyMarker.startsWith(prefix)) {
    const cp = delimiter ? keyMarker.indexOf(delimiter, prefix.length) : -1;
    if (cp < 0) yield* versionsOfKey(ctx, bucket, vroot, keyMarker, opts.versionIdMarker);
  }
  const unversioned = vroot === "" && ctx.versioning(bucket) === undefined;
  const plain = ctx.list(bucket, { prefix, delimiter, startAfter: keyMarker });
  const kept = vroot ? walkVersionKeys(vroot, { prefix, delimiter, startAfter: keyMarker }) : null;
  try {
    let a = await plain.next();
    let b = kept ? await kept.next() : { done: true as const, value: undefined };
    while (!a.done || !b.done) {
      const an = a.done ? undefined : a.value.type === "prefix" ? a.value.prefix : a.value.key;
      const bn = b.done ? undefined : b.value.type === "prefix" ? b.value.prefix : b.value.key;
      const c = an === undefined ? 1 : bn === undefined ? -1 : compareKeys(an, bn);
      const isPrefix = c <= 0 ? a.value!.type === "prefix" : b.value!.type === "prefix";
      const name = (c <= 0 ? an : bn)!;
      if (isPrefix) yield { type: "prefix", prefix: name };
      else if (unversioned && c <= 0 && a.value!.type === "object") {
        // Every object of a bucket that was never versioned is its null version: what the
        // object walk already knows is all there is to say.
        const o = a.value!;
        yield { type: "version", key: o.key, versionId: "null", isLatest: true, deleteMarker: false, size: o.size, mtimeMs: o.mtimeMs, etag: o.etag, checksum: o.checksum };
      } else yield* versionsOfKey(ctx, bucket, vroot, name, undefined);
      if (c <= 0) a = await plain.next();
      if (c >= 0 && kept) b = await kept.next();
    }
  } finally {
    await plain.return(undefined);
    await kept?.return(undefined);
  }
}

/** One key's versions, newest first; after `afterVersion` only those older than it. */
export function* versionsOfKey(ctx: PosixContext, bucket: string, vroot: string, key: string, afterVersion: string | undefined): Generator<VersionListEntry> {
  let current: ObjectInfo | null = null;
  let currentIno: number | undefined;
  try {
    const o = openLatest(ctx, bucket, key);
    if (o.fd !== null) currentIno = fstatSync(o.fd).ino;
    o.close();
    current = o;
  } catch (e) {
    if (!isStorageError(e, "NoSuchKey")) throw e;
  }
  const kp = keyPath("", key);
  const vdir = kp.isDirectoryKey || vroot === "" ? null : dirIn(vroot, kp.segments);
  const names = vdir === null ? [] : ctx.versions.names(vdir);
  let skipping = afterVersion !== undefined;
  const entry = (o: ObjectInfo, versionId: string, isLatest: boolean): VersionListEntry => ({
    type: "version",
    key,
    versionId,
    isLatest,
    deleteMarker: o.deleteMarker === true,
    size: o.size,
    mtimeMs: o.lastModified.getTime(),
    etag: o.etag,
    checksum: o.meta?.checksum && { algorithm: o.meta.checksum.algorithm, type: o.meta.checksum.type },
  });
  if (current) {
    const id = current.versionId ?? "null";
    if (!skipping) yield entry(current, id, true);
    else if (id === afterVersion) skipping = false;
  }
  for (let i = 0; i < names.length; i++) {
    const id = versionIdOfName(names[i]);
    if (skipping) {
      if (id === afterVersion) skipping = false;
      continue;
    }
    const v = ctx.versions.open(vdir!, names[i]);
    if (v === null) continue;
    // A second name for the current file, left by a crash between keeping and replacing it.
    if (currentIno !== undefined && v.st.ino === currentIno) {
      closeSync(v.fd);
      continue;
    }
    const o = describeVersion(bucket, key, v);
    o.close();
    yield entry(o, id, !current && i === 0 && o.deleteMarker === true);
  }
}
