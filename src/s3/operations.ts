// The S3 operation table: which API operation an incoming request is.
//
// S3 names operations by method + resource (service / bucket / object) + a "sub-resource" query
// parameter (?tagging, ?uploads, ...) and occasionally a header (x-amz-copy-source). Keeping that
// knowledge as data, in one table, makes it reviewable against the API reference line by line,
// and keeps routing, auth (which needs the operation name for policy checks), metrics and logging
// agreeing on the same name.
//
// Source of the operation list: the "Amazon S3" section of the S3 API Reference actions list
// (docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html),
// cross-checked against the HTTP bindings in the service model shipped with @aws-sdk/client-s3
// 3.1175 (which also carries the newer annotation / metadata-table operations). PostObject is not
// in that list (it is documented under "Browser-based uploads") but is a real wire operation.

import { S3Error } from "../errors.ts";
import type { QueryParams } from "../http/request-target.ts";

// ---------------------------------------------------------------------------------------------
// Operation names, grouped by family. The family is what metrics and logs aggregate on.
// ---------------------------------------------------------------------------------------------

const FAMILIES = {
  buckets: [
    "ListBuckets", "ListDirectoryBuckets", "CreateBucket", "DeleteBucket", "HeadBucket",
    "GetBucketLocation",
  ],
  objects: [
    "GetObject", "HeadObject", "PutObject", "CopyObject", "PostObject", "DeleteObject",
    "DeleteObjects", "RenameObject", "RestoreObject", "SelectObjectContent", "GetObjectAttributes",
    "GetObjectTorrent",
  ],
  multipart: [
    "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
    "AbortMultipartUpload", "ListParts", "ListMultipartUploads",
  ],
  listing: ["ListObjects", "ListObjectsV2", "ListObjectVersions"],
  "bucket-config": [
    "GetBucketAcl", "PutBucketAcl",
    "GetBucketAbac", "PutBucketAbac",
    "GetBucketAccelerateConfiguration", "PutBucketAccelerateConfiguration",
    "GetBucketAnalyticsConfiguration", "ListBucketAnalyticsConfigurations",
    "PutBucketAnalyticsConfiguration", "DeleteBucketAnalyticsConfiguration",
    "GetBucketCors", "PutBucketCors", "DeleteBucketCors",
    "GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption",
    "GetBucketIntelligentTieringConfiguration", "ListBucketIntelligentTieringConfigurations",
    "PutBucketIntelligentTieringConfiguration", "DeleteBucketIntelligentTieringConfiguration",
    "GetBucketInventoryConfiguration", "ListBucketInventoryConfigurations",
    "PutBucketInventoryConfiguration", "DeleteBucketInventoryConfiguration",
    "GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle",
    "GetBucketLifecycle", "PutBucketLifecycle",
    "GetBucketLogging", "PutBucketLogging",
    "CreateBucketMetadataConfiguration", "GetBucketMetadataConfiguration",
    "DeleteBucketMetadataConfiguration",
    "CreateBucketMetadataTableConfiguration", "GetBucketMetadataTableConfiguration",
    "DeleteBucketMetadataTableConfiguration",
    "UpdateBucketMetadataInventoryTableConfiguration",
    "UpdateBucketMetadataJournalTableConfiguration",
    "UpdateBucketMetadataAnnotationTableConfiguration",
    "GetBucketMetricsConfiguration", "ListBucketMetricsConfigurations",
    "PutBucketMetricsConfiguration", "DeleteBucketMetricsConfiguration",
    "GetBucketNotificationConfiguration", "PutBucketNotificationConfiguration",
    "GetBucketNotification", "PutBucketNotification",
    "GetObjectLockConfiguration", "PutObjectLockConfiguration",
    "GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls",
    "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy",
    "GetBucketPolicyStatus",
    "GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock",
    "GetBucketReplication", "PutBucketReplication", "DeleteBucketReplication",
    "GetBucketRequestPayment", "PutBucketRequestPayment",
    "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging",
    "GetBucketVersioning", "PutBucketVersioning",
    "GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite",
  ],
  "object-config": [
    "GetObjectAcl", "PutObjectAcl",
    "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging",
    "GetObjectRetention", "PutObjectRetention",
    "GetObjectLegalHold", "PutObjectLegalHold",
    "GetObjectAnnotation", "ListObjectAnnotations", "PutObjectAnnotation", "DeleteObjectAnnotation",
    "UpdateObjectEncryption",
  ],
  // A browser's CORS preflight ("OPTIONS object" in the REST API reference); never signed.
  other: ["CreateSession", "WriteGetObjectResponse", "OptionsObject"],
} as const;

export type OperationFamily = keyof typeof FAMILIES;
export type OperationName = (typeof FAMILIES)[OperationFamily][number];

export const ALL_OPERATIONS: readonly OperationName[] = Object.freeze(
  (Object.values(FAMILIES) as readonly (readonly OperationName[])[]).flat(),
);

const FAMILY_OF = new Map<OperationName, OperationFamily>();
for (const [family, ops] of Object.entries(FAMILIES) as [OperationFamily, readonly OperationName[]][]) {
  for (const op of ops) FAMILY_OF.set(op, family);
}

export function operationFamily(op: OperationName): OperationFamily {
  return FAMILY_OF.get(op) ?? "other";
}

/**
 * Deprecated operations that are byte-for-byte the same request as their successor (only the XML
 * body schema differs), so resolveOperation can never tell them apart and answers the successor.
 * They stay in OperationName because they are in the API reference and policies may name them.
 */
export const WIRE_ALIASES: Readonly<Partial<Record<OperationName, OperationName>>> = Object.freeze({
  GetBucketLifecycle: "GetBucketLifecycleConfiguration",
  PutBucketLifecycle: "PutBucketLifecycleConfiguration",
  GetBucketNotification: "GetBucketNotificationConfiguration",
  PutBucketNotification: "PutBucketNotificationConfiguration",
});

// ---------------------------------------------------------------------------------------------
// The table.
//
//   target   'service' = no bucket (GET /), 'bucket' = /bucket, 'object' = /bucket/key
//   query    the sub-resource that names the operation (?tagging). Present-with-empty-value counts.
//   queryAll further query params the operation needs; 'name=value' pins the value.
//   header   a request header whose presence selects the operation.
//
// Matching rules:
//   1. method and target must match;
//   2. every requirement (query, queryAll, header) must be present;
//   3. a row WITHOUT `query` (GetObject, PutObject, CreateBucket, ...) never matches when the
//      request carries any sub-resource from this table. Sub-resources are a closed set in S3, so a
//      PUT /bucket/key?versioning is not a PutObject -- it must not silently overwrite the object;
//   4. among matching rows, the most specific wins: one point each for `query`, each `queryAll`
//      entry and `header`. Equal scores go to the row listed first.
// Any other query parameter is ignored (versionId, partNumber on GET, response-*, X-Amz-*, and
// the SDK's ?x-id=..., which is a client hint S3 does not route on).
// ---------------------------------------------------------------------------------------------

type Method = "GET" | "HEAD" | "PUT" | "POST" | "DELETE" | "OPTIONS";
type Target = "service" | "bucket" | "object";

export interface OperationRow {
  readonly op: OperationName;
  readonly method: Method;
  readonly target: Target;
  readonly query?: string;
  readonly queryAll?: readonly string[];
  readonly header?: string;
}

export const OPERATION_TABLE: readonly OperationRow[] = Object.freeze<OperationRow[]>([
  // -- buckets ---------------------------------------------------------------------------------
  { op: "ListBuckets",            method: "GET",    target: "service" },
  // Same URL as ListBuckets; real S3 separates them by host (s3express-control). The directory
  // listing's own page-size parameter is the only on-the-wire hint we get.
  { op: "ListDirectoryBuckets",   method: "GET",    target: "service", queryAll: ["max-directory-buckets"] },
  { op: "CreateBucket",           method: "PUT",    target: "bucket" },
  { op: "DeleteBucket",           method: "DELETE", target: "bucket" },
  { op: "HeadBucket",             method: "HEAD",   target: "bucket" },
  { op: "GetBucketLocation",      method: "GET",    target: "bucket", query: "location" },

  // -- objects ---------------------------------------------------------------------------------
  { op: "GetObject",              method: "GET",    target: "object" },
  { op: "HeadObject",             method: "HEAD",   target: "object" },
  { op: "PutObject",              method: "PUT",    target: "object" },
  { op: "CopyObject",             method: "PUT",    target: "object", header: "x-amz-copy-source" },
  // Browser form upload: POST to the bucket with a multipart/form-data body; the handler checks it.
  { op: "PostObject",             method: "POST",   target: "bucket" },
  { op: "DeleteObject",           method: "DELETE", target: "object" },
  { op: "DeleteObjects",          method: "POST",   target: "bucket", query: "delete" },
  { op: "RenameObject",           method: "PUT",    target: "object", query: "renameObject", header: "x-amz-rename-source" },
  { op: "RestoreObject",          method: "POST",   target: "object", query: "restore" },
  { op: "SelectObjectContent",    method: "POST",   target: "object", query: "select", queryAll: ["select-type=2"] },
  { op: "GetObjectAttributes",    method: "GET",    target: "object", query: "attributes" },
  { op: "GetObjectTorrent",       method: "GET",    target: "object", query: "torrent" },

  // -- multipart -------------------------------------------------------------------------------
  { op: "CreateMultipartUpload",  method: "POST",   target: "object", query: "uploads" },
  { op: "UploadPart",             method: "PUT",    target: "object", query: "uploadId", queryAll: ["partNumber"] },
  { op: "UploadPartCopy",         method: "PUT",    target: "object", query: "uploadId", queryAll: ["partNumber"], header: "x-amz-copy-source" },
  { op: "CompleteMultipartUpload", method: "POST",  target: "object", query: "uploadId" },
  { op: "AbortMultipartUpload",   method: "DELETE", target: "object", query: "uploadId" },
  { op: "ListParts",              method: "GET",    target: "object", query: "uploadId" },
  { op: "ListMultipartUploads",   method: "GET",    target: "bucket", query: "uploads" },

  // -- listing ---------------------------------------------------------------------------------
  { op: "ListObjects",            method: "GET",    target: "bucket" },
  { op: "ListObjectsV2",          method: "GET",    target: "bucket", queryAll: ["list-type=2"] },
  { op: "ListObjectVersions",     method: "GET",    target: "bucket", query: "versions" },

  // -- CORS preflight --------------------------------------------------------------------------
  { op: "OptionsObject",          method: "OPTIONS", target: "object" },
  { op: "OptionsObject",          method: "OPTIONS", target: "bucket" },

  // -- bucket configuration (all target the bucket) --------------------------------------------
  { op: "GetBucketAcl",                              method: "GET",    target: "bucket", query: "acl" },
  { op: "PutBucketAcl",                              method: "PUT",    target: "bucket", query: "acl" },
  { op: "GetBucketAbac",                             method: "GET",    target: "bucket", query: "abac" },
  { op: "PutBucketAbac",                             method: "PUT",    target: "bucket", query: "abac" },
  { op: "GetBucketAccelerateConfiguration",          method: "GET",    target: "bucket", query: "accelerate" },
  { op: "PutBucketAccelerateConfiguration",          method: "PUT",    target: "bucket", query: "accelerate" },
  // The four id-addressed configuration kinds: with ?id it is one configuration, without it a list.
  { op: "GetBucketAnalyticsConfiguration",           method: "GET",    target: "bucket", query: "analytics", queryAll: ["id"] },
  { op: "ListBucketAnalyticsConfigurations",         method: "GET",    target: "bucket", query: "analytics" },
  { op: "PutBucketAnalyticsConfiguration",           method: "PUT",    target: "bucket", query: "analytics" },
  { op: "DeleteBucketAnalyticsConfiguration",        method: "DELETE", target: "bucket", query: "analytics" },
  { op: "GetBucketIntelligentTieringConfiguration",  method: "GET",    target: "bucket", query: "intelligent-tiering", queryAll: ["id"] },
  { op: "ListBucketIntelligentTieringConfigurations", method: "GET",   target: "bucket", query: "intelligent-tiering" },
  { op: "PutBucketIntelligentTieringConfiguration",  method: "PUT",    target: "bucket", query: "intelligent-tiering" },
  { op: "DeleteBucketIntelligentTieringConfiguration", method: "DELETE", target: "bucket", query: "intelligent-tiering" },
  { op: "GetBucketInventoryConfiguration",           method: "GET",    target: "bucket", query: "inventory", queryAll: ["id"] },
  { op: "ListBucketInventoryConfigurations",         method: "GET",    target: "bucket", query: "inventory" },
  { op: "PutBucketInventoryConfiguration",           method: "PUT",    target: "bucket", query: "inventory" },
  { op: "DeleteBucketInventoryConfiguration",        method: "DELETE", target: "bucket", query: "inventory" },
  { op: "GetBucketMetricsConfiguration",             method: "GET",    target: "bucket", query: "metrics", queryAll: ["id"] },
  { op: "ListBucketMetricsConfigurations",           method: "GET",    target: "bucket", query: "metrics" },
  { op: "PutBucketMetricsConfiguration",             method: "PUT",    target: "bucket", query: "metrics" },
  { op: "DeleteBucketMetricsConfiguration",          method: "DELETE", target: "bucket", query: "metrics" },
  { op: "GetBucketCors",                             method: "GET",    target: "bucket", query: "cors" },
  { op: "PutBucketCors",                             method: "PUT",    target: "bucket", query: "cors" },
  { op: "DeleteBucketCors",                          method: "DELETE", target: "bucket", query: "cors" },
  { op: "GetBucketEncryption",                       method: "GET",    target: "bucket", query: "encryption" },
  { op: "PutBucketEncryption",                       method: "PUT",    target: "bucket", query: "encryption" },
  { op: "DeleteBucketEncryption",                    method: "DELETE", target: "bucket", query: "encryption" },
  { op: "GetBucketLifecycleConfiguration",           method: "GET",    target: "bucket", query: "lifecycle" },
  { op: "PutBucketLifecycleConfiguration",           method: "PUT",    target: "bucket", query: "lifecycle" },
  { op: "DeleteBucketLifecycle",                     method: "DELETE", target: "bucket", query: "lifecycle" },
  { op: "GetBucketLogging",                          method: "GET",    target: "bucket", query: "logging" },
  { op: "PutBucketLogging",                          method: "PUT",    target: "bucket", query: "logging" },
  { op: "CreateBucketMetadataConfiguration",         method: "POST",   target: "bucket", query: "metadataConfiguration" },
  { op: "GetBucketMetadataConfiguration",            method: "GET",    target: "bucket", query: "metadataConfiguration" },
  { op: "DeleteBucketMetadataConfiguration",         method: "DELETE", target: "bucket", query: "metadataConfiguration" },
  { op: "CreateBucketMetadataTableConfiguration",    method: "POST",   target: "bucket", query: "metadataTable" },
  { op: "GetBucketMetadataTableConfiguration",       method: "GET",    target: "bucket", query: "metadataTable" },
  { op: "DeleteBucketMetadataTableConfiguration",    method: "DELETE", target: "bucket", query: "metadataTable" },
  { op: "UpdateBucketMetadataInventoryTableConfiguration",  method: "PUT", target: "bucket", query: "metadataInventoryTable" },
  { op: "UpdateBucketMetadataJournalTableConfiguration",    method: "PUT", target: "bucket", query: "metadataJournalTable" },
  { op: "UpdateBucketMetadataAnnotationTableConfiguration", method: "PUT", target: "bucket", query: "metadataAnnotationTable" },
  { op: "GetBucketNotificationConfiguration",        method: "GET",    target: "bucket", query: "notification" },
  { op: "PutBucketNotificationConfiguration",        method: "PUT",    target: "bucket", query: "notification" },
  { op: "GetObjectLockConfiguration",                method: "GET",    target: "bucket", query: "object-lock" },
  { op: "PutObjectLockConfiguration",                method: "PUT",    target: "bucket", query: "object-lock" },
  { op: "GetBucketOwnershipControls",                method: "GET",    target: "bucket", query: "ownershipControls" },
  { op: "PutBucketOwnershipControls",                method: "PUT",    target: "bucket", query: "ownershipControls" },
  { op: "DeleteBucketOwnershipControls",             method: "DELETE", target: "bucket", query: "ownershipControls" },
  { op: "GetBucketPolicy",                           method: "GET",    target: "bucket", query: "policy" },
  { op: "PutBucketPolicy",                           method: "PUT",    target: "bucket", query: "policy" },
  { op: "DeleteBucketPolicy",                        method: "DELETE", target: "bucket", query: "policy" },
  { op: "GetBucketPolicyStatus",                     method: "GET",    target: "bucket", query: "policyStatus" },
  { op: "GetPublicAccessBlock",                      method: "GET",    target: "bucket", query: "publicAccessBlock" },
  { op: "PutPublicAccessBlock",                      method: "PUT",    target: "bucket", query: "publicAccessBlock" },
  { op: "DeletePublicAccessBlock",                   method: "DELETE", target: "bucket", query: "publicAccessBlock" },
  { op: "GetBucketReplication",                      method: "GET",    target: "bucket", query: "replication" },
  { op: "PutBucketReplication",                      method: "PUT",    target: "bucket", query: "replication" },
  { op: "DeleteBucketReplication",                   method: "DELETE", target: "bucket", query: "replication" },
  { op: "GetBucketRequestPayment",                   method: "GET",    target: "bucket", query: "requestPayment" },
  { op: "PutBucketRequestPayment",                   method: "PUT",    target: "bucket", query: "requestPayment" },
  { op: "GetBucketTagging",                          method: "GET",    target: "bucket", query: "tagging" },
  { op: "PutBucketTagging",                          method: "PUT",    target: "bucket", query: "tagging" },
  { op: "DeleteBucketTagging",                       method: "DELETE", target: "bucket", query: "tagging" },
  { op: "GetBucketVersioning",                       method: "GET",    target: "bucket", query: "versioning" },
  { op: "PutBucketVersioning",                       method: "PUT",    target: "bucket", query: "versioning" },
  { op: "GetBucketWebsite",                          method: "GET",    target: "bucket", query: "website" },
  { op: "PutBucketWebsite",                          method: "PUT",    target: "bucket", query: "website" },
  { op: "DeleteBucketWebsite",                       method: "DELETE", target: "bucket", query: "website" },

  // -- object configuration --------------------------------------------------------------------
  { op: "GetObjectAcl",           method: "GET",    target: "object", query: "acl" },
  { op: "PutObjectAcl",           method: "PUT",    target: "object", query: "acl" },
  { op: "GetObjectTagging",       method: "GET",    target: "object", query: "tagging" },
  { op: "PutObjectTagging",       method: "PUT",    target: "object", query: "tagging" },
  { op: "DeleteObjectTagging",    method: "DELETE", target: "object", query: "tagging" },
  { op: "GetObjectRetention",     method: "GET",    target: "object", query: "retention" },
  { op: "PutObjectRetention",     method: "PUT",    target: "object", query: "retention" },
  { op: "GetObjectLegalHold",     method: "GET",    target: "object", query: "legal-hold" },
  { op: "PutObjectLegalHold",     method: "PUT",    target: "object", query: "legal-hold" },
  { op: "GetObjectAnnotation",    method: "GET",    target: "object", query: "annotation", queryAll: ["annotationName"] },
  { op: "ListObjectAnnotations",  method: "GET",    target: "object", query: "annotation" },
  { op: "PutObjectAnnotation",    method: "PUT",    target: "object", query: "annotation" },
  { op: "DeleteObjectAnnotation", method: "DELETE", target: "object", query: "annotation" },
  { op: "UpdateObjectEncryption", method: "PUT",    target: "object", query: "encryption" },

  // -- other -----------------------------------------------------------------------------------
  { op: "CreateSession",          method: "GET",    target: "bucket", query: "session" },
  // Object Lambda's callback: POST /WriteGetObjectResponse on a per-route host. Depending on how
  // the host was parsed the path lands as a bucket or as a key, so both shapes are listed; the
  // mandatory routing header is what identifies it.
  { op: "WriteGetObjectResponse", method: "POST",   target: "bucket", header: "x-amz-request-route" },
  { op: "WriteGetObjectResponse", method: "POST",   target: "object", header: "x-amz-request-route" },
]);

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

export interface RequestShape {
  method: string;
  bucket: string | null;
  key: string | null;
  query: QueryParams;
  headers: { get(name: string): string | null };
}

const SUBRESOURCES: ReadonlySet<string> = new Set(
  OPERATION_TABLE.flatMap((row) => (row.query ? [row.query] : [])),
);

const ROWS_BY_METHOD = new Map<string, OperationRow[]>();
for (const row of OPERATION_TABLE) {
  const list = ROWS_BY_METHOD.get(row.method) ?? [];
  list.push(row);
  ROWS_BY_METHOD.set(row.method, list);
}

const NO_QUERY = new URLSearchParams();

function targetOf(r: RequestShape): Target {
  if (!r.bucket) return "service";
  // "/bucket/" reaches us as an empty key; S3 treats it as the bucket itself.
  return r.key ? "object" : "bucket";
}

function hasParam(query: QueryParams, spec: string): boolean {
  const eq = spec.indexOf("=");
  if (eq < 0) return query.has(spec);
  return query.get(spec.slice(0, eq)) === spec.slice(eq + 1);
}

function hasSubresource(query: QueryParams): boolean {
  for (const name of query.keys()) if (SUBRESOURCES.has(name)) return true;
  return false;
}

/** Requirements of `row` that the request does not satisfy (empty = the row matches). */
function missing(row: OperationRow, r: RequestShape): string[] {
  const out: string[] = [];
  if (row.query !== undefined && !r.query.has(row.query)) out.push(`?${row.query}`);
  for (const q of row.queryAll ?? []) if (!hasParam(r.query, q)) out.push(`?${q}`);
  if (row.header !== undefined && r.headers.get(row.header) === null) out.push(`${row.header} header`);
  return out;
}

function score(row: OperationRow): number {
  return (row.query ? 1 : 0) + (row.queryAll?.length ?? 0) + (row.header ? 1 : 0);
}

function candidates(method: string, r: RequestShape): OperationRow[] {
  const target = targetOf(r);
  const bare = !hasSubresource(r.query);
  return (ROWS_BY_METHOD.get(method) ?? []).filter(
    (row) => row.target === target && (row.query !== undefined || bare),
  );
}

/** The same choice as `candidates` + `missing`, without allocating: this runs on every request. */
function resolveAs(method: string, r: RequestShape): OperationName | null {
  const target = targetOf(r);
  let bare: boolean | undefined;
  let best: OperationRow | null = null;
  let bestScore = -1;
  for (const row of ROWS_BY_METHOD.get(method) ?? []) {
    if (row.target !== target) continue;
    if (row.query === undefined) {
      bare ??= !hasSubresource(r.query);
      if (!bare) continue;
    } else if (!r.query.has(row.query)) continue;
    if (row.queryAll && !row.queryAll.every((q) => hasParam(r.query, q))) continue;
    if (row.header !== undefined && r.headers.get(row.header) === null) continue;
    const sc = score(row);
    if (sc > bestScore) {
      best = row;
      bestScore = sc;
    }
  }
  return best?.op ?? null;
}

/**
 * Names the S3 operation a request is, or null when S3 defines none for that method on that
 * resource. The caller should answer null with resolveOperationOrThrow's error (405
 * MethodNotAllowed, or 400 InvalidRequest when a sub-resource is present but incomplete).
 *
 * HEAD is GET without a body: a plain HEAD is HeadBucket / HeadObject; a HEAD on a sub-resource
 * resolves to the read operation GET would (HEAD /b/k?tagging → GetObjectTagging), never to a GET
 * with side effects (CreateSession).
 */
export function resolveOperation(r: RequestShape): OperationName | null {
  const method = r.method.toUpperCase();
  // A preflight carries the query of the request it asks about (?uploadId&partNumber...).
  if (method === "OPTIONS") return resolveAs(method, { ...r, query: NO_QUERY });
  if (method !== "HEAD") return resolveAs(method, r);
  const head = resolveAs("HEAD", r);
  if (head) return head;
  const get = resolveAs("GET", r);
  return get && (get.startsWith("Get") || get.startsWith("List")) ? get : null;
}

/**
 * resolveOperation, with the S3 error for the unresolvable case. A request that names a
 * sub-resource this method supports but lacks its companions (PUT ?uploadId without partNumber,
 * POST ?select without select-type=2, PUT ?renameObject without x-amz-rename-source) is a
 * malformed request (400); anything else is a method the resource does not support (405).
 */
export function resolveOperationOrThrow(r: RequestShape): OperationName {
  const op = resolveOperation(r);
  if (op) return op;
  const method = r.method.toUpperCase();
  const near = candidates(method === "HEAD" ? "GET" : method, r)
    .filter((row) => row.query !== undefined && r.query.has(row.query))
    .map((row) => missing(row, r))
    .sort((a, b) => a.length - b.length)[0];
  if (near && near.length > 0) {
    throw new S3Error("InvalidRequest", `This request is missing required ${near.join(", ")}.`);
  }
  const allowed = ["GET", "HEAD", "PUT", "POST", "DELETE"].filter((m) => resolveOperation({ ...r, method: m }) !== null);
  throw new S3Error(
    "MethodNotAllowed",
    undefined,
    { Method: method, ResourceType: targetOf(r).toUpperCase() },
    { allow: allowed.join(", ") },
  );
}
