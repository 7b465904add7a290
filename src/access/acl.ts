// S3 access control lists, as data: the grants a canned ACL, the x-amz-grant-* headers or an
// AccessControlPolicy document stand for, the document rendered back, and whether an ACL grants a
// principal a permission. Pure: who exists is asked of `resolveId`, where an ACL is stored and
// when ACLs apply at all (Object Ownership) is decided by the routes.
import { S3Error } from "../errors.ts";
import { asArray, parseXml } from "../xml/index.ts";
import type { Principal } from "./principal.ts";

export type Permission = "READ" | "WRITE" | "READ_ACP" | "WRITE_ACP" | "FULL_CONTROL";
export const PERMISSIONS: readonly Permission[] = ["FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"];

export const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
export const AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
export const LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery";
const GROUPS = new Set([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]);

/** The canonical user AWS grants READ for `aws-exec-read` (EC2 reading AMI bundles). */
export const EC2_READER = { id: "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c", displayName: "za-team" };

export type Grantee = { type: "CanonicalUser"; id: string; displayName?: string } | { type: "Group"; uri: string };

export interface Grant {
  grantee: Grantee;
  permission: Permission;
}

export interface AclOwner {
  id: string;
  displayName?: string;
}

export interface Acl {
  owner: AclOwner;
  grants: Grant[];
}

export const CANNED_ACLS = [
  "private",
  "public-read",
  "public-read-write",
  "authenticated-read",
  "aws-exec-read",
  "bucket-owner-read",
  "bucket-owner-full-control",
  "log-delivery-write",
] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

export function isCannedAcl(v: string): v is CannedAcl {
  return (CANNED_ACLS as readonly string[]).includes(v);
}

/** The display name of a canonical user ID this gateway knows, or undefined for an unknown one. */
export type ResolveId = (id: string) => { displayName: string } | undefined;

const user = (o: AclOwner): Grantee => ({ type: "CanonicalUser", id: o.id, ...(o.displayName ? { displayName: o.displayName } : {}) });
const group = (uri: string): Grantee => ({ type: "Group", uri });

/**
 * The ACL a canned name stands for. `owner` owns the resource (for an object, its owner under the
 * bucket's Object Ownership); `bucketOwner` matters for the bucket-owner-* names, which on a
 * bucket mean just `private`, as AWS ignores them there.
 */
export function cannedAcl(name: CannedAcl, owner: AclOwner, bucketOwner: AclOwner, forBucket: boolean): Acl {
  const grants: Grant[] = [{ grantee: user(owner), permission: "FULL_CONTROL" }];
  switch (name) {
    case "private":
      break;
    case "public-read":
      grants.push({ grantee: group(ALL_USERS), permission: "READ" });
      break;
    case "public-read-write":
      grants.push({ grantee: group(ALL_USERS), permission: "READ" }, { grantee: group(ALL_USERS), permission: "WRITE" });
      break;
    case "authenticated-read":
      grants.push({ grantee: group(AUTHENTICATED_USERS), permission: "READ" });
      break;
    case "aws-exec-read":
      grants.push({ grantee: user(EC2_READER), permission: "READ" });
      break;
    case "bucket-owner-read":
      if (!forBucket && bucketOwner.id !== owner.id) grants.push({ grantee: user(bucketOwner), permission: "READ" });
      break;
    case "bucket-owner-full-control":
      if (!forBucket && bucketOwner.id !== owner.id) grants.push({ grantee: user(bucketOwner), permission: "FULL_CONTROL" });
      break;
    case "log-delivery-write":
      grants.push({ grantee: group(LOG_DELIVERY), permission: "WRITE" }, { grantee: group(LOG_DELIVERY), permission: "READ_ACP" });
      break;
  }
  return { owner, grants };
}

/** x-amz-grant-* header → the permission it grants. */
export const GRANT_HEADERS: Readonly<Record<string, Permission>> = {
  "x-amz-grant-read": "READ",
  "x-amz-grant-write": "WRITE",
  "x-amz-grant-read-acp": "READ_ACP",
  "x-amz-grant-write-acp": "WRITE_ACP",
  "x-amz-grant-full-control": "FULL_CONTROL",
};

/** Whether the request carries any x-amz-grant-* header. */
export function hasGrantHeaders(h: Headers): boolean {
  return Object.keys(GRANT_HEADERS).some((n) => h.get(n) !== null);
}

/** A grantee named by an id, uri or emailAddress, checked: unknown ones are AWS's errors. */
function granteeOf(kind: string, value: string, resolveId: ResolveId, argument: string): Grantee {
  switch (kind.toLowerCase()) {
    case "id": {
      const known = value === EC2_READER.id ? EC2_READER : resolveId(value);
      if (!known) throw new S3Error("InvalidArgument", "Invalid id", { ArgumentName: "CanonicalUser/ID", ArgumentValue: value });
      return { type: "CanonicalUser", id: value, displayName: known.displayName };
    }
    case "uri":
      if (!GROUPS.has(value)) throw new S3Error("InvalidArgument", "Invalid group uri", { ArgumentName: "Group/URI", ArgumentValue: value });
      return group(value);
    case "emailaddress":
      // Users here have no e-mail addresses (AWS too has stopped resolving them in most regions).
      throw new S3Error("UnresolvableGrantByEmailAddress", undefined, { EmailAddressGrantee: value });
    default:
      throw new S3Error("InvalidArgument", `Argument format not recognized`, { ArgumentName: argument, ArgumentValue: `${kind}=${value}` });
  }
}

/**
 * The grants of the x-amz-grant-* headers: each a comma-separated list of `id="…"`,
 * `uri="…"` or `emailAddress="…"` (quotes optional). The owner's own FULL_CONTROL is not implied:
 * as on AWS, an ACL set by headers is exactly what they say.
 */
export function grantsFromHeaders(h: Headers, resolveId: ResolveId): Grant[] {
  const grants: Grant[] = [];
  for (const [name, permission] of Object.entries(GRANT_HEADERS)) {
    const raw = h.get(name);
    if (raw === null) continue;
    for (const item of splitGrantList(raw)) {
      const m = /^\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^",\s]*))\s*$/.exec(item);
      if (!m) throw new S3Error("InvalidArgument", "Argument format not recognized", { ArgumentName: name, ArgumentValue: raw });
      grants.push({ grantee: granteeOf(m[1], m[2] ?? m[3], resolveId, name), permission });
    }
  }
  return dedupe(grants);
}

/** Splits at commas outside quotes (a quoted value may hold one). */
function splitGrantList(raw: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of raw) {
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((s) => s.trim() !== "");
}

const malformedAcl = () => new S3Error("MalformedACLError");
const text = (v: unknown): string | undefined => (typeof v === "string" ? v.trim() : v === undefined ? undefined : "\0");

/**
 * An AccessControlPolicy document. The grantee's kind comes from the element it carries (ID, URI
 * or EmailAddress; the XML reader does not keep the xsi:type attribute, which always agrees).
 * Anything else, or a permission S3 does not have, is MalformedACLError.
 */
export function parseAclXml(body: string, resolveId: ResolveId): Acl {
  let doc: Record<string, unknown>;
  try {
    doc = parseXml(body, "AccessControlPolicy");
  } catch (e) {
    if (e instanceof S3Error && e.code === "MalformedXML") throw malformedAcl();
    throw e;
  }
  const owner = doc.Owner as Record<string, unknown> | undefined;
  const ownerId = text(owner?.ID);
  if (!owner || typeof owner !== "object" || !ownerId || ownerId === "\0") throw malformedAcl();
  const list = doc.AccessControlList;
  if (list !== undefined && (typeof list !== "object" || list === null) && list !== "") throw malformedAcl();
  const grants: Grant[] = [];
  for (const g of asArray((list as Record<string, unknown> | "" | undefined) ? (list as Record<string, unknown>).Grant : undefined) as unknown[]) {
    if (!g || typeof g !== "object") throw malformedAcl();
    const grant = g as Record<string, unknown>;
    const permission = text(grant.Permission);
    if (!permission || !(PERMISSIONS as readonly string[]).includes(permission)) throw malformedAcl();
    const who = grant.Grantee as Record<string, unknown> | undefined;
    if (!who || typeof who !== "object") throw malformedAcl();
    const kinds = (["ID", "URI", "EmailAddress"] as const).filter((k) => who[k] !== undefined);
    if (kinds.length !== 1) throw malformedAcl();
    const value = text(who[kinds[0]]);
    if (!value || value === "\0") throw malformedAcl();
    const kind = kinds[0] === "ID" ? "id" : kinds[0] === "URI" ? "uri" : "emailAddress";
    grants.push({ grantee: granteeOf(kind, value, resolveId, "AccessControlList"), permission: permission as Permission });
  }
  const displayName = text(owner.DisplayName);
  return { owner: { id: ownerId, ...(displayName && displayName !== "\0" ? { displayName } : {}) }, grants: dedupe(grants) };
}

function dedupe(grants: Grant[]): Grant[] {
  const seen = new Set<string>();
  return grants.filter((g) => {
    const k = `${g.grantee.type === "Group" ? g.grantee.uri : g.grantee.id}\0${g.permission}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const XSI = "http://www.w3.org/2001/XMLSchema-instance";

/** The AccessControlPolicy document's body (for xmlResponse("AccessControlPolicy", …)). */
export function aclXml(acl: Acl): Record<string, unknown> {
  const grants = acl.grants.map((g) => ({
    Grantee:
      g.grantee.type === "Group"
        ? { "@_xmlns:xsi": XSI, "@_xsi:type": "Group", URI: g.grantee.uri }
        : { "@_xmlns:xsi": XSI, "@_xsi:type": "CanonicalUser", ID: g.grantee.id, DisplayName: g.grantee.displayName },
    Permission: g.permission,
  }));
  return {
    Owner: { ID: acl.owner.id, DisplayName: acl.owner.displayName },
    AccessControlList: grants.length ? { Grant: grants } : "",
  };
}

/** Whether the ACL grants anything to AllUsers or AuthenticatedUsers (AWS's "public" ACL). */
export function isPublicAcl(acl: Pick<Acl, "grants">): boolean {
  return acl.grants.some((g) => g.grantee.type === "Group" && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS));
}

/** Whether the ACL grants nothing but the owner's FULL_CONTROL (what BucketOwnerEnforced allows). */
export function isOwnerOnly(acl: Acl, ownerId: string): boolean {
  return acl.grants.every((g) => g.grantee.type === "CanonicalUser" && g.grantee.id === ownerId && g.permission === "FULL_CONTROL");
}

/** Drops the grants to AllUsers and AuthenticatedUsers (IgnorePublicAcls). */
export function withoutPublicGrants(acl: Acl): Acl {
  return { owner: acl.owner, grants: acl.grants.filter((g) => !isPublicAcl({ grants: [g] })) };
}

function granteeMatches(g: Grantee, p: Principal): boolean {
  if (g.type === "Group") {
    if (g.uri === ALL_USERS) return true;
    if (g.uri === AUTHENTICATED_USERS) return p.kind === "user";
    return false; // LogDelivery: no request here is ever the log delivery service
  }
  return p.kind === "user" && p.canonicalId === g.id;
}

/**
 * Whether `acl` grants `principal` `permission`. FULL_CONTROL includes every other permission;
 * AllUsers matches anyone (anonymous included), AuthenticatedUsers any signed user. The owner may
 * always read and write the ACL itself, whatever the grants say, as on AWS.
 */
export function aclPermits(acl: Acl, principal: Principal, permission: Permission): boolean {
  if ((permission === "READ_ACP" || permission === "WRITE_ACP") && principal.kind === "user" && principal.canonicalId === acl.owner.id) return true;
  return acl.grants.some((g) => (g.permission === permission || g.permission === "FULL_CONTROL") && granteeMatches(g.grantee, principal));
}
