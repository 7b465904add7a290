// GetObjectAttributes through the SDK.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { closeGateway, type Gateway, openGateway, uniqueBucket } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;
const bucket = uniqueBucket("attr");

beforeAll(async () => {
  ({ gw, s3 } = await openGateway(bucket));
});
afterAll(() => closeGateway(gw, s3));

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

test("a multipart object's parts: total count, sizes, paginated by MaxParts and PartNumberMarker", async () => {
  const sizes = [5 * 1024 * 1024, 5 * 1024 * 1024, 1000];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "mp" }));
  const parts = [];
  for (const [i, size] of sizes.entries()) {
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: "mp", UploadId, PartNumber: i + 1, Body: Buffer.alloc(size, i) }));
    parts.push({ ETag, PartNumber: i + 1 });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "mp", UploadId, MultipartUpload: { Parts: parts } }));
  const first = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: "mp", ObjectAttributes: ["ObjectParts", "ObjectSize"], MaxParts: 2 }));
  expect(first.ObjectSize).toBe(sizes[0] + sizes[1] + sizes[2]);
  expect(first.ObjectParts?.TotalPartsCount).toBe(3);
  expect(first.ObjectParts?.IsTruncated).toBe(true);
  expect(first.ObjectParts?.MaxParts).toBe(2);
  expect(first.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[1, sizes[0]], [2, sizes[1]]]);
  const next = await s3.send(
    new GetObjectAttributesCommand({ Bucket: bucket, Key: "mp", ObjectAttributes: ["ObjectParts"], PartNumberMarker: first.ObjectParts!.NextPartNumberMarker }),
  );
  expect(next.ObjectParts?.TotalPartsCount).toBe(3);
  expect(next.ObjectParts?.IsTruncated).toBe(false);
  expect(next.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[3, sizes[2]]]);
});

test("missing key is NoSuchKey; no attributes is InvalidArgument", async () => {
  const err = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: "missing", ObjectAttributes: ["ETag"] })).catch((e) => e);
  expect(err.name).toBe("NoSuchKey");
  const err2 = await s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: "a", ObjectAttributes: [] })).catch((e) => e);
  expect(err2.$metadata.httpStatusCode).toBe(400);
});
