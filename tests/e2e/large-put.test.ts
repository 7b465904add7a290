// Bodies of 8 MiB and more are hashed on a worker thread behind the writer: the same promises
// must hold as for small bodies.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { closeGateway, type Gateway, md5B64, md5Hex, openGateway, uniqueBucket } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;
const bucket = uniqueBucket("large");
const body = randomBytes(12 * 1024 * 1024);
const md5b64 = md5B64(body);

beforeAll(async () => {
  ({ gw, s3 } = await openGateway(bucket));
});
afterAll(() => closeGateway(gw, s3));

test("12 MiB PUT: ETag is the MD5, Content-MD5 verified, bytes intact", async () => {
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "big", Body: body, ContentMD5: md5b64 }));
  expect(put.ETag).toBe(`"${md5Hex(body)}"`);
  expect(readFileSync(join(gw.root, bucket, "big")).equals(body)).toBe(true);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big" }));
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
});

test("12 MiB PUT with a wrong Content-MD5: BadDigest, previous object kept, no temp file", async () => {
  const wrong = md5B64("something else");
  const err = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "big", Body: Buffer.alloc(body.length, 1), ContentMD5: wrong })).catch((e) => e);
  expect(err.name).toBe("BadDigest");
  expect(readFileSync(join(gw.root, bucket, "big")).equals(body)).toBe(true);
  const tmp = join(gw.root, bucket, ".filegate", "tmp");
  expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
});

test("several large PUTs at once (more than the hashing workers) all get the right ETag", async () => {
  const bodies = [0, 1, 2, 3, 4].map(() => randomBytes(9 * 1024 * 1024));
  const puts = await Promise.all(bodies.map((b, i) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `many/${i}`, Body: b }))));
  puts.forEach((p, i) => expect(p.ETag).toBe(`"${md5Hex(bodies[i])}"`));
});
