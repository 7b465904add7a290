// In-process: objects (routes/objects.ts): put, get, head, ranges, conditions, delete, tagging.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { md5B64, md5Hex } from "../../support/sign.ts";
import { openApp, type AppGateway } from "../../support/app.ts";

let gw: AppGateway;
beforeAll(async () => {
  gw = openApp();
  await gw.signed("PUT", "/obj");
});
afterAll(() => gw.close());

test("PutObject writes the file; GetObject and HeadObject give bytes, ETag, type and metadata", async () => {
  const put = await gw.signed("PUT", "/obj/dir/a%20b.txt", { body: "hello world", headers: { "content-type": "text/plain", "x-amz-meta-who": "app" } });
  expect([put.status, put.headers.get("etag")]).toEqual([200, `"${md5Hex("hello world")}"`]);
  expect(readFileSync(join(gw.root, "obj", "dir", "a b.txt"), "utf8")).toBe("hello world");
  const get = await gw.signed("GET", "/obj/dir/a%20b.txt");
  expect([get.status, get.body, get.headers.get("content-type"), get.headers.get("x-amz-meta-who")]).toEqual([200, "hello world", "text/plain", "app"]);
  const head = await gw.signed("HEAD", "/obj/dir/a%20b.txt");
  expect([head.status, head.headers.get("content-length"), head.body]).toEqual([200, "11", ""]);
});

test("a range: 206 with Content-Range; past the end: 416 InvalidRange", async () => {
  await gw.signed("PUT", "/obj/range", { body: "0123456789" });
  const part = await gw.signed("GET", "/obj/range", { headers: { range: "bytes=2-5" } });
  expect([part.status, part.body, part.headers.get("content-range")]).toEqual([206, "2345", "bytes 2-5/10"]);
  const past = await gw.signed("GET", "/obj/range", { headers: { range: "bytes=20-" } });
  expect([past.status, past.code]).toEqual([416, "InvalidRange"]);
});

test("conditions: If-None-Match with the ETag is 304, If-Match with another is 412", async () => {
  const put = await gw.signed("PUT", "/obj/cond", { body: "c" });
  const etag = put.headers.get("etag")!;
  expect((await gw.signed("GET", "/obj/cond", { headers: { "if-none-match": etag } })).status).toBe(304);
  const r = await gw.signed("GET", "/obj/cond", { headers: { "if-match": '"0000"' } });
  expect([r.status, r.code]).toEqual([412, "PreconditionFailed"]);
});

test("Content-MD5 that does not match: 400 BadDigest, nothing stored", async () => {
  const r = await gw.signed("PUT", "/obj/digest", { body: "body", headers: { "content-md5": md5B64("other") } });
  expect([r.status, r.code]).toEqual([400, "BadDigest"]);
  expect(existsSync(join(gw.root, "obj", "digest"))).toBe(false);
});

test("missing key: 404 NoSuchKey; DeleteObject is 204 whether or not it existed", async () => {
  expect((await gw.signed("GET", "/obj/missing")).code).toBe("NoSuchKey");
  await gw.signed("PUT", "/obj/del", { body: "d" });
  expect((await gw.signed("DELETE", "/obj/del")).status).toBe(204);
  expect((await gw.signed("DELETE", "/obj/del")).status).toBe(204);
  expect(existsSync(join(gw.root, "obj", "del"))).toBe(false);
});

test("DeleteObjects removes several keys and reports each", async () => {
  for (const k of ["m1", "m2"]) await gw.signed("PUT", `/obj/${k}`, { body: k });
  const xml = `<Delete><Object><Key>m1</Key></Object><Object><Key>m2</Key></Object></Delete>`;
  const r = await gw.signed("POST", "/obj", { query: { delete: "" }, body: xml, headers: { "content-md5": md5B64(xml) } });
  expect(r.status).toBe(200);
  expect(r.body).toContain("<Deleted><Key>m1</Key></Deleted>");
  expect(r.body).toContain("<Deleted><Key>m2</Key></Deleted>");
});

test("object tagging: put, get, delete", async () => {
  await gw.signed("PUT", "/obj/tagged", { body: "t" });
  const xml = `<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>`;
  expect((await gw.signed("PUT", "/obj/tagged", { query: { tagging: "" }, body: xml })).status).toBe(200);
  expect((await gw.signed("GET", "/obj/tagged", { query: { tagging: "" } })).body).toContain("<Key>k</Key><Value>v</Value>");
  expect((await gw.signed("DELETE", "/obj/tagged", { query: { tagging: "" } })).status).toBe(204);
  expect((await gw.signed("GET", "/obj/tagged", { query: { tagging: "" } })).body).toContain("<TagSet></TagSet>");
});
