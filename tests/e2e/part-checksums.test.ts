// Per-part checksums of multipart uploads survive Complete: a part read with checksum mode gets
// that part's checksum, and GetObjectAttributes lists them per part.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { closeGateway, type Gateway, openGateway, readAll } from "../support/index.ts";

const B = "part-sums";
let gw: Gateway;
let s3: S3Client;
beforeAll(async () => ({ gw, s3 } = await openGateway(B)));
afterAll(async () => closeGateway(gw, s3));

test("part reads and attributes carry each part's checksum", async () => {
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "k", ChecksumAlgorithm: "CRC32" }));
  const bodies = [randomBytes(5 * 1024 * 1024), randomBytes(1000)];
  const parts = [];
  for (let i = 0; i < bodies.length; i++) {
    const r = await s3.send(new UploadPartCommand({ Bucket: B, Key: "k", UploadId: up.UploadId, PartNumber: i + 1, Body: bodies[i], ChecksumAlgorithm: "CRC32" }));
    parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "k", UploadId: up.UploadId, MultipartUpload: { Parts: parts } }));
  for (const p of parts) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "k", PartNumber: p.PartNumber, ChecksumMode: "ENABLED" }));
    expect([head.ChecksumCRC32, head.ChecksumType]).toEqual([p.ChecksumCRC32, "COMPOSITE"]);
    const get = await s3.send(new GetObjectCommand({ Bucket: B, Key: "k", PartNumber: p.PartNumber, ChecksumMode: "ENABLED" }));
    expect(get.ChecksumCRC32).toBe(p.ChecksumCRC32);
    expect((await readAll(get.Body)).equals(bodies[p.PartNumber - 1])).toBe(true);
  }
  const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: "k", ObjectAttributes: ["ObjectParts", "Checksum"] }));
  expect(attrs.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.ChecksumCRC32])).toEqual(parts.map((p) => [p.PartNumber, p.ChecksumCRC32]));
  expect(attrs.Checksum?.ChecksumType).toBe("COMPOSITE");
});

test("--default-checksum crc64nvme: a PUT that declares no checksum gets CRC64NVME, returned with checksum mode", async () => {
  const { startGateway, s3Client } = await import("../support/index.ts");
  const { CreateBucketCommand, PutObjectCommand, HeadObjectCommand } = await import("@aws-sdk/client-s3");
  const g = await startGateway({ args: ["--default-checksum", "crc64nvme"] });
  const c = s3Client(g, { requestChecksumCalculation: "WHEN_REQUIRED" });
  try {
    await c.send(new CreateBucketCommand({ Bucket: "crc" }));
    await c.send(new PutObjectCommand({ Bucket: "crc", Key: "k", Body: "hello world" }));
    const h = await c.send(new HeadObjectCommand({ Bucket: "crc", Key: "k", ChecksumMode: "ENABLED" }));
    // The hasher is checked against the standard vector in tests/unit/checksums.test.ts.
    const { createHasher } = await import("../../src/checksums/index.ts");
    const hasher = createHasher("CRC64NVME");
    hasher.update(Buffer.from("hello world"));
    expect([h.ChecksumCRC64NVME, h.ChecksumType]).toEqual([Buffer.from(hasher.digest()).toString("base64"), "FULL_OBJECT"]);
    // The SDK checks the body against it on a GET with checksum mode.
    const { GetObjectCommand } = await import("@aws-sdk/client-s3");
    const got = await c.send(new GetObjectCommand({ Bucket: "crc", Key: "k", ChecksumMode: "ENABLED" }));
    expect(await got.Body!.transformToString()).toBe("hello world");
  } finally {
    await closeGateway(g, c);
  }
});
