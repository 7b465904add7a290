// PostObject (browser form uploads) end to end: forms signed by @aws-sdk/s3-presigned-post and by
// the minio client, posted with fetch's FormData exactly as a page would.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import type * as Minio from "minio";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { closeGateway, errorCode, type Gateway, md5Hex, openGateway, type RawResponse } from "../support/index.ts";

const B = "post-e2e";
let gw: Gateway;
let s3: S3Client;
let mc: Minio.Client;

beforeAll(async () => {
  ({ gw, s3, mc } = await openGateway(B));
});
afterAll(() => closeGateway(gw, s3));

const onDisk = (key: string) => join(gw.root, B, key);
const tmpFiles = () => (existsSync(join(gw.root, B, ".filegate", "tmp")) ? readdirSync(join(gw.root, B, ".filegate", "tmp")) : []);

/** Posts `fields` then the file, in that order (S3 ignores what follows the file). */
async function post(url: string, fields: Record<string, string>, file: Uint8Array | string, filename = "upload.bin"): Promise<RawResponse> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob([file]), filename);
  const r = await fetch(url, { method: "POST", body: form });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text, code: errorCode(text) };
}

const presigned = (Key: string, extra: Partial<Parameters<typeof createPresignedPost>[1]> = {}) =>
  createPresignedPost(s3, { Bucket: B, Key, Expires: 600, ...extra });

describe("uploads", () => {
  test("SDK-signed form: 204, bytes on disk, ETag is the MD5, fields become metadata", async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const { url, fields } = await presigned("form/a.bin", {
      Fields: { "Content-Type": "image/png", "x-amz-meta-origin": "browser" },
      Conditions: [["content-length-range", 1, 10 * 1024 * 1024]],
    });
    const r = await post(url, fields, body);
    expect(r.status).toBe(204);
    expect(r.headers.get("etag")).toBe(`"${md5Hex(body)}"`);
    expect(r.headers.get("location")).toBe(`${gw.endpoint}/${B}/form/a.bin`);
    expect(readFileSync(onDisk("form/a.bin")).equals(body)).toBe(true);
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "form/a.bin" }));
    expect(h.ContentType).toBe("image/png");
    expect(h.Metadata).toEqual({ origin: "browser" });
    expect(h.ETag).toBe(`"${md5Hex(body)}"`);
  });

  test("minio-signed form with ${filename}, success_action_status 201 and tagging", async () => {
    const policy = mc.newPostPolicy();
    policy.setBucket(B);
    policy.setKeyStartsWith("uploads/");
    policy.setExpires(new Date(Date.now() + 600_000));
    policy.policy.conditions.push(["eq", "$success_action_status", "201"], ["starts-with", "$tagging", ""]);
    const { postURL, formData } = await mc.presignedPostPolicy(policy);
    const tagging = "<Tagging><TagSet><Tag><Key>from</Key><Value>form</Value></Tag></TagSet></Tagging>";
    const r = await post(postURL, { ...formData, key: "uploads/${filename}", success_action_status: "201", tagging }, "hello form", "photo 1.jpg");
    expect(r.status).toBe(201);
    expect(r.body).toContain("<Key>uploads/photo 1.jpg</Key>");
    expect(r.body).toContain(`<ETag>&quot;${md5Hex("hello form")}&quot;</ETag>`);
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "uploads/photo 1.jpg" }));
    expect(await got.Body!.transformToString()).toBe("hello form");
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "uploads/photo 1.jpg" }))).TagSet).toEqual([{ Key: "from", Value: "form" }]);
  });

  test("${filename} is expanded before the policy is checked", async () => {
    const { url, fields } = await presigned("user/a.txt");
    const r = await post(url, { ...fields, key: "user/${filename}" }, "named", "a.txt");
    expect(r.status).toBe(204);
    expect(readFileSync(onDisk("user/a.txt"), "utf8")).toBe("named");
    const other = await post(url, { ...fields, key: "user/${filename}" }, "named", "b.txt");
    expect([other.status, other.code]).toEqual([403, "AccessDenied"]);
    expect(existsSync(onDisk("user/b.txt"))).toBe(false);
  });

  test("Content-MD5 and x-amz-checksum-* fields are checked against the bytes, as on PUT", async () => {
    const body = Buffer.from("checked body");
    const md5 = createHash("md5").update(body).digest("base64");
    const ok = await presigned("form/md5", { Fields: { "Content-MD5": md5 } });
    expect((await post(ok.url, ok.fields, body)).status).toBe(204);
    const bad = await presigned("form/md5-bad", { Fields: { "Content-MD5": createHash("md5").update("other").digest("base64") } });
    expect((await post(bad.url, bad.fields, body)).code).toBe("BadDigest");
    const malformed = await presigned("form/md5-malformed", { Fields: { "Content-MD5": "nope" } });
    expect((await post(malformed.url, malformed.fields, body)).code).toBe("InvalidDigest");
    const sha = createHash("sha256").update(body).digest("base64");
    const ck = await presigned("form/sha", { Fields: { "x-amz-checksum-sha256": sha } });
    expect((await post(ck.url, ck.fields, body)).status).toBe(204);
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "form/sha", ChecksumMode: "ENABLED" }));
    expect(h.ChecksumSHA256).toBe(sha);
    const ckBad = await presigned("form/sha-bad", { Fields: { "x-amz-checksum-sha256": createHash("sha256").update("other").digest("base64") } });
    expect((await post(ckBad.url, ckBad.fields, body)).code).toBe("BadDigest");
    for (const k of ["form/md5-bad", "form/md5-malformed", "form/sha-bad"]) expect(existsSync(onDisk(k))).toBe(false);
    expect(tmpFiles()).toEqual([]);
  });

  test("success_action_redirect: 303 to the page with bucket, key and etag", async () => {
    const { url, fields } = await presigned("form/r", { Fields: { success_action_redirect: "https://app.example/done?x=1" } });
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append("file", new Blob(["r"]), "r");
    const r = await fetch(url, { method: "POST", body: form, redirect: "manual" });
    expect(r.status).toBe(303);
    const to = new URL(r.headers.get("location")!);
    expect(to.origin + to.pathname).toBe("https://app.example/done");
    expect(Object.fromEntries(to.searchParams)).toEqual({ x: "1", bucket: B, key: "form/r", etag: `"${md5Hex("r")}"` });
  });
});

describe("refusals (nothing stored)", () => {
  test("a field the policy does not allow, or a value it does not match: 403 AccessDenied", async () => {
    const { url, fields } = await presigned("form/strict", { Fields: { "Content-Type": "text/plain" } });
    const extra = await post(url, { ...fields, "x-amz-meta-sneaky": "1" }, "x");
    expect([extra.status, extra.code]).toEqual([403, "AccessDenied"]);
    expect(extra.body).toContain("Extra input fields: x-amz-meta-sneaky");
    const changed = await post(url, { ...fields, "Content-Type": "text/html" }, "x");
    expect([changed.status, changed.code]).toEqual([403, "AccessDenied"]);
    const otherKey = await post(url, { ...fields, key: "form/elsewhere" }, "x");
    expect([otherKey.status, otherKey.code]).toEqual([403, "AccessDenied"]);
    expect(existsSync(onDisk("form/strict"))).toBe(false);
    expect(existsSync(onDisk("form/elsewhere"))).toBe(false);
  });

  test("a forged signature, an unknown key, an expired policy", async () => {
    const { url, fields } = await presigned("form/forged");
    const forged = await post(url, { ...fields, "X-Amz-Signature": "0".repeat(64) }, "x");
    expect([forged.status, forged.code]).toEqual([403, "SignatureDoesNotMatch"]);
    const cred = fields["X-Amz-Credential"].replace(/^[^/]+/, "NOSUCHKEY0000000000");
    const unknown = await post(url, { ...fields, "X-Amz-Credential": cred }, "x");
    expect([unknown.status, unknown.code]).toEqual([403, "InvalidAccessKeyId"]);
    const old = await presigned("form/old", { Expires: -10 });
    const expired = await post(old.url, old.fields, "x");
    expect([expired.status, expired.code]).toEqual([403, "AccessDenied"]);
    expect(expired.body).toContain("Policy expired");
    expect(existsSync(onDisk("form/forged"))).toBe(false);
    expect(existsSync(onDisk("form/old"))).toBe(false);
  });

  test("ACL fields other than private are refused as on PUT (BucketOwnerEnforced)", async () => {
    for (const extra of [{ acl: "public-read" }, { "x-amz-grant-read": 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' }] as Record<string, string>[]) {
      const { url, fields } = await presigned("form/acl", { Fields: extra });
      const r = await post(url, fields, "x");
      expect({ extra, status: r.status, code: r.code }).toEqual({ extra, status: 400, code: "AccessControlListNotSupported" });
    }
    expect(existsSync(onDisk("form/acl"))).toBe(false);
  });

  test("no policy at all is anonymous: 403; not a form: 412", async () => {
    const anon = await post(`${gw.endpoint}/${B}`, { key: "form/anon" }, "x");
    expect([anon.status, anon.code]).toEqual([403, "AccessDenied"]);
    const notForm = await fetch(`${gw.endpoint}/${B}`, { method: "POST", body: "key=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(notForm.status).toBe(412);
    await notForm.text();
    expect(existsSync(onDisk("form/anon"))).toBe(false);
  });

  test("content-length-range: too large and too small are refused, and no temp file stays", async () => {
    const { url, fields } = await presigned("form/sized", { Conditions: [["content-length-range", 10, 1024 * 1024]] });
    const big = await post(url, fields, randomBytes(2 * 1024 * 1024));
    expect([big.status, big.code]).toEqual([400, "EntityTooLarge"]);
    const small = await post(url, fields, "tiny");
    expect([small.status, small.code]).toEqual([400, "EntityTooSmall"]);
    expect(existsSync(onDisk("form/sized"))).toBe(false);
    expect(tmpFiles()).toEqual([]);
    const ok = await post(url, fields, "just right!");
    expect(ok.status).toBe(204);
  });

  test("missing file: 400; fields over 20 KB before the file: 400", async () => {
    const { url, fields } = await presigned("form/nofile");
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const r = await fetch(url, { method: "POST", body: form });
    expect(r.status).toBe(400);
    expect(errorCode(await r.text())).toBe("IncorrectNumberOfFilesInPostRequest");
    const huge = await post(url, { ...fields, "x-ignore-padding": "p".repeat(30 * 1024) }, "x");
    expect([huge.status, huge.code]).toEqual([400, "MaxPostPreDataLengthExceededError"]);
  });
});
