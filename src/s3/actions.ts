// The access table: which IAM action(s) each S3 operation needs, on which resource. It sits beside
// the operation table (operations.ts) so the two are read together: every OperationName has one
// row here (a test checks), and authorization (src/access/authorize.ts) reads nothing else.
//
// Source: the Service Authorization Reference for Amazon S3 ("Actions defined by Amazon S3") and
// the "Required permissions" of each operation in the S3 API Reference. Where an operation is
// newer than both, its action is named after it (s3:<Operation>).
import type { OperationName } from "./operations.ts";

/** What an action acts on: the bucket's ARN, an object's ARN, or nothing in a bucket ("*"). */
export type ResourceKind = "bucket" | "object" | "account";

export interface ActionRow {
  /** service:Action; null for the CORS preflight, which is never authorized (it reveals only CORS rules). */
  action: string | null;
  on: ResourceKind;
}

const b = (action: string): ActionRow => ({ action: `s3:${action}`, on: "bucket" });
const o = (action: string): ActionRow => ({ action: `s3:${action}`, on: "object" });

export const OPERATION_ACTIONS: Readonly<Record<OperationName, ActionRow>> = Object.freeze({
  ListBuckets: { action: "s3:ListAllMyBuckets", on: "account" },
  ListDirectoryBuckets: { action: "s3express:ListAllMyDirectoryBuckets", on: "account" },
  CreateBucket: b("CreateBucket"),
  DeleteBucket: b("DeleteBucket"),
  HeadBucket: b("ListBucket"),
  GetBucketLocation: b("GetBucketLocation"),

  GetObject: o("GetObject"),
  HeadObject: o("GetObject"),
  PutObject: o("PutObject"),
  // Also s3:GetObject on the source: see extraChecks.
  CopyObject: o("PutObject"),
  // The key comes from the form: the handler asks once the signed policy is verified.
  PostObject: o("PutObject"),
  DeleteObject: o("DeleteObject"),
  // s3:DeleteObject on each key, asked by the handler per key (a refused key is a per-key error).
  DeleteObjects: o("DeleteObject"),
  RenameObject: o("RenameObject"),
  RestoreObject: o("RestoreObject"),
  SelectObjectContent: o("GetObject"),
  GetObjectAttributes: o("GetObjectAttributes"),
  GetObjectTorrent: o("GetObjectTorrent"),

  CreateMultipartUpload: o("PutObject"),
  UploadPart: o("PutObject"),
  UploadPartCopy: o("PutObject"),
  CompleteMultipartUpload: o("PutObject"),
  AbortMultipartUpload: o("AbortMultipartUpload"),
  ListParts: o("ListMultipartUploadParts"),
  ListMultipartUploads: b("ListBucketMultipartUploads"),

  ListObjects: b("ListBucket"),
  ListObjectsV2: b("ListBucket"),
  ListObjectVersions: b("ListBucketVersions"),

  GetBucketAcl: b("GetBucketAcl"),
  PutBucketAcl: b("PutBucketAcl"),
  GetBucketAbac: b("GetBucketABAC"),
  PutBucketAbac: b("PutBucketABAC"),
  GetBucketAccelerateConfiguration: b("GetAccelerateConfiguration"),
  PutBucketAccelerateConfiguration: b("PutAccelerateConfiguration"),
  GetBucketAnalyticsConfiguration: b("GetAnalyticsConfiguration"),
  ListBucketAnalyticsConfigurations: b("GetAnalyticsConfiguration"),
  PutBucketAnalyticsConfiguration: b("PutAnalyticsConfiguration"),
  DeleteBucketAnalyticsConfiguration: b("PutAnalyticsConfiguration"),
  GetBucketCors: b("GetBucketCORS"),
  PutBucketCors: b("PutBucketCORS"),
  DeleteBucketCors: b("PutBucketCORS"),
  GetBucketEncryption: b("GetEncryptionConfiguration"),
  PutBucketEncryption: b("PutEncryptionConfiguration"),
  DeleteBucketEncryption: b("PutEncryptionConfiguration"),
  GetBucketIntelligentTieringConfiguration: b("GetIntelligentTieringConfiguration"),
  ListBucketIntelligentTieringConfigurations: b("GetIntelligentTieringConfiguration"),
  PutBucketIntelligentTieringConfiguration: b("PutIntelligentTieringConfiguration"),
  DeleteBucketIntelligentTieringConfiguration: b("PutIntelligentTieringConfiguration"),
  GetBucketInventoryConfiguration: b("GetInventoryConfiguration"),
  ListBucketInventoryConfigurations: b("GetInventoryConfiguration"),
  PutBucketInventoryConfiguration: b("PutInventoryConfiguration"),
  DeleteBucketInventoryConfiguration: b("PutInventoryConfiguration"),
  GetBucketLifecycleConfiguration: b("GetLifecycleConfiguration"),
  PutBucketLifecycleConfiguration: b("PutLifecycleConfiguration"),
  DeleteBucketLifecycle: b("PutLifecycleConfiguration"),
  GetBucketLifecycle: b("GetLifecycleConfiguration"),
  PutBucketLifecycle: b("PutLifecycleConfiguration"),
  GetBucketLogging: b("GetBucketLogging"),
  PutBucketLogging: b("PutBucketLogging"),
  CreateBucketMetadataConfiguration: b("CreateBucketMetadataTableConfiguration"),
  GetBucketMetadataConfiguration: b("GetBucketMetadataTableConfiguration"),
  DeleteBucketMetadataConfiguration: b("DeleteBucketMetadataTableConfiguration"),
  CreateBucketMetadataTableConfiguration: b("CreateBucketMetadataTableConfiguration"),
  GetBucketMetadataTableConfiguration: b("GetBucketMetadataTableConfiguration"),
  DeleteBucketMetadataTableConfiguration: b("DeleteBucketMetadataTableConfiguration"),
  UpdateBucketMetadataInventoryTableConfiguration: b("UpdateBucketMetadataInventoryTableConfiguration"),
  UpdateBucketMetadataJournalTableConfiguration: b("UpdateBucketMetadataJournalTableConfiguration"),
  UpdateBucketMetadataAnnotationTableConfiguration: b("UpdateBucketMetadataAnnotationTableConfiguration"),
  GetBucketMetricsConfiguration: b("GetMetricsConfiguration"),
  ListBucketMetricsConfigurations: b("GetMetricsConfiguration"),
  PutBucketMetricsConfiguration: b("PutMetricsConfiguration"),
  DeleteBucketMetricsConfiguration: b("PutMetricsConfiguration"),
  GetBucketNotificationConfiguration: b("GetBucketNotification"),
  PutBucketNotificationConfiguration: b("PutBucketNotification"),
  GetBucketNotification: b("GetBucketNotification"),
  PutBucketNotification: b("PutBucketNotification"),
  GetObjectLockConfiguration: b("GetBucketObjectLockConfiguration"),
  PutObjectLockConfiguration: b("PutBucketObjectLockConfiguration"),
  GetBucketOwnershipControls: b("GetBucketOwnershipControls"),
  PutBucketOwnershipControls: b("PutBucketOwnershipControls"),
  DeleteBucketOwnershipControls: b("PutBucketOwnershipControls"),
  GetBucketPolicy: b("GetBucketPolicy"),
  PutBucketPolicy: b("PutBucketPolicy"),
  DeleteBucketPolicy: b("DeleteBucketPolicy"),
  GetBucketPolicyStatus: b("GetBucketPolicyStatus"),
  GetPublicAccessBlock: b("GetBucketPublicAccessBlock"),
  PutPublicAccessBlock: b("PutBucketPublicAccessBlock"),
  DeletePublicAccessBlock: b("PutBucketPublicAccessBlock"),
  GetBucketReplication: b("GetReplicationConfiguration"),
  PutBucketReplication: b("PutReplicationConfiguration"),
  DeleteBucketReplication: b("PutReplicationConfiguration"),
  GetBucketRequestPayment: b("GetBucketRequestPayment"),
  PutBucketRequestPayment: b("PutBucketRequestPayment"),
  GetBucketTagging: b("GetBucketTagging"),
  PutBucketTagging: b("PutBucketTagging"),
  DeleteBucketTagging: b("PutBucketTagging"),
  GetBucketVersioning: b("GetBucketVersioning"),
  PutBucketVersioning: b("PutBucketVersioning"),
  GetBucketWebsite: b("GetBucketWebsite"),
  PutBucketWebsite: b("PutBucketWebsite"),
  DeleteBucketWebsite: b("DeleteBucketWebsite"),

  GetObjectAcl: o("GetObjectAcl"),
  PutObjectAcl: o("PutObjectAcl"),
  GetObjectTagging: o("GetObjectTagging"),
  PutObjectTagging: o("PutObjectTagging"),
  DeleteObjectTagging: o("DeleteObjectTagging"),
  GetObjectRetention: o("GetObjectRetention"),
  PutObjectRetention: o("PutObjectRetention"),
  GetObjectLegalHold: o("GetObjectLegalHold"),
  PutObjectLegalHold: o("PutObjectLegalHold"),
  GetObjectAnnotation: o("GetObjectAnnotation"),
  ListObjectAnnotations: o("ListObjectAnnotations"),
  PutObjectAnnotation: o("PutObjectAnnotation"),
  DeleteObjectAnnotation: o("DeleteObjectAnnotation"),
  UpdateObjectEncryption: o("UpdateObjectEncryption"),

  CreateSession: { action: "s3express:CreateSession", on: "bucket" },
  WriteGetObjectResponse: { action: "s3-object-lambda:WriteGetObjectResponse", on: "account" },
  OptionsObject: { action: null, on: "bucket" },
});

/** With ?versionId, these object actions become their version variant (s3:GetObjectVersion, …). */
export const VERSION_ACTIONS: Readonly<Record<string, string>> = Object.freeze({
  "s3:GetObject": "s3:GetObjectVersion",
  "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
  "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
  "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
  "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
  "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
  "s3:DeleteObject": "s3:DeleteObjectVersion",
  "s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
  "s3:GetObjectTorrent": "s3:GetObjectVersionTorrent",
});

/** S3 actions a policy may name that no operation above needs by itself. */
const MORE_ACTIONS: Record<string, ResourceKind> = {
  "s3:BypassGovernanceRetention": "object",
  "s3:ObjectOwnerOverrideToBucketOwner": "object",
  "s3:ReplicateObject": "object",
  "s3:ReplicateDelete": "object",
  "s3:ReplicateTags": "object",
  "s3:PutObjectVersionAcl": "object",
  "s3:GetObjectVersionForReplication": "object",
  "s3:DeleteBucketOwnershipControls": "bucket",
  "s3:GetAccountPublicAccessBlock": "account",
  "s3:PutAccountPublicAccessBlock": "account",
  "s3:ListAccessPoints": "account",
  "s3:CreateJob": "account",
  "s3:ListJobs": "account",
  "s3:GetStorageLensConfiguration": "account",
};

/** Every S3 action a policy may name, lower-cased, with what it acts on. */
export const S3_ACTIONS: ReadonlyMap<string, ResourceKind> = (() => {
  const m = new Map<string, ResourceKind>();
  const add = (action: string, on: ResourceKind) => {
    if (action.startsWith("s3:")) m.set(action.toLowerCase(), on);
  };
  for (const row of Object.values(OPERATION_ACTIONS)) if (row.action) add(row.action, row.on);
  for (const v of Object.values(VERSION_ACTIONS)) add(v, "object");
  for (const [a, on] of Object.entries(MORE_ACTIONS)) add(a, on);
  return m;
})();

/** The ARN an action on `bucket` (and `key`) acts on. */
export function resourceArn(on: ResourceKind, bucket: string | null, key: string | null): string {
  if (on === "account" || !bucket) return "*";
  return on === "object" && key ? `arn:aws:s3:::${bucket}/${key}` : `arn:aws:s3:::${bucket}`;
}
