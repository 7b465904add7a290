// Conditional requests, in the order S3 (and RFC 9110 §13.2.2) evaluates them: If-Match, then
// If-Unmodified-Since only without If-Match; If-None-Match, then If-Modified-Since only without
// If-None-Match. Dates compare in whole seconds, the resolution of Last-Modified.
import { S3Error } from "../errors.ts";
import type { WriteConditions } from "../storage/types.ts";

export interface ConditionHeaders {
  ifMatch: string | null;
  ifNoneMatch: string | null;
  ifModifiedSince: string | null;
  ifUnmodifiedSince: string | null;
}

function parseDate(v: string | null): number | null {
  if (v === null) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.floor(t / 1000);
}

export type ConditionResult = "ok" | "not-modified" | "precondition-failed";

export function evaluateConditions(c: ConditionHeaders, etag: string, lastModified: Date): ConditionResult {
  const modified = Math.floor(lastModified.getTime() / 1000);
  if (c.ifMatch !== null) {
    if (!etagMatches(c.ifMatch, etag)) return "precondition-failed";
  } else {
    const since = parseDate(c.ifUnmodifiedSince);
    if (since !== null && modified > since) return "precondition-failed";
  }
  if (c.ifNoneMatch !== null) {
    if (etagMatches(c.ifNoneMatch, etag)) return "not-modified";
  } else {
    const since = parseDate(c.ifModifiedSince);
    if (since !== null && modified <= since) return "not-modified";
  }
  return "ok";
}

export function readConditions(h: Headers, prefix = ""): ConditionHeaders {
  return {
    ifMatch: h.get(prefix + "if-match"),
    ifNoneMatch: h.get(prefix + "if-none-match"),
    ifModifiedSince: h.get(prefix + "if-modified-since"),
    ifUnmodifiedSince: h.get(prefix + "if-unmodified-since"),
  };
}


/** Whether an If-Match / If-None-Match value (a list of ETags, weak or strong, or `*`) names `etag`. */
export function etagMatches(condition: string, etag: string): boolean {
  const bare = etag.replace(/^"|"$/g, "");
  return condition
    .split(",")
    .map((s) => s.trim().replace(/^W\//, "").replace(/^"|"$/g, ""))
    .some((c) => c === "*" || c === bare);
}

/**
 * A write's If-Match and If-None-Match (an ETag list or `*`), for the store to check against the
 * object at the key atomically with its commit: If-Match on nothing is NoSuchKey, as S3 answers;
 * a matching If-None-Match is 412.
 */
export function writeConditions(key: string, ifMatch: string | undefined, ifNoneMatch: string | undefined): WriteConditions {
  if (ifMatch === undefined && ifNoneMatch === undefined) return {};
  return {
    exclusive: ifNoneMatch === "*",
    check: (current) => {
      if (ifMatch !== undefined) {
        if (!current) throw new S3Error("NoSuchKey", undefined, { Key: key });
        if (!etagMatches(ifMatch, current.etag)) throw new S3Error("PreconditionFailed", undefined, { Condition: "If-Match" });
      }
      if (ifNoneMatch !== undefined && current && etagMatches(ifNoneMatch, current.etag)) {
        throw new S3Error("PreconditionFailed", undefined, { Condition: "If-None-Match" });
      }
    },
  };
}
