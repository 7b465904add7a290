// Objects, end to end (part 3): GetObject and HeadObject: bodies, ranges, part numbers,
// conditional reads, response-* overrides, checksum mode, error codes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type * as Minio from "minio";
import { randomBytes } from "node:crypto";
import { closeGateway, expectS3Error, type Gateway, md5Hex, openGateway, readAll, signedRequest } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;
let mc: Minio.Client;
const B = "gets";
const SMALL = Buffer.from("abcdefghijklmnopqrstuvwxyz");
const BIG = randomBytes(3 * 1024 * 1024 + 123);
let bigEtag: string;
let lastModified: Date;

beforeAll(async () => {
  ({ gw, s3, mc } = await openGateway(B));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: "small", Body: SMALL }));
  bigEtag = (await s3.send(new PutObjectCommand({ Bucket: B, Key: "dir/big.bin", Body: BIG, ChecksumAlgorithm: "SHA256" }))).ETag!;
  lastModified = (await s3.send(new HeadObjectCommand({ Bucket: B, Key: "small" }))).LastModified!;
});
afterAll(() => closeGateway(gw, s3));

const get = (Key: string, extra: Record<string, unknown> = {}) => s3.send(new GetObjectCommand({ Bucket: B, Key, ...extra }));
const bytes = async (r: { Body?: { transformToByteArray(): Promise<Uint8Array> } }) => Buffer.from(await r.Body!.transformToByteArray());

describe("bodies", () => {
  test("byte-identical through the SDK and minio (small and > 1 MiB)", async () => {
    const a = await get("dir/big.bin");
    expect(a.ContentLength).toBe(BIG.length);
    expect(a.ETag).toBe(bigEtag);
    expect((await bytes(a)).equals(BIG)).toBe(true);
    expect((await bytes(await get("small"))).equals(SMALL)).toBe(true);
    expect((await readAll(await mc.getObject(B, "dir/big.bin"))).equals(BIG)).toBe(true);
    expect((await readAll(await mc.getPartialObject(B, "dir/big.bin", 1000, 2 * 1024 * 1024))).equals(BIG.subarray(1000, 1000 + 2 * 1024 * 1024))).toBe(true);
  });

  test("no Content-Disposition unless stored (Bun would otherwise leak the file name)", async () => {
    for (const key of ["small", "dir/big.bin"]) {
      const r = await get(key);
      expect([undefined, ""]).toContain(r.ContentDisposition);
      await bytes(r);
      const raw = await signedRequest(gw, { method: "GET", path: `/${B}/${key}` });
      expect(raw.headers.get("content-disposition") ?? "").toBe("");
    }
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "cd", Body: "x", ContentDisposition: "attachment" }));
    expect((await get("cd")).ContentDisposition).toBe("attachment");
  });

  test("zero-byte object: 200 empty body; bytes=0- → 416; suffix range → 200 empty", async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "empty", Body: "" }));
    const r = await get("empty");
    expect(r.$metadata.httpStatusCode).toBe(200);
    expect(r.ContentLength).toBe(0);
    expect(r.ETag).toBe(`"${md5Hex("")}"`);
    expect((await bytes(r)).length).toBe(0);
    await expectS3Error(get("empty", { Range: "bytes=0-" }), 416, "InvalidRange");
    const s = await get("empty", { Range: "bytes=-5" });
    expect(s.$metadata.httpStatusCode).toBe(200);
    expect((await bytes(s)).length).toBe(0);
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "empty" }));
    expect(h.ContentLength).toBe(0);
  });

  test("missing key → 404 NoSuchKey; missing bucket → 404 NoSuchBucket", async () => {
    await expectS3Error(get("nope"), 404, "NoSuchKey");
    await expectS3Error(get("dir"), 404, "NoSuchKey");
    await expectS3Error(get("small/under"), 404, "NoSuchKey");
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: "no-such-bucket", Key: "k" })), 404, "NoSuchBucket");
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: "nope" })), 404);
    const raw = await signedRequest(gw, { method: "GET", path: `/no-such-bucket/k` });
    expect([raw.status, raw.code]).toEqual([404, "NoSuchBucket"]);
  });
});

describe("ranges", () => {
  const cases: [string, number, number][] = [
    ["bytes=2-5", 2, 5],
    ["bytes=20-", 20, 25],
    ["bytes=-4", 22, 25],
    ["bytes=0-1000", 0, 25],
    ["bytes=-100", 0, 25],
  ];
  for (const [range, start, end] of cases) {
    test(`${range} → 206 with Content-Range and Content-Length`, async () => {
      const r = await get("small", { Range: range });
      expect(r.$metadata.httpStatusCode).toBe(206);
      expect(r.ContentRange).toBe(`bytes ${start}-${end}/26`);
      expect(r.ContentLength).toBe(end - start + 1);
      expect((await bytes(r)).toString()).toBe(SMALL.subarray(start, end + 1).toString());
    });
  }

  test("ranges on a > 1 MiB object (sendfile path on Bun)", async () => {
    const M = 1024 * 1024;
    for (const [range, start, end] of [
      [`bytes=${M}-${2 * M + 10}`, M, 2 * M + 10],
      [`bytes=${2 * M}-`, 2 * M, BIG.length - 1],
      [`bytes=-${M + 5}`, BIG.length - M - 5, BIG.length - 1],
    ] as [string, number, number][]) {
      const r = await get("dir/big.bin", { Range: range });
      expect(r.$metadata.httpStatusCode).toBe(206);
      expect(r.ContentRange).toBe(`bytes ${start}-${end}/${BIG.length}`);
      expect(r.ContentLength).toBe(end - start + 1);
      expect((await bytes(r)).equals(BIG.subarray(start, end + 1))).toBe(true);
    }
  });

  for (const range of ["bytes=0-1,3-4", "bytes=x-y", "bytes=5-2", "0-1", "bytes="]) {
    test(`multiple or malformed ${JSON.stringify(range)} → 200 whole object`, async () => {
      const r = await get("small", { Range: range });
      expect(r.$metadata.httpStatusCode).toBe(200);
      expect(r.ContentRange).toBeUndefined();
      expect(r.ContentLength).toBe(26);
      expect((await bytes(r)).equals(SMALL)).toBe(true);
    });
  }

  test("unsatisfiable → 416 InvalidRange with XML (GET), 416 on HEAD", async () => {
    await expectS3Error(get("small", { Range: "bytes=26-30" }), 416, "InvalidRange");
    await expectS3Error(get("dir/big.bin", { Range: `bytes=${BIG.length}-` }), 416, "InvalidRange");
    const raw = await signedRequest(gw, { method: "GET", path: `/${B}/small`, headers: { range: "bytes=100-200" } });
    expect([raw.status, raw.code]).toEqual([416, "InvalidRange"]);
    expect(raw.body).toContain("<ActualObjectSize>26</ActualObjectSize>");
    expect(raw.headers.get("content-range")).toBe("bytes */26"); // RFC 9110 §15.5.17
    const head = await signedRequest(gw, { method: "HEAD", path: `/${B}/small`, headers: { range: "bytes=100-200" } });
    expect(head.status).toBe(416);
    expect(head.headers.get("content-range")).toBe("bytes */26");
  });

  test("every HEAD answer carries Date (SDKs correct clock skew from it)", async () => {
    for (const path of [`/${B}/small`, `/${B}/no-such-key`, `/${B}`, `/no-such-bucket-zz`]) {
      const r = await signedRequest(gw, { method: "HEAD", path });
      const date = r.headers.get("date");
      expect({ path, date: date !== null && Math.abs(Date.parse(date) - Date.now()) < 60_000 }).toEqual({ path, date: true });
    }
  });

  test("HEAD with a Range → 206 headers, no body", async () => {
    const r = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "dir/big.bin", Range: "bytes=10-19" }));
    expect(r.$metadata.httpStatusCode).toBe(206);
    expect(r.ContentLength).toBe(10);
    expect(r.ContentRange).toBe(`bytes 10-19/${BIG.length}`);
  });

  test("partNumber=1 on a non-multipart object → whole object as a 206; partNumber=2 → 416 InvalidPartNumber", async () => {
    const r = await get("dir/big.bin", { PartNumber: 1 });
    expect(r.ContentLength).toBe(BIG.length);
    expect(r.$metadata.httpStatusCode).toBe(206);
    expect(r.ContentRange).toBe(`bytes 0-${BIG.length - 1}/${BIG.length}`);
    // S3 reports PartsCount only for multipart objects.
    expect(r.PartsCount).toBeUndefined();
    expect((await bytes(r)).equals(BIG)).toBe(true);
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "small", PartNumber: 1 }));
    expect(h.ContentLength).toBe(26);
    await expectS3Error(get("small", { PartNumber: 2 }), 416, "InvalidPartNumber");
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: "small", PartNumber: 2 })), 416);
  });
});

describe("conditional GET and HEAD", () => {
  const past = new Date("2001-01-01T00:00:00Z");
  const future = () => new Date(Date.now() + 3600_000);
  const wrongEtag = `"${md5Hex("not it")}"`;
  const smallEtag = `"${md5Hex(SMALL)}"`;

  test("If-Match: match → 200; mismatch → 412 PreconditionFailed", async () => {
    expect((await get("small", { IfMatch: smallEtag })).$metadata.httpStatusCode).toBe(200);
    expect((await get("small", { IfMatch: "*" })).$metadata.httpStatusCode).toBe(200);
    await expectS3Error(get("small", { IfMatch: wrongEtag }), 412, "PreconditionFailed");
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: "small", IfMatch: wrongEtag })), 412);
  });

  test("If-None-Match: match → 304 with ETag, no body; mismatch → 200", async () => {
    await expectS3Error(get("small", { IfNoneMatch: smallEtag }), 304);
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: "small", IfNoneMatch: smallEtag })), 304);
    const raw = await signedRequest(gw, { method: "GET", path: `/${B}/small`, headers: { "if-none-match": smallEtag } });
    expect(raw.status).toBe(304);
    expect(raw.headers.get("etag")).toBe(smallEtag);
    expect(raw.body).toBe("");
    expect((await get("small", { IfNoneMatch: wrongEtag })).$metadata.httpStatusCode).toBe(200);
  });

  test("If-Modified-Since: not modified since → 304; modified since → 200", async () => {
    await expectS3Error(get("small", { IfModifiedSince: future() }), 304);
    await expectS3Error(get("small", { IfModifiedSince: lastModified }), 304);
    expect((await get("small", { IfModifiedSince: past })).$metadata.httpStatusCode).toBe(200);
  });

  test("If-Unmodified-Since: modified since → 412; not modified → 200", async () => {
    await expectS3Error(get("small", { IfUnmodifiedSince: past }), 412, "PreconditionFailed");
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: "small", IfUnmodifiedSince: past })), 412);
    expect((await get("small", { IfUnmodifiedSince: future() })).$metadata.httpStatusCode).toBe(200);
  });

  test("S3 precedence between the conditions", async () => {
    // If-Match true wins over If-Unmodified-Since false.
    expect((await get("small", { IfMatch: smallEtag, IfUnmodifiedSince: past })).$metadata.httpStatusCode).toBe(200);
    // If-None-Match false (ETag matches) with If-Modified-Since true → 304.
    await expectS3Error(get("small", { IfNoneMatch: smallEtag, IfModifiedSince: past }), 304);
    // If-None-Match true (no match) wins over If-Modified-Since false → 200.
    expect((await get("small", { IfNoneMatch: wrongEtag, IfModifiedSince: future() })).$metadata.httpStatusCode).toBe(200);
    // If-Match false → 412 even when If-None-Match would say 304.
    await expectS3Error(get("small", { IfMatch: wrongEtag, IfNoneMatch: smallEtag }), 412, "PreconditionFailed");
    // If-Match true and If-None-Match matching → 304.
    await expectS3Error(get("small", { IfMatch: smallEtag, IfNoneMatch: smallEtag }), 304);
    // Conditions are checked before the range: 304 wins over an unsatisfiable range.
    await expectS3Error(get("small", { IfNoneMatch: smallEtag, Range: "bytes=100-" }), 304);
  });
});

describe("response overrides and checksums", () => {
  test("response-* query parameters override the stored headers", async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "ovr", Body: "override me", ContentType: "text/plain", CacheControl: "no-store" }));
    const exp = new Date("2031-02-03T04:05:06Z");
    const r = await get("ovr", {
      ResponseContentType: "application/json",
      ResponseContentLanguage: "nl",
      ResponseExpires: exp,
      ResponseCacheControl: "max-age=5",
      ResponseContentDisposition: 'attachment; filename="x.json"',
      ResponseContentEncoding: "identity",
    });
    expect(r.ContentType).toBe("application/json");
    expect(r.ContentLanguage).toBe("nl");
    expect(r.Expires?.getTime()).toBe(exp.getTime());
    expect(r.CacheControl).toBe("max-age=5");
    expect(r.ContentDisposition).toBe('attachment; filename="x.json"');
    expect(r.ContentEncoding).toBe("identity");
    expect((await bytes(r)).toString()).toBe("override me");
    // Without overrides the stored values come back.
    const plain = await get("ovr");
    expect(plain.ContentType).toBe("text/plain");
    expect(plain.CacheControl).toBe("no-store");
    await bytes(plain);
    // An empty override changes nothing (and must not leave two Content-Type headers).
    const empty = await signedRequest(gw, { method: "GET", path: `/${B}/ovr`, query: { "response-content-type": "" } });
    expect(empty.headers.get("content-type")).toBe("text/plain");
  });

  test("x-amz-checksum-mode: ENABLED → stored checksum on full GET/HEAD, none on a range", async () => {
    const full = await get("dir/big.bin", { ChecksumMode: "ENABLED" });
    expect(full.ChecksumSHA256).toBeTruthy();
    const { createHash } = await import("node:crypto");
    expect(full.ChecksumSHA256).toBe(createHash("sha256").update(BIG).digest("base64"));
    await bytes(full);
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "dir/big.bin", ChecksumMode: "ENABLED" }));
    expect(head.ChecksumSHA256).toBe(full.ChecksumSHA256);
    const raw = await signedRequest(gw, { method: "GET", path: `/${B}/dir/big.bin`, headers: { range: "bytes=0-99", "x-amz-checksum-mode": "ENABLED" } });
    expect(raw.status).toBe(206);
    expect(raw.headers.get("x-amz-checksum-sha256")).toBeNull();
    // Without the mode header no checksum is sent.
    const off = await signedRequest(gw, { method: "HEAD", path: `/${B}/dir/big.bin` });
    expect(off.headers.get("x-amz-checksum-sha256")).toBeNull();
  });
});

describe("unversioned buckets and bucket ownership", () => {
  test("versionId=null reads the object; any other version id is InvalidArgument", async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "versioned-read", Body: "v" }));
    const ok = await s3.send(new GetObjectCommand({ Bucket: B, Key: "versioned-read", VersionId: "null" }));
    expect(await ok.Body!.transformToString()).toBe("v");
    const err = await s3.send(new GetObjectCommand({ Bucket: B, Key: "versioned-read", VersionId: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY" })).catch((e) => e);
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.name).toBe("InvalidArgument");
  });

  test("x-amz-expected-bucket-owner that is not the owner: AccessDenied", async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "owned", Body: "o" }));
    const err = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "owned", ExpectedBucketOwner: "111122223333" })).catch((e) => e);
    expect(err.$metadata.httpStatusCode).toBe(403);
  });
});
