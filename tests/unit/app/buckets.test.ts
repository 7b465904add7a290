// In-process: the bucket family (routes/buckets.ts) against a real temporary root.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { openApp, type AppGateway } from "../../support/app.ts";

let gw: AppGateway;
beforeAll(() => {
  gw = openApp();
});
afterAll(() => gw.close());

test("CreateBucket makes a directory; HeadBucket and ListBuckets see it", async () => {
  expect((await gw.signed("PUT", "/alpha")).status).toBe(200);
  expect(existsSync(join(gw.root, "alpha"))).toBe(true);
  expect((await gw.signed("HEAD", "/alpha")).status).toBe(200);
  const list = await gw.signed("GET", "/");
  expect(list.status).toBe(200);
  expect(list.body).toContain("<Name>alpha</Name>");
});

test("CreateBucket again in us-east-1: 200 as AWS answers its owner; a bad name: 400 InvalidBucketName", async () => {
  await gw.signed("PUT", "/twice");
  const again = await gw.signed("PUT", "/twice");
  expect([again.status, again.code]).toEqual([200, null]);
  const bad = await gw.signed("PUT", "/Bad_Name");
  expect([bad.status, bad.code]).toEqual([400, "InvalidBucketName"]);
});

test("location, versioning and ownership answer the fixed documents", async () => {
  await gw.signed("PUT", "/docs");
  const loc = await gw.signed("GET", "/docs", { query: { location: "" } });
  expect([loc.status, loc.body]).toEqual([200, expect.stringContaining("<LocationConstraint")]);
  const ver = await gw.signed("GET", "/docs", { query: { versioning: "" } });
  expect([ver.status, ver.body]).toEqual([200, expect.stringContaining("<VersioningConfiguration")]);
  const own = await gw.signed("GET", "/docs", { query: { ownershipControls: "" } });
  expect(own.body).toContain("<ObjectOwnership>BucketOwnerEnforced</ObjectOwnership>");
});

test("DeleteBucket: 409 BucketNotEmpty while it holds an object, 204 once empty, then 404", async () => {
  await gw.signed("PUT", "/gone");
  await gw.signed("PUT", "/gone/k", { body: "x" });
  const full = await gw.signed("DELETE", "/gone");
  expect([full.status, full.code]).toEqual([409, "BucketNotEmpty"]);
  await gw.signed("DELETE", "/gone/k");
  expect((await gw.signed("DELETE", "/gone")).status).toBe(204);
  const head = await gw.signed("HEAD", "/gone");
  expect(head.status).toBe(404);
  const get = await gw.signed("GET", "/gone", { query: { "list-type": "2" } });
  expect([get.status, get.code]).toEqual([404, "NoSuchBucket"]);
});

test("an unsigned request is refused with 403 AccessDenied", async () => {
  const r = await gw.fetch("/alpha");
  expect(r.status).toBe(403);
  expect(await r.text()).toContain("<Code>AccessDenied</Code>");
});
