// ListObjectsV2, ListObjects (V1) and ListObjectVersions, straight off the directory walk
// (the store's list()): one page costs the page plus the directories on the resume path.
import { aclsEnabled, objectOwner } from "../access/stored-acls.ts";
import { listingReader } from "../access/unix.ts";
import { S3Error } from "../errors.ts";
import { keyEncoder } from "../s3/encoding-type.ts";
import { s3Time, xmlResponse } from "../http/response.ts";
import { escapeXml } from "../xml/index.ts";
import type { ListEntry, VersionListEntry } from "../storage/types.ts";
import { isVersionSelector } from "../s3/version-selector.ts";
import { requireExistingBucket, type Handler, type S3Context } from "../s3/context.ts";
import { makeToken, readToken } from "../s3/list-token.ts";
import { parseQueryInt } from "../s3/query-int.ts";
import type { OperationName } from "../s3/operations.ts";
import { ownerXml } from "./acl.ts";
import type { QueryParams } from "../http/request-target.ts";
import { listingGc } from "../ops/gc-pressure.ts";

const MAX_KEYS = 1000;

/** max-keys as sent (S3 echoes the requested value in MaxKeys, even above 1000) and the page size
 * actually used. Values outside 0..2^31-1 or not plain integers are refused, as S3 does. */
function parseMaxKeys(q: QueryParams, name: string): { echo: number; limit: number } {
  const raw = q.get(name);
  if (raw === null || raw === "") return { echo: MAX_KEYS, limit: MAX_KEYS };
  const n = parseQueryInt(raw, name);
  return { echo: n, limit: Math.min(n, MAX_KEYS) };
}


type Listed = Extract<ListEntry, { type: "object" }>;

interface Page {
  objects: Listed[];
  prefixes: string[];
  truncated: boolean;
  /** The last key or common prefix returned: where the next page starts. */
  last: string | undefined;
}

async function listPage(ctx: S3Context, bucket: string, prefix: string, delimiter: string, startAfter: string | undefined, maxKeys: number): Promise<Page> {
  const page: Page = { objects: [], prefixes: [], truncated: false, last: undefined };
  if (maxKeys === 0) return page;
  const entries = ctx.services.store.list(bucket, { prefix, delimiter: delimiter || undefined, startAfter, reader: listingReader(ctx) });
  try {
    for await (const entry of entries) {
      if (page.objects.length + page.prefixes.length === maxKeys) {
        page.truncated = true;
        break;
      }
      if (entry.type === "object") {
        page.objects.push(entry);
        page.last = entry.key;
      } else {
        page.prefixes.push(entry.prefix);
        page.last = entry.prefix;
      }
    }
  } finally {
    await entries.return(undefined);
  }
  // A page's entries outlive Bun's eden collections: see gc-pressure.ts.
  listingGc.afterPage();
  return page;
}

type OwnerXml = ReturnType<typeof ownerXml>;

/**
 * Each listed object's Owner, as GetObjectAcl shows it (objectOwner): the bucket owner under
 * BucketOwnerEnforced (the default), else the owner its record names (its ACL's owner, else its
 * writer; BucketOwnerPreferred made that the bucket owner when the write said
 * bucket-owner-full-control). That record is read per object, so only buckets with ACLs enabled
 * pay a lookup per listed object. A delete marker, or an object gone meanwhile, shows the bucket
 * owner: delete markers do not record who made them.
 */
function listedOwners(ctx: S3Context, bucket: string): (key: string, versionId?: string, deleteMarker?: boolean) => OwnerXml {
  const bucketOwner = ownerXml(ctx.services.owners.owner(bucket));
  if (!aclsEnabled(ctx.services, bucket)) return () => bucketOwner;
  const shown = new Map<string, OwnerXml>();
  return (key, versionId, deleteMarker) => {
    if (deleteMarker) return bucketOwner;
    let meta;
    try {
      meta = ctx.services.store.headObject(bucket, key, versionId !== undefined ? { versionId } : undefined).meta;
    } catch {
      return bucketOwner;
    }
    const owner = objectOwner(ctx.services, bucket, meta);
    let xml = shown.get(owner.id);
    if (!xml) shown.set(owner.id, (xml = ownerXml(owner)));
    return xml;
  };
}

/**
 * The <Contents> elements of a page, rendered here as one string: the same XML the generic
 * renderer makes of one object per entry and field, without those objects. The generic path cost
 * a fresh process 20–40 ms for the first 1,000-key page (its code not yet compiled) and left ~10
 * objects and strings per key for the collector. `ownerOf` (listedOwners) names each object's Owner; it hands back one object per owner, whose
 * XML is rendered once.
 */
export function contentsXml(objects: readonly Listed[], enc: (s: string) => string, ownerOf: ((key: string) => { ID: string; DisplayName?: string }) | undefined): string {
  const ownerParts = new Map<object, string>();
  const ownerPart = (key: string) => {
    if (ownerOf === undefined) return "";
    const owner = ownerOf(key);
    let xml = ownerParts.get(owner);
    if (xml === undefined) {
      xml = `<Owner><ID>${escapeXml(owner.ID)}</ID>${owner.DisplayName === undefined ? "" : `<DisplayName>${escapeXml(owner.DisplayName)}</DisplayName>`}</Owner>`;
      ownerParts.set(owner, xml);
    }
    return xml;
  };
  const parts: string[] = [];
  // Neighbouring keys mostly share their second: one date string for them all.
  let second = NaN;
  let time = "";
  for (const o of objects) {
    const s = Math.floor(o.mtimeMs / 1000);
    if (s !== second) {
      second = s;
      time = s3Time(o.mtimeMs);
    }
    const sum = o.checksum;
    parts.push(
      "<Contents><Key>" + escapeXml(enc(o.key)) + "</Key><LastModified>" + time + "</LastModified><ETag>" + escapeXml(o.etag) + "</ETag>" +
        (sum === undefined ? "" : (sum.algorithm === undefined ? "" : "<ChecksumAlgorithm>" + escapeXml(sum.algorithm) + "</ChecksumAlgorithm>") + (sum.type === undefined ? "" : "<ChecksumType>" + escapeXml(sum.type) + "</ChecksumType>")) +
        "<Size>" + o.size + "</Size><StorageClass>STANDARD</StorageClass>" + ownerPart(o.key) + "</Contents>",
    );
  }
  return parts.join("");
}

const pageOwners = (ctx: S3Context, withOwner: boolean) => (withOwner ? listedOwners(ctx, ctx.bucket!) : undefined);

/** What the three listings share: where, which keys, how many, how to encode. */
function listRequest(ctx: S3Context) {
  const q = ctx.query;
  const { url, enc } = keyEncoder(q);
  return {
    q,
    bucket: requireExistingBucket(ctx),
    prefix: q.get("prefix") ?? "",
    delimiter: q.get("delimiter") ?? "",
    maxKeys: parseMaxKeys(q, "max-keys"),
    url,
    enc,
  };
}

type ListRequest = ReturnType<typeof listRequest>;

/** Fields after the paging markers, common to all three result documents. */
function pageFields(r: ListRequest, page: Page) {
  return {
    MaxKeys: r.maxKeys.echo,
    ...(r.delimiter ? { Delimiter: r.enc(r.delimiter) } : {}),
    ...(r.url ? { EncodingType: "url" } : {}),
    IsTruncated: page.truncated,
  };
}

const commonPrefixes = (r: ListRequest, page: Page) => page.prefixes.map((p) => ({ Prefix: r.enc(p) }));

const listObjectsV2: Handler = async (ctx) => {
  const r = listRequest(ctx);
  const { q, enc } = r;
  const scope = `v2\0${r.prefix}\0${r.delimiter}`;
  // An empty token is no token, as on AWS: SDKs that echo an absent NextContinuationToken as ""
  // get the first page (and start-after applies), not an error.
  const token = q.get("continuation-token") || null;
  const startAfter = token !== null ? readToken(ctx.services.tokenKey, scope, token) : (q.get("start-after") ?? undefined);
  const page = await listPage(ctx, r.bucket, r.prefix, r.delimiter, startAfter || undefined, r.maxKeys.limit);
  return xmlResponse("ListBucketResult", {
    Name: ctx.bucket!,
    Prefix: enc(r.prefix),
    ...(q.has("start-after") ? { StartAfter: enc(q.get("start-after")!) } : {}),
    // Echoed whenever sent, an empty one included.
    ...(q.has("continuation-token") ? { ContinuationToken: q.get("continuation-token")! } : {}),
    ...(page.truncated && page.last !== undefined ? { NextContinuationToken: makeToken(ctx.services.tokenKey, scope, page.last) } : {}),
    KeyCount: page.objects.length + page.prefixes.length,
    ...pageFields(r, page),
    "#raw": contentsXml(page.objects, enc, pageOwners(ctx, q.get("fetch-owner") === "true")),
    CommonPrefixes: commonPrefixes(r, page),
  });
};

const listObjectsV1: Handler = async (ctx) => {
  const r = listRequest(ctx);
  const marker = r.q.get("marker") ?? "";
  const page = await listPage(ctx, r.bucket, r.prefix, r.delimiter, marker || undefined, r.maxKeys.limit);
  return xmlResponse("ListBucketResult", {
    Name: ctx.bucket!,
    // V1's Prefix comes back as sent even with encoding-type=url, as S3 sends it: botocore, which
    // asks for url encoding on every V1 listing, decodes Marker and keys but not Prefix.
    Prefix: r.prefix,
    Marker: r.enc(marker),
    // S3 sends NextMarker only when a delimiter was given; without one, clients use the last key.
    ...(page.truncated && r.delimiter && page.last !== undefined ? { NextMarker: r.enc(page.last) } : {}),
    ...pageFields(r, page),
    "#raw": contentsXml(page.objects, r.enc, pageOwners(ctx, true)),
    CommonPrefixes: commonPrefixes(r, page),
  });
};

/**
 * Every version and delete marker, keys in S3 order and each key's versions newest first
 * (storage's listVersions). A page ends inside a key as readily as between keys: the next one
 * resumes at key-marker + version-id-marker.
 */
const listObjectVersions: Handler = async (ctx) => {
  const r = listRequest(ctx);
  const keyMarker = r.q.get("key-marker") ?? "";
  const versionMarker = r.q.get("version-id-marker");
  if (versionMarker && !keyMarker) throw new S3Error("InvalidArgument", "A version-id marker cannot be specified without a key marker.", { ArgumentName: "version-id-marker" });
  if (versionMarker && !isVersionSelector(versionMarker)) throw new S3Error("InvalidArgument", "Invalid version id specified", { ArgumentName: "version-id-marker" });
  const entries: VersionListEntry[] = [];
  let truncated = false;
  if (r.maxKeys.limit > 0) {
    const it = ctx.services.store.listVersions(r.bucket, { prefix: r.prefix, delimiter: r.delimiter || undefined, keyMarker: keyMarker || undefined, versionIdMarker: versionMarker || undefined });
    try {
      for await (const e of it) {
        if (entries.length === r.maxKeys.limit) {
          truncated = true;
          break;
        }
        entries.push(e);
      }
    } finally {
      await it.return(undefined);
    }
  }
  const ownerOf = listedOwners(ctx, r.bucket);
  // Versions and delete markers interleave in listing order, as S3 sends them.
  const versions: [string, Record<string, unknown>][] = [];
  const prefixes: { Prefix: string }[] = [];
  for (const e of entries) {
    if (e.type === "prefix") {
      prefixes.push({ Prefix: r.enc(e.prefix) });
      continue;
    }
    const common = { Key: r.enc(e.key), VersionId: e.versionId, IsLatest: e.isLatest, LastModified: s3Time(e.mtimeMs) };
    const Owner = ownerOf(e.key, e.versionId, e.deleteMarker);
    if (e.deleteMarker) versions.push(["DeleteMarker", { ...common, Owner }]);
    else versions.push(["Version", { ...common, ETag: e.etag, ChecksumAlgorithm: e.checksum?.algorithm, ChecksumType: e.checksum?.type, Size: e.size, StorageClass: "STANDARD", Owner }]);
  }
  const last = entries[entries.length - 1];
  const next = !truncated || last === undefined ? {} : last.type === "prefix" ? { NextKeyMarker: r.enc(last.prefix) } : { NextKeyMarker: r.enc(last.key), NextVersionIdMarker: last.versionId };
  return xmlResponse("ListVersionsResult", {
    Name: ctx.bucket!,
    Prefix: r.enc(r.prefix),
    KeyMarker: r.enc(keyMarker),
    VersionIdMarker: versionMarker ?? "",
    ...next,
    MaxKeys: r.maxKeys.echo,
    ...(r.delimiter ? { Delimiter: r.enc(r.delimiter) } : {}),
    ...(r.url ? { EncodingType: "url" } : {}),
    IsTruncated: truncated,
    "#mixed": versions,
    CommonPrefixes: prefixes,
  });
};

export const listHandlers: Partial<Record<OperationName, Handler>> = {
  ListObjectsV2: listObjectsV2,
  ListObjects: listObjectsV1,
  ListObjectVersions: listObjectVersions,
};
