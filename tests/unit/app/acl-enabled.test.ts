// In-process: Object Ownership controls and stored ACLs (routes/acl.ts) on buckets whose ownership
// enables ACLs: canned names, grant headers and AccessControlPolicy documents on every way in,
// and AWS's errors.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openApp, type AppGateway } from "../../support/app.ts";

const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const ownership = (v: string) => `<OwnershipControls xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ObjectOwnership>${v}</ObjectOwnership></Rule></OwnershipControls>`;

let gw: AppGateway;
let ownerId: string;
beforeAll(async () => {
  gw = openApp();
  await gw.signed("PUT", "/owbk");
  expect((await gw.signed("PUT", "/owbk", { query: { ownershipControls: "" }, body: ownership("ObjectWriter") })).status).toBe(200);
  const acl = await gw.signed("GET", "/owbk", { query: { acl: "" } });
  ownerId = /<Owner><ID>([^<]+)<\/ID>/.exec(acl.body)![1];
});
afterAll(() => gw.close());

/** The grants of an ACL answer, as "grantee:PERMISSION". */
function grants(body: string): string[] {
  return [...body.matchAll(/<Grant><Grantee[^>]*>(?:<ID>([^<]+)<\/ID>(?:<DisplayName>[^<]*<\/DisplayName>)?|<URI>([^<]+)<\/URI>)<\/Grantee><Permission>([A-Z_]+)<\/Permission><\/Grant>/g)].map(
    (m) => `${m[1] === ownerId ? "owner" : m[1] ?? m[2].split("/").pop()}:${m[3]}`,
  );
}

test("ownership controls: BucketOwnerEnforced by default, set, read back, deleted", async () => {
  await gw.signed("PUT", "/ocbk");
  const get = () => gw.signed("GET", "/ocbk", { query: { ownershipControls: "" } });
  expect((await get()).body).toContain("<ObjectOwnership>BucketOwnerEnforced</ObjectOwnership>");
  expect((await gw.signed("PUT", "/ocbk", { query: { ownershipControls: "" }, body: ownership("BucketOwnerPreferred") })).status).toBe(200);
  expect((await get()).body).toContain("<ObjectOwnership>BucketOwnerPreferred</ObjectOwnership>");
  const bad = await gw.signed("PUT", "/ocbk", { query: { ownershipControls: "" }, body: ownership("Everyone") });
  expect([bad.status, bad.code]).toEqual([400, "MalformedXML"]);
  expect((await gw.signed("DELETE", "/ocbk", { query: { ownershipControls: "" } })).status).toBe(204);
  const gone = await get();
  expect([gone.status, gone.code]).toEqual([404, "OwnershipControlsNotFoundError"]);
  // Without controls ACLs apply, as with ObjectWriter.
  expect((await gw.signed("PUT", "/ocbk", { query: { acl: "" }, headers: { "x-amz-acl": "public-read" } })).status).toBe(200);
});

test("canned ACLs on PutObject, CopyObject and multipart are stored and shown", async () => {
  await gw.signed("PUT", "/owbk/pub", { body: "p", headers: { "x-amz-acl": "public-read" } });
  expect(grants((await gw.signed("GET", "/owbk/pub", { query: { acl: "" } })).body)).toEqual(["owner:FULL_CONTROL", "AllUsers:READ"]);
  await gw.signed("PUT", "/owbk/copied", { headers: { "x-amz-copy-source": "/owbk/pub", "x-amz-acl": "authenticated-read" } });
  expect(grants((await gw.signed("GET", "/owbk/copied", { query: { acl: "" } })).body)).toEqual(["owner:FULL_CONTROL", "AuthenticatedUsers:READ"]);
  // A copy without an ACL header is private: ACLs are not copied.
  await gw.signed("PUT", "/owbk/copied2", { headers: { "x-amz-copy-source": "/owbk/pub" } });
  expect(grants((await gw.signed("GET", "/owbk/copied2", { query: { acl: "" } })).body)).toEqual(["owner:FULL_CONTROL"]);
  const init = await gw.signed("POST", "/owbk/mp", { query: { uploads: "" }, headers: { "x-amz-acl": "public-read-write" } });
  const uploadId = /<UploadId>([^<]+)</.exec(init.body)![1];
  const part = await gw.signed("PUT", "/owbk/mp", { query: { partNumber: "1", uploadId }, body: "data" });
  const done = await gw.signed("POST", "/owbk/mp", { query: { uploadId }, body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.headers.get("etag")}</ETag></Part></CompleteMultipartUpload>` });
  expect(done.status).toBe(200);
  expect(grants((await gw.signed("GET", "/owbk/mp", { query: { acl: "" } })).body)).toEqual(["owner:FULL_CONTROL", "AllUsers:READ", "AllUsers:WRITE"]);
});

test("grant headers and AccessControlPolicy documents set exactly what they say", async () => {
  await gw.signed("PUT", "/owbk/g", { body: "g", headers: { "x-amz-grant-read": `uri="${ALL_USERS}"`, "x-amz-grant-full-control": `id="${ownerId}"` } });
  expect(grants((await gw.signed("GET", "/owbk/g", { query: { acl: "" } })).body)).toEqual(["AllUsers:READ", "owner:FULL_CONTROL"]);
  const doc = `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${ownerId}</ID></Owner><AccessControlList>` +
    `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>${AUTH_USERS}</URI></Grantee><Permission>READ_ACP</Permission></Grant>` +
    `</AccessControlList></AccessControlPolicy>`;
  expect((await gw.signed("PUT", "/owbk/g", { query: { acl: "" }, body: doc })).status).toBe(200);
  expect(grants((await gw.signed("GET", "/owbk/g", { query: { acl: "" } })).body)).toEqual(["AuthenticatedUsers:READ_ACP"]);
  // The owner can still read and replace an ACL that left it out.
  expect((await gw.signed("PUT", "/owbk/g", { query: { acl: "" }, headers: { "x-amz-acl": "private" } })).status).toBe(200);
  expect(grants((await gw.signed("GET", "/owbk/g", { query: { acl: "" } })).body)).toEqual(["owner:FULL_CONTROL"]);
});

test("AWS's errors: both kinds of header, unknown canned names, e-mail grantees, bad documents, another owner", async () => {
  const cases: [Record<string, string>, string | undefined, number, string][] = [
    [{ "x-amz-acl": "public-read", "x-amz-grant-read": `uri="${ALL_USERS}"` }, undefined, 400, "InvalidRequest"],
    [{ "x-amz-acl": "world-readable" }, undefined, 400, "InvalidArgument"],
    [{ "x-amz-grant-read": 'emailAddress="someone@example.com"' }, undefined, 400, "UnresolvableGrantByEmailAddress"],
    [{ "x-amz-grant-read": `id="${"f".repeat(64)}"` }, undefined, 400, "InvalidArgument"],
    [{}, "<AccessControlPolicy><Owner>", 400, "MalformedACLError"],
    [{}, `<AccessControlPolicy><Owner><ID>${ownerId}</ID></Owner><AccessControlList><Grant><Grantee><URI>${ALL_USERS}</URI></Grantee><Permission>EVERYTHING</Permission></Grant></AccessControlList></AccessControlPolicy>`, 400, "MalformedACLError"],
    [{}, `<AccessControlPolicy><Owner><ID>${"e".repeat(64)}</ID></Owner><AccessControlList/></AccessControlPolicy>`, 403, "AccessDenied"],
    [{ "x-amz-acl": "private" }, `<AccessControlPolicy><Owner><ID>${ownerId}</ID></Owner></AccessControlPolicy>`, 400, "UnexpectedContent"],
    [{}, undefined, 400, "MissingSecurityHeader"],
  ];
  for (const [headers, body, status, code] of cases) {
    const r = await gw.signed("PUT", "/owbk/pub", { query: { acl: "" }, headers, ...(body ? { body } : {}) });
    expect({ headers, status: r.status, code: r.code }).toEqual({ headers, status, code });
  }
  // A refused PutObject stores nothing.
  const r = await gw.signed("PUT", "/owbk/never", { body: "n", headers: { "x-amz-grant-read": 'emailAddress="a@example.com"' } });
  expect(r.code).toBe("UnresolvableGrantByEmailAddress");
  expect((await gw.signed("HEAD", "/owbk/never")).status).toBe(404);
});

test("bucket ACLs: set with ACLs enabled; BucketOwnerEnforced refused while one grants others", async () => {
  await gw.signed("PUT", "/bkac");
  await gw.signed("PUT", "/bkac", { query: { ownershipControls: "" }, body: ownership("ObjectWriter") });
  expect((await gw.signed("PUT", "/bkac", { query: { acl: "" }, headers: { "x-amz-acl": "public-read" } })).status).toBe(200);
  expect(grants((await gw.signed("GET", "/bkac", { query: { acl: "" } })).body)).toEqual(["owner:FULL_CONTROL", "AllUsers:READ"]);
  const enforce = () => gw.signed("PUT", "/bkac", { query: { ownershipControls: "" }, body: ownership("BucketOwnerEnforced") });
  const refused = await enforce();
  expect([refused.status, refused.code]).toEqual([400, "InvalidBucketAclWithObjectOwnership"]);
  await gw.signed("PUT", "/bkac", { query: { acl: "" }, headers: { "x-amz-acl": "private" } });
  expect((await enforce()).status).toBe(200);
  // Enforced again: ACLs other than the owner's are refused, stored object ACLs no longer shown.
  const pub = await gw.signed("PUT", "/bkac", { query: { acl: "" }, headers: { "x-amz-acl": "public-read" } });
  expect(pub.code).toBe("AccessControlListNotSupported");
});

test("CreateBucket with x-amz-object-ownership and an ACL", async () => {
  const made = await gw.signed("PUT", "/madepub", { headers: { "x-amz-object-ownership": "ObjectWriter", "x-amz-acl": "public-read" } });
  expect(made.status).toBe(200);
  expect(grants((await gw.signed("GET", "/madepub", { query: { acl: "" } })).body)).toEqual(["owner:FULL_CONTROL", "AllUsers:READ"]);
  expect((await gw.signed("GET", "/madepub", { query: { ownershipControls: "" } })).body).toContain("ObjectWriter");
  const enforced = await gw.signed("PUT", "/madeenf", { headers: { "x-amz-acl": "public-read" } });
  expect([enforced.status, enforced.code]).toEqual([400, "InvalidBucketAclWithObjectOwnership"]);
  const badOwnership = await gw.signed("PUT", "/madebad", { headers: { "x-amz-object-ownership": "Mine" } });
  expect([badOwnership.status, badOwnership.code]).toEqual([400, "InvalidArgument"]);
  expect((await gw.signed("HEAD", "/madeenf")).status).toBe(404);
});
