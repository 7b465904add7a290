// Versioning at scale: ListObjectVersions paginated over thousands of versions and markers of
// mixed keys, checked against a model; and two gateway processes on one root writing one key at
// once, with every version counted.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { closeGateway, utf8Cmp, type Gateway, openGateway, s3Client, signedRequest, startGateway } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;

beforeAll(async () => {
  ({ gw, s3 } = await openGateway());
});
afterAll(() => closeGateway(gw, s3));

async function versionedBucket(client: S3Client, Bucket: string) {
  await client.send(new CreateBucketCommand({ Bucket }));
  await client.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: "Enabled" } }));
}

interface Listed {
  kind: "Version" | "DeleteMarker" | "Prefix";
  key: string;
  id?: string;
  latest?: boolean;
}

const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
const field = (xml: string, name: string) => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? unescape(m[1]) : undefined;
};

/** One raw page, entries in document order (the SDK splits versions from markers). */
async function page(bucket: string, query: Record<string, string>) {
  const r = await signedRequest(gw, { method: "GET", path: `/${bucket}`, query: { versions: "", ...query } });
  expect(r.status).toBe(200);
  const entries: Listed[] = [];
  for (const m of r.body.matchAll(/<(Version|DeleteMarker)>([\s\S]*?)<\/\1>|<CommonPrefixes><Prefix>([\s\S]*?)<\/Prefix><\/CommonPrefixes>/g)) {
    if (m[3] !== undefined) entries.push({ kind: "Prefix", key: unescape(m[3]) });
    else entries.push({ kind: m[1] as Listed["kind"], key: field(m[2], "Key")!, id: field(m[2], "VersionId"), latest: field(m[2], "IsLatest") === "true" });
  }
  const body = r.body.replace(/<(Version|DeleteMarker|CommonPrefixes)>[\s\S]*?<\/\1>/g, "");
  return { entries, truncated: field(body, "IsTruncated") === "true", nextKey: field(body, "NextKeyMarker"), nextVersion: field(body, "NextVersionIdMarker") };
}

async function listAll(bucket: string, maxKeys: number, extra: Record<string, string> = {}) {
  const all: Listed[] = [];
  let marker: { "key-marker"?: string; "version-id-marker"?: string } = {};
  for (let n = 0; n < 10_000; n++) {
    const p = await page(bucket, { "max-keys": String(maxKeys), ...extra, ...marker });
    expect(p.entries.length).toBeLessThanOrEqual(maxKeys);
    all.push(...p.entries);
    if (!p.truncated) return all;
    marker = { "key-marker": p.nextKey!, ...(p.nextVersion ? { "version-id-marker": p.nextVersion } : {}) };
  }
  throw new Error("listing did not end");
}

describe("ListObjectVersions against a model", () => {
  const B = "vpages";
  /** key → its versions and markers, newest first. */
  const model = new Map<string, { id: string; marker: boolean }[]>();
  // Keys that exercise S3 order across directories: `a` < `a!` < `a/b` < `a0`, deep and flat.
  const keys: string[] = [];
  for (const top of ["a", "a!", "a0", "b", "c d", "zz"]) {
    keys.push(top);
    for (const sub of ["x", "x!", "x/y", "y"]) keys.push(`${top}/${sub}`);
  }
  for (let i = 0; i < 20; i++) keys.push(`flat/${String(i).padStart(3, "0")}`);

  beforeAll(async () => {
    await versionedBucket(s3, B);
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    // Each key's operations run in order (its model is a stack); keys run side by side.
    const perKey = new Map(keys.map((k) => [k, [] as ("put" | "del" | "drop")[]]));
    for (let i = 0; i < 3200; i++) {
      const k = keys[Math.floor(rand() * keys.length)];
      const r = rand();
      perKey.get(k)!.push(r < 0.72 ? "put" : r < 0.9 ? "del" : "drop");
    }
    const work = [...perKey.entries()];
    const worker = async () => {
      for (let item = work.shift(); item; item = work.shift()) {
        const [key, ops] = item;
        const versions: { id: string; marker: boolean }[] = [];
        model.set(key, versions);
        for (const op of ops) {
          if (op === "put") {
            const r = await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: `${key}@${versions.length}` }));
            versions.unshift({ id: r.VersionId!, marker: false });
          } else if (op === "del") {
            const r = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: key }));
            versions.unshift({ id: r.VersionId!, marker: true });
          } else if (versions.length > 0) {
            const at = Math.floor(rand() * versions.length);
            await s3.send(new DeleteObjectCommand({ Bucket: B, Key: key, VersionId: versions[at].id }));
            versions.splice(at, 1);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
  }, 300_000);

  const expected = (prefix = "") =>
    [...model.keys()]
      .filter((k) => k.startsWith(prefix))
      .sort(utf8Cmp)
      .flatMap((key) => model.get(key)!.map((v, i) => ({ kind: v.marker ? "DeleteMarker" : "Version", key, id: v.id, latest: i === 0 }) as Listed));

  test("every version and marker once, in order, across pages of several sizes", async () => {
    const want = expected();
    expect(want.length).toBeGreaterThanOrEqual(2500);
    expect(want.filter((v) => v.kind === "DeleteMarker").length).toBeGreaterThan(300);
    for (const size of [97, 1000]) expect(await listAll(B, size)).toEqual(want);
  }, 120_000);

  test("prefix and delimiter", async () => {
    expect(await listAll(B, 13, { prefix: "a/" })).toEqual(expected("a/"));
    const rolled = await listAll(B, 7, { delimiter: "/" });
    const tops = [...model.keys()].filter((k) => !k.includes("/") && model.get(k)!.length > 0);
    const prefixes = [...new Set([...model.keys()].filter((k) => k.includes("/") && model.get(k)!.length > 0).map((k) => k.slice(0, k.indexOf("/") + 1)))];
    expect(rolled.filter((e) => e.kind === "Prefix").map((e) => e.key)).toEqual(prefixes.sort(utf8Cmp));
    expect(rolled.filter((e) => e.kind !== "Prefix")).toEqual(expected().filter((e) => tops.includes(e.key)));
  }, 60_000);

  test("the latest of each key is what GET answers", async () => {
    for (const key of keys.slice(0, 12)) {
      const newest = model.get(key)![0];
      const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: key })).catch((e) => e);
      if (!newest || newest.marker) expect(r.$metadata.httpStatusCode).toBe(404);
      else expect(r.VersionId).toBe(newest.id);
    }
  });
});

describe("two processes on one root", () => {
  test("concurrent PUTs of one key: every write a version, exactly one latest, the newest", async () => {
    const B = "vrace";
    await versionedBucket(s3, B);
    const other = await startGateway({ root: gw.root });
    const s3b = s3Client(other);
    try {
      const per = 40;
      const bodies = new Map<string, string>();
      const writer = async (client: S3Client, name: string) => {
        for (let batch = 0; batch < per; batch += 8) {
          await Promise.all(
            Array.from({ length: 8 }, async (_, j) => {
              const body = `${name}-${batch + j}`;
              const r = await client.send(new PutObjectCommand({ Bucket: B, Key: "hot", Body: body }));
              bodies.set(r.VersionId!, body);
            }),
          );
        }
      };
      await Promise.all([writer(s3, "one"), writer(s3b, "two")]);
      expect(bodies.size).toBe(2 * per);
      const listed = await listAll(B, 1000);
      expect(listed.length).toBe(2 * per);
      expect(listed.filter((v) => v.latest).map((v) => v.id)).toEqual([listed[0].id]);
      const ids = listed.map((v) => v.id!);
      expect([...ids].sort().reverse()).toEqual(ids);
      expect(new Set(ids)).toEqual(new Set(bodies.keys()));
      const latest = await s3b.send(new GetObjectCommand({ Bucket: B, Key: "hot" }));
      expect([latest.VersionId, await latest.Body!.transformToString()]).toEqual([ids[0], bodies.get(ids[0])]);
      for (const id of ids.slice(0, 10)) {
        const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: "hot", VersionId: id }));
        expect(await r.Body!.transformToString()).toBe(bodies.get(id)!);
      }
    } finally {
      s3b.destroy();
      await other.stop();
    }
  }, 120_000);
});

describe("kill -9 mid-overwrite", () => {
  test("every acknowledged version survives, the latest is the plain file, nothing is listed twice", async () => {
    const B = "vkill";
    await versionedBucket(s3, B);
    const victim = await startGateway({ root: gw.root });
    const client = s3Client(victim, { maxAttempts: 1 });
    const acked = new Map<string, string>();
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const body = `w${w}-${i}-` + "x".repeat(1000 * (i % 7));
        try {
          const r = await client.send(new PutObjectCommand({ Bucket: B, Key: "k", Body: body }));
          acked.set(r.VersionId!, body);
        } catch {
          return; // the process is gone
        }
      }
    };
    const writers = Array.from({ length: 6 }, (_, w) => writer(w));
    await new Promise((r) => setTimeout(r, 700));
    const exited = new Promise((r) => victim.proc.once("exit", r));
    victim.proc.kill("SIGKILL");
    await exited;
    stop = true;
    await Promise.all(writers);
    client.destroy();
    expect(acked.size).toBeGreaterThan(5);
    const listed = await listAll(B, 1000);
    const ids = listed.map((v) => v.id!);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of acked.keys()) expect(ids).toContain(id);
    expect(listed.filter((v) => v.latest).length).toBeLessThanOrEqual(1);
    const head = await s3.send(new GetObjectCommand({ Bucket: B, Key: "k" }));
    expect(head.VersionId).toBe(ids[0]);
    expect(listed[0].latest).toBe(true);
    for (const [id, body] of [...acked].slice(-5)) {
      const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: "k", VersionId: id }));
      expect(await r.Body!.transformToString()).toBe(body);
    }
  }, 60_000);
});
