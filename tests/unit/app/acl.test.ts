// In-process: ACLs (routes/acl.ts, used by the bucket and object handlers): the owner holds
// FULL_CONTROL, owner-only ACLs are accepted, anything granting others is refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openApp, type AppGateway } from "../../support/app.ts";

let gw: AppGateway;
beforeAll(async () => {
  gw = openApp();
  await gw.signed("PUT", "/acl");
  await gw.signed("PUT", "/acl/k", { body: "k" });
});
afterAll(() => gw.close());

test("GetBucketAcl and GetObjectAcl: the owner with FULL_CONTROL", async () => {
  for (const path of ["/acl", "/acl/k"]) {
    const r = await gw.signed("GET", path, { query: { acl: "" } });
    expect({ path, status: r.status }).toEqual({ path, status: 200 });
    expect(r.body).toContain("<AccessControlPolicy");
    expect(r.body).toContain("<Permission>FULL_CONTROL</Permission>");
  }
});

test("canned private is accepted; public-read is AccessControlListNotSupported", async () => {
  for (const path of ["/acl", "/acl/k"]) {
    expect((await gw.signed("PUT", path, { query: { acl: "" }, headers: { "x-amz-acl": "private" } })).status).toBe(200);
    const pub = await gw.signed("PUT", path, { query: { acl: "" }, headers: { "x-amz-acl": "public-read" } });
    expect({ path, status: pub.status, code: pub.code }).toEqual({ path, status: 400, code: "AccessControlListNotSupported" });
  }
});

test("PutObjectAcl with neither header nor body: MissingSecurityHeader", async () => {
  const r = await gw.signed("PUT", "/acl/k", { query: { acl: "" } });
  expect([r.status, r.code]).toEqual([400, "MissingSecurityHeader"]);
});

test("a PutObject with a grant header is refused and stores nothing", async () => {
  const r = await gw.signed("PUT", "/acl/granted", { body: "g", headers: { "x-amz-grant-read": 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' } });
  expect([r.status, r.code]).toEqual([400, "AccessControlListNotSupported"]);
  expect((await gw.signed("HEAD", "/acl/granted")).status).toBe(404);
});
