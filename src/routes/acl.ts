// Object Ownership "BucketOwnerEnforced", as AWS sets it on every new bucket since 2023: ACLs are
// disabled, the bucket owner owns everything, and only ACLs that say exactly that are accepted.
import { S3Error } from "../errors.ts";
import type { Owner, S3Context } from "../s3/context.ts";
import { asArray, parseXml } from "../xml/index.ts";
import { xmlResponse } from "../http/response.ts";
import { readSmallBody } from "../http/request-body.ts";

const GRANT_HEADERS = ["x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-read-acp", "x-amz-grant-write", "x-amz-grant-write-acp"];

/** Canned ACL headers a BucketOwnerEnforced bucket accepts; `allowed` differs for buckets/objects. */
export function checkAclHeaders(headers: Headers, allowed: readonly string[]): void {
  const acl = headers.get("x-amz-acl");
  if (acl !== null && !allowed.includes(acl.trim())) throw new S3Error("AccessControlListNotSupported");
  if (GRANT_HEADERS.some((h) => headers.get(h) !== null)) throw new S3Error("AccessControlListNotSupported");
}

export function ownerXml(owner: Owner) {
  return { ID: owner.id, DisplayName: owner.displayName };
}

export function aclResponse(owner: Owner): Response {
  return xmlResponse("AccessControlPolicy", {
    Owner: ownerXml(owner),
    AccessControlList: {
      Grant: {
        Grantee: {
          "@_xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
          "@_xsi:type": "CanonicalUser",
          ...ownerXml(owner),
        },
        Permission: "FULL_CONTROL",
      },
    },
  });
}

/** PutBucketAcl / PutObjectAcl: only "the owner has full control" can be stored, as on AWS. */
export async function acceptOwnerOnlyAcl(ctx: S3Context, allowedCanned: readonly string[]): Promise<void> {
  checkAclHeaders(ctx.headers, allowedCanned);
  const text = await readSmallBody(ctx, 64 * 1024);
  if (text.trim() === "") {
    if (ctx.headers.get("x-amz-acl") === null) throw new S3Error("MissingSecurityHeader", "Your request was missing a required header: x-amz-acl or an AccessControlPolicy body.");
    return;
  }
  const doc = parseXml(text, "AccessControlPolicy");
  const list = doc.AccessControlList as Record<string, unknown> | undefined;
  const grants = asArray(list?.Grant as Record<string, unknown> | Record<string, unknown>[] | undefined);
  // BucketOwnerEnforced: bucket and object ACLs alike name the bucket owner.
  const ownerId = ctx.services.owners.ownerId(ctx.bucket!);
  const onlyOwner = grants.every((g) => {
    const grantee = g.Grantee as Record<string, unknown> | undefined;
    return String(g.Permission ?? "").trim() === "FULL_CONTROL" && String(grantee?.ID ?? "").trim() === ownerId;
  });
  if (!onlyOwner) throw new S3Error("AccessControlListNotSupported");
}
