// The pure ACL module (src/access/acl.ts): canned ACLs, grant headers, the XML document both ways,
// and the permission check.
import { expect, test } from "bun:test";
import { S3Error } from "../../src/errors.ts";
import { ANONYMOUS, type UserPrincipal } from "../../src/access/principal.ts";
import {
  ALL_USERS, AUTHENTICATED_USERS, CANNED_ACLS, EC2_READER, LOG_DELIVERY,
  aclPermits, aclXml, cannedAcl, grantsFromHeaders, isOwnerOnly, isPublicAcl, parseAclXml, withoutPublicGrants,
  type Acl,
} from "../../src/access/acl.ts";
import { renderXml } from "../../src/xml/index.ts";

const OWNER = { id: "a".repeat(64), displayName: "alice" };
const BUCKET_OWNER = { id: "b".repeat(64), displayName: "bob" };
const known: Record<string, string> = { [OWNER.id]: "alice", [BUCKET_OWNER.id]: "bob" };
const resolve = (id: string) => (known[id] ? { displayName: known[id] } : undefined);

const userP = (id: string): UserPrincipal => ({ kind: "user", name: id.slice(0, 3), canonicalId: id, displayName: "x", userId: "AIDA" + id.slice(0, 17).toUpperCase(), arn: "arn", role: "user", accessKey: "AK" });

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
  return undefined;
}

const short = (acl: Acl) => acl.grants.map((g) => `${g.grantee.type === "Group" ? g.grantee.uri.split("/").pop() : g.grantee.id.slice(0, 3)}:${g.permission}`);

test("canned ACLs: each name's grants, objects and buckets", () => {
  const obj = (n: (typeof CANNED_ACLS)[number]) => short(cannedAcl(n, OWNER, BUCKET_OWNER, false));
  expect(obj("private")).toEqual(["aaa:FULL_CONTROL"]);
  expect(obj("public-read")).toEqual(["aaa:FULL_CONTROL", "AllUsers:READ"]);
  expect(obj("public-read-write")).toEqual(["aaa:FULL_CONTROL", "AllUsers:READ", "AllUsers:WRITE"]);
  expect(obj("authenticated-read")).toEqual(["aaa:FULL_CONTROL", "AuthenticatedUsers:READ"]);
  expect(obj("aws-exec-read")).toEqual(["aaa:FULL_CONTROL", `${EC2_READER.id.slice(0, 3)}:READ`]);
  expect(obj("bucket-owner-read")).toEqual(["aaa:FULL_CONTROL", "bbb:READ"]);
  expect(obj("bucket-owner-full-control")).toEqual(["aaa:FULL_CONTROL", "bbb:FULL_CONTROL"]);
  expect(obj("log-delivery-write")).toEqual(["aaa:FULL_CONTROL", "LogDelivery:WRITE", "LogDelivery:READ_ACP"]);
  // On a bucket (or when the object's owner is the bucket's) the bucket-owner names add nothing.
  expect(short(cannedAcl("bucket-owner-full-control", OWNER, BUCKET_OWNER, true))).toEqual(["aaa:FULL_CONTROL"]);
  expect(short(cannedAcl("bucket-owner-read", OWNER, OWNER, false))).toEqual(["aaa:FULL_CONTROL"]);
});

test("grant headers: id, uri, quoted or not, lists; emailAddress and unknowns are AWS's errors", () => {
  const h = new Headers({
    "x-amz-grant-read": `uri="${ALL_USERS}", id=${BUCKET_OWNER.id}`,
    "x-amz-grant-full-control": `id="${OWNER.id}"`,
    "x-amz-grant-write-acp": `uri="${LOG_DELIVERY}"`,
  });
  const grants = grantsFromHeaders(h, resolve);
  expect(short({ owner: OWNER, grants })).toEqual(["AllUsers:READ", "bbb:READ", "LogDelivery:WRITE_ACP", "aaa:FULL_CONTROL"]);
  expect(grants.find((g) => g.grantee.type === "CanonicalUser" && g.grantee.id === BUCKET_OWNER.id)?.grantee).toEqual({ type: "CanonicalUser", id: BUCKET_OWNER.id, displayName: "bob" });
  expect(codeOf(() => grantsFromHeaders(new Headers({ "x-amz-grant-read": 'emailAddress="a@example.com"' }), resolve))).toBe("UnresolvableGrantByEmailAddress");
  expect(codeOf(() => grantsFromHeaders(new Headers({ "x-amz-grant-read": `id="${"c".repeat(64)}"` }), resolve))).toBe("InvalidArgument");
  expect(codeOf(() => grantsFromHeaders(new Headers({ "x-amz-grant-read": 'uri="http://acs.amazonaws.com/groups/global/Nobody"' }), resolve))).toBe("InvalidArgument");
  expect(codeOf(() => grantsFromHeaders(new Headers({ "x-amz-grant-read": "user=alice" }), resolve))).toBe("InvalidArgument");
  expect(codeOf(() => grantsFromHeaders(new Headers({ "x-amz-grant-read": "nonsense" }), resolve))).toBe("InvalidArgument");
});

test("AccessControlPolicy: parsed, rendered and parsed again to the same ACL", () => {
  const acl: Acl = {
    owner: OWNER,
    grants: [
      { grantee: { type: "CanonicalUser", id: OWNER.id, displayName: "alice" }, permission: "FULL_CONTROL" },
      { grantee: { type: "Group", uri: ALL_USERS }, permission: "READ" },
      { grantee: { type: "Group", uri: AUTHENTICATED_USERS }, permission: "READ_ACP" },
      { grantee: { type: "CanonicalUser", id: BUCKET_OWNER.id, displayName: "bob" }, permission: "WRITE" },
    ],
  };
  const xml = renderXml("AccessControlPolicy", aclXml(acl));
  expect(xml).toContain('xsi:type="Group"');
  expect(xml).toContain("<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>");
  expect(parseAclXml(xml, resolve)).toEqual(acl);
  // An empty list is an ACL granting nothing, not an error.
  const empty = renderXml("AccessControlPolicy", aclXml({ owner: OWNER, grants: [] }));
  expect(parseAclXml(empty, resolve).grants).toEqual([]);
});

test("AccessControlPolicy errors: malformed documents, unknown permissions and grantees", () => {
  const doc = (grant: string, owner = `<Owner><ID>${OWNER.id}</ID></Owner>`) =>
    `<AccessControlPolicy>${owner}<AccessControlList><Grant>${grant}</Grant></AccessControlList></AccessControlPolicy>`;
  expect(codeOf(() => parseAclXml("<AccessControlPolicy><Owner>", resolve))).toBe("MalformedACLError");
  expect(codeOf(() => parseAclXml("<Other/>", resolve))).toBe("MalformedACLError");
  expect(codeOf(() => parseAclXml(doc(`<Grantee><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission>`, ""), resolve))).toBe("MalformedACLError");
  expect(codeOf(() => parseAclXml(doc(`<Grantee><URI>${ALL_USERS}</URI></Grantee><Permission>DELETE</Permission>`), resolve))).toBe("MalformedACLError");
  expect(codeOf(() => parseAclXml(doc(`<Permission>READ</Permission>`), resolve))).toBe("MalformedACLError");
  expect(codeOf(() => parseAclXml(doc(`<Grantee><ID>${OWNER.id}</ID><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission>`), resolve))).toBe("MalformedACLError");
  expect(codeOf(() => parseAclXml(doc(`<Grantee><EmailAddress>a@example.com</EmailAddress></Grantee><Permission>READ</Permission>`), resolve))).toBe("UnresolvableGrantByEmailAddress");
  expect(codeOf(() => parseAclXml(doc(`<Grantee><ID>${"c".repeat(64)}</ID></Grantee><Permission>READ</Permission>`), resolve))).toBe("InvalidArgument");
  expect(codeOf(() => parseAclXml(doc(`<Grantee><URI>http://example.com/g</URI></Grantee><Permission>READ</Permission>`), resolve))).toBe("InvalidArgument");
});

test("aclPermits: FULL_CONTROL implies all; AllUsers matches anonymous; AuthenticatedUsers any user; the owner keeps the ACP", () => {
  const alice = userP(OWNER.id);
  const bob = userP(BUCKET_OWNER.id);
  const carol = userP("c".repeat(64));
  const pub = cannedAcl("public-read", OWNER, BUCKET_OWNER, false);
  expect(aclPermits(pub, ANONYMOUS, "READ")).toBe(true);
  expect(aclPermits(pub, ANONYMOUS, "WRITE")).toBe(false);
  expect(aclPermits(pub, carol, "READ")).toBe(true);
  expect(aclPermits(pub, carol, "READ_ACP")).toBe(false);
  expect(aclPermits(pub, alice, "WRITE_ACP")).toBe(true);
  const auth = cannedAcl("authenticated-read", OWNER, BUCKET_OWNER, false);
  expect(aclPermits(auth, ANONYMOUS, "READ")).toBe(false);
  expect(aclPermits(auth, carol, "READ")).toBe(true);
  const full = cannedAcl("bucket-owner-full-control", OWNER, BUCKET_OWNER, false);
  for (const p of ["READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"] as const) expect(aclPermits(full, bob, p)).toBe(true);
  expect(aclPermits(full, carol, "READ")).toBe(false);
  // LogDelivery is nobody who sends requests here.
  expect(aclPermits(cannedAcl("log-delivery-write", OWNER, OWNER, true), carol, "WRITE")).toBe(false);
  // An ACL whose grants left the owner out still lets the owner fix it.
  const none: Acl = { owner: OWNER, grants: [] };
  expect(aclPermits(none, alice, "READ")).toBe(false);
  expect(aclPermits(none, alice, "WRITE_ACP")).toBe(true);
});

test("public and owner-only ACLs", () => {
  expect(isPublicAcl(cannedAcl("public-read", OWNER, OWNER, true))).toBe(true);
  expect(isPublicAcl(cannedAcl("authenticated-read", OWNER, OWNER, true))).toBe(true);
  expect(isPublicAcl(cannedAcl("log-delivery-write", OWNER, OWNER, true))).toBe(false);
  expect(isOwnerOnly(cannedAcl("private", OWNER, OWNER, true), OWNER.id)).toBe(true);
  expect(isOwnerOnly(cannedAcl("bucket-owner-full-control", OWNER, BUCKET_OWNER, false), OWNER.id)).toBe(false);
  expect(short(withoutPublicGrants(cannedAcl("public-read-write", OWNER, OWNER, true)))).toEqual(["aaa:FULL_CONTROL"]);
});
