// Users with a Unix account (Principal uid/gid): what they write belongs to that account, and with
// --posix-permissions what they may do is also bounded by the mode bits, as in a shell. This module
// says which check each S3 operation needs; the store (storage/posix/permission-check.ts) decides
// it from the tree. The mapping is documented in docs/ARCHITECTURE.md, "Unix accounts".
import type { Principal } from "./principal.ts";
import type { FileOwner, FsAction } from "../storage/types.ts";
import type { S3Context } from "../s3/context.ts";
import { operationFamily, type OperationName } from "../s3/operations.ts";

/** The Unix account files written for `p` belong to; none for anonymous or a user without one. */
export function fileOwnerOf(p: Principal): FileOwner | undefined {
  return p.kind === "user" && p.uid !== undefined && p.gid !== undefined ? { uid: p.uid, gid: p.gid } : undefined;
}

/** Operations whose check is not the family's default (below). */
const FS_ACTIONS: Partial<Record<OperationName, FsAction | "none">> = {
  ListBuckets: "none",
  ListDirectoryBuckets: "none",
  CreateBucket: "create-bucket",
  DeleteBucket: "delete-bucket",
  HeadBucket: "traverse",
  GetBucketLocation: "traverse",
  GetObject: "read",
  HeadObject: "read",
  GetObjectAttributes: "read",
  GetObjectTagging: "read",
  GetObjectAcl: "read",
  GetObjectRetention: "read",
  GetObjectLegalHold: "read",
  PutObject: "write",
  CopyObject: "write",
  PostObject: "write",
  CreateMultipartUpload: "write",
  UploadPart: "write",
  UploadPartCopy: "write",
  CompleteMultipartUpload: "write",
  // Staging lives in the gateway's own area: reaching the bucket is enough to see or drop it.
  AbortMultipartUpload: "traverse",
  ListParts: "traverse",
  ListMultipartUploads: "traverse",
  DeleteObject: "delete",
  // Each key is checked as it is deleted (routes/objects.ts).
  DeleteObjects: "traverse",
  PutObjectTagging: "write-meta",
  DeleteObjectTagging: "write-meta",
  PutObjectAcl: "write-meta",
  PutObjectRetention: "write-meta",
  PutObjectLegalHold: "write-meta",
  ListObjects: "list",
  ListObjectsV2: "list",
  ListObjectVersions: "list",
};

/** The check `op` needs; bucket settings: reading needs the bucket reachable, changing it owned. */
export function fsActionOf(op: OperationName): FsAction | null {
  const a = FS_ACTIONS[op];
  if (a !== undefined) return a === "none" ? null : a;
  if (operationFamily(op) === "bucket-config") return /^(Get|List)/.test(op) ? "traverse" : "configure";
  return null;
}

/** The account whose mode bits bound this request, when --posix-permissions is on and it has one. */
function boundAccount(ctx: S3Context): FileOwner | undefined {
  return ctx.services.config.posixPermissions ? fileOwnerOf(ctx.principal) : undefined;
}

/** --posix-permissions: refuses `action` on `bucket`/`key` when the mode bits refuse it. */
export function checkFsAccess(ctx: S3Context, action: FsAction, bucket: string | null, key: string | null): void {
  const who = boundAccount(ctx);
  if (who) ctx.services.store.checkAccess(who, action, bucket, key);
}

/** The check every request gets before its handler runs (a listing's is on its prefix). */
export function checkRequestFsAccess(ctx: S3Context): void {
  const who = boundAccount(ctx);
  if (!who) return;
  const action = fsActionOf(ctx.op);
  if (action === null) return;
  const key = action === "list" ? (ctx.query.get("prefix") ?? "") : ctx.key;
  ctx.services.store.checkAccess(who, action, ctx.bucket, key);
}

/** The account a listing walks as: directories it cannot read are left out. */
export function listingReader(ctx: S3Context): FileOwner | undefined {
  return boundAccount(ctx);
}
