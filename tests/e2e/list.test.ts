// Listing end to end: ListObjectsV2, ListObjects (V1) and ListObjectVersions against a real
// gateway, with the AWS SDK, the minio client and raw signed requests. Every check compares the
// gateway's answer with a model computed from the key list alone (S3 order = UTF-8 bytes).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type ListObjectsV2CommandInput,
  type ListObjectsCommandInput,
  S3Client,
} from "@aws-sdk/client-s3";
import * as fs from "node:fs";
import { join } from "node:path";
import { EMPTY_SHA256, errorCode, type Gateway, listingModel, md5Hex, minioClient, rawRequest, s3Client, sign, startGateway, uniqueBucket, utf8Cmp, utf8Sort } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;

const fail = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e) => e,
  );

// ---- the main bucket --------------------------------------------------------------------------

/** Keys written through S3 (body = bodyOf(key); directory objects have empty bodies). */
const S3_KEYS: string[] = [
  "a-b", "a/b", "a.b", "a0", "Z", "é", "e", "f", "日本", "日/é/😀", "😀", "😀😀/y", "\uff61", "\uff61\uff61/x", "\ufb01",
  "a b", "a+b", "sp ace/k+1", "plus+/a b+c", "x&y<z>\"q'", "pct%20lit",
  "dir/", "dir/in", "x/y/", "x/y/z/deep", "x/y/z/deep2", "x/y/top", "x/y-", "x/yz", "x/y0", "nested/obj/", "nested/obj/inner/",
  "deep/1/2/3/4/5/6/leaf", "deep/1/2/3/4/5/6/leaf2", "deep/1/x",
];
for (let i = 0; i < 40; i++) S3_KEYS.push(`gen/d${i % 6}/k-${String(i).padStart(2, "0")}`);
for (let i = 0; i < 30; i++) S3_KEYS.push(`flat-${i}.txt`);
for (let i = 0; i < 12; i++) S3_KEYS.push(`ü/${i}-x`);
const bodyOf = (k: string) => (k.endsWith("/") ? "" : `body of ${k}`);

/** Files made by hand with fs, not through S3. */
const HAND_FILES = ["hand/one.txt", "hand/deep/er/two.txt", "hand/deep/three", "x/y/hand", "日/hand"];
/** Directories made by hand, left empty (some nested): never keys, never common prefixes. */
const HAND_EMPTY_DIRS = ["empty", "hand/emptysub", "x/y/emptydir", "zz-empty/a/b", "gen/d0/emptier"];

let main: string;
let ALL: string[]; // every key of `main`, in S3 order

const model = listingModel;

interface Collected {
  contents: string[];
  prefixes: string[];
  pages: number;
}

/** ListObjectsV2 with the SDK, following continuation tokens; checks each page's bookkeeping. */
async function listV2All(input: ListObjectsV2CommandInput, client = s3): Promise<Collected> {
  const out: Collected = { contents: [], prefixes: [], pages: 0 };
  let token: string | undefined;
  for (;;) {
    const r = await client.send(new ListObjectsV2Command({ ...input, ContinuationToken: token }));
    out.pages++;
    const keys = (r.Contents ?? []).map((c) => c.Key!);
    const cps = (r.CommonPrefixes ?? []).map((c) => c.Prefix!);
    expect(r.KeyCount).toBe(keys.length + cps.length);
    if (input.MaxKeys !== undefined) expect(r.KeyCount!).toBeLessThanOrEqual(input.MaxKeys);
    expect(r.ContinuationToken).toBe(token);
    expect(r.Prefix ?? "").toBe(input.Prefix ?? "");
    out.contents.push(...keys);
    out.prefixes.push(...cps);
    if (!r.IsTruncated) {
      expect(r.NextContinuationToken).toBeUndefined();
      return out;
    }
    expect(r.KeyCount).toBe(input.MaxKeys ?? 1000);
    expect(r.NextContinuationToken).toBeString();
    token = r.NextContinuationToken;
    if (out.pages > 500) throw new Error("runaway pagination");
  }
}

/** ListObjects (V1) with the SDK, following NextMarker (with a delimiter) or the last key. */
async function listV1All(input: ListObjectsCommandInput): Promise<Collected> {
  const out: Collected = { contents: [], prefixes: [], pages: 0 };
  let marker: string | undefined = input.Marker;
  for (;;) {
    const r = await s3.send(new ListObjectsCommand({ ...input, Marker: marker }));
    out.pages++;
    const keys = (r.Contents ?? []).map((c) => c.Key!);
    const cps = (r.CommonPrefixes ?? []).map((c) => c.Prefix!);
    if (input.MaxKeys !== undefined) expect(keys.length + cps.length).toBeLessThanOrEqual(input.MaxKeys);
    expect(r.Marker ?? "").toBe(marker ?? "");
    out.contents.push(...keys);
    out.prefixes.push(...cps);
    if (!r.IsTruncated) return out;
    if (input.Delimiter) {
      expect(r.NextMarker).toBeString();
      marker = r.NextMarker;
    } else {
      // S3 sends NextMarker only with a delimiter; clients resume after the last key.
      expect(r.NextMarker).toBeUndefined();
      marker = keys[keys.length - 1];
    }
    if (out.pages > 500) throw new Error("runaway pagination");
  }
}

// ---- raw signed requests ----------------------------------------------------------------------

const q = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

async function raw(bucket: string, query: Record<string, string>) {
  const { headers } = sign({ method: "GET", path: `/${bucket}`, query, headers: { host: `127.0.0.1:${gw.port}` }, payloadHash: EMPTY_SHA256 });
  const qs = Object.entries(query)
    .map(([k, v]) => (v === "" && k !== "prefix" ? q(k) : `${q(k)}=${q(v)}`))
    .join("&");
  return rawRequest(gw.port, "GET", `/${bucket}${qs ? "?" + qs : ""}`, headers);
}

const tagValues = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);
const tagValue = (xml: string, tag: string) => tagValues(xml, tag)[0];
const unxml = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16))).replace(/&amp;/g, "&");
/** Contents keys only (not the Prefix elements inside CommonPrefixes). */
const contentKeys = (xml: string) => [...xml.matchAll(/<Contents>[\s\S]*?<Key>([^<]*)<\/Key>/g)].map((m) => unxml(m[1]));
const cpValues = (xml: string) => [...xml.matchAll(/<CommonPrefixes>\s*<Prefix>([^<]*)<\/Prefix>/g)].map((m) => unxml(m[1]));

// ---- setup ------------------------------------------------------------------------------------

let t0: number;

beforeAll(async () => {
  gw = await startGateway();
  s3 = s3Client(gw);
  main = uniqueBucket("list");
  t0 = Date.now() - 2000;
  await s3.send(new CreateBucketCommand({ Bucket: main }));
  // Directory objects last: their parents may be made by deeper keys first.
  const files = S3_KEYS.filter((k) => !k.endsWith("/"));
  const dirs = S3_KEYS.filter((k) => k.endsWith("/"));
  for (let i = 0; i < files.length; i += 8) {
    await Promise.all(files.slice(i, i + 8).map((k) => s3.send(new PutObjectCommand({ Bucket: main, Key: k, Body: Buffer.from(bodyOf(k)) }))));
  }
  for (const k of dirs) await s3.send(new PutObjectCommand({ Bucket: main, Key: k, Body: Buffer.alloc(0) }));
  const dir = join(gw.root, main);
  for (const f of HAND_FILES) {
    fs.mkdirSync(join(dir, f, ".."), { recursive: true });
    fs.writeFileSync(join(dir, f), `hand ${f}`);
  }
  for (const d of HAND_EMPTY_DIRS) fs.mkdirSync(join(dir, d), { recursive: true });
  // Something in the private area that would sort among the keys if it leaked.
  fs.mkdirSync(join(dir, ".filegate", "junk"), { recursive: true });
  fs.writeFileSync(join(dir, ".filegate", "junk", "leak"), "x");
  fs.writeFileSync(join(dir, ".filegate", "leak2"), "x");
  ALL = utf8Sort([...S3_KEYS, ...HAND_FILES]);
  expect(ALL.length).toBeGreaterThan(110);
});

afterAll(async () => {
  await gw?.stop();
});

// ---- tests ------------------------------------------------------------------------------------

describe("full listing order", () => {
  test("model sanity: keys sort by UTF-8 bytes, not UTF-16", () => {
    // U+FF61 is 0xEF 0xBD 0xA1, 😀 is 0xF0 ...: UTF-8 puts 😀 last; UTF-16 code units would not.
    expect(ALL.indexOf("\uff61")).toBeLessThan(ALL.indexOf("😀"));
    expect(["\uff61", "😀"].sort()).toEqual(["😀", "\uff61"]);
    expect(ALL.indexOf("a-b")).toBeLessThan(ALL.indexOf("a.b"));
    expect(ALL.indexOf("a.b")).toBeLessThan(ALL.indexOf("a/b"));
    expect(ALL.indexOf("a/b")).toBeLessThan(ALL.indexOf("a0"));
  });

  test("V2 unpaginated equals the UTF-8 sorted keys", async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: main }));
    expect(r.Contents!.map((c) => c.Key)).toEqual(ALL);
    expect(r.KeyCount).toBe(ALL.length);
    expect(r.MaxKeys).toBe(1000);
    expect(r.IsTruncated).toBe(false);
    expect(r.Name).toBe(main);
    expect(r.Prefix ?? "").toBe("");
    expect(r.CommonPrefixes).toBeUndefined();
  });

  test("V2 in pages of 37 via continuation tokens", async () => {
    const c = await listV2All({ Bucket: main, MaxKeys: 37 });
    expect(c.contents).toEqual(ALL);
    expect(c.pages).toBe(Math.ceil(ALL.length / 37));
  });

  test("V1 in pages of 37 via the last key as marker", async () => {
    const c = await listV1All({ Bucket: main, MaxKeys: 37 });
    expect(c.contents).toEqual(ALL);
    expect(c.pages).toBe(Math.ceil(ALL.length / 37));
  });

  test("pages of 1 agree too (V2)", async () => {
    const c = await listV2All({ Bucket: main, MaxKeys: 1 });
    expect(c.contents).toEqual(ALL);
  });

  test("LastModified is in whole seconds, the same time HEAD gives (sync tools compare them)", async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: main, MaxKeys: 20 }));
    for (const c of r.Contents!) {
      if (c.Key!.endsWith("/")) continue;
      const h = await s3.send(new HeadObjectCommand({ Bucket: main, Key: c.Key! }));
      expect({ k: c.Key, listed: c.LastModified!.getTime() }).toEqual({ k: c.Key, listed: h.LastModified!.getTime() });
    }
  });

  test("ETag, Size, LastModified, StorageClass of every entry", async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: main }));
    const now = Date.now() + 2000;
    for (const c of r.Contents!) {
      const k = c.Key!;
      expect(c.StorageClass).toBe("STANDARD");
      expect(c.LastModified!.getTime()).toBeGreaterThanOrEqual(Math.floor(t0 / 1000) * 1000);
      expect(c.LastModified!.getTime()).toBeLessThanOrEqual(now);
      if (S3_KEYS.includes(k)) {
        expect({ k, etag: c.ETag }).toEqual({ k, etag: `"${md5Hex(bodyOf(k))}"` });
        expect({ k, size: c.Size }).toEqual({ k, size: Buffer.byteLength(bodyOf(k)) });
      } else {
        // Written by hand: no MD5 is known, the ETag is a derived multipart-style one.
        expect(c.ETag).toMatch(/^"[0-9a-f]{32}-1"$/);
        expect(c.Size).toBe(Buffer.byteLength(`hand ${k}`));
      }
      expect(c.Owner).toBeUndefined();
    }
  });

  test("fetch-owner adds Owner (V2); V1 always has it", async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: main, FetchOwner: true, MaxKeys: 3 }));
    for (const c of r.Contents!) expect(c.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: main, MaxKeys: 3 }));
    for (const c of v1.Contents!) expect(c.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
  });

  test("hand-made files appear; empty hand-made dirs and .filegate never do", async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: main }));
    const keys = r.Contents!.map((c) => c.Key!);
    for (const f of HAND_FILES) expect(keys).toContain(f);
    for (const k of keys) {
      expect(k.startsWith(".filegate")).toBe(false);
      for (const d of HAND_EMPTY_DIRS) expect(k === d || k === d + "/" || k.startsWith(d + "/")).toBe(false);
    }
    const top = await listV2All({ Bucket: main, Delimiter: "/" });
    expect(top.prefixes).not.toContain("empty/");
    expect(top.prefixes).not.toContain("zz-empty/");
    expect(top.prefixes).not.toContain(".filegate/");
    expect(top.contents).not.toContain(".filegate");
    const xy = await listV2All({ Bucket: main, Prefix: "x/y/", Delimiter: "/" });
    expect(xy.prefixes).toEqual(["x/y/z/"]);
    expect(xy.contents).toEqual(["x/y/", "x/y/hand", "x/y/top"]);
    const priv = await s3.send(new ListObjectsV2Command({ Bucket: main, Prefix: ".filegate" }));
    expect(priv.KeyCount).toBe(0);
    const priv2 = await s3.send(new ListObjectsV2Command({ Bucket: main, Prefix: ".filegate/", Delimiter: "/" }));
    expect(priv2.KeyCount).toBe(0);
  });
});

describe("delimiter", () => {
  for (const prefix of ["", "x/", "gen/", "gen/d0/", "hand/", "zz-empty/", "日/", "deep/1/"]) {
    test(`delimiter "/" prefix ${JSON.stringify(prefix)}: unpaginated and in pages of 2 and 3 agree with the model`, async () => {
      const m = model(ALL, { prefix, delimiter: "/" });
      const whole = await s3.send(new ListObjectsV2Command({ Bucket: main, Prefix: prefix || undefined, Delimiter: "/" }));
      expect(whole.Delimiter).toBe("/");
      expect((whole.Contents ?? []).map((c) => c.Key)).toEqual(m.contents);
      expect((whole.CommonPrefixes ?? []).map((c) => c.Prefix)).toEqual(m.prefixes);
      expect(whole.KeyCount).toBe(m.merged.length);
      for (const size of [2, 3]) {
        const v2 = await listV2All({ Bucket: main, Prefix: prefix || undefined, Delimiter: "/", MaxKeys: size });
        expect(v2.contents).toEqual(m.contents);
        expect(v2.prefixes).toEqual(m.prefixes);
        expect(v2.pages).toBe(Math.max(1, Math.ceil(m.merged.length / size)));
        const v1 = await listV1All({ Bucket: main, Prefix: prefix || undefined, Delimiter: "/", MaxKeys: size });
        expect(v1.contents).toEqual(m.contents);
        expect(v1.prefixes).toEqual(m.prefixes);
      }
    });
  }

  test("top level has the expected common prefixes", async () => {
    const r = await listV2All({ Bucket: main, Delimiter: "/" });
    expect(r.prefixes).toEqual(utf8Sort(["a/", "deep/", "dir/", "gen/", "hand/", "nested/", "plus+/", "sp ace/", "x/", "ü/", "日/", "😀😀/", "\uff61\uff61/"]));
    expect(r.contents).toContain("a-b");
    expect(r.contents).not.toContain("dir/");
  });

  for (const [delimiter, prefix] of [["-", ""], ["-", "gen/d1/"], ["/d", ""], ["/d", "gen"], ["k-", "gen/"], ["é", ""], ["y", "x/"]]) {
    test(`delimiter ${JSON.stringify(delimiter)} prefix ${JSON.stringify(prefix)}`, async () => {
      const m = model(ALL, { prefix, delimiter });
      for (const size of [1000, 3]) {
        const c = await listV2All({ Bucket: main, Prefix: prefix || undefined, Delimiter: delimiter, MaxKeys: size });
        expect(c.contents).toEqual(m.contents);
        expect(c.prefixes).toEqual(m.prefixes);
      }
      const v1 = await listV1All({ Bucket: main, Prefix: prefix || undefined, Delimiter: delimiter, MaxKeys: 2 });
      expect(v1.contents).toEqual(m.contents);
      expect(v1.prefixes).toEqual(m.prefixes);
    });
  }
});

describe("prefix and start-after", () => {
  for (const prefix of ["a", "a/", "x/y/", "x/y", "nope/", "nope", "日本", "\uff61", "gen/d1/", "gen/d1/k-1", "ü/1"]) {
    test(`prefix ${JSON.stringify(prefix)}`, async () => {
      const c = await listV2All({ Bucket: main, Prefix: prefix, MaxKeys: 4 });
      expect(c.contents).toEqual(model(ALL, { prefix }).contents);
    });
  }

  test("prefix 'a' with a file 'a' (separate bucket: 'a' and 'a/b' cannot coexist on disk)", async () => {
    const b = uniqueBucket("la");
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const keys = ["a", "a-b", "a.b", "a0", "ab/c", "b", "A"];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }));
    const all = await listV2All({ Bucket: b, MaxKeys: 2 });
    expect(all.contents).toEqual(utf8Sort(keys));
    const a = await listV2All({ Bucket: b, Prefix: "a" });
    expect(a.contents).toEqual(["a", "a-b", "a.b", "a0", "ab/c"]);
    const ad = await listV2All({ Bucket: b, Prefix: "a", Delimiter: "/", MaxKeys: 1 });
    expect(ad.contents).toEqual(["a", "a-b", "a.b", "a0"]);
    expect(ad.prefixes).toEqual(["ab/"]);
    const slash = await listV2All({ Bucket: b, Prefix: "a/" });
    expect(slash.contents).toEqual([]);
  });

  const starts = ["a", "a/", "a/b", "a.b", "dir", "dir/", "dir/in", "gen/d3/", "gen/d3/k-0", "m", "x/y/", "x/y/z", "zzzz", "\uff61", "😀", "é", "ü/", "\u0000"];
  for (const startAfter of starts) {
    test(`start-after ${JSON.stringify(startAfter)}, with and without delimiter`, async () => {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: main, StartAfter: startAfter }));
      expect(r.StartAfter).toBe(startAfter);
      expect(r.Contents?.map((c) => c.Key) ?? []).toEqual(model(ALL, { startAfter }).contents);
      const m = model(ALL, { startAfter, delimiter: "/" });
      const d = await listV2All({ Bucket: main, StartAfter: startAfter, Delimiter: "/", MaxKeys: 3 });
      expect(d.contents).toEqual(m.contents);
      expect(d.prefixes).toEqual(m.prefixes);
      // V1's marker is the same thing.
      const v1 = await listV1All({ Bucket: main, Marker: startAfter, MaxKeys: 10 });
      expect(v1.contents).toEqual(model(ALL, { startAfter }).contents);
    });
  }

  test("start-after is ignored once a continuation token is given", async () => {
    const p1 = await s3.send(new ListObjectsV2Command({ Bucket: main, MaxKeys: 5, StartAfter: "gen/" }));
    const p2 = await s3.send(new ListObjectsV2Command({ Bucket: main, MaxKeys: 5, StartAfter: "a", ContinuationToken: p1.NextContinuationToken }));
    const m = model(ALL, { startAfter: "gen/" }).contents;
    expect(p1.Contents!.map((c) => c.Key)).toEqual(m.slice(0, 5));
    expect(p2.Contents!.map((c) => c.Key)).toEqual(m.slice(5, 10));
    expect(p2.StartAfter).toBe("a");
  });
});

describe("encoding-type=url", () => {
  test("raw V2: keys, prefix, start-after and delimiter encoded; decoding gives the keys", async () => {
    const r = await raw(main, { "list-type": "2", "encoding-type": "url" });
    expect(r.status).toBe(200);
    expect(tagValue(r.body, "EncodingType")).toBe("url");
    const encoded = contentKeys(r.body);
    for (const k of encoded) expect(k).toMatch(/^[A-Za-z0-9\-_.~%/]*$/);
    expect(encoded.map(decodeURIComponent)).toEqual(ALL);
    // '+' must be escaped: decoders that follow form rules (minio, botocore) read '+' as space.
    expect(encoded).toContain("a%2Bb");
    expect(encoded).toContain("a%20b");

    const p = await raw(main, { "list-type": "2", "encoding-type": "url", prefix: "日", delimiter: "/", "start-after": "日" });
    expect(tagValue(p.body, "Prefix")).toBe(q("日"));
    expect(tagValue(p.body, "StartAfter")).toBe(q("日"));
    expect(tagValue(p.body, "Delimiter")).toBe("/");
    expect(cpValues(p.body)).toEqual([q("日") + "/"]);
    expect(contentKeys(p.body)).toEqual([q("日本")]);
  });

  test("raw V1: Marker and NextMarker encoded", async () => {
    const r = await raw(main, { "encoding-type": "url", delimiter: "/", "max-keys": "2", marker: "a b", prefix: "" });
    expect(r.status).toBe(200);
    expect(tagValue(r.body, "Marker")).toBe("a%20b");
    const next = tagValue(r.body, "NextMarker");
    const m = model(ALL, { delimiter: "/", startAfter: "a b" }).merged;
    expect(decodeURIComponent(next)).toBe(m[1]);
    expect(tagValue(r.body, "EncodingType")).toBe("url");
    // V1's Prefix is not encoded (S3's answer, and what botocore expects: it does not decode it).
    const p = await raw(main, { "encoding-type": "url", prefix: "a b" });
    expect(tagValue(p.body, "Prefix")).toBe("a b");
    expect(contentKeys(p.body).map(decodeURIComponent)).toEqual(ALL.filter((k) => k.startsWith("a b")));
  });

  test("SDK with EncodingType url, decoded by hand, paginated", async () => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: main, EncodingType: "url", MaxKeys: 37, ContinuationToken: token }));
      expect(r.EncodingType).toBe("url");
      out.push(...r.Contents!.map((c) => decodeURIComponent(c.Key!)));
      token = r.NextContinuationToken;
    } while (token);
    expect(out).toEqual(ALL);
  });

  test("without encoding-type, XML-special characters round-trip", async () => {
    const r = await raw(main, { "list-type": "2", prefix: "x&" });
    expect(r.status).toBe(200);
    expect(contentKeys(r.body)).toEqual(["x&y<z>\"q'"]);
    const sdk = await s3.send(new ListObjectsV2Command({ Bucket: main, Prefix: "x&" }));
    expect(sdk.Contents!.map((c) => c.Key)).toEqual(["x&y<z>\"q'"]);
    expect(tagValues(r.body, "EncodingType")).toEqual([]);
  });

  test("keys with CR, LF and TAB (files made by hand) survive the XML round trip", async () => {
    const b = uniqueBucket("lctl");
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const keys = ["cr\rkey", "crlf\r\nkey", "nl\nkey", "tab\tkey", "amp&;key"];
    for (const k of keys) fs.writeFileSync(join(gw.root, b, k), "x");
    const r = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    expect(r.Contents!.map((c) => c.Key)).toEqual(utf8Sort(keys));
    const u = await s3.send(new ListObjectsV2Command({ Bucket: b, EncodingType: "url" }));
    expect(u.Contents!.map((c) => decodeURIComponent(c.Key!))).toEqual(utf8Sort(keys));
    const names: string[] = [];
    for await (const o of minioClient(gw).listObjectsV2(b, "", true)) names.push(o.name);
    expect(names).toEqual(utf8Sort(keys));
  });

  test("unknown encoding-type is InvalidArgument", async () => {
    const r = await raw(main, { "list-type": "2", "encoding-type": "base64" });
    expect(r.status).toBe(400);
    expect(errorCode(r.body)).toBe("InvalidArgument");
  });
});

describe("max-keys and response fields", () => {
  test("max-keys=0: nothing, not truncated", async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: main, MaxKeys: 0 }));
    expect(r.KeyCount).toBe(0);
    expect(r.MaxKeys).toBe(0);
    expect(r.Contents).toBeUndefined();
    expect(r.IsTruncated).toBe(false);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: main, MaxKeys: 0 }));
    expect(v1.Contents).toBeUndefined();
  });

  test("negative or non-numeric max-keys is 400 InvalidArgument", async () => {
    for (const mk of ["-1", "abc", "1.5", "1e3", " 5", "+5", "0x10", "2147483648", "99999999999999999999"]) {
      for (const extra of [{ "list-type": "2" }, {}, { versions: "" }] as Record<string, string>[]) {
        const r = await raw(main, { ...extra, "max-keys": mk });
        expect({ mk, extra, status: r.status, code: errorCode(r.body) }).toEqual({ mk, extra, status: 400, code: "InvalidArgument" });
      }
    }
  });

  test("max-keys over 1000 returns at most 1000 (>1000 keys, written by hand)", async () => {
    const b = uniqueBucket("lbig");
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const dir = join(gw.root, b);
    const keys: string[] = [];
    for (let i = 0; i < 1100; i++) {
      const k = i % 2 ? `k${i}` : `d${i % 10}/k${i}`;
      fs.mkdirSync(join(dir, k, ".."), { recursive: true });
      fs.writeFileSync(join(dir, k), "");
      keys.push(k);
    }
    const r = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 5000 }));
    expect(r.KeyCount).toBe(1000);
    // S3 echoes the MaxKeys that was asked for, while never returning more than 1000.
    expect(r.MaxKeys).toBe(5000);
    expect(r.IsTruncated).toBe(true);
    expect(r.Contents!.map((c) => c.Key)).toEqual(utf8Sort(keys).slice(0, 1000));
    const all = await listV2All({ Bucket: b });
    expect(all.contents).toEqual(utf8Sort(keys));
    expect(all.pages).toBe(2);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: b, MaxKeys: 1001 }));
    expect(v1.Contents!.length).toBe(1000);
    expect(v1.MaxKeys).toBe(1001);
    expect(v1.IsTruncated).toBe(true);
    const vs = await s3.send(new ListObjectVersionsCommand({ Bucket: b, MaxKeys: 2147483647 }));
    expect(vs.Versions!.length).toBe(1000);
    expect(vs.MaxKeys).toBe(2147483647);
    expect(vs.NextKeyMarker).toBe(utf8Sort(keys)[999]);
    // minio pages by 1000 itself.
    const names: string[] = [];
    for await (const o of minioClient(gw).listObjectsV2(b, "", true)) names.push(o.name);
    expect(names).toEqual(utf8Sort(keys));
  });

  test("V1 always carries Marker; NextMarker only with a delimiter", async () => {
    const r = await raw(main, { "max-keys": "2" });
    expect(r.body).toMatch(/<Marker><\/Marker>|<Marker\/>/);
    expect(tagValues(r.body, "NextMarker")).toEqual([]);
    expect(tagValue(r.body, "IsTruncated")).toBe("true");
    const d = await raw(main, { "max-keys": "2", delimiter: "/" });
    expect(tagValue(d.body, "NextMarker")).toBe(model(ALL, { delimiter: "/" }).merged[1]);
  });

  test("V2 KeyCount counts common prefixes; no StartAfter/ContinuationToken unless sent", async () => {
    const r = await raw(main, { "list-type": "2", delimiter: "/", "max-keys": "7" });
    const m = model(ALL, { delimiter: "/" }).merged.slice(0, 7);
    expect(tagValue(r.body, "KeyCount")).toBe("7");
    expect(tagValue(r.body, "MaxKeys")).toBe("7");
    expect(tagValue(r.body, "IsTruncated")).toBe("true");
    expect(tagValues(r.body, "StartAfter")).toEqual([]);
    expect(tagValues(r.body, "ContinuationToken")).toEqual([]);
    expect([...contentKeys(r.body), ...cpValues(r.body)].sort(utf8Cmp)).toEqual(m);
  });
});

describe("continuation tokens", () => {
  test("an empty token is the first page, and is echoed", async () => {
    const r = await raw(main, { "list-type": "2", "continuation-token": "", "max-keys": "3" });
    expect(r.status).toBe(200);
    expect(tagValues(r.body, "ContinuationToken")).toEqual([""]);
    expect(contentKeys(r.body).length + cpValues(r.body).length).toBe(3);
  });

  test("a forged token is 400 InvalidArgument", async () => {
    const p = await s3.send(new ListObjectsV2Command({ Bucket: main, MaxKeys: 3 }));
    const good = p.NextContinuationToken!;
    // Same shape, other key: the MAC no longer matches.
    const rawTok = Buffer.from(good, "base64url");
    const forged = Buffer.concat([rawTok.subarray(0, 12), Buffer.from("zzz")]).toString("base64url");
    for (const t of [forged, "garbage", "AAAA", "not base64!", good.slice(0, -2), Buffer.from("a-b").toString("base64")]) {
      const e = await fail(s3.send(new ListObjectsV2Command({ Bucket: main, ContinuationToken: t })));
      expect({ t, name: e.name, status: e.$metadata?.httpStatusCode }).toEqual({ t, name: "InvalidArgument", status: 400 });
    }
  });

  test("a token from a different prefix or delimiter is InvalidArgument", async () => {
    const p = await s3.send(new ListObjectsV2Command({ Bucket: main, MaxKeys: 3, Prefix: "gen/" }));
    const tok = p.NextContinuationToken!;
    for (const other of [{ Prefix: "x/" }, { Prefix: undefined }, { Prefix: "gen/", Delimiter: "/" }]) {
      const e = await fail(s3.send(new ListObjectsV2Command({ Bucket: main, ContinuationToken: tok, ...other })));
      expect(e.name).toBe("InvalidArgument");
    }
    const ok = await s3.send(new ListObjectsV2Command({ Bucket: main, ContinuationToken: tok, Prefix: "gen/" }));
    expect(ok.Contents![0].Key).toBe(model(ALL, { prefix: "gen/" }).contents[3]);
  });

  test("files deleted between pages are skipped without error", async () => {
    const b = uniqueBucket("ldel");
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const dir = join(gw.root, b);
    const keys: string[] = [];
    for (let i = 0; i < 30; i++) {
      const k = i % 3 === 0 ? `s/${String(i).padStart(2, "0")}` : `f${String(i).padStart(2, "0")}`;
      fs.mkdirSync(join(dir, k, ".."), { recursive: true });
      fs.writeFileSync(join(dir, k), "x");
      keys.push(k);
    }
    const sorted = utf8Sort(keys);
    const p1 = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 5 }));
    expect(p1.Contents!.map((c) => c.Key)).toEqual(sorted.slice(0, 5));
    // Delete the page's last key (the token's position) and the next two.
    const gone = sorted.slice(4, 7);
    for (const k of gone) fs.unlinkSync(join(dir, k));
    const out: string[] = [];
    let token = p1.NextContinuationToken;
    while (token) {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 5, ContinuationToken: token }));
      out.push(...(r.Contents ?? []).map((c) => c.Key!));
      token = r.NextContinuationToken;
    }
    expect(out).toEqual(sorted.slice(7));
    // A whole directory removed between pages (V1 marker inside it).
    const v1p1 = await s3.send(new ListObjectsCommand({ Bucket: b, MaxKeys: 2, Marker: "s/03" }));
    const last = v1p1.Contents!.at(-1)!.Key!;
    fs.rmSync(join(dir, "s"), { recursive: true });
    const v1p2 = await s3.send(new ListObjectsCommand({ Bucket: b, Marker: last }));
    expect(v1p2.Contents?.map((c) => c.Key) ?? []).toEqual([]);
  });
});

describe("listed ETags follow changes to files listed before", () => {
  // The gateway remembers each listed file's ETag while its size, mtime and ctime hold, for files
  // quiet for 3 s; so the files here are made, then left alone for longer than that, listed twice
  // (the second listing is answered from memory), then changed by the gateway and by other tools.
  test("rewrites in place, xattr changes, overwrites and replacements all show", async () => {
    const b = uniqueBucket("lcache");
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const dir = join(gw.root, b);
    for (const k of ["s3-a", "s3-b", "s3-c", "s3-d"]) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: "body-" + k }));
    for (const k of ["hand-a", "hand-b"]) fs.writeFileSync(join(dir, k), "hand " + k);
    // A symlink stats as its target but has no record of its own; listed first, it must not make
    // the target look recordless.
    fs.symlinkSync("s3-d", join(dir, "0-link-to-s3-d"));
    const etags = async () => {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: b }));
      const listed = Object.fromEntries((r.Contents ?? []).map((c) => [c.Key!, c.ETag!]));
      // Whatever the listing says must be what HEAD says, which never uses the listing's memory.
      for (const k of Object.keys(listed)) expect({ k, etag: (await s3.send(new HeadObjectCommand({ Bucket: b, Key: k }))).ETag }).toEqual({ k, etag: listed[k] });
      return listed;
    };
    await Bun.sleep(3300);
    const before = await etags();
    expect(await etags()).toEqual(before);
    expect(before["s3-a"]).toBe(`"${md5Hex("body-s3-a")}"`);
    expect(before["s3-d"]).toBe(`"${md5Hex("body-s3-d")}"`);
    expect(before["0-link-to-s3-d"]).toBeDefined();

    // Same size, new bytes, written in place by another tool: the record no longer matches.
    fs.writeFileSync(join(dir, "s3-a"), "BODY-s3-a");
    // Overwritten through S3 with a body of the same length.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "s3-b", Body: "BODY-s3-b" }));
    // Only the xattr changes (tagging rewrites the record; the ETag stays, the listing must agree).
    await s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: "s3-c", Tagging: { TagSet: [{ Key: "t", Value: "v" }] } }));
    // A foreign file replaced by rename, and one appended to.
    fs.writeFileSync(join(dir, ".tmp-x"), "hand hand-a");
    fs.renameSync(join(dir, ".tmp-x"), join(dir, "hand-a"));
    fs.appendFileSync(join(dir, "hand-b"), "!");
    const after = await etags();
    expect(after["s3-a"]).not.toBe(before["s3-a"]);
    expect(after["s3-a"]).toMatch(/-1"$/);
    expect(after["s3-b"]).toBe(`"${md5Hex("BODY-s3-b")}"`);
    expect(after["s3-c"]).toBe(before["s3-c"]);
    expect(after["hand-a"]).not.toBe(before["hand-a"]);
    expect(after["hand-b"]).not.toBe(before["hand-b"]);
  }, 15_000);
});

describe("ListObjectVersions", () => {
  test("every object once, VersionId null, IsLatest, paginated by key-marker", async () => {
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    let pages = 0;
    for (;;) {
      const r = await s3.send(new ListObjectVersionsCommand({ Bucket: main, MaxKeys: 37, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      pages++;
      expect(r.KeyMarker ?? "").toBe(keyMarker ?? "");
      expect(r.DeleteMarkers).toBeUndefined();
      for (const v of r.Versions ?? []) {
        expect(v.VersionId).toBe("null");
        expect(v.IsLatest).toBe(true);
        if (S3_KEYS.includes(v.Key!)) expect(v.ETag).toBe(`"${md5Hex(bodyOf(v.Key!))}"`);
        seen.push(v.Key!);
      }
      if (!r.IsTruncated) break;
      expect(r.NextVersionIdMarker).toBe("null");
      keyMarker = r.NextKeyMarker;
      versionMarker = r.NextVersionIdMarker;
      expect(keyMarker).toBe(seen.at(-1));
    }
    expect(seen).toEqual(ALL);
    expect(pages).toBe(Math.ceil(ALL.length / 37));
  });

  test("with prefix and delimiter", async () => {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: main, Prefix: "x/", Delimiter: "/" }));
    const m = model(ALL, { prefix: "x/", delimiter: "/" });
    expect((r.Versions ?? []).map((v) => v.Key)).toEqual(m.contents);
    expect((r.CommonPrefixes ?? []).map((c) => c.Prefix)).toEqual(m.prefixes);
  });

  test("a version-id-marker other than null is refused", async () => {
    const e = await fail(s3.send(new ListObjectVersionsCommand({ Bucket: main, KeyMarker: "a", VersionIdMarker: "v123" })));
    expect(e.name).toBe("InvalidArgument");
  });
});

describe("minio client", () => {
  test("listObjectsV2 recursive equals the sorted keys", async () => {
    const names: string[] = [];
    for await (const o of minioClient(gw).listObjectsV2(main, "", true)) names.push(o.name);
    expect(names).toEqual(ALL);
  });

  test("listObjects (V1) recursive equals the sorted keys", async () => {
    const names: string[] = [];
    for await (const o of minioClient(gw).listObjects(main, "", true)) names.push(o.name);
    expect(names).toEqual(ALL);
  });

  test("non-recursive with prefixes and start-after", async () => {
    for (const prefix of ["", "x/", "日/", "plus+/", "sp ace/"]) {
      const m = model(ALL, { prefix, delimiter: "/" });
      const v2: string[] = [];
      const v1: string[] = [];
      for await (const o of minioClient(gw).listObjectsV2(main, prefix, false)) v2.push(o.prefix ?? o.name);
      for await (const o of minioClient(gw).listObjects(main, prefix, false)) v1.push(o.prefix ?? o.name);
      expect(v2.sort(utf8Cmp)).toEqual(m.merged);
      expect(v1.sort(utf8Cmp)).toEqual(m.merged);
    }
    const after: string[] = [];
    for await (const o of minioClient(gw).listObjectsV2(main, "", true, "gen/d3/k-09")) after.push(o.name);
    expect(after).toEqual(model(ALL, { startAfter: "gen/d3/k-09" }).contents);
  });
});

describe("errors", () => {
  test("NoSuchBucket (SDK V2, V1, versions; minio)", async () => {
    const b = uniqueBucket("none");
    for (const cmd of [new ListObjectsV2Command({ Bucket: b }), new ListObjectsCommand({ Bucket: b }), new ListObjectVersionsCommand({ Bucket: b })]) {
      const e = await fail(s3.send(cmd as never));
      expect(e.name).toBe("NoSuchBucket");
      expect(e.$metadata.httpStatusCode).toBe(404);
    }
    const e = await fail(
      (async () => {
        for await (const _ of minioClient(gw).listObjectsV2(b, "", true)) void _;
      })(),
    );
    expect(e.code).toBe("NoSuchBucket");
  });
});
