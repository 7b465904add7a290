// Multipart uploads end to end, through real clients, against a gateway process on the runtime
// named by FILEGATE_TEST_RUNTIME.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createHasher, type ChecksumAlgorithm } from "../../src/checksums/index.ts";
import { type Gateway, md5Hex, minioClient, s3Client, startGateway, uniqueBucket } from "../support/index.ts";

const MiB = 1024 * 1024;
let gw: Gateway;
let s3: S3Client;
let bucket: string;

beforeAll(async () => {
  gw = await startGateway();
  s3 = s3Client(gw);
  bucket = uniqueBucket("mp");
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  s3?.destroy();
  await gw?.stop();
});

const digest = (alg: ChecksumAlgorithm, b: Uint8Array) => {
  const h = createHasher(alg);
  h.update(b);
  return h.digest();
};

async function getBytes(client: S3Client, Bucket: string, Key: string, extra: Record<string, unknown> = {}) {
  const r = await client.send(new GetObjectCommand({ Bucket, Key, ...extra }));
  return { body: Buffer.from(await r.Body!.transformToByteArray()), res: r };
}

async function s3Code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { name: string }).name;
  }
  return "no error";
}

async function s3Error(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  return { name: "no error", message: "" };
}

async function create(Key: string, extra: Record<string, unknown> = {}) {
  const r = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key, ...extra }));
  return r.UploadId!;
}

async function part(Key: string, UploadId: string, PartNumber: number, Body: Uint8Array, extra: Record<string, unknown> = {}) {
  return s3.send(new UploadPartCommand({ Bucket: bucket, Key, UploadId, PartNumber, Body, ...extra }));
}

function uploadDirs(b = bucket): string[] {
  const dir = join(gw.root, b, ".filegate", "uploads");
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe("real clients", () => {
  test("lib-storage Upload: 20 MiB in 5 MiB parts, two at a time, byte-identical", async () => {
    const data = randomBytes(20 * MiB + 1234);
    const up = new Upload({ client: s3, params: { Bucket: bucket, Key: "big/lib-storage.bin", Body: data, ContentType: "application/x-test" }, partSize: 5 * MiB, queueSize: 2 });
    const done = await up.done();
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-5"$/);
    const { body, res } = await getBytes(s3, bucket, "big/lib-storage.bin");
    expect(body.equals(data)).toBe(true);
    expect(res.ContentType).toBe("application/x-test");
    expect(res.ETag).toBe(done.ETag);
    // S3 reports PartsCount only to part reads.
    expect(res.PartsCount).toBeUndefined();
    // partNumber reads serve exactly that part's bytes
    const p2 = await getBytes(s3, bucket, "big/lib-storage.bin", { PartNumber: 2 });
    expect(p2.body.equals(data.subarray(5 * MiB, 10 * MiB))).toBe(true);
    expect(p2.res.PartsCount).toBe(5);
    const p5 = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "big/lib-storage.bin", PartNumber: 5 }));
    expect(p5.ContentLength).toBe(1234);
    expect(await s3Code(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "big/lib-storage.bin", PartNumber: 6 })))).not.toBe("no error");
    // nothing of the upload is left behind
    expect(uploadDirs().filter((n) => !n.endsWith(".done"))).toEqual([]);
  }, 30000);

  test("minio putObject of 70 MiB goes multipart and round-trips", async () => {
    const mc = minioClient(gw);
    const data = randomBytes(70 * MiB);
    // Fed in 1 MiB chunks: minio's part chunker hands its consumer everything buffered at once, so
    // large input chunks would merge its 64 MiB parts into one.
    const chunks = function* () {
      for (let off = 0; off < data.length; off += MiB) yield data.subarray(off, off + MiB);
    };
    const info = await mc.putObject(bucket, "big/minio.bin", Readable.from(chunks(), { objectMode: false }), data.length);
    expect(info.etag).toMatch(/^[0-9a-f]{32}-2$/);
    const { body } = await getBytes(s3, bucket, "big/minio.bin");
    expect(body.length).toBe(data.length);
    expect(md5Hex(body)).toBe(md5Hex(data));
  }, 40000);
});

describe("create, parts, complete", () => {
  test("metadata, tags and content headers from Create are stored on the object", async () => {
    const id = await create("meta/obj", { ContentType: "text/x-mp", Metadata: { color: "blue" }, Tagging: "a=1&b=two", CacheControl: "max-age=5" });
    const p1 = await part("meta/obj", id, 1, Buffer.from("hello "));
    const r = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "meta/obj", UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } }),
    );
    expect(r.ETag).toBe(`"${md5Hex(Buffer.from(md5Hex(Buffer.from("hello ")), "hex"))}-1"`);
    expect(r.Key).toBe("meta/obj");
    expect(r.Bucket).toBe(bucket);
    expect(r.Location).toContain(`/${bucket}/meta/obj`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "meta/obj" }));
    expect(head.ContentType).toBe("text/x-mp");
    expect(head.CacheControl).toBe("max-age=5");
    expect(head.Metadata).toEqual({ color: "blue" });
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "meta/obj" }));
    expect(tags.TagSet).toEqual([
      { Key: "a", Value: "1" },
      { Key: "b", Value: "two" },
    ]);
  });

  test("a part uploaded again replaces the earlier one, leaving no stale data file", async () => {
    const key = "replace/obj";
    const id = await create(key);
    const a = randomBytes(5 * MiB);
    const b = randomBytes(5 * MiB);
    await part(key, id, 1, a);
    const p1 = await part(key, id, 1, b);
    const p2 = await part(key, id, 2, Buffer.from("tail"));
    const dir = join(gw.root, bucket, ".filegate", "uploads", id);
    expect(readdirSync(dir).filter((n) => n.startsWith("part-00001")).length).toBe(2); // data + record
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id }));
    expect(listed.Parts!.map((p) => [p.PartNumber, p.ETag, p.Size])).toEqual([
      [1, `"${md5Hex(b)}"`, 5 * MiB],
      [2, `"${md5Hex(Buffer.from("tail"))}"`, 4],
    ]);
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }),
    );
    const { body } = await getBytes(s3, bucket, key);
    expect(body.equals(Buffer.concat([b, Buffer.from("tail")]))).toBe(true);
  });

  test("retrying a Complete that succeeded returns the same result", async () => {
    const key = "retry/obj";
    const id = await create(key);
    const p1 = await part(key, id, 1, Buffer.from("only part"));
    const input = { Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } };
    const first = await s3.send(new CompleteMultipartUploadCommand(input));
    const again = await s3.send(new CompleteMultipartUploadCommand(input));
    expect(again.ETag).toBe(first.ETag);
    // but the upload is gone for everything else
    expect(await s3Code(s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id })))).toBe("NoSuchUpload");
    expect(await s3Code(s3.send(new CompleteMultipartUploadCommand({ ...input, Key: "retry/other" })))).toBe("NoSuchUpload");
    // A "retry" naming other parts is not a retry.
    const other = { ...input, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: `"${"0".repeat(32)}"` }] } };
    expect(await s3Code(s3.send(new CompleteMultipartUploadCommand(other)))).toBe("NoSuchUpload");
  });

  test("If-None-Match: * on Complete refuses to overwrite and keeps the upload", async () => {
    const key = "cond/obj";
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "existing" }));
    const id = await create(key);
    const p1 = await part(key, id, 1, Buffer.from("new"));
    const input = { Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } };
    const err = await s3Error(s3.send(new CompleteMultipartUploadCommand({ ...input, IfNoneMatch: "*" })));
    expect(err.name).toBe("PreconditionFailed");
    expect(err.status).toBe(412);
    await s3.send(new CompleteMultipartUploadCommand(input));
    expect((await getBytes(s3, bucket, key)).body.toString()).toBe("new");
  });
});

describe("checksums", () => {
  test("COMPOSITE SHA256: checksum of the part checksums, -N", async () => {
    const key = "ck/composite";
    const id = await create(key, { ChecksumAlgorithm: "SHA256" });
    const a = randomBytes(5 * MiB);
    const b = Buffer.from("second part");
    const p1 = await part(key, id, 1, a, { ChecksumAlgorithm: "SHA256" });
    const p2 = await part(key, id, 2, b, { ChecksumAlgorithm: "SHA256" });
    expect(p1.ChecksumSHA256).toBe(digest("SHA256", a).toString("base64"));
    const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id }));
    expect(listed.ChecksumAlgorithm).toBe("SHA256");
    expect(listed.ChecksumType).toBe("COMPOSITE");
    const r = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: id,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag, ChecksumSHA256: p1.ChecksumSHA256 },
            { PartNumber: 2, ETag: p2.ETag, ChecksumSHA256: p2.ChecksumSHA256 },
          ],
        },
      }),
    );
    const expected = digest("SHA256", Buffer.concat([digest("SHA256", a), digest("SHA256", b)])).toString("base64") + "-2";
    expect(r.ChecksumSHA256).toBe(expected);
    expect(r.ChecksumType).toBe("COMPOSITE");
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
    expect(head.ChecksumSHA256).toBe(expected);
  });

  test("FULL_OBJECT CRC32C: combined from the parts, equal to the CRC of the whole object", async () => {
    const key = "ck/full";
    const id = await create(key, { ChecksumAlgorithm: "CRC32C", ChecksumType: "FULL_OBJECT" });
    const a = randomBytes(5 * MiB + 3);
    const b = randomBytes(777);
    // parts sent without a checksum get one computed by the gateway
    const p1 = await s3Client(gw, { requestChecksumCalculation: "WHEN_REQUIRED" }).send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: id, PartNumber: 1, Body: a }));
    const p2 = await part(key, id, 2, b, { ChecksumAlgorithm: "CRC32C" });
    const whole = digest("CRC32C", Buffer.concat([a, b])).toString("base64");
    const r = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: id,
        ChecksumCRC32C: whole,
        ChecksumType: "FULL_OBJECT",
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
      }),
    );
    expect(r.ChecksumCRC32C).toBe(whole);
    expect(r.ChecksumType).toBe("FULL_OBJECT");
  });

  test("checksum refusals", async () => {
    expect(await s3Code(create("ck/x", { ChecksumAlgorithm: "SHA1", ChecksumType: "FULL_OBJECT" }))).toBe("InvalidRequest");
    expect(await s3Code(create("ck/x", { ChecksumAlgorithm: "CRC64NVME", ChecksumType: "COMPOSITE" }))).toBe("InvalidRequest");
    const id = await create("ck/x", { ChecksumAlgorithm: "CRC32" });
    expect(await s3Code(part("ck/x", id, 1, Buffer.from("x"), { ChecksumAlgorithm: "SHA256" }))).toBe("InvalidRequest");
    expect(await s3Code(part("ck/x", id, 1, Buffer.from("x"), { ChecksumCRC32: "AAAAAA==" }))).toBe("BadDigest");
    const p1 = await part("ck/x", id, 1, Buffer.from("x"), { ChecksumAlgorithm: "CRC32" });
    const base = { Bucket: bucket, Key: "ck/x", UploadId: id };
    // a COMPOSITE upload's Complete must list the part checksums
    expect(await s3Code(s3.send(new CompleteMultipartUploadCommand({ ...base, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } })))).toBe("InvalidRequest");
    expect(
      await s3Code(s3.send(new CompleteMultipartUploadCommand({ ...base, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag, ChecksumCRC32: "AAAAAA==" }] } }))),
    ).toBe("InvalidPart");
    expect(
      await s3Code(
        s3.send(new CompleteMultipartUploadCommand({ ...base, ChecksumCRC32: "AAAAAA==-1", MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag, ChecksumCRC32: p1.ChecksumCRC32 }] } })),
      ),
    ).toBe("BadDigest");
    await s3.send(new AbortMultipartUploadCommand(base));
  });
});

describe("refusals", () => {
  test("part numbers, unknown and malformed upload ids, key mismatch", async () => {
    const id = await create("ref/a");
    for (const n of [0, 10001]) {
      const e = await s3Error(part("ref/a", id, n, Buffer.from("x")));
      expect(e.name).toBe("InvalidArgument");
    }
    const bogus = "0".repeat(12) + "A".repeat(32);
    expect(await s3Code(part("ref/a", bogus, 1, Buffer.from("x")))).toBe("NoSuchUpload");
    expect(await s3Code(part("ref/a", "../../../etc", 1, Buffer.from("x")))).toBe("NoSuchUpload");
    expect(await s3Code(part("ref/b", id, 1, Buffer.from("x")))).toBe("NoSuchUpload");
    expect(await s3Code(s3.send(new ListPartsCommand({ Bucket: bucket, Key: "ref/a", UploadId: bogus })))).toBe("NoSuchUpload");
    const abortErr = await s3Error(s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: "ref/a", UploadId: bogus })));
    expect([abortErr.name, abortErr.status]).toEqual(["NoSuchUpload", 404]);
    expect(await s3Code(s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: "ref/b", UploadId: id })))).toBe("NoSuchUpload");
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: "ref/a", UploadId: id }));
  });

  test("Complete: empty list, order, unknown ETag, parts under 5 MiB", async () => {
    const key = "ref/complete";
    const id = await create(key);
    const p1 = await part(key, id, 1, Buffer.from("small one"));
    const p2 = await part(key, id, 2, Buffer.from("small two"));
    const base = { Bucket: bucket, Key: key, UploadId: id };
    const complete = (Parts: { PartNumber: number; ETag?: string }[]) => s3Code(s3.send(new CompleteMultipartUploadCommand({ ...base, MultipartUpload: { Parts } })));
    expect(await complete([])).toBe("MalformedXML");
    expect(
      await complete([
        { PartNumber: 2, ETag: p2.ETag },
        { PartNumber: 1, ETag: p1.ETag },
      ]),
    ).toBe("InvalidPartOrder");
    expect(await complete([{ PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' }])).toBe("InvalidPart");
    expect(await complete([{ PartNumber: 3, ETag: p1.ETag }])).toBe("InvalidPart");
    expect(
      await complete([
        { PartNumber: 1, ETag: p1.ETag },
        { PartNumber: 2, ETag: p2.ETag },
      ]),
    ).toBe("EntityTooSmall");
    // all refused without consuming the upload; ETags compare without quotes
    expect(await complete([{ PartNumber: 2, ETag: p2.ETag!.replace(/"/g, "") }])).toBe("no error");
    expect((await getBytes(s3, bucket, key)).body.toString()).toBe("small two");
  });
});

describe("UploadPartCopy", () => {
  test("whole and ranged copies, ETag of the copied bytes, strict ranges, source conditions", async () => {
    const src = randomBytes(6 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "copy/src", Body: src }));
    const key = "copy/dst";
    const id = await create(key);
    const base = { Bucket: bucket, Key: key, UploadId: id, CopySource: `${bucket}/copy/src` };
    const c1 = await s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 1 }));
    expect(c1.CopyPartResult!.ETag).toBe(`"${md5Hex(src)}"`);
    const c2 = await s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 2, CopySourceRange: "bytes=100-5242979" }));
    expect(c2.CopyPartResult!.ETag).toBe(`"${md5Hex(src.subarray(100, 5242980))}"`);
    const c3 = await s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 3, CopySourceRange: `bytes=${src.length - 10}-${src.length - 1}` }));
    for (const bad of ["bytes=0-", "bytes=-5", "bytes=5-1", "0-10", "bytes=0-1,3-4"]) {
      const e = await s3Error(s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 4, CopySourceRange: bad })));
      expect(e.name).toBe("InvalidArgument");
      expect(e.message).toContain("must be of the form bytes=first-last");
    }
    const e = await s3Error(s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 4, CopySourceRange: `bytes=0-${src.length}` })));
    expect(e.name).toBe("InvalidArgument");
    expect(e.message).toBe(`Range specified is not valid for source object of size: ${src.length}`);
    expect(await s3Code(s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 4, CopySourceIfMatch: '"nope"' })))).toBe("PreconditionFailed");
    expect(await s3Code(s3.send(new UploadPartCopyCommand({ ...base, PartNumber: 4, CopySource: `${bucket}/copy/missing` })))).toBe("NoSuchKey");
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: id,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: c1.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: c2.CopyPartResult!.ETag },
            { PartNumber: 3, ETag: c3.CopyPartResult!.ETag },
          ],
        },
      }),
    );
    const { body } = await getBytes(s3, bucket, key);
    expect(body.equals(Buffer.concat([src, src.subarray(100, 5242980), src.subarray(src.length - 10)]))).toBe(true);
  });
});

describe("abort and concurrency", () => {
  test("Abort removes every byte of the upload from disk", async () => {
    const key = "abort/obj";
    const id = await create(key);
    await part(key, id, 1, randomBytes(MiB));
    await part(key, id, 2, randomBytes(MiB));
    expect(uploadDirs()).toContain(id);
    const r = await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }));
    expect(r.$metadata.httpStatusCode).toBe(204);
    expect(uploadDirs().filter((n) => n.startsWith(id))).toEqual([]);
    const tmp = join(gw.root, bucket, ".filegate", "tmp");
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
    expect(await s3Code(s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id })))).toBe("NoSuchUpload");
    expect(await s3Code(part(key, id, 3, Buffer.from("late")))).toBe("NoSuchUpload");
  });

  test("Complete racing Abort: exactly one wins, and the object is whole or absent", async () => {
    for (let round = 0; round < 3; round++) {
      const key = `race/obj-${round}`;
      const id = await create(key);
      const a = randomBytes(5 * MiB);
      const p1 = await part(key, id, 1, a);
      const p2 = await part(key, id, 2, Buffer.from("end"));
      const [c, ab] = await Promise.all([
        s3Code(
          s3.send(
            new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }),
          ),
        ),
        s3Code(s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }))),
      ]);
      expect([c, ab].filter((x) => x === "no error").length).toBe(1);
      expect([c, ab].filter((x) => x === "NoSuchUpload").length).toBe(1);
      if (c === "no error") expect((await getBytes(s3, bucket, key)).body.equals(Buffer.concat([a, Buffer.from("end")]))).toBe(true);
      else expect(await s3Code(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).not.toBe("no error");
    }
  }, 20000);

  test("two gateway processes on one root share an upload", async () => {
    const other = await startGateway({ root: gw.root });
    const s3b = s3Client(other);
    try {
      const key = "shared/obj";
      const id = await create(key);
      const a = randomBytes(5 * MiB);
      const p1 = await part(key, id, 1, a);
      const p2 = await s3b.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: id, PartNumber: 2, Body: Buffer.from("from b") }));
      const listed = await s3b.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id }));
      expect(listed.Parts!.map((p) => p.PartNumber)).toEqual([1, 2]);
      await s3b.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }),
      );
      expect((await getBytes(s3, bucket, key)).body.equals(Buffer.concat([a, Buffer.from("from b")]))).toBe(true);
    } finally {
      s3b.destroy();
      await other.stop();
    }
  }, 20000);

  test("an upload survives a gateway restart", async () => {
    const root = gw.root;
    const key = "restart/obj";
    const id = await create(key);
    const p1 = await part(key, id, 1, Buffer.from("before restart"));
    const second = await startGateway({ root });
    const c = s3Client(second);
    try {
      const r = await c.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } }));
      expect(r.ETag).toMatch(/-1"$/);
    } finally {
      c.destroy();
      await second.stop();
    }
  }, 20000);
});

describe("listing", () => {
  test("ListParts pages with max-parts and part-number-marker", async () => {
    const key = "list/parts";
    const id = await create(key);
    for (let n = 1; n <= 5; n++) await part(key, id, n * 2, Buffer.from(`part ${n}`));
    const seen: number[] = [];
    let marker: string | undefined;
    let pages = 0;
    for (;;) {
      const r = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: id, MaxParts: 2, PartNumberMarker: marker }));
      pages++;
      seen.push(...r.Parts!.map((p) => p.PartNumber!));
      expect(r.StorageClass).toBe("STANDARD");
      expect(r.Initiator?.ID).toBeTruthy();
      expect(r.Owner?.ID).toBeTruthy();
      if (!r.IsTruncated) break;
      marker = String(r.NextPartNumberMarker);
    }
    expect(seen).toEqual([2, 4, 6, 8, 10]);
    expect(pages).toBe(3);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }));
  });

  test("ListMultipartUploads: order, prefix, delimiter, markers, url encoding", async () => {
    const lb = uniqueBucket("mpl");
    await s3.send(new CreateBucketCommand({ Bucket: lb }));
    const mk = async (Key: string) => (await s3.send(new CreateMultipartUploadCommand({ Bucket: lb, Key }))).UploadId!;
    const ids: Record<string, string> = {};
    for (const k of ["dir/a", "dir/b", "c", "e f"]) ids[k] = await mk(k);
    const c2 = await mk("c");
    const all = await s3.send(new ListMultipartUploadsCommand({ Bucket: lb }));
    expect(all.Uploads!.map((u) => [u.Key, u.UploadId])).toEqual([
      ["c", ids.c],
      ["c", c2],
      ["dir/a", ids["dir/a"]],
      ["dir/b", ids["dir/b"]],
      ["e f", ids["e f"]],
    ]);
    expect(all.Uploads![0].StorageClass).toBe("STANDARD");
    expect(all.Uploads![0].Initiated).toBeInstanceOf(Date);

    const delim = await s3.send(new ListMultipartUploadsCommand({ Bucket: lb, Delimiter: "/" }));
    expect(delim.Uploads!.map((u) => u.Key)).toEqual(["c", "c", "e f"]);
    expect(delim.CommonPrefixes!.map((p) => p.Prefix)).toEqual(["dir/"]);

    const prefixed = await s3.send(new ListMultipartUploadsCommand({ Bucket: lb, Prefix: "dir/" }));
    expect(prefixed.Uploads!.map((u) => u.Key)).toEqual(["dir/a", "dir/b"]);

    const seen: string[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await s3.send(new ListMultipartUploadsCommand({ Bucket: lb, MaxUploads: 2, KeyMarker: keyMarker, UploadIdMarker: idMarker }));
      seen.push(...r.Uploads!.map((u) => u.UploadId!));
      if (!r.IsTruncated) break;
      expect(r.Uploads!.length).toBe(2);
      keyMarker = r.NextKeyMarker;
      idMarker = r.NextUploadIdMarker;
    }
    expect(seen).toEqual([ids.c, c2, ids["dir/a"], ids["dir/b"], ids["e f"]]);

    const encoded = await s3.send(new ListMultipartUploadsCommand({ Bucket: lb, Prefix: "e", EncodingType: "url" }));
    expect(encoded.EncodingType).toBe("url");
    expect(encoded.Uploads!.map((u) => u.Key)).toEqual(["e%20f"]);
  });
});
