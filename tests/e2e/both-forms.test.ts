// Keys a plain tree cannot hold side by side: `a` and `a/b`. The tree keeps the plain-file form
// wherever it can and keeps `a`'s data beside the directory `a` (as `.filegate-obj.a`) while
// `a/b` exists; both keys list, read, copy, delete and take part in multipart as on S3.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCESS_KEY, closeGateway, type Gateway, openGateway, readAll, s3Client, SECRET_KEY, startGateway } from "../support/index.ts";

const B = "forms";
let gw: Gateway;
let s3: S3Client;
beforeAll(async () => ({ gw, s3 } = await openGateway(B)));
afterAll(async () => closeGateway(gw, s3));

const put = (Key: string, Body: string | Buffer, bucket = B) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
const get = async (Key: string, bucket = B) => (await readAll((await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body)).toString();
const list = async (Prefix?: string, Delimiter?: string) => {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix, Delimiter }));
  return [...(r.Contents ?? []).map((c) => c.Key!), ...(r.CommonPrefixes ?? []).map((p) => "P:" + p.Prefix)];
};
const disk = (...p: string[]) => join(gw.root, B, ...p);

describe("a and a/b together", () => {
  test("written in either order, both read back and list in S3 order", async () => {
    await put("x/a", "A");
    await put("x/a/b", "AB");
    await put("x/a-b", "A-B");
    await put("x/c/d", "CD");
    await put("x/c", "C");
    expect(await get("x/a")).toBe("A");
    expect(await get("x/a/b")).toBe("AB");
    expect(await get("x/c")).toBe("C");
    expect(await list("x/")).toEqual(["x/a", "x/a-b", "x/a/b", "x/c", "x/c/d"]);
    expect(await list("x/", "/")).toEqual(["x/a", "x/a-b", "x/c", "P:x/a/", "P:x/c/"]);
    expect(await list("x/a")).toEqual(["x/a", "x/a-b", "x/a/b"]);
    // Other tools see the directory and the hidden file beside it.
    expect(statSync(disk("x/a")).isDirectory()).toBe(true);
    expect(readFileSync(disk("x/.filegate-obj.a"), "utf8")).toBe("A");
  });

  test("overwrite, copy to and from, and multipart Complete onto the key beside its directory", async () => {
    await put("y/k/child", "child");
    await put("y/k", "first");
    await put("y/k", "second");
    expect(await get("y/k")).toBe("second");
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: "y/copied", CopySource: `${B}/y/k` }));
    expect(await get("y/copied")).toBe("second");
    await put("y/src", "from elsewhere");
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: "y/k", CopySource: `${B}/y/src` }));
    expect(await get("y/k")).toBe("from elsewhere");
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "y/k" }));
    const part = await s3.send(new UploadPartCommand({ Bucket: B, Key: "y/k", UploadId: up.UploadId, PartNumber: 1, Body: "assembled" }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "y/k", UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect(await get("y/k")).toBe("assembled");
    expect(await get("y/k/child")).toBe("child");
  });

  test("deleting a/b moves a back to a plain file; deleting a leaves a/b alone", async () => {
    await put("z/a", "A");
    await put("z/a/b", "AB");
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "z/a/b" }));
    expect(statSync(disk("z/a")).isFile()).toBe(true);
    expect(existsSync(disk("z/.filegate-obj.a"))).toBe(false);
    expect(await get("z/a")).toBe("A");
    await put("z/a/b", "AB again");
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "z/a" }));
    expect(await list("z/")).toEqual(["z/a/b"]);
    expect(existsSync(disk("z/.filegate-obj.a"))).toBe(false);
    expect(await get("z/a/b")).toBe("AB again");
  });

  test("a key segment starting with the reserved prefix is refused", async () => {
    const e = await put("w/.filegate-obj.q", "x").catch((err) => err);
    expect(e.$metadata?.httpStatusCode).toBe(400);
  });
});

describe("two processes on one root", () => {
  test("readers of a never miss it while other writers add and remove a/b", async () => {
    const root = mkdtempSync(join(tmpdir(), "filegate-forms-"));
    const gws = [await startGateway({ root }), await startGateway({ root })];
    const [w, r] = gws.map((g) => s3Client(g));
    try {
      await w.send(new CreateBucketCommand({ Bucket: "race" }));
      const body = randomBytes(100_000);
      const md5 = createHash("md5").update(body).digest("hex");
      await w.send(new PutObjectCommand({ Bucket: "race", Key: "a", Body: body }));
      let stop = false;
      const flipping = (async () => {
        let n = 0;
        while (!stop) {
          await w.send(new PutObjectCommand({ Bucket: "race", Key: "a/b", Body: "child" }));
          await w.send(new DeleteObjectCommand({ Bucket: "race", Key: "a/b" }));
          n++;
        }
        return n;
      })();
      const bad: string[] = [];
      let reads = 0;
      const deadline = Date.now() + 2500;
      while (Date.now() < deadline) {
        try {
          const o = await r.send(new GetObjectCommand({ Bucket: "race", Key: "a" }));
          const got = createHash("md5").update(await readAll(o.Body)).digest("hex");
          if (got !== md5 || o.ETag !== `"${md5}"`) bad.push(`body ${got}, ETag ${o.ETag}`);
        } catch (e) {
          bad.push(String((e as Error).name));
        }
        reads++;
      }
      stop = true;
      const flips = await flipping;
      expect({ bad, enough: reads > 20 && flips > 5 }).toEqual({ bad: [], enough: true });
    } finally {
      for (let i = 0; i < gws.length; i++) await closeGateway(gws[i], [w, r][i]);
      rmSync(root, { recursive: true, force: true });
    }
  });
});

for (const store of ["xattr", "sidecar"] as const) {
  describe(`dir/ with data (${store})`, () => {
    let g: Gateway;
    let c: S3Client;
    beforeAll(async () => {
      g = await startGateway({ args: ["--meta", store] });
      c = s3Client(g);
      await c.send(new CreateBucketCommand({ Bucket: "dirdata" }));
    });
    afterAll(async () => closeGateway(g, c));
    const read = async (Key: string) => (await readAll((await c.send(new GetObjectCommand({ Bucket: "dirdata", Key }))).Body)).toString();
    const keys = async (Delimiter?: string, Prefix?: string) => {
      const r = await c.send(new ListObjectsV2Command({ Bucket: "dirdata", Delimiter, Prefix }));
      return [...(r.Contents ?? []).map((x) => `${x.Key}:${x.Size}`), ...(r.CommonPrefixes ?? []).map((p) => "P:" + p.Prefix)];
    };

    test("a body on d/ is kept, listed once in S3 order beside d's other keys, copied, replaced and deleted", async () => {
      await c.send(new PutObjectCommand({ Bucket: "dirdata", Key: "d/", Body: "marker data" }));
      await c.send(new PutObjectCommand({ Bucket: "dirdata", Key: "d/x", Body: "x" }));
      await c.send(new PutObjectCommand({ Bucket: "dirdata", Key: "d", Body: "plain d" }));
      await c.send(new PutObjectCommand({ Bucket: "dirdata", Key: "e/", Body: "" }));
      expect(await read("d/")).toBe("marker data");
      expect(await read("d")).toBe("plain d");
      expect(await keys()).toEqual(["d:7", "d/:11", "d/x:1", "e/:0"]);
      expect(await keys("/", "d/")).toEqual(["d/:11", "d/x:1"]);
      await c.send(new CopyObjectCommand({ Bucket: "dirdata", Key: "e/", CopySource: "dirdata/d/" }));
      expect(await read("e/")).toBe("marker data");
      await c.send(new PutObjectCommand({ Bucket: "dirdata", Key: "d/", Body: "" }));
      expect(await read("d/")).toBe("");
      await c.send(new DeleteObjectCommand({ Bucket: "dirdata", Key: "d/" }));
      await c.send(new DeleteObjectCommand({ Bucket: "dirdata", Key: "e/" }));
      expect(await keys()).toEqual(["d:7", "d/x:1"]);
      await c.send(new DeleteObjectCommand({ Bucket: "dirdata", Key: "d/x" }));
      expect(await keys()).toEqual(["d:7"]);
      expect(statSync(join(g.root, "dirdata", "d")).isFile()).toBe(true);
    });

    test("multipart Complete onto d/", async () => {
      const up = await c.send(new CreateMultipartUploadCommand({ Bucket: "dirdata", Key: "m/" }));
      const part = await c.send(new UploadPartCommand({ Bucket: "dirdata", Key: "m/", UploadId: up.UploadId, PartNumber: 1, Body: "mp" }));
      await c.send(new CompleteMultipartUploadCommand({ Bucket: "dirdata", Key: "m/", UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
      expect(await read("m/")).toBe("mp");
    });
  });
}

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const env = () => ({
  AWS_ACCESS_KEY_ID: ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: SECRET_KEY,
  AWS_DEFAULT_REGION: "us-east-1",
  RCLONE_CONFIG_FG_TYPE: "s3",
  RCLONE_CONFIG_FG_PROVIDER: "Other",
  RCLONE_CONFIG_FG_ACCESS_KEY_ID: ACCESS_KEY,
  RCLONE_CONFIG_FG_SECRET_ACCESS_KEY: SECRET_KEY,
  RCLONE_CONFIG_FG_ENDPOINT: gw.endpoint,
  RCLONE_CONFIG_FG_REGION: "us-east-1",
  RCLONE_CONFIG_FG_FORCE_PATH_STYLE: "true",
});
function run(cmd: string, args: string[]): string {
  const { AWS_CA_BUNDLE: _ignored, ...base } = process.env;
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...base, ...env() }, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test.skipIf(!has("aws"))("aws cli: sync a bucket holding a and a/b to another bucket", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: "cli-src" }));
  await s3.send(new CreateBucketCommand({ Bucket: "cli-dst" }));
  await put("a", "A", "cli-src");
  await put("a/b", "AB", "cli-src");
  run("aws", ["--endpoint-url", gw.endpoint, "s3", "sync", "s3://cli-src", "s3://cli-dst"]);
  const ls = run("aws", ["--endpoint-url", gw.endpoint, "s3", "ls", "--recursive", "s3://cli-dst"]);
  expect(ls.trim().split("\n").map((l) => l.trim().split(/\s+/).pop())).toEqual(["a", "a/b"]);
  expect(await get("a", "cli-dst")).toBe("A");
});

test.skipIf(!has("rclone"))("rclone: sync a bucket holding a and a/b to another bucket", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: "rc-src" }));
  await put("a", "A", "rc-src");
  await put("a/b", "AB", "rc-src");
  run("rclone", ["sync", "fg:rc-src", "fg:rc-dst"]);
  expect(run("rclone", ["lsf", "-R", "--files-only", "fg:rc-dst"]).trim().split("\n").sort()).toEqual(["a", "a/b"]);
  run("rclone", ["check", "fg:rc-src", "fg:rc-dst"]);
});
