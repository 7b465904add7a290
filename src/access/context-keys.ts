// The request context a policy's conditions read (IAM's global keys and S3's own), computed
// only when a condition asks: most requests meet no condition, and some keys cost I/O
// (s3:ExistingObjectTag reads the object's record) or a syscall (aws:SourceIp).
import type { S3Context } from "../s3/context.ts";
import { parseLegalHoldXml, parseRetentionXmlNow } from "../s3/object-lock.ts";
import { DOCUMENT_LIMITS, peekDocument } from "../s3/request-document.ts";
import { decodeTags, parseTaggingXml } from "../s3/tags.ts";
import type { AccessCheck } from "./authorize.ts";
import type { ConditionContext, Policy } from "./policy/index.ts";
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

/** The tags a request sets: PutObjectTagging's body (read ahead, request-document.ts), else x-amz-tagging. */
function requestTags(ctx: Pick<S3Context, "op" | "headers" | "document">): Map<string, string> | null {
  if (ctx.op !== "PutObjectTagging") return tagsFromHeader(ctx.headers);
  const tags = peekDocument(ctx, parseTaggingXml);
  return tags ? new Map(tags) : null;
}

/** The Object Lock values a request sets: the bodies of PutObjectRetention and PutObjectLegalHold, else the headers. */
function requestLock(ctx: Pick<S3Context, "op" | "headers" | "document">): { mode?: string; until?: string; hold?: string } {
  if (ctx.op === "PutObjectRetention") {
    const r = peekDocument(ctx, parseRetentionXmlNow);
    return r ? { mode: r.mode, until: r.until } : {};
  }
  if (ctx.op === "PutObjectLegalHold") {
    const on = peekDocument(ctx, parseLegalHoldXml);
    return on === undefined ? {} : { hold: on ? "ON" : "OFF" };
  }
  const h = ctx.headers;
  return { mode: h.get("x-amz-object-lock-mode") ?? undefined, until: h.get("x-amz-object-lock-retain-until-date") ?? undefined, hold: h.get("x-amz-object-lock-legal-hold") ?? undefined };
}

/** Keys whose values come from a request body for the operations of DOCUMENT_LIMITS. */
const BODY_KEY = /^s3:(requestobjecttag|object-lock-)/i;
const asksBodyKeys = new WeakMap<Policy, boolean>();

function policyAsksBodyKeys(p: Policy): boolean {
  let v = asksBodyKeys.get(p);
  if (v === undefined) asksBodyKeys.set(p, (v = p.statements.some((s) => s.conditions.some((c) => BODY_KEY.test(c.key)))));
  return v;
}

/**
 * Whether the access decision will need the request's body: the operation carries condition keys
 * there, and a policy that may apply (the bucket's, the user's own) has a condition on one of them.
 * Otherwise the body is left for the handler, read after the decision as for any operation.
 */
export function documentAsked(ctx: S3Context): boolean {
  if (DOCUMENT_LIMITS[ctx.op] === undefined) return false;
  const access = ctx.services.access;
  const policy = ctx.bucket ? access.bucketPolicy(ctx.bucket) : undefined;
  if (policy && policyAsksBodyKeys(policy)) return true;
  return ctx.principal.kind === "user" && access.userPolicies(ctx.principal).some(policyAsksBodyKeys);
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
        const tags = requestTags(ctx);
        return tags ? [...tags.keys()] : undefined;
      }
      case "s3:object-lock-mode":
        return one(requestLock(ctx).mode);
      case "s3:object-lock-retain-until-date":
        return one(requestLock(ctx).until);
      case "s3:object-lock-legal-hold":
        return one(requestLock(ctx).hold);
      case "s3:object-lock-remaining-retention-days": {
        const until = Date.parse(requestLock(ctx).until ?? "");
        return Number.isNaN(until) ? undefined : [String(Math.max(0, Math.ceil((until - Date.now()) / 86_400_000)))];
      }
    }
    // Tag keys are case-sensitive: the part after the slash is used as written.
    if (key.startsWith("s3:existingobjecttag/")) return one(existing()?.get(asked.slice(asked.indexOf("/") + 1)));
    if (key.startsWith("s3:requestobjecttag/")) return one(requestTags(ctx)?.get(asked.slice(asked.indexOf("/") + 1)));
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
