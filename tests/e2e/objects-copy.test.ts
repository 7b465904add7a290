// Objects, end to end (part 4): DeleteObject, DeleteObjects and CopyObject.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import * as Minio from "minio";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeGateway, encodeKey, expectS3Error, type Gateway, md5B64, md5Hex, openGateway, signedRequest, treeOf } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;
let mc: Minio.Client;
const B = "copies";
const B2 = "copies-other";

beforeAll(async () => {
  ({ gw, s3, mc } = await openGateway(B, B2));
});
afterAll(() => closeGateway(gw, s3));

const put = (Key: string, Body: string = "x", extra: Record<string, unknown> = {}) => s3.send(new PutObjectCommand({ Bucket: B, Key, Body, ...extra }));
const onDisk = (key: string, bucket = B) => join(gw.root, bucket, key);

describe("DeleteObject", () => {
  test("204 even when the key is missing (and under a missing directory)", async () => {
    const r = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "never/was" }));
    expect(r.$metadata.httpStatusCode).toBe(204);
    await mc.removeObject(B, "never-either");
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: "no-such-bucket-x", Key: "k" })), 404, "NoSuchBucket");
  });

  test("deleting x/y/z removes the now-empty x/y and x, never the bucket", async () => {
    await put("x/y/z", "deep");
    await put("top", "top");
    expect(existsSync(onDisk("x/y/z"))).toBe(true);
    const r = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "x/y/z" }));
    expect(r.$metadata.httpStatusCode).toBe(204);
    expect(existsSync(onDisk("x"))).toBe(false);
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "top" }));
    expect(statSync(join(gw.root, B)).isDirectory()).toBe(true);
    await put("alone/leaf", "z");
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "alone/leaf" }));
    expect(existsSync(onDisk("alone"))).toBe(false);
    expect(statSync(join(gw.root, B)).isDirectory()).toBe(true);
  });

  test("pruning stops at a directory object and at directories holding other objects", async () => {
    await put("p/", "");
    await put("p/q/r/s", "s");
    await put("p/keep", "k");
    await put("p/q/sibling", "sib");
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "p/q/r/s" }));
    expect(existsSync(onDisk("p/q/r"))).toBe(false);
    expect(existsSync(onDisk("p/q/sibling"))).toBe(true);
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "p/q/sibling" }));
    expect(existsSync(onDisk("p/q"))).toBe(false);
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "p/keep" }));
    // p/ is a directory object: it stays, and is still an object.
    expect(statSync(onDisk("p")).isDirectory()).toBe(true);
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "p/" }));
    expect(h.ContentLength).toBe(0);
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "p/" }));
    expect(existsSync(onDisk("p"))).toBe(false);
  });

  test("deleting a directory object that still has children keeps them", async () => {
    await put("dd/", "");
    await put("dd/child", "c");
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "dd/" }));
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: "dd/" })), 404);
    expect(readFileSync(onDisk("dd/child"), "utf8")).toBe("c");
  });

  test("deleting a key that names a plain directory changes nothing", async () => {
    await put("plain/inner", "i");
    const before = treeOf(gw.root);
    expect((await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "plain" }))).$metadata.httpStatusCode).toBe(204);
    expect((await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "plain/" }))).$metadata.httpStatusCode).toBe(204);
    expect(treeOf(gw.root)).toEqual(before);
  });
});

describe("DeleteObjects", () => {
  test("several keys, a missing one reported as Deleted", async () => {
    await put("m/a", "a");
    await put("m/b/c", "c");
    const r = await s3.send(
      new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: "m/a" }, { Key: "m/b/c" }, { Key: "m/missing" }] } }),
    );
    expect((r.Deleted ?? []).map((d) => d.Key).sort()).toEqual(["m/a", "m/b/c", "m/missing"]);
    expect(r.Errors ?? []).toEqual([]);
    expect(existsSync(onDisk("m"))).toBe(false);
  });

  test("keys are matched exactly: surrounding spaces are part of the key", async () => {
    for (const k of ["ws/k", "ws/k ", "ws/ k"]) await put(k, JSON.stringify(k));
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: "ws/k " }, { Key: "ws/ k" }] } }));
    expect((r.Deleted ?? []).map((d) => d.Key).sort()).toEqual(["ws/ k", "ws/k "]);
    expect(readFileSync(onDisk("ws/k"), "utf8")).toBe(JSON.stringify("ws/k"));
    expect(existsSync(onDisk("ws/k "))).toBe(false);
    expect(existsSync(onDisk("ws/ k"))).toBe(false);
    // A pretty-printed document works the same.
    await put("ws/k ", "again");
    const xml = "<Delete>\n  <Object>\n    <Key>ws/k </Key>\n  </Object>\n  <Quiet>\n    true\n  </Quiet>\n</Delete>\n";
    const raw = await post(xml);
    expect(raw.status).toBe(200);
    expect(existsSync(onDisk("ws/k "))).toBe(false);
    expect(existsSync(onDisk("ws/k"))).toBe(true);
    expect(raw.body).not.toContain("<Deleted>");
  });

  test("quiet mode reports only errors; a key the tree cannot hold names nothing, so deleting it succeeds (as any absent key on S3)", async () => {
    await put("q/a", "a");
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Quiet: true, Objects: [{ Key: "q/a" }, { Key: "q//bad" }, { Key: "../x" }] } }));
    expect(r.Deleted ?? []).toEqual([]);
    expect(r.Errors ?? []).toEqual([]);
    expect(existsSync(onDisk("q/a"))).toBe(false);
    const loud = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: "q//bad" }] } }));
    expect(loud.Deleted?.map((d) => d.Key)).toEqual(["q//bad"]);
    expect((await signedRequest(gw, { method: "DELETE", path: `/${B}/q//bad` })).status).toBe(204);
  });

  test("Quiet must be a boolean", async () => {
    const xml = "<Delete><Object><Key>qq</Key></Object><Quiet>maybe</Quiet></Delete>";
    const raw = await post(xml);
    expect(raw.status).toBe(400);
    expect(raw.body).toContain("<Code>MalformedXML</Code>");
  });

  test("minio removeObjects", async () => {
    await put("mm/1", "1");
    await put("mm/2", "2");
    const errs = await mc.removeObjects(B, ["mm/1", "mm/2"]);
    expect(errs.filter((e) => (e as { Error?: unknown } | undefined)?.Error !== undefined)).toEqual([]);
    expect(existsSync(onDisk("mm"))).toBe(false);
  });

  const post = (xml: string) =>
    signedRequest(gw, { method: "POST", path: `/${B}`, query: { delete: "" }, body: xml, headers: { "content-md5": md5B64(xml), "content-type": "application/xml" } });

  test("malformed XML → 400 MalformedXML", async () => {
    await put("mx/keep", "k");
    for (const xml of ["<Delete><Object><Key>mx/keep</Key></Object>", "not xml at all", "<Delete></Delete>", "<Delete><Object><VersionId>1</VersionId></Object></Delete>"]) {
      const r = await post(xml);
      expect([xml, r.status, r.code]).toEqual([xml, 400, "MalformedXML"]);
    }
    expect(existsSync(onDisk("mx/keep"))).toBe(true);
  });

  test("more than 1000 keys → 400 MalformedXML, nothing deleted", async () => {
    await put("many/k0", "0");
    const objs = Array.from({ length: 1001 }, (_, i) => `<Object><Key>many/k${i}</Key></Object>`).join("");
    const r = await post(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${objs}</Delete>`);
    expect([r.status, r.code]).toEqual([400, "MalformedXML"]);
    expect(existsSync(onDisk("many/k0"))).toBe(true);
    const ok = await post(`<Delete>${objs.slice(0, objs.lastIndexOf("<Object>"))}</Delete>`);
    expect(ok.status).toBe(200);
    expect(existsSync(onDisk("many/k0"))).toBe(false);
  });
});

describe("CopyObject", () => {
  const src = "src dir/ü ñ+plus & co.txt";
  const srcBody = "copy source body";

  beforeAll(async () => {
    await put(src, srcBody, { ContentType: "text/x-src", CacheControl: "max-age=1", Metadata: { origin: "src" }, Tagging: "t=1" });
  });

  test("URL-encoded source with spaces, unicode and '+'; COPY carries metadata and tags", async () => {
    const r = await s3.send(new CopyObjectCommand({ Bucket: B2, Key: "dst/copy 1", CopySource: `${B}/${encodeKey(src)}` }));
    expect(r.CopyObjectResult?.ETag).toBe(`"${md5Hex(srcBody)}"`);
    expect(r.CopyObjectResult?.LastModified).toBeInstanceOf(Date);
    expect(readFileSync(onDisk("dst/copy 1", B2), "utf8")).toBe(srcBody);
    const h = await s3.send(new HeadObjectCommand({ Bucket: B2, Key: "dst/copy 1" }));
    expect(h.ContentType).toBe("text/x-src");
    expect(h.CacheControl).toBe("max-age=1");
    expect(h.Metadata).toEqual({ origin: "src" });
    expect(h.ETag).toBe(`"${md5Hex(srcBody)}"`);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: B2, Key: "dst/copy 1" }));
    expect(tags.TagSet).toEqual([{ Key: "t", Value: "1" }]);
    // A leading slash in the source works too.
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: "dst/copy 2", CopySource: `/${B}/${encodeKey(src)}` }));
    expect(readFileSync(onDisk("dst/copy 2"), "utf8")).toBe(srcBody);
    // minio's copyObject.
    // minio encodes the source itself.
    await mc.copyObject(B, "dst/copy 3", `/${B}/${src}`, new Minio.CopyConditions());
    expect(readFileSync(onDisk("dst/copy 3"), "utf8")).toBe(srcBody);
  });

  test("REPLACE stores only the new metadata", async () => {
    await s3.send(
      new CopyObjectCommand({
        Bucket: B,
        Key: "dst/replaced",
        CopySource: `${B}/${encodeKey(src)}`,
        MetadataDirective: "REPLACE",
        ContentType: "application/x-new",
        Metadata: { fresh: "yes" },
      }),
    );
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "dst/replaced" }));
    expect(h.ContentType).toBe("application/x-new");
    expect(h.CacheControl).toBeUndefined();
    expect(h.Metadata).toEqual({ fresh: "yes" });
  });

  test("copy-source conditions → 412 when they fail, copy when they hold", async () => {
    const etag = `"${md5Hex(srcBody)}"`;
    const past = new Date("2001-01-01T00:00:00Z");
    const future = new Date(Date.now() + 3600_000);
    const CopySource = `${B}/${encodeKey(src)}`;
    const failing: Record<string, unknown>[] = [
      { CopySourceIfMatch: `"${md5Hex("other")}"` },
      { CopySourceIfNoneMatch: etag },
      { CopySourceIfModifiedSince: future },
      { CopySourceIfUnmodifiedSince: past },
    ];
    for (const cond of failing) {
      await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: "dst/cond", CopySource, ...cond })), 412, "PreconditionFailed");
      expect(existsSync(onDisk("dst/cond"))).toBe(false);
    }
    const holding: Record<string, unknown>[] = [
      { CopySourceIfMatch: etag },
      { CopySourceIfNoneMatch: `"${md5Hex("other")}"` },
      { CopySourceIfModifiedSince: past },
      { CopySourceIfUnmodifiedSince: future },
    ];
    for (const cond of holding) {
      const r = await s3.send(new CopyObjectCommand({ Bucket: B, Key: "dst/cond", CopySource, ...cond }));
      expect(r.CopyObjectResult?.ETag).toBe(etag);
    }
  });

  test("copy onto itself: without REPLACE → 400 InvalidRequest; with REPLACE → 200 and new metadata", async () => {
    await put("self", "self body", { ContentType: "text/a" });
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: "self", CopySource: `${B}/self` })), 400, "InvalidRequest");
    const r = await s3.send(new CopyObjectCommand({ Bucket: B, Key: "self", CopySource: `${B}/self`, MetadataDirective: "REPLACE", ContentType: "text/b" }));
    expect(r.CopyObjectResult?.ETag).toBe(`"${md5Hex("self body")}"`);
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "self" }));
    expect(h.ContentType).toBe("text/b");
    expect(readFileSync(onDisk("self"), "utf8")).toBe("self body");
  });

  test("copy result XML carries the ETag (raw)", async () => {
    const r = await signedRequest(gw, { method: "PUT", path: `/${B}/dst/raw`, headers: { "x-amz-copy-source": `/${B}/${encodeKey(src)}` } });
    expect(r.status).toBe(200);
    expect(r.body).toContain("<CopyObjectResult");
    expect(/<ETag>(?:"|&quot;|&#34;)([0-9a-f]{32})(?:"|&quot;|&#34;)<\/ETag>/.exec(r.body)?.[1]).toBe(md5Hex(srcBody));
  });

  test("copy of a hand-written file gets the real MD5 as ETag", async () => {
    const content = "foreign file, ".repeat(1000);
    writeFileSync(onDisk("foreign.txt"), content);
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "foreign.txt" }));
    expect(h.ETag).toMatch(/-1"$/);
    const r = await s3.send(new CopyObjectCommand({ Bucket: B, Key: "dst/foreign-copy", CopySource: `${B}/foreign.txt` }));
    expect(r.CopyObjectResult?.ETag).toBe(`"${md5Hex(content)}"`);
    const h2 = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "dst/foreign-copy" }));
    expect(h2.ETag).toBe(`"${md5Hex(content)}"`);
    const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: "dst/foreign-copy" }));
    expect(await g.Body!.transformToString()).toBe(content);
  });

  test("missing source → 404 NoSuchKey; hostile destination refused", async () => {
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: "dst/none", CopySource: `${B}/no-such-source` })), 404, "NoSuchKey");
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: "dst//bad", CopySource: `${B}/${encodeKey(src)}` })), 400, "InvalidArgument");
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: "dst/x", CopySource: `${B}/a//b` })), 400, "InvalidArgument");
  });
});
