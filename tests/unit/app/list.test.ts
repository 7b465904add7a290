// In-process: listings (routes/list.ts), V1, V2 and versions, checked against the listing model.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { listingModel } from "../../support/listing-model.ts";
import { openApp, type AppGateway } from "../../support/app.ts";

const KEYS = ["a.txt", "dir/one", "dir/two", "dir/sub/three", "z/é", "z-last"];
let gw: AppGateway;
beforeAll(async () => {
  gw = openApp();
  await gw.signed("PUT", "/lst");
  for (const k of KEYS) await gw.signed("PUT", "/lst/" + k.split("/").map(encodeURIComponent).join("/"), { body: k });
});
afterAll(() => gw.close());

const all = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);
const keys = (xml: string) => all(xml, "Key");
const prefixes = (xml: string) => [...xml.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map((m) => m[1]);

test("V2 without delimiter lists every key in S3 order", async () => {
  const r = await gw.signed("GET", "/lst", { query: { "list-type": "2" } });
  expect(r.status).toBe(200);
  expect(keys(r.body)).toEqual(listingModel(KEYS).contents);
  expect(all(r.body, "KeyCount")).toEqual([String(KEYS.length)]);
});

test("V2 with delimiter and prefix: contents and common prefixes as the model says", async () => {
  for (const o of [{ delimiter: "/" }, { delimiter: "/", prefix: "dir/" }, { delimiter: "/", prefix: "z" }] as Record<string, string>[]) {
    const r = await gw.signed("GET", "/lst", { query: { "list-type": "2", ...o } });
    const m = listingModel(KEYS, o);
    expect({ o, keys: keys(r.body), prefixes: prefixes(r.body) }).toEqual({ o, keys: m.contents, prefixes: m.prefixes });
  }
});

test("V2 pages with max-keys and a continuation token cover the listing once", async () => {
  const seen: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < 10; page++) {
    const r = await gw.signed("GET", "/lst", { query: { "list-type": "2", "max-keys": "2", ...(token ? { "continuation-token": token } : {}) } });
    seen.push(...keys(r.body));
    token = all(r.body, "NextContinuationToken")[0];
    if (!token) break;
  }
  expect(seen).toEqual(listingModel(KEYS).contents);
});

test("V1 with a marker starts after it", async () => {
  const r = await gw.signed("GET", "/lst", { query: { marker: "dir/sub/three" } });
  expect(keys(r.body)).toEqual(listingModel(KEYS, { startAfter: "dir/sub/three" }).contents);
});

test("ListObjectVersions lists each object once, as the null version", async () => {
  const r = await gw.signed("GET", "/lst", { query: { versions: "" } });
  expect(r.status).toBe(200);
  expect(keys(r.body)).toEqual(listingModel(KEYS).contents);
  expect(new Set(all(r.body, "VersionId"))).toEqual(new Set(["null"]));
});

test("a bad max-keys: 400 InvalidArgument", async () => {
  const r = await gw.signed("GET", "/lst", { query: { "list-type": "2", "max-keys": "-1" } });
  expect([r.status, r.code]).toEqual([400, "InvalidArgument"]);
});
