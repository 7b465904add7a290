// A policy document (JSON) → Policy, or a PolicyError carrying the message S3 answers with
// MalformedPolicy (IAM's API maps the same error to MalformedPolicyDocument). Checks what S3
// checks: shape, Effect, Version, principals, that actions exist and resources are ARNs (a bucket
// policy's must be its own bucket), operators and condition keys.
import { OPERATORS, parseOperator } from "./conditions.ts";
import type { ConditionClause, Policy, PrincipalSet, Statement } from "./types.ts";
import { wildcardMatch } from "./wildcard.ts";

export class PolicyError extends Error {}

export type ResourceKind = "bucket" | "object" | "account";

export interface ParseOptions {
  /** "bucket": a resource policy on `bucket`; "identity": a user's inline policy (no Principal). */
  kind: "bucket" | "identity";
  bucket?: string;
  /** S3 actions (lower-cased) and what each acts on, for "Policy has invalid action". */
  s3Actions: ReadonlyMap<string, ResourceKind>;
  /** The largest document accepted, in bytes (S3: 20 KiB for a bucket policy). */
  maxBytes?: number;
}

const MESSAGES = {
  firstByte: "Policies must be valid JSON and the first byte must be '{'",
  json: "This policy contains invalid Json",
  statement: "Missing required field Statement",
  emptyStatement: "Could not parse the policy: Statement is empty!",
  version: "The policy must contain a valid version string",
  principal: "Invalid principal in policy",
  action: "Policy has invalid action",
  resource: "Policy has invalid resource",
  noResource: "Action does not apply to any resource(s) in statement",
  conditionKey: "Policy has an invalid condition key",
};

const TOP_FIELDS = new Set(["Version", "Id", "Statement"]);
const STATEMENT_FIELDS = new Set(["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"]);

/** Global keys (aws:…) this gateway can be asked about or that a policy may harmlessly name. */
const GLOBAL_KEYS = new Set(
  [
    "aws:SourceIp", "aws:SecureTransport", "aws:CurrentTime", "aws:EpochTime", "aws:username", "aws:userid",
    "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType", "aws:Referer", "aws:UserAgent",
    "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp",
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths",
    "aws:RequestedRegion", "aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge", "aws:TagKeys",
    "aws:ViaAWSService", "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:TokenIssueTime", "aws:SourceOrgID", "aws:SourceOrgPaths",
  ].map((k) => k.toLowerCase()),
);
const GLOBAL_PREFIXES = ["aws:principaltag/", "aws:requesttag/", "aws:resourcetag/"];
const S3_KEYS = new Set(
  [
    "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:x-amz-acl", "s3:x-amz-grant-read", "s3:x-amz-grant-write",
    "s3:x-amz-grant-read-acp", "s3:x-amz-grant-write-acp", "s3:x-amz-grant-full-control", "s3:RequestObjectTagKeys",
    "s3:object-lock-mode", "s3:object-lock-retain-until-date", "s3:object-lock-remaining-retention-days",
    "s3:object-lock-legal-hold", "s3:signatureversion", "s3:authType", "s3:x-amz-content-sha256", "s3:signatureAge",
    "s3:TlsVersion", "s3:VersionId", "s3:x-amz-copy-source", "s3:x-amz-metadata-directive",
    "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-server-side-encryption-customer-algorithm", "s3:x-amz-storage-class", "s3:x-amz-website-redirect-location",
    "s3:LocationConstraint", "s3:ResourceAccount", "s3:AccessPointNetworkOrigin", "s3:DataAccessPointArn",
    "s3:DataAccessPointAccount", "s3:ExistingJobPriority", "s3:ExistingJobOperation", "s3:JobSuspendedCause",
    "s3:RequestJobOperation", "s3:RequestJobPriority", "s3:if-match", "s3:if-none-match", "s3:x-amz-object-ownership",
    "s3:object-lock-legal-hold", "s3:object-lock-mode", "s3:ObjectCreationOperation",
  ].map((k) => k.toLowerCase()),
);
const S3_PREFIXES = ["s3:existingobjecttag/", "s3:requestobjecttag/", "s3:buckettag/"];

function validKey(key: string, kind: ParseOptions["kind"]): boolean {
  const k = key.toLowerCase();
  if (GLOBAL_KEYS.has(k) || S3_KEYS.has(k)) return true;
  if ([...GLOBAL_PREFIXES, ...S3_PREFIXES].some((p) => k.startsWith(p) && k.length > p.length)) return true;
  // A user's policy may also speak of other services' keys, which never match a request here.
  return kind === "identity" && /^[a-z0-9-]+:[^\s]+$/i.test(key) && !k.startsWith("s3:") && !k.startsWith("aws:");
}

function fail(message: string): never {
  throw new PolicyError(message);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: Json | undefined): v is { [k: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

/** A string or a non-empty array of strings (Action, Resource, principal lists, condition values). */
function strings(v: Json | undefined, message: string, allowScalars = false): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) fail(message);
  return list.map((x) => {
    if (typeof x === "string") return x;
    if (allowScalars && (typeof x === "number" || typeof x === "boolean")) return String(x);
    return fail(message);
  });
}

/** A 12-digit account, an account root ARN, or a user ARN (with an optional path). */
const ACCOUNT = /^\d{12}$/;
const IAM_ARN = /^arn:aws:iam::(\d{12}):(root|user\/[\w+=,.@\/-]{1,512}|role\/[\w+=,.@\/-]{1,512}|assumed-role\/[\w+=,.@\/-]+)$/;
const CANONICAL = /^[0-9a-f]{64}$/i;
/** An IAM user's unique ID, as GetBucketPolicy shows a principal whose user is gone. */
export const UNIQUE_ID = /^AIDA[A-Z0-9]{17}$/;

function parsePrincipal(v: Json | undefined): PrincipalSet {
  if (v === "*") return { any: true, aws: [], canonical: [], ids: [], other: [] };
  if (!isObject(v) || Object.keys(v).length === 0) fail(MESSAGES.principal);
  const set: PrincipalSet = { any: false, aws: [], canonical: [], ids: [], other: [] };
  for (const [type, value] of Object.entries(v)) {
    const list = strings(value, MESSAGES.principal);
    if (type === "AWS") {
      for (const p of list) {
        if (p === "*") set.any = true;
        else if (ACCOUNT.test(p) || IAM_ARN.test(p)) set.aws.push(p);
        else if (UNIQUE_ID.test(p)) set.ids.push(p);
        else fail(MESSAGES.principal);
      }
    } else if (type === "CanonicalUser") {
      for (const p of list) {
        if (!CANONICAL.test(p)) fail(MESSAGES.principal);
        set.canonical.push(p.toLowerCase());
      }
    } else if (type === "Service" || type === "Federated") {
      set.other.push(...list);
    } else {
      fail(MESSAGES.principal);
    }
  }
  return set;
}

function checkAction(a: string, kinds: Set<ResourceKind>, opts: ParseOptions): void {
  if (a === "*") {
    kinds.add("bucket").add("object").add("account");
    return;
  }
  const colon = a.indexOf(":");
  if (colon <= 0 || colon === a.length - 1) fail(MESSAGES.action);
  const service = a.slice(0, colon).toLowerCase();
  if (service === "s3") {
    let any = false;
    for (const [name, on] of opts.s3Actions) {
      if (wildcardMatch(a, name, true)) {
        any = true;
        kinds.add(on);
      }
    }
    if (!any) fail(MESSAGES.action);
    return;
  }
  // A bucket policy speaks only of S3; a user's policy may name other services (never matched here).
  if (opts.kind === "bucket" || !/^[a-z0-9-]+$/.test(service)) fail(MESSAGES.action);
  kinds.add("bucket").add("object").add("account");
}

/** What a resource pattern can name: the bucket, objects in it, or (for `*`) anything. */
function checkResource(r: string, opts: ParseOptions): ResourceKind[] {
  if (r === "*") {
    if (opts.kind === "bucket") fail(MESSAGES.resource);
    return ["bucket", "object", "account"];
  }
  const m = /^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$/.exec(r);
  if (!m) fail(MESSAGES.resource);
  const [, partition, service, region, account, rest] = m;
  if (service !== "s3" || rest === "") {
    if (opts.kind === "bucket") fail(MESSAGES.resource);
    return ["bucket", "object", "account"];
  }
  if (!wildcardMatch(partition, "aws") || region !== "" || account !== "") fail(MESSAGES.resource);
  const slash = rest.indexOf("/");
  const bucketPart = slash < 0 ? rest : rest.slice(0, slash);
  if (opts.kind === "bucket" && opts.bucket !== undefined && !wildcardMatch(bucketPart, opts.bucket)) fail(MESSAGES.resource);
  if (slash >= 0) return ["object"];
  // arn:aws:s3:::b* names buckets and, through the star, objects as well.
  return rest.endsWith("*") ? ["bucket", "object"] : ["bucket"];
}

function parseConditions(v: Json | undefined, opts: ParseOptions): ConditionClause[] {
  if (v === undefined) return [];
  if (!isObject(v)) fail("Policy has an invalid condition block");
  const out: ConditionClause[] = [];
  for (const [opText, block] of Object.entries(v)) {
    const op = parseOperator(opText);
    if (!op) fail(`Invalid Condition type : ${opText}`);
    if (!isObject(block) || Object.keys(block).length === 0) fail("Policy has an invalid condition block");
    for (const [key, values] of Object.entries(block)) {
      if (!validKey(key, opts.kind)) fail(MESSAGES.conditionKey);
      const list = strings(values, "Policy has an invalid condition block", true);
      const valid = OPERATORS[op.operator].valid;
      if (valid) for (const x of list) if (!valid(x)) fail(`Invalid value for condition ${opText}: ${x}`);
      out.push({ ...op, key, values: list });
    }
  }
  return out;
}

function parseStatement(v: Json, opts: ParseOptions): Statement {
  if (!isObject(v)) fail(MESSAGES.json);
  for (const k of Object.keys(v)) if (!STATEMENT_FIELDS.has(k)) fail(`Unknown field ${k}`);
  const s: Statement = { effect: "Allow", conditions: [] };
  if (v.Sid !== undefined) {
    if (typeof v.Sid !== "string") fail(MESSAGES.json);
    s.sid = v.Sid;
  }
  if (v.Effect === undefined) fail("Missing required field Effect");
  if (v.Effect !== "Allow" && v.Effect !== "Deny") fail(`Invalid effect: ${typeof v.Effect === "string" ? v.Effect : JSON.stringify(v.Effect)}`);
  s.effect = v.Effect;

  const hasPrincipal = v.Principal !== undefined || v.NotPrincipal !== undefined;
  if (opts.kind === "identity" && hasPrincipal) fail("Policy document should not specify a principal.");
  if (opts.kind === "bucket") {
    if (!hasPrincipal) fail("Missing required field Principal");
    if (v.Principal !== undefined && v.NotPrincipal !== undefined) fail("Statement cannot contain both Principal and NotPrincipal");
    if (v.Principal !== undefined) s.principal = parsePrincipal(v.Principal);
    else s.notPrincipal = parsePrincipal(v.NotPrincipal);
  }

  if (v.Action !== undefined && v.NotAction !== undefined) fail("Statement cannot contain both Action and NotAction");
  if (v.Action === undefined && v.NotAction === undefined) fail("Missing required field Action");
  const actionKinds = new Set<ResourceKind>();
  if (v.Action !== undefined) s.actions = strings(v.Action, MESSAGES.action);
  else s.notActions = strings(v.NotAction, MESSAGES.action);
  for (const a of s.actions ?? s.notActions ?? []) checkAction(a, actionKinds, opts);
  // Actions compare without regard to case: lower-cased once here, not on every request.
  if (s.actions) s.actions = s.actions.map((a) => a.toLowerCase());
  if (s.notActions) s.notActions = s.notActions.map((a) => a.toLowerCase());
  // NotAction can leave any action: it applies to every kind of resource.
  if (s.notActions) actionKinds.add("bucket").add("object").add("account");

  if (v.Resource !== undefined && v.NotResource !== undefined) fail("Statement cannot contain both Resource and NotResource");
  if (v.Resource === undefined && v.NotResource === undefined) fail("Missing required field Resource");
  if (v.Resource !== undefined) s.resources = strings(v.Resource, MESSAGES.resource);
  else s.notResources = strings(v.NotResource, MESSAGES.resource);
  const resourceKinds = new Set<ResourceKind>();
  for (const r of s.resources ?? s.notResources ?? []) for (const k of checkResource(r, opts)) resourceKinds.add(k);
  if (s.notResources) resourceKinds.add("bucket").add("object").add("account");
  if (![...actionKinds].some((k) => resourceKinds.has(k))) fail(MESSAGES.noResource);

  s.conditions = parseConditions(v.Condition, opts);
  return s;
}

/** Parses and checks a policy document; throws PolicyError with S3's message when it is malformed. */
export function parsePolicy(text: string, opts: ParseOptions): Policy {
  if (opts.maxBytes !== undefined && Buffer.byteLength(text) > opts.maxBytes) fail("Policy exceeds the maximum allowed document size.");
  if (text.trimStart()[0] !== "{") fail(MESSAGES.firstByte);
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch {
    fail(MESSAGES.json);
  }
  if (!isObject(doc)) fail(MESSAGES.json);
  for (const k of Object.keys(doc)) if (!TOP_FIELDS.has(k)) fail(`Unknown field ${k}`);
  let version: Policy["version"] = "2008-10-17";
  if (doc.Version !== undefined) {
    if (doc.Version !== "2012-10-17" && doc.Version !== "2008-10-17") fail(MESSAGES.version);
    version = doc.Version;
  }
  if (doc.Statement === undefined) fail(MESSAGES.statement);
  const list = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (list.length === 0) fail(MESSAGES.emptyStatement);
  const statements = list.map((s) => parseStatement(s, opts));
  const sids = statements.flatMap((s) => (s.sid ? [s.sid] : []));
  if (new Set(sids).size !== sids.length) fail("Statement IDs (SID) in a single policy must be unique.");
  const policy: Policy = { version, statements };
  if (doc.Id !== undefined) {
    if (typeof doc.Id !== "string") fail(MESSAGES.json);
    policy.id = doc.Id;
  }
  return policy;
}
