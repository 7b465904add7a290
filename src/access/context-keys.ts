// The request context a policy's conditions read (IAM's global keys and S3's own), computed
// only when a condition asks: most requests meet no condition, and some keys cost I/O
// (s3:ExistingObjectTag reads the object's record) or a syscall (aws:SourceIp).
import type { S3Context } from "../s3/context.ts";
import { decodeTags } from "../s3/tags.ts";
import type { AccessCheck } from "./authorize.ts";
import type { ConditionContext } from "./policy/index.ts";
import { ACCOUNT_ID, type Principal } from "./principal.ts";

/** Request headers S3 offers as condition keys of the same name (s3:x-amz-acl, …). */
const HEADER_KEYS = new Set([
  "x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-grant-full-control",
  "x-amz-content-sha256", "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-server-side-encryption",
  "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-server-side-encryption-customer-algorithm", "x-amz-storage-class",
  "x-amz-website-redirect-location", "x-amz-object-ownership",
]);
const LIST_PARAMS = new Set(["prefix", "delimiter", "max-keys"]);
const LIST_OPS = new Set(["ListObjects", "ListObjectsV2", "ListObjectVersions", "HeadBucket"]);

const one = (v: string | null | undefined): readonly string[] | undefined => (v === null || v === undefined ? undefined : [v]);

function tagsFromHeader(h: Headers): Map<string, string> | null {
  const raw = h.get("x-amz-tagging");
  if (raw === null) return null;
  return new Map(new URLSearchParams(raw));
}

export function requestContext(ctx: S3Context, principal: Principal, check: AccessCheck): ConditionContext {
  const cache = new Map<string, readonly string[] | undefined>();
  let existingTags: Map<string, string> | null | undefined;
  const existing = () => {
    if (existingTags !== undefined) return existingTags;
    existingTags = null;
    if (check.bucket && check.key) {
      try {
        const info = ctx.services.store.headObject(check.bucket, check.key, check.versionId !== undefined ? { versionId: check.versionId } : undefined);
        existingTags = new Map(decodeTags(info.meta?.tags));
      } catch {
        // No object (yet): the key is absent, as on AWS.
      }
    }
    return existingTags;
  };
  const compute = (asked: string): readonly string[] | undefined => {
    const key = asked.toLowerCase();
    const h = ctx.headers;
    const user = principal.kind === "user" ? principal : null;
    switch (key) {
      case "aws:sourceip":
        return one(ctx.remote?.());
      case "aws:securetransport":
        return [String(ctx.services.config.tls !== null)];
      case "aws:currenttime":
        return [new Date().toISOString().replace(/\.\d{3}Z$/, "Z")];
      case "aws:epochtime":
        return [String(Math.floor(Date.now() / 1000))];
      case "aws:username":
        return one(user?.name);
      case "aws:userid":
        // IAM's unique ID (AIDA…) for a user, as on AWS.
        return [user ? user.userId : "anonymous"];
      case "aws:principalarn":
        return one(user?.arn);
      case "aws:principalaccount":
        return user ? [ACCOUNT_ID] : undefined;
      case "aws:principaltype":
        return [user ? "User" : "Anonymous"];
      case "aws:referer":
        return one(h.get("referer"));
      case "aws:useragent":
        return one(h.get("user-agent"));
      case "s3:signatureversion":
        if (!user) return undefined;
        return [ctx.auth.scope ? "AWS4-HMAC-SHA256" : "AWS"];
      case "s3:authtype":
        if (!user) return undefined;
        return [ctx.op === "PostObject" ? "POST" : ctx.auth.presigned ? "REST-QUERY-STRING" : "REST-HEADER"];
      case "s3:versionid":
        return one(check.versionId ?? ctx.query.get("versionId"));
      case "s3:requestobjecttagkeys": {
        const tags = tagsFromHeader(h);
        return tags ? [...tags.keys()] : undefined;
      }
      case "s3:object-lock-mode":
        return one(h.get("x-amz-object-lock-mode"));
      case "s3:object-lock-retain-until-date":
        return one(h.get("x-amz-object-lock-retain-until-date"));
      case "s3:object-lock-legal-hold":
        return one(h.get("x-amz-object-lock-legal-hold"));
      case "s3:object-lock-remaining-retention-days": {
        const until = Date.parse(h.get("x-amz-object-lock-retain-until-date") ?? "");
        return Number.isNaN(until) ? undefined : [String(Math.max(0, Math.ceil((until - Date.now()) / 86_400_000)))];
      }
    }
    // Tag keys are case-sensitive: the part after the slash is used as written.
    if (key.startsWith("s3:existingobjecttag/")) return one(existing()?.get(asked.slice(asked.indexOf("/") + 1)));
    if (key.startsWith("s3:requestobjecttag/")) return one(tagsFromHeader(h)?.get(asked.slice(asked.indexOf("/") + 1)));
    if (key.startsWith("s3:")) {
      const name = key.slice(3);
      if (LIST_PARAMS.has(name)) return LIST_OPS.has(ctx.op) ? one(ctx.query.get(name)) : undefined;
      if (HEADER_KEYS.has(name)) return one(h.get(name));
    }
    return undefined;
  };
  return {
    get(key) {
      if (!cache.has(key)) cache.set(key, compute(key));
      return cache.get(key);
    },
  };
}
