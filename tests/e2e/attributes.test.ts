// GetObjectAttributes through the SDK.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { CreateBucketCommand, GetObjectAttributesCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { s3Client, startGateway, uniqueBucket, type Gateway } from "./harness.ts";

let gw: Gateway;
let s3: S3Client;
const bucket = uniqueBucket("attr");

beforeAll(async () => {
  gw = await startGateway();
  s3 = s3Client(gw);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  await gw?.stop();
});

test("ETag, checksum, size and storage class of a single-part object", async () => {
  const body = Buffer.from("attributes of this object");
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "a", Body: body, ChecksumAlgorithm: "SHA256" }));
  const r = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: "a", ObjectAttributes: ["ETag", "Checksum", "ObjectSize", "StorageClass", "ObjectParts"] }));
  expect(r.ETag).toBe(createHash("md5").update(body).digest("hex"));
  expect(r.ObjectSize).toBe(body.length);
  expect(r.StorageClass).toBe("STANDARD");
  expect(r.Checksum?.ChecksumSHA256).toBe(createHash("sha256").update(body).digest("base64"));
  expect(r.ObjectParts).toBeUndefined();
  expect(r.LastModified).toBeInstanceOf(Date);
});

test("missing key is NoSuchKey; no attributes is InvalidArgument", async () => {
  const err = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: "missing", ObjectAttributes: ["ETag"] })).catch((e) => e);
  expect(err.name).toBe("NoSuchKey");
  const err2 = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: "a", ObjectAttributes: [] })).catch((e) => e);
  expect(err2.$metadata.httpStatusCode).toBe(400);
});
