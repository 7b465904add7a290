// Conditional writes and deletes beyond `*`: If-None-Match with an ETag on PutObject, CopyObject
// and CompleteMultipartUpload; If-Match on Complete; DeleteObject with If-Match and the
// last-modified-time and size conditions; DeleteObjects with per-object ETags.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { closeGateway, expectS3Error, type Gateway, md5Hex, openGateway, readAll, signedRequest } from "../support/index.ts";

const B = "cond-bucket";
let gw: Gateway;
let s3: S3Client;
const onDisk = (k: string) => join(gw.root, B, k);
beforeAll(async () => ({ gw, s3 } = await openGateway(B)));
afterAll(async () => closeGateway(gw, s3));

describe("If-None-Match with an ETag", () => {
  test("PutObject: 412 when the current object has that ETag, stored otherwise (and when there is none)", async () => {
    const v1 = await s3.send(new PutObjectCommand({ Bucket: B, Key: "inm", Body: "v1", IfNoneMatch: `"${md5Hex("other")}"` }));
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: "inm", Body: "v2", IfNoneMatch: v1.ETag })), 412, "PreconditionFailed");
    expect(readFileSync(onDisk("inm"), "utf8")).toBe("v1");
    const v3 = await s3.send(new PutObjectCommand({ Bucket: B, Key: "inm", Body: "v3", IfNoneMatch: `"${md5Hex("v2")}"` }));
    expect(v3.ETag).toBe(`"${md5Hex("v3")}"`);
  });

  test("CopyObject: the destination's ETag decides", async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "src", Body: "source" }));
    const dst = await s3.send(new PutObjectCommand({ Bucket: B, Key: "dst", Body: "destination" }));
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: "dst", CopySource: `${B}/src`, IfNoneMatch: dst.ETag })), 412, "PreconditionFailed");
    expect(readFileSync(onDisk("dst"), "utf8")).toBe("destination");
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: "dst", CopySource: `${B}/src`, IfNoneMatch: `"${md5Hex("x")}"` }));
    expect(readFileSync(onDisk("dst"), "utf8")).toBe("source");
  });

  test("CompleteMultipartUpload: If-None-Match with an ETag and If-Match", async () => {
    const current = await s3.send(new PutObjectCommand({ Bucket: B, Key: "mp", Body: "current" }));
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "mp" }));
    const part = await s3.send(new UploadPartCommand({ Bucket: B, Key: "mp", UploadId: up.UploadId, PartNumber: 1, Body: "the part" }));
    const input = { Bucket: B, Key: "mp", UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } };
    await expectS3Error(s3.send(new CompleteMultipartUploadCommand({ ...input, IfNoneMatch: current.ETag })), 412, "PreconditionFailed");
    await expectS3Error(s3.send(new CompleteMultipartUploadCommand({ ...input, IfMatch: `"${md5Hex("nope")}"` })), 412, "PreconditionFailed");
    expect(readFileSync(onDisk("mp"), "utf8")).toBe("current");
    const done = await s3.send(new CompleteMultipartUploadCommand({ ...input, IfMatch: current.ETag }));
    expect(done.ETag).toMatch(/-1"$/);
    expect((await readAll((await s3.send(new GetObjectCommand({ Bucket: B, Key: "mp" }))).Body)).toString()).toBe("the part");
  });
});

describe("conditional deletes", () => {
  test("If-Match: 412 on mismatch (nothing deleted), 204 on match, 404 when the key is missing", async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: "del", Body: "data" }));
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: B, Key: "del", IfMatch: `"${md5Hex("x")}"` })), 412, "PreconditionFailed");
    expect(existsSync(onDisk("del"))).toBe(true);
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "del", IfMatch: put.ETag }));
    expect(existsSync(onDisk("del"))).toBe(false);
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: B, Key: "del", IfMatch: put.ETag })), 404, "NoSuchKey");
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "del-star", Body: "data" }));
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "del-star", IfMatch: "*" }));
    expect(existsSync(onDisk("del-star"))).toBe(false);
  });

  test("x-amz-if-match-size and x-amz-if-match-last-modified-time", async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "sized", Body: "12345" }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "sized" }));
    const del = (headers: Record<string, string>) => signedRequest(gw, { method: "DELETE", path: `/${B}/sized`, headers });
    expect((await del({ "x-amz-if-match-size": "4" })).status).toBe(412);
    expect((await del({ "x-amz-if-match-last-modified-time": new Date(head.LastModified!.getTime() - 60_000).toUTCString() })).status).toBe(412);
    expect(existsSync(onDisk("sized"))).toBe(true);
    expect((await del({ "x-amz-if-match-size": "5", "x-amz-if-match-last-modified-time": head.LastModified!.toUTCString() })).status).toBe(204);
    expect(existsSync(onDisk("sized"))).toBe(false);
    // Without If-Match, a missing object passes these conditions.
    expect((await del({ "x-amz-if-match-size": "5" })).status).toBe(204);
    expect((await del({ "x-amz-if-match-size": "five" })).status).toBe(400);
  });

  test("DeleteObjects with per-object ETags: a mismatch is that key's PreconditionFailed, the others proceed", async () => {
    const a = await s3.send(new PutObjectCommand({ Bucket: B, Key: "many/a", Body: "a" }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "many/b", Body: "b" }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "many/c", Body: "c" }));
    const r = await s3.send(
      new DeleteObjectsCommand({
        Bucket: B,
        Delete: { Objects: [{ Key: "many/a", ETag: a.ETag }, { Key: "many/b", ETag: `"${md5Hex("not b")}"` }, { Key: "many/c" }, { Key: "many/gone", ETag: a.ETag }] },
      }),
    );
    expect((r.Deleted ?? []).map((d) => d.Key).sort()).toEqual(["many/a", "many/c"]);
    expect((r.Errors ?? []).map((e) => [e.Key, e.Code])).toEqual([["many/b", "PreconditionFailed"], ["many/gone", "NoSuchKey"]]);
    expect(existsSync(onDisk("many/b"))).toBe(true);
    expect(existsSync(onDisk("many/a"))).toBe(false);
  });
});
