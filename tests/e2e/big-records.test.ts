// Records S3 allows but one ext4 xattr block cannot hold: ten tags of 128+256 characters, 2 KiB of
// user metadata, long content headers. They spill to a file beside the tree; nothing is lost and
// nothing is a 500. Also: eleven tags are InvalidTag, and Content-Encoding comes back as sent.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { closeGateway, expectS3Error, type Gateway, md5Hex, openGateway, signedRequest } from "../support/index.ts";

const B = "records";
let gw: Gateway;
let s3: S3Client;
beforeAll(async () => ({ gw, s3 } = await openGateway(B)));
afterAll(async () => closeGateway(gw, s3));

const bigTags = Array.from({ length: 10 }, (_, i) => ({ Key: `${i}`.padEnd(128, "k"), Value: `${i}`.padEnd(256, "v") }));
const bigMeta = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`m${i}`, "x".repeat(240)]));
const spillDir = () => join(gw.root, B, ".filegate", "spill");
const spillFiles = () => (existsSync(spillDir()) ? readdirSync(spillDir(), { recursive: true }).filter((n) => String(n).includes("/")) : []);

test("ten maximal tags and 2 KiB of metadata are stored and read back whole", async () => {
  const Tagging = bigTags.map((t) => `${encodeURIComponent(t.Key)}=${encodeURIComponent(t.Value)}`).join("&");
  const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: "big", Body: "body", Tagging, Metadata: bigMeta, ContentType: "text/plain" }));
  expect(put.ETag).toBe(`"${md5Hex("body")}"`);
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "big" }));
  expect([head.ETag, head.ContentType, head.Metadata, head.TagCount]).toEqual([put.ETag, "text/plain", bigMeta, 10]);
  expect((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "big" }))).TagSet).toEqual(bigTags);
  const listed = (await s3.send(new ListObjectsV2Command({ Bucket: B }))).Contents?.find((c) => c.Key === "big");
  expect(listed?.ETag).toBe(put.ETag);
  expect(spillFiles().length).toBe(1);
});

test("PutObjectTagging with ten maximal tags on a small record, then back to none", async () => {
  const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: "tagme", Body: "small" }));
  await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: "tagme", Tagging: { TagSet: bigTags } }));
  expect((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "tagme" }))).TagSet).toEqual(bigTags);
  expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: "tagme" }))).ETag).toBe(put.ETag);
  await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: "tagme", Tagging: { TagSet: [] } }));
  expect((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "tagme" }))).TagSet ?? []).toEqual([]);
});

test("overwriting or deleting a spilled object leaves no spill file behind", async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: "big", Body: "now small" }));
  await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "big" }));
  await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: "tagme", Tagging: { TagSet: bigTags } }));
  await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "tagme" }));
  expect(spillFiles()).toEqual([]);
});

test("eleven tags are InvalidTag", async () => {
  const TagSet = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: "v" }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: "eleven", Body: "x" }));
  await expectS3Error(s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: "eleven", Tagging: { TagSet } })), 400, "InvalidTag");
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: "eleven", Body: "x", Tagging: TagSet.map((t) => `${t.Key}=v`).join("&") })), 400, "InvalidTag");
});

test("Content-Encoding comes back exactly as sent, without aws-chunked", async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: "enc", Body: "x", ContentEncoding: "deflate, gzip" }));
  expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: "enc" }))).ContentEncoding).toBe("deflate, gzip");
  const raw = await signedRequest(gw, { method: "PUT", path: `/${B}/enc2`, body: "x", headers: { "content-encoding": "gzip, aws-chunked" } });
  expect(raw.status).toBe(200);
  expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: "enc2" }))).ContentEncoding).toBe("gzip");
});
