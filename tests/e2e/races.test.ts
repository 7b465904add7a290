// Two gateway processes on one root, as `--workers N` and several hosts run: reads never mix
// versions, conditional writes have exactly one winner, refused writes change nothing, metadata
// updates never land on a newer file, and a Complete whose process died is finished by a retry.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeGateway, expectS3Error, type Gateway, readAll, s3Client, startGateway } from "../support/index.ts";

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

async function twoOnOneRoot(args: string[] = []): Promise<{ root: string; gws: Gateway[]; clients: S3Client[] }> {
  const root = mkdtempSync(join(tmpdir(), "filegate-race-"));
  const gws = [await startGateway({ root, args }), await startGateway({ root, args })];
  return { root, gws, clients: gws.map((g) => s3Client(g)) };
}

async function closeAll(t: { root: string; gws: Gateway[]; clients: S3Client[] }): Promise<void> {
  for (let i = 0; i < t.gws.length; i++) await closeGateway(t.gws[i], t.clients[i]);
  rmSync(t.root, { recursive: true, force: true });
}

const status = (p: Promise<unknown>) => p.then(() => 200, (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode ?? -1);

describe("two processes on one root", () => {
  let t: Awaited<ReturnType<typeof twoOnOneRoot>>;
  const b = "race";
  beforeAll(async () => {
    t = await twoOnOneRoot();
    await t.clients[0].send(new CreateBucketCommand({ Bucket: b }));
  });
  afterAll(async () => closeAll(t));

  test("a GET's body is always the version its ETag and Content-Length name, whole or ranged", async () => {
    // Over 1 MiB, so Bun sends them with sendfile; different sizes, so a torn answer shows.
    const versions = [randomBytes(1536 * 1024), randomBytes(1200 * 1024 + 7)];
    const byEtag = new Map(versions.map((v) => [`"${md5(v)}"`, v]));
    const [writer, reader] = t.clients;
    await writer.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: versions[0] }));
    let stop = false;
    let writes = 0;
    const writing = (async () => {
      for (let i = 1; !stop; i++) {
        await writer.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: versions[i % 2] }));
        writes++;
      }
    })();
    let reads = 0;
    const bad: string[] = [];
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const whole = await reader.send(new GetObjectCommand({ Bucket: b, Key: "k" }));
      const body = await readAll(whole.Body);
      if (`"${md5(body)}"` !== whole.ETag || body.length !== whole.ContentLength) bad.push(`whole ${whole.ETag} ${body.length}`);
      // A ranged read pinned to the version just seen: 206 with that version's bytes, or 412.
      try {
        const part = await reader.send(new GetObjectCommand({ Bucket: b, Key: "k", Range: "bytes=1000-1199999", IfMatch: whole.ETag }));
        const bytes = await readAll(part.Body);
        if (!bytes.equals(byEtag.get(whole.ETag!)!.subarray(1000, 1200000))) bad.push(`ranged ${whole.ETag}`);
      } catch (e) {
        if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 412) throw e;
      }
      reads++;
    }
    stop = true;
    await writing;
    expect({ bad, enough: reads > 20 && writes > 20 }).toEqual({ bad: [], enough: true });
  });

  test("of two If-Match PUTs racing from two processes, exactly one wins, for 100 rounds", async () => {
    await t.clients[0].send(new PutObjectCommand({ Bucket: b, Key: "cas", Body: "v0" }));
    const outcomes: string[] = [];
    for (let round = 0; round < 100; round++) {
      const etag = (await t.clients[1].send(new HeadObjectCommand({ Bucket: b, Key: "cas" }))).ETag!;
      const results = await Promise.all(
        t.clients.map((c, i) => status(c.send(new PutObjectCommand({ Bucket: b, Key: "cas", Body: `round ${round} by ${i}`, IfMatch: etag })))),
      );
      outcomes.push(results.sort().join(","));
    }
    // The loser sees the winner's ETag (412), or the winner's lock for too long (409).
    expect(outcomes.filter((o) => o !== "200,412" && o !== "200,409")).toEqual([]);
  });

  test("of two If-None-Match: * PUTs, exactly one creates the key", async () => {
    for (let round = 0; round < 30; round++) {
      const results = await Promise.all(
        t.clients.map((c, i) => status(c.send(new PutObjectCommand({ Bucket: b, Key: `new-${round}`, Body: `by ${i}`, IfNoneMatch: "*" })))),
      );
      expect(results.sort()).toEqual([200, 412]);
    }
  });
});

describe("with --meta sidecar", () => {
  let t: Awaited<ReturnType<typeof twoOnOneRoot>>;
  const b = "side";
  beforeAll(async () => {
    t = await twoOnOneRoot(["--meta", "sidecar"]);
    await t.clients[0].send(new CreateBucketCommand({ Bucket: b }));
  });
  afterAll(async () => closeAll(t));

  test("a refused conditional write leaves the object's metadata as it was", async () => {
    const s3 = t.clients[0];
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "original", ContentType: "text/plain", Metadata: { who: "me" } }));
    const check = async () => {
      const h = await t.clients[1].send(new HeadObjectCommand({ Bucket: b, Key: "k" }));
      expect([h.ETag, h.ContentType, h.Metadata]).toEqual([put.ETag, "text/plain", { who: "me" }]);
    };
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "other", IfNoneMatch: "*" })), 412, "PreconditionFailed");
    await check();
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "other", IfMatch: '"0123456789abcdef0123456789abcdef"' })), 412, "PreconditionFailed");
    await check();
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "src", Body: "copy source" }));
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: b, Key: "k", CopySource: `${b}/src`, IfNoneMatch: "*" })), 412, "PreconditionFailed");
    await check();
  });

  test("tagging racing PUTs from another process never gives the new file the old record", async () => {
    const [putter, tagger] = t.clients;
    const bad: string[] = [];
    for (let round = 0; round < 40; round++) {
      const body = Buffer.from(`round ${round} ${"x".repeat(round)}`);
      await Promise.all([
        putter.send(new PutObjectCommand({ Bucket: b, Key: "tagged", Body: body })),
        status(tagger.send(new PutObjectTaggingCommand({ Bucket: b, Key: "tagged", Tagging: { TagSet: [{ Key: "r", Value: String(round) }] } }))),
      ]);
      const h = await tagger.send(new HeadObjectCommand({ Bucket: b, Key: "tagged" }));
      const got = await readAll((await tagger.send(new GetObjectCommand({ Bucket: b, Key: "tagged" }))).Body);
      if (h.ETag !== `"${md5(got)}"`) bad.push(`round ${round}: ${h.ETag} for ${md5(got)}`);
    }
    expect(bad).toEqual([]);
  });
});

describe("a Complete whose process died", () => {
  let gw: Gateway;
  let s3: S3Client;
  const b = "crash";
  beforeAll(async () => {
    gw = await startGateway();
    s3 = s3Client(gw);
    await s3.send(new CreateBucketCommand({ Bucket: b }));
  });
  afterAll(async () => closeGateway(gw, s3));

  // What kill -9 in the middle of assembly leaves: the upload renamed to .completing-*, and no
  // live claim. "append": part 1 has a file of its own (it was uploaded twice) with some of part 2
  // appended to it; "in place": the shared data file with bytes written past the object's end (a
  // copy into a slot no record names). A real kill lands anywhere in that window; building the
  // state makes the test exact.
  async function crashedUpload(key: string, layout: "append" | "in place" = "append") {
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }));
    let p1 = randomBytes(5 * 1024 * 1024);
    const p2 = randomBytes(1024);
    let e1 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: p1 }))).ETag!;
    if (layout === "append") {
      p1 = randomBytes(5 * 1024 * 1024);
      e1 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: p1 }))).ETag!;
    }
    const e2 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: 2, Body: p2 }))).ETag!;
    const uploads = join(gw.root, b, ".filegate", "uploads");
    const dir = join(uploads, up.UploadId!);
    const target = layout === "append" ? readdirSync(dir).find((n) => /^part-00001\.[0-9a-f]+$/.test(n))! : "parts.data";
    const fd = openSync(join(dir, target), "r+");
    writeSync(fd, p2.subarray(0, 300), 0, 300, layout === "append" ? p1.length : 3 * p1.length);
    closeSync(fd);
    renameSync(dir, join(uploads, `${up.UploadId}.completing-deadbeef0000`));
    return { uploadId: up.UploadId!, parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }], whole: Buffer.concat([p1, p2]) };
  }

  test("in place: a retried Complete finishes it and answers", async () => {
    const c = await crashedUpload("retried-in-place", "in place");
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: "retried-in-place", UploadId: c.uploadId, MultipartUpload: { Parts: c.parts } }));
    expect(done.ETag).toMatch(/-2"$/);
    const got = await readAll((await s3.send(new GetObjectCommand({ Bucket: b, Key: "retried-in-place" }))).Body);
    expect(got.equals(c.whole)).toBe(true);
  });

  test("a retried Complete finishes it and answers", async () => {
    const c = await crashedUpload("retried");
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: "retried", UploadId: c.uploadId, MultipartUpload: { Parts: c.parts } }));
    expect(done.ETag).toMatch(/-2"$/);
    const got = await readAll((await s3.send(new GetObjectCommand({ Bucket: b, Key: "retried" }))).Body);
    expect(got.equals(c.whole)).toBe(true);
  });

  test("ListParts sees the upload again, and Abort removes it", async () => {
    const c = await crashedUpload("aborted");
    const parts = await s3.send(new ListPartsCommand({ Bucket: b, Key: "aborted", UploadId: c.uploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[1, 5 * 1024 * 1024], [2, 1024]]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: "aborted", UploadId: c.uploadId }));
    const uploads = join(gw.root, b, ".filegate", "uploads");
    expect(readdirSync(uploads).filter((n) => n.startsWith(c.uploadId))).toEqual([]);
  });
});
