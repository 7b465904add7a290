// Object Lock's rules, without I/O: the documents (ObjectLockConfiguration, Retention, LegalHold)
// and headers a client sends, the default retention a new version gets, and whether a version may
// be removed or have its retention changed at a given moment. Handlers read and write the records;
// this module only decides. Codes and messages are AWS's (S3 API reference, and what S3 answers).
import { S3Error } from "../errors.ts";
import { parseXml } from "../xml/index.ts";

import { activeRetention, type LockMode, type LockState, type Retention } from "../storage/retention.ts";

export { activeRetention, isLocked, removalBlock, type LockMode, type LockState, type Retention } from "../storage/retention.ts";

/** The bucket's setting (stored as JSON in the bucket setting `object-lock.json`). */
export interface LockConfig {
  enabled: true;
  rule?: { mode: LockMode; days?: number; years?: number };
}

const MODES: readonly string[] = ["GOVERNANCE", "COMPLIANCE"];
// AWS caps a default retention at 100 years (36,500 days).
const MAX_DAYS = 36500;
const MAX_YEARS = 100;
const DAY_MS = 86_400_000;

/** Message of every refusal a lock causes (mapped from StorageError "ObjectLocked" too). */
export const LOCKED_MESSAGE = "Access Denied because object protected by object lock.";
const MISSING_CONFIG = "Bucket is missing Object Lock Configuration";

function text(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new S3Error("MalformedXML");
  return v.trim();
}

function positive(raw: string, max: number): number {
  if (!/^-?\d+$/.test(raw)) throw new S3Error("MalformedXML");
  const n = Number(raw);
  if (n <= 0) throw new S3Error("InvalidArgument", "Default retention period must be a positive integer value.");
  if (n > max) throw new S3Error("InvalidArgument", `Default retention period is too large.`);
  return n;
}

/** PutObjectLockConfiguration's body. ObjectLockEnabled must say Enabled: a lock cannot be turned off. */
export function parseLockConfigXml(xml: string): LockConfig {
  const doc = parseXml(xml, "ObjectLockConfiguration");
  for (const k of Object.keys(doc)) if (k !== "ObjectLockEnabled" && k !== "Rule" && !k.startsWith("@_")) throw new S3Error("MalformedXML");
  if (text(doc.ObjectLockEnabled) !== "Enabled") throw new S3Error("MalformedXML");
  if (doc.Rule === undefined) return { enabled: true };
  const rule = doc.Rule;
  if (typeof rule !== "object" || rule === null) throw new S3Error("MalformedXML");
  const dr = (rule as Record<string, unknown>).DefaultRetention;
  if (typeof dr !== "object" || dr === null) throw new S3Error("MalformedXML");
  const d = dr as Record<string, unknown>;
  const mode = text(d.Mode);
  if (mode === undefined || !MODES.includes(mode)) throw new S3Error("MalformedXML");
  const days = text(d.Days);
  const years = text(d.Years);
  // Exactly one of the two periods.
  if ((days === undefined) === (years === undefined)) throw new S3Error("MalformedXML");
  const out: LockConfig = { enabled: true, rule: { mode: mode as LockMode } };
  if (days !== undefined) out.rule!.days = positive(days, MAX_DAYS);
  else out.rule!.years = positive(years!, MAX_YEARS);
  return out;
}

/** GetObjectLockConfiguration's body (under <ObjectLockConfiguration>). */
export function lockConfigXml(c: LockConfig): Record<string, unknown> {
  if (!c.rule) return { ObjectLockEnabled: "Enabled" };
  const period = c.rule.days !== undefined ? { Days: c.rule.days } : { Years: c.rule.years };
  return { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: c.rule.mode, ...period } } };
}

/** The stored setting; undefined when the bucket never had Object Lock (or the file is damaged). */
export function decodeLockConfig(stored: string | undefined): LockConfig | undefined {
  if (!stored) return undefined;
  try {
    const c = JSON.parse(stored) as LockConfig;
    return c && c.enabled === true ? c : undefined;
  } catch {
    return undefined;
  }
}

export function encodeLockConfig(c: LockConfig): string {
  return JSON.stringify(c);
}

/** The retention the bucket's default rule gives a version created at `now`. */
export function defaultRetention(c: LockConfig | undefined, now: number): Retention | undefined {
  if (!c?.rule) return undefined;
  const until = new Date(now);
  // Days are 24-hour days; years are calendar years (UTC), so a year from 29 Feb is 1 Mar.
  if (c.rule.days !== undefined) until.setTime(now + c.rule.days * DAY_MS);
  else until.setUTCFullYear(until.getUTCFullYear() + (c.rule.years ?? 0));
  return { mode: c.rule.mode, until: until.toISOString() };
}

/** An ISO 8601 timestamp as S3 accepts it (with a time and a zone), normalised; null if it is none. */
export function parseRetainUntil(raw: string): string | null {
  const v = raw.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(v)) return null;
  // Date.parse takes at most milliseconds: drop digits past them.
  const ms = Date.parse(v.replace(/(\.\d{3})\d+/, "$1"));
  if (Number.isNaN(ms)) return null;
  // Date.parse rolls 2030-02-30 over into March: a calendar date that does not exist is refused.
  const [y, mo, d] = v.slice(0, 10).split("-").map(Number);
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return null;
  return new Date(ms).toISOString();
}

function futureUntil(until: string, now: number, argument: Record<string, string>): void {
  if (Date.parse(until) <= now) throw new S3Error("InvalidArgument", "The retain until date must be in the future!", argument);
}

/**
 * PutObjectRetention's body. `undefined` retention: the document asks to remove it (an empty
 * <Retention/>), which only a governance bypass may do while it is in force.
 */
export function parseRetentionXml(xml: string, now: number): Retention | undefined {
  const doc = parseXml(xml, "Retention");
  for (const k of Object.keys(doc)) if (k !== "Mode" && k !== "RetainUntilDate" && !k.startsWith("@_")) throw new S3Error("MalformedXML");
  const mode = text(doc.Mode);
  const date = text(doc.RetainUntilDate);
  if (mode === undefined && date === undefined) return undefined;
  if (mode === undefined || date === undefined || !MODES.includes(mode)) throw new S3Error("MalformedXML");
  const until = parseRetainUntil(date);
  if (until === null) throw new S3Error("MalformedXML");
  futureUntil(until, now, {});
  return { mode: mode as LockMode, until };
}

/** PutObjectRetention's body as of now: the one parser the access decision and the handler share. */
export function parseRetentionXmlNow(xml: string): Retention | undefined {
  return parseRetentionXml(xml, Date.now());
}

export function retentionXml(r: Retention): Record<string, unknown> {
  return { Mode: r.mode, RetainUntilDate: r.until };
}

/** PutObjectLegalHold's body: ON or OFF. */
export function parseLegalHoldXml(xml: string): boolean {
  const doc = parseXml(xml, "LegalHold");
  const status = text(doc.Status);
  if (status !== "ON" && status !== "OFF") throw new S3Error("MalformedXML");
  return status === "ON";
}

export function legalHoldXml(on: boolean): Record<string, unknown> {
  return { Status: on ? "ON" : "OFF" };
}

/**
 * The x-amz-object-lock-* headers of PutObject, CopyObject, CreateMultipartUpload, PostObject
 * fields: null when none is present. Mode and date come together, the date in the future.
 */
export function lockFromHeaders(h: { get(name: string): string | null }, now: number): LockState | null {
  const mode = h.get("x-amz-object-lock-mode");
  const date = h.get("x-amz-object-lock-retain-until-date");
  const hold = h.get("x-amz-object-lock-legal-hold");
  if (mode === null && date === null && hold === null) return null;
  const out: LockState = {};
  if (mode !== null || date !== null) {
    if (mode === null || date === null) throw new S3Error("InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied");
    if (!MODES.includes(mode)) throw new S3Error("InvalidArgument", "Unknown wormMode directive.", { ArgumentName: "x-amz-object-lock-mode", ArgumentValue: mode });
    const until = parseRetainUntil(date);
    if (until === null) {
      throw new S3Error("InvalidArgument", "The retain until date must be provided in ISO 8601 format", { ArgumentName: "x-amz-object-lock-retain-until-date", ArgumentValue: date });
    }
    futureUntil(until, now, { ArgumentName: "x-amz-object-lock-retain-until-date", ArgumentValue: date });
    out.retention = { mode: mode as LockMode, until };
  }
  if (hold !== null) {
    if (hold !== "ON" && hold !== "OFF") throw new S3Error("InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'", { ArgumentName: "x-amz-object-lock-legal-hold", ArgumentValue: hold });
    out.legalHold = hold === "ON";
  }
  return out;
}

/**
 * What a new version carries: its own headers' lock, or else the bucket's default retention.
 * Refuses lock headers on a bucket without Object Lock, as S3 does.
 */
export function newVersionLock(requested: LockState | null, config: LockConfig | undefined, now: number): LockState {
  if (requested && !config) throw new S3Error("InvalidRequest", MISSING_CONFIG);
  const out: LockState = {};
  const retention = requested?.retention ?? defaultRetention(config, now);
  if (retention) out.retention = retention;
  if (requested?.legalHold !== undefined) out.legalHold = requested.legalHold;
  return out;
}

/** The refusal for a retention or legal-hold operation on a bucket without Object Lock. */
export function requireLockConfig(config: LockConfig | undefined): LockConfig {
  if (!config) throw new S3Error("InvalidRequest", MISSING_CONFIG);
  return config;
}

/**
 * S3 wants a digest with every write that sets a lock (its own headers or the bucket's default
 * rule): Content-MD5, an x-amz-checksum-* value, or a checksum announced for the trailer.
 */
export function requireLockIntegrity(h: { get(name: string): string | null; keys(): Iterable<string> }): void {
  if (h.get("content-md5") !== null) return;
  const trailer = h.get("x-amz-trailer");
  if (trailer !== null && /^\s*x-amz-checksum-/i.test(trailer)) return;
  for (const k of h.keys()) if (k.toLowerCase().startsWith("x-amz-checksum-") && k.toLowerCase() !== "x-amz-checksum-type" && k.toLowerCase() !== "x-amz-checksum-algorithm") return;
  throw new S3Error("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters");
}

/** x-amz-bypass-governance-retention: true. */
export function bypassRequested(h: { get(name: string): string | null }): boolean {
  return h.get("x-amz-bypass-governance-retention")?.trim().toLowerCase() === "true";
}

/**
 * Why a retention change is refused; null: allowed. While a retention is in force its date may
 * only move later in the same mode. Any other change to GOVERNANCE (shortening, removing, or
 * changing its mode, even to COMPLIANCE: AWS counts that as altering the lock settings) takes the
 * bypass, and COMPLIANCE takes nothing at all.
 */
export function retentionChangeBlock(current: Retention | undefined, next: Retention | undefined, bypassGovernance: boolean, now: number): LockMode | null {
  const r = activeRetention({ retention: current }, now);
  if (!r) return null;
  const extended = next !== undefined && next.mode === r.mode && Date.parse(next.until) >= Date.parse(r.until);
  if (extended) return null;
  if (r.mode === "GOVERNANCE" && bypassGovernance) return null;
  return r.mode;
}

/** Response headers of GET and HEAD for a version's lock. */
export function lockHeaders(s: LockState | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (s?.retention) {
    out["x-amz-object-lock-mode"] = s.retention.mode;
    out["x-amz-object-lock-retain-until-date"] = s.retention.until;
  }
  if (s?.legalHold !== undefined) out["x-amz-object-lock-legal-hold"] = s.legalHold ? "ON" : "OFF";
  return out;
}
