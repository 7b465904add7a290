// In-process: bucket configuration (routes/bucket-config.ts): tagging is stored, the rest answer
// S3's "not configured" errors or empty documents.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openApp, type AppGateway } from "../../support/app.ts";

let gw: AppGateway;
beforeAll(async () => {
  gw = openApp();
  await gw.signed("PUT", "/conf");
});
afterAll(() => gw.close());

const TAGS = `<Tagging><TagSet><Tag><Key>team</Key><Value>storage</Value></Tag></TagSet></Tagging>`;

test("bucket tagging: none, put, get, delete", async () => {
  const none = await gw.signed("GET", "/conf", { query: { tagging: "" } });
  expect([none.status, none.code]).toEqual([404, "NoSuchTagSet"]);
  expect((await gw.signed("PUT", "/conf", { query: { tagging: "" }, body: TAGS })).status).toBe(204);
  const got = await gw.signed("GET", "/conf", { query: { tagging: "" } });
  expect(got.status).toBe(200);
  expect(got.body).toContain("<Key>team</Key><Value>storage</Value>");
  expect((await gw.signed("DELETE", "/conf", { query: { tagging: "" } })).status).toBe(204);
  expect((await gw.signed("GET", "/conf", { query: { tagging: "" } })).code).toBe("NoSuchTagSet");
});

test("unconfigured settings answer their S3 'not found' codes", async () => {
  for (const [sub, code] of [
    ["policy", "NoSuchBucketPolicy"],
    ["lifecycle", "NoSuchLifecycleConfiguration"],
    ["website", "NoSuchWebsiteConfiguration"],
    ["encryption", "ServerSideEncryptionConfigurationNotFoundError"],
  ]) {
    const r = await gw.signed("GET", "/conf", { query: { [sub]: "" } });
    expect({ sub, status: r.status, code: r.code }).toEqual({ sub, status: 404, code });
  }
});

test("empty documents and deletes of nothing", async () => {
  const pay = await gw.signed("GET", "/conf", { query: { requestPayment: "" } });
  expect([pay.status, pay.body]).toEqual([200, expect.stringContaining("<Payer>BucketOwner</Payer>")]);
  expect((await gw.signed("DELETE", "/conf", { query: { policy: "" } })).status).toBe(204);
});

test("an operation without a handler answers 501 NotImplemented", async () => {
  const r = await gw.signed("GET", "/conf", { query: { analytics: "" } });
  expect([r.status, r.code]).toEqual([501, "NotImplemented"]);
});
