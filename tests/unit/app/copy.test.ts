// In-process: CopyObject (routes/copy.ts): bytes and metadata copied or replaced, sources missing.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { md5Hex } from "../../support/sign.ts";
import { openApp, type AppGateway } from "../../support/app.ts";

let gw: AppGateway;
beforeAll(async () => {
  gw = openApp();
  await gw.signed("PUT", "/src");
  await gw.signed("PUT", "/dst");
  await gw.signed("PUT", "/src/a%20b", { body: "copy me", headers: { "content-type": "text/x-src", "x-amz-meta-from": "src" } });
});
afterAll(() => gw.close());

test("copy across buckets keeps bytes, ETag and metadata", async () => {
  const r = await gw.signed("PUT", "/dst/copied", { headers: { "x-amz-copy-source": "/src/a%20b" } });
  expect(r.status).toBe(200);
  expect(r.body).toContain("<CopyObjectResult");
  expect(r.body).toContain(md5Hex("copy me"));
  expect(readFileSync(join(gw.root, "dst", "copied"), "utf8")).toBe("copy me");
  const head = await gw.signed("HEAD", "/dst/copied");
  expect([head.headers.get("content-type"), head.headers.get("x-amz-meta-from")]).toEqual(["text/x-src", "src"]);
});

test("REPLACE takes the request's metadata", async () => {
  await gw.signed("PUT", "/dst/replaced", { headers: { "x-amz-copy-source": "/src/a%20b", "x-amz-metadata-directive": "REPLACE", "x-amz-meta-new": "yes", "content-type": "text/x-new" } });
  const head = await gw.signed("HEAD", "/dst/replaced");
  expect([head.headers.get("content-type"), head.headers.get("x-amz-meta-new"), head.headers.get("x-amz-meta-from")]).toEqual(["text/x-new", "yes", null]);
});

test("copying an object onto itself without a change: 400 InvalidRequest", async () => {
  const r = await gw.signed("PUT", "/src/a%20b", { headers: { "x-amz-copy-source": "/src/a%20b" } });
  expect([r.status, r.code]).toEqual([400, "InvalidRequest"]);
});

test("a missing source: 404 NoSuchKey; a missing source bucket: 404 NoSuchBucket", async () => {
  expect((await gw.signed("PUT", "/dst/x", { headers: { "x-amz-copy-source": "/src/none" } })).code).toBe("NoSuchKey");
  expect((await gw.signed("PUT", "/dst/x", { headers: { "x-amz-copy-source": "/nobucket/none" } })).code).toBe("NoSuchBucket");
});
