// The listing index of large directories (src/storage/posix/dir-index.ts) end to end: a fresh
// gateway lists a 20k-file flat bucket through the index another gateway wrote; files added and
// removed by a foreign process afterwards show up and disappear; two gateways on one root agree.
// The gateways run with FILEGATE_LISTING_QUIET_MS=300 so that the tree counts as quiet quickly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openIndex, stampOf, writeIndex } from "../../src/storage/posix/dir-index.ts";
import { type Gateway, removeTree, s3Client, startGateway, utf8Sort } from "../support/index.ts";

const QUIET_MS = 300;
const N = 20_000;
const BUCKET = "flat";

let root: string;
let dir: string;
let keys: string[];
const gateways: Gateway[] = [];

async function gateway(): Promise<{ gw: Gateway; s3: S3Client }> {
  const gw = await startGateway({ root, env: { FILEGATE_LISTING_QUIET_MS: String(QUIET_MS) } });
  gateways.push(gw);
  return { gw, s3: s3Client(gw) };
}

async function page(s3: S3Client, startAfter?: string, maxKeys = 1000): Promise<string[]> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, StartAfter: startAfter, MaxKeys: maxKeys }));
  return (r.Contents ?? []).map((c) => c.Key!);
}

async function listAll(s3: S3Client): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token, MaxKeys: 1000 }));
    out.push(...(r.Contents ?? []).map((c) => c.Key!));
    token = r.NextContinuationToken;
  } while (token);
  return out;
}

const indexDir = () => join(dir, ".filegate", "listing");
const indexFiles = () => (fs.existsSync(indexDir()) ? fs.readdirSync(indexDir()) : []);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await sleep(20);
  }
}

beforeAll(async () => {
  root = fs.mkdtempSync(join(tmpdir(), "filegate-list-index-"));
  dir = join(root, BUCKET);
  fs.mkdirSync(dir);
  keys = [];
  // Written by a foreign process (no records), in an order unlike the key order.
  for (let i = 0; i < N; i++) keys.push(`k${String((i * 7919) % N).padStart(5, "0")}`);
  keys.push("é", "😀", "\uff61", "a b");
  for (const k of keys) fs.writeFileSync(join(dir, k), "");
  keys = utf8Sort(keys);
  await sleep(QUIET_MS + 100);
});

afterAll(async () => {
  for (const gw of gateways) await gw.stop();
  removeTree(root);
});

describe("listing index", () => {
  let a: S3Client;
  let b: S3Client;

  test("the first gateway lists the directory whole and leaves an index", async () => {
    a = (await gateway()).s3;
    expect(await listAll(a)).toEqual(keys);
    await until("the index", () => indexFiles().length === 1);
  });

  test("a fresh gateway lists through the index: first page, a page after a marker, everything", async () => {
    b = (await gateway()).s3;
    expect(await page(b)).toEqual(keys.slice(0, 1000));
    expect(await page(b, "k12345", 7)).toEqual(keys.slice(keys.indexOf("k12345") + 1, keys.indexOf("k12345") + 8));
    expect(await page(b, "k12345x", 3)).toEqual(["k12346", "k12347", "k12348"]);
    expect(await listAll(b)).toEqual(keys);
  });

  test("the fresh gateway really trusts a current index (one forged by the test leaves a key out)", async () => {
    const file = join(indexDir(), indexFiles()[0]);
    const saved = fs.readFileSync(file);
    const missing = keys.filter((k) => k !== "k00005");
    const tmp = fs.mkdtempSync(join(tmpdir(), "filegate-forge-"));
    const st = fs.statSync(dir, { bigint: true });
    await writeIndex(file, tmp, "", true, { length: missing.length, at: (i) => missing[i] }, null, stampOf(st), Date.now());
    const { s3: c } = await gateway();
    expect(await page(c, undefined, 10)).toEqual(missing.slice(0, 10));
    // A gateway that reads the directory (here: one whose index is gone) sees the key again.
    fs.writeFileSync(file, saved, { mode: 0o600 });
    fs.rmSync(tmp, { recursive: true });
  });

  test("files added and removed by a foreign process show up and disappear at once, on every gateway", async () => {
    fs.writeFileSync(join(dir, "k00005a"), "");
    fs.rmSync(join(dir, "k00007"));
    fs.rmSync(join(dir, "😀"));
    const now = utf8Sort([...keys.filter((k) => k !== "k00007" && k !== "😀"), "k00005a"]);
    expect(await page(a, undefined, 10)).toEqual(now.slice(0, 10));
    expect(await page(b, undefined, 10)).toEqual(now.slice(0, 10));
    const { s3: d } = await gateway();
    expect(await page(d, undefined, 10)).toEqual(now.slice(0, 10));
    expect(await listAll(d)).toEqual(now);
    expect((await listAll(b)).at(-1)).toBe("\uff61");
    keys = now;
  });

  test("once the directory is quiet again the index is rebuilt, and a fresh gateway uses it", async () => {
    const file = () => join(indexDir(), indexFiles()[0]);
    const current = () => indexFiles().length === 1 && openIndex(file(), { stamp: stampOf(fs.statSync(dir, { bigint: true })), rel: "", atBucketTop: true, quietMs: QUIET_MS }) !== null;
    await sleep(QUIET_MS + 100);
    // Whichever gateway reads the quiet directory whole first writes it (b or d may have already).
    expect(await listAll(a)).toEqual(keys);
    await until("the rebuilt index", current);
    const { s3: e } = await gateway();
    expect(await page(e)).toEqual(keys.slice(0, 1000));
    const [x, y] = await Promise.all([listAll(e), listAll(b)]);
    expect(x).toEqual(keys);
    expect(y).toEqual(keys);
  });

  test("a damaged index is ignored: the listing stays right", async () => {
    const file = join(indexDir(), indexFiles()[0]);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 5] ^= 0x20; // inside the last block: the header checks pass, the block's fails
    fs.writeFileSync(file, bytes, { mode: 0o600 });
    const { s3: f } = await gateway();
    expect(await page(f, undefined, 5)).toEqual(keys.slice(0, 5));
    expect(await listAll(f)).toEqual(keys);
  });
});
