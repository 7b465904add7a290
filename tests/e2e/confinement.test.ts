// A hostile tree: other users and tools leave symlinks inside buckets and at the top of the root.
// No request may read, write or delete anything outside its bucket through them, with the native
// addon (openat2) and without it (the JavaScript fallback), on both runtimes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeGateway, expectS3Error, type Gateway, readAll, s3Client, startGateway } from "../support/index.ts";

const SECRET = "outside secret\n";

for (const mode of ["addon", "fallback"] as const) {
  describe(`symlinks never lead out of a bucket (${mode})`, () => {
    let gw: Gateway;
    let s3: S3Client;
    let outside: string;
    const b = "conf-b";
    const b2 = "conf-b2";
    const at = (...p: string[]) => join(gw.root, ...p);

    beforeAll(async () => {
      outside = mkdtempSync(join(tmpdir(), "filegate-outside-"));
      writeFileSync(join(outside, "secret"), SECRET);
      mkdirSync(join(outside, "dir"));
      writeFileSync(join(outside, "dir", "x"), SECRET);
      mkdirSync(join(outside, "gw"));
      gw = await startGateway({ env: mode === "fallback" ? { FILEGATE_NO_ADDON: "1" } : {} });
      expect(gw.output()).toContain(`kernel calls: ${mode}`);
      s3 = s3Client(gw);
      for (const Bucket of [b, b2]) await s3.send(new CreateBucketCommand({ Bucket }));
      await s3.send(new PutObjectCommand({ Bucket: b, Key: "real", Body: "real bytes" }));
      await s3.send(new PutObjectCommand({ Bucket: b, Key: "sub/x", Body: "sub x" }));
      await s3.send(new PutObjectCommand({ Bucket: b2, Key: "obj", Body: "other bucket" }));
      symlinkSync(join(outside, "secret"), at(b, "pw"));
      symlinkSync(join(outside, "dir"), at(b, "etc"));
      symlinkSync("../../" + outside.split("/").pop() + "/secret", at(b, "rel-out"));
      symlinkSync("real", at(b, "inside"));
      symlinkSync(at(b, "real"), at(b, "abs-inside"));
      symlinkSync("sub", at(b, "dirin"));
      symlinkSync("../conf-b2/obj", at(b, "other"));
      mkdirSync(at(b, ".filegate"), { recursive: true });
      writeFileSync(at(b, ".filegate", "private"), "gateway's own");
      symlinkSync(".filegate/private", at(b, "priv"));
      symlinkSync("/", at("evil"));
      symlinkSync(at(b), at("evil2"));
    });

    afterAll(async () => {
      await closeGateway(gw, s3);
      rmSync(outside, { recursive: true, force: true });
    });

    const outsideUntouched = () => {
      expect(readFileSync(join(outside, "secret"), "utf8")).toBe(SECRET);
      expect(readdirSync(join(outside, "dir"))).toEqual(["x"]);
      expect(readFileSync(join(outside, "dir", "x"), "utf8")).toBe(SECRET);
      expect(readdirSync(join(outside, "gw"))).toEqual([]);
    };

    test("reads: links leading out are absent, links staying inside are served", async () => {
      for (const Key of ["pw", "etc/x", "rel-out", "other", "priv"]) {
        await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key })), 404, "NoSuchKey");
        await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key })), 404);
        await expectS3Error(s3.send(new GetObjectTaggingCommand({ Bucket: b, Key })), 404, "NoSuchKey");
      }
      for (const [Key, body] of [["inside", "real bytes"], ["abs-inside", "real bytes"], ["dirin/x", "sub x"]]) {
        const r = await s3.send(new GetObjectCommand({ Bucket: b, Key }));
        expect((await readAll(r.Body)).toString()).toBe(body);
      }
      const ranged = await s3.send(new GetObjectCommand({ Bucket: b, Key: "inside", Range: "bytes=5-" }));
      expect((await readAll(ranged.Body)).toString()).toBe("bytes");
    });

    test("listings skip links leading out; a link is never a bucket", async () => {
      const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents ?? []).map((c) => c.Key);
      expect(keys).toEqual(["abs-inside", "inside", "real", "sub/x"]);
      const names = ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((x) => x.Name);
      expect(names).toEqual([b, b2]);
      for (const Bucket of ["evil", "evil2"]) {
        await expectS3Error(s3.send(new GetObjectCommand({ Bucket, Key: "etc/passwd" })), 404, "NoSuchBucket");
        await expectS3Error(s3.send(new ListObjectsV2Command({ Bucket })), 404, "NoSuchBucket");
        await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: "filegate-evil", Body: "x" })), 404, "NoSuchBucket");
      }
      expect(existsSync("/filegate-evil")).toBe(false);
    });

    test("writes never go through a link: refused in the middle, replacing a link at the end", async () => {
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: "etc/new", Body: "x" })), 403, "AccessDenied");
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: "etc/x", Body: "x" })), 403, "AccessDenied");
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: "etc/deeper/new", Body: "x" })), 403, "AccessDenied");
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: "etc/d/", Body: "" })), 403, "AccessDenied");
      await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: b, Key: "etc/copy", CopySource: `${b}/real` })), 403, "AccessDenied");
      await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: b, Key: "copy-of-pw", CopySource: `${b}/pw` })), 404, "NoSuchKey");
      outsideUntouched();
      // A PUT onto a file link replaces the link itself.
      await s3.send(new PutObjectCommand({ Bucket: b, Key: "rel-out", Body: "new object" }));
      expect(lstatSync(at(b, "rel-out")).isSymbolicLink()).toBe(false);
      expect(readFileSync(at(b, "rel-out"), "utf8")).toBe("new object");
      outsideUntouched();
    });

    test("multipart: parts copied from links leading out are refused, assembly never goes through a link", async () => {
      const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "etc/assembled" }));
      await expectS3Error(
        s3.send(new UploadPartCopyCommand({ Bucket: b, Key: "etc/assembled", UploadId: up.UploadId, PartNumber: 1, CopySource: `${b}/pw` })),
        404,
        "NoSuchKey",
      );
      const part = await s3.send(new UploadPartCommand({ Bucket: b, Key: "etc/assembled", UploadId: up.UploadId, PartNumber: 1, Body: "part" }));
      await expectS3Error(
        s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: "etc/assembled", UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } })),
        403,
        "AccessDenied",
      );
      outsideUntouched();
    });

    test("deletes remove the link, never its target, and never go through a directory link", async () => {
      symlinkSync(join(outside, "secret"), at(b, "pw-del"));
      await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "pw-del" }));
      expect(existsSync(at(b, "pw-del"))).toBe(false);
      await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: b, Key: "etc/x" })), 403, "AccessDenied");
      const r = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: "etc/x" }, { Key: "nothing-here" }] } }));
      expect(r.Errors?.map((e) => [e.Key, e.Code])).toEqual([["etc/x", "AccessDenied"]]);
      outsideUntouched();
    });

    test("the bucket's private area being a link stops writes instead of following it", async () => {
      await s3.send(new CreateBucketCommand({ Bucket: "conf-priv" }));
      symlinkSync(join(outside, "gw"), at("conf-priv", ".filegate"));
      await expectS3Error(s3.send(new PutObjectCommand({ Bucket: "conf-priv", Key: "k", Body: "x" })), 403, "AccessDenied");
      // Multipart, settings and sidecars keep their files there too: all refused, nothing written.
      await expectS3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: "conf-priv", Key: "mp" })), 403, "AccessDenied");
      await expectS3Error(s3.send(new PutBucketTaggingCommand({ Bucket: "conf-priv", Tagging: { TagSet: [{ Key: "a", Value: "b" }] } })), 403, "AccessDenied");
      outsideUntouched();
    });

    test("tagging a key that is a link is refused: the target's record stays", async () => {
      await expectS3Error(s3.send(new PutObjectTaggingCommand({ Bucket: b, Key: "inside", Tagging: { TagSet: [{ Key: "owner", Value: "mallory" }] } })), 403, "AccessDenied");
      expect((await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: "real" }))).TagSet ?? []).toEqual([]);
    });
  });
}
