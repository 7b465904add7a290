// Versioning end to end: the state machine (unversioned → Enabled → Suspended) with S3's
// null-version rules, every operation that takes a versionId, delete markers, and what the tree
// shows other tools (the latest is the plain file; older versions live under .filegate/).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectAclCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCopyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type * as Minio from "minio";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { spawnSync } from "node:child_process";
import { closeGateway, expectS3Error, type Gateway, gatewayCommand, openGateway, readAll, s3Client, signedRequest, startGateway } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;
let mc: Minio.Client;

beforeAll(async () => {
  ({ gw, s3, mc } = await openGateway());
});
afterAll(() => closeGateway(gw, s3));

const ID = /^[0-9A-Z]{26}$/;

async function bucket(name: string, status?: "Enabled" | "Suspended"): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (status) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
  return name;
}
const setVersioning = (Bucket: string, Status: "Enabled" | "Suspended") => s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status } }));
const put = (Bucket: string, Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));
const text = async (Bucket: string, Key: string, VersionId?: string) => {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }));
  return { body: await r.Body!.transformToString(), versionId: r.VersionId };
};

/** One raw page of ListObjectVersions as [kind, id, latest], in document order. */
async function page(Bucket: string): Promise<[string, string, boolean][]> {
  const r = await signedRequest(gw, { method: "GET", path: `/${Bucket}`, query: { versions: "" } });
  return [...r.body.matchAll(/<(Version|DeleteMarker)>[\s\S]*?<VersionId>(.*?)<\/VersionId><IsLatest>(.*?)<\/IsLatest>[\s\S]*?<\/\1>/g)].map((m) => [m[1], m[2], m[3] === "true"]);
}

/** Every version and marker under a prefix (one page), versions first. */
async function versionsOf(Bucket: string, Prefix: string) {
  const r = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix }));
  const all = [...(r.Versions ?? []).map((v) => ({ ...v, marker: false })), ...(r.DeleteMarkers ?? []).map((m) => ({ ...m, marker: true }))];
  return all.map((v) => ({ key: v.Key!, id: v.VersionId!, latest: v.IsLatest!, marker: v.marker }));
}

describe("state machine and the null version", () => {
  test("unversioned → Enabled → Suspended, with S3's null-version rules", async () => {
    const B = await bucket("vstate");
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: B }))).Status).toBeUndefined();
    const p0 = await put(B, "k", "v0");
    expect(p0.VersionId).toBeUndefined();

    await setVersioning(B, "Enabled");
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: B }))).Status).toBe("Enabled");
    // What was there before is the null version.
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: "k" }))).VersionId).toBe("null");
    const v1 = (await put(B, "k", "v1")).VersionId!;
    const v2 = (await put(B, "k", "v2")).VersionId!;
    expect(v1).toMatch(ID);
    expect(v2 > v1).toBe(true);
    // The latest is the plain file; the others are out of the way.
    expect(readFileSync(join(gw.root, B, "k"), "utf8")).toBe("v2");
    expect(await text(B, "k")).toEqual({ body: "v2", versionId: v2 });
    expect(await text(B, "k", v1)).toEqual({ body: "v1", versionId: v1 });
    expect(await text(B, "k", "null")).toEqual({ body: "v0", versionId: "null" });
    let r = await s3.send(new ListObjectVersionsCommand({ Bucket: B }));
    expect(r.Versions!.map((v) => [v.VersionId, v.IsLatest])).toEqual([[v2, true], [v1, false], ["null", false]]);

    // A delete without an id: a marker becomes the latest; the bytes stay.
    const d = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "k" }));
    expect(d.DeleteMarker).toBe(true);
    const m1 = d.VersionId!;
    expect(m1).toMatch(ID);
    expect(existsSync(join(gw.root, B, "k"))).toBe(false);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: B, Key: "k" })), 404, "NoSuchKey");
    const head = await signedRequest(gw, { method: "HEAD", path: `/${B}/k` });
    expect([head.status, head.headers.get("x-amz-delete-marker"), head.headers.get("x-amz-version-id")]).toEqual([404, "true", m1]);
    const byId = await signedRequest(gw, { method: "GET", path: `/${B}/k`, query: { versionId: m1 } });
    expect([byId.status, byId.code, byId.headers.get("x-amz-delete-marker"), byId.headers.get("x-amz-version-id")]).toEqual([405, "MethodNotAllowed", "true", m1]);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: B }))).KeyCount).toBe(0);
    expect((await s3.send(new ListObjectsCommand({ Bucket: B }))).Contents).toBeUndefined();
    r = await s3.send(new ListObjectVersionsCommand({ Bucket: B }));
    expect(r.DeleteMarkers!.map((m) => [m.VersionId, m.IsLatest])).toEqual([[m1, true]]);
    expect(r.Versions!.map((v) => [v.VersionId, v.IsLatest])).toEqual([[v2, false], [v1, false], ["null", false]]);

    // Suspended: writes are the null version, which replaces the old null version.
    await setVersioning(B, "Suspended");
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: B }))).Status).toBe("Suspended");
    expect((await put(B, "k", "s1")).VersionId).toBe("null");
    expect((await put(B, "k", "s2")).VersionId).toBe("null");
    expect(await text(B, "k", "null")).toEqual({ body: "s2", versionId: "null" });
    r = await s3.send(new ListObjectVersionsCommand({ Bucket: B }));
    expect(r.Versions!.map((v) => [v.VersionId, v.IsLatest])).toEqual([["null", true], [v2, false], [v1, false]]);
    expect(r.DeleteMarkers!.map((m) => [m.VersionId, m.IsLatest])).toEqual([[m1, false]]);

    // A suspended delete: the null version goes, a null marker is the latest.
    const sd = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "k" }));
    expect([sd.DeleteMarker, sd.VersionId]).toEqual([true, "null"]);
    r = await s3.send(new ListObjectVersionsCommand({ Bucket: B }));
    expect(r.Versions!.map((v) => v.VersionId)).toEqual([v2, v1]);
    expect(r.DeleteMarkers!.map((m) => [m.VersionId, m.IsLatest])).toEqual([["null", true], [m1, false]]);

    // Removing markers by id brings the version below back as the plain file.
    await setVersioning(B, "Enabled");
    const rm = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "k", VersionId: "null" }));
    expect([rm.DeleteMarker, rm.VersionId]).toEqual([true, "null"]);
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "k", VersionId: m1 }));
    expect(await text(B, "k")).toEqual({ body: "v2", versionId: v2 });
    expect(readFileSync(join(gw.root, B, "k"), "utf8")).toBe("v2");
    // Removing the current version by id: the one below takes its place.
    const rc = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "k", VersionId: v2 }));
    expect([rc.VersionId, rc.DeleteMarker]).toEqual([v2, undefined]);
    expect(await text(B, "k")).toEqual({ body: "v1", versionId: v1 });
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: B, Key: "k", VersionId: v2 })), 404, "NoSuchVersion");

    // A bucket holding only versions or markers is not empty.
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "k" }));
    await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: B })), 409, "BucketNotEmpty");
    for (const v of await versionsOf(B, "")) await s3.send(new DeleteObjectCommand({ Bucket: B, Key: v.key, VersionId: v.id }));
    expect(await versionsOf(B, "")).toEqual([]);
    await s3.send(new DeleteBucketCommand({ Bucket: B }));
  });

  test("version ids that could never have been issued are InvalidArgument; absent ones NoSuchVersion", async () => {
    const B = await bucket("vids", "Enabled");
    await put(B, "k", "x");
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: B, Key: "k", VersionId: "not-an-id" })), 400, "InvalidArgument");
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: B, Key: "k", VersionId: "0".repeat(26) })), 404, "NoSuchVersion");
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: B, Key: "k", VersionId: "0".repeat(26) })), 404);
  });

  test("PutBucketVersioning refuses what S3 refuses", async () => {
    const B = await bucket("vconf");
    const bad = await signedRequest(gw, { method: "PUT", path: `/${B}`, query: { versioning: "" }, body: "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>" });
    expect([bad.status, bad.code]).toEqual([400, "MalformedXML"]);
    const mfa = await signedRequest(gw, { method: "PUT", path: `/${B}`, query: { versioning: "" }, body: "<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>" });
    expect([mfa.status, mfa.code]).toEqual([400, "InvalidRequest"]);
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: B }))).Status).toBeUndefined();
    // An Object Lock configuration keeps versioning on for good.
    await setVersioning(B, "Enabled");
    writeFileSync(join(gw.root, B, ".filegate", "object-lock.json"), "{}");
    await expectS3Error(setVersioning(B, "Suspended"), 409, "InvalidBucketState");
  });
});

describe("every operation that takes a versionId", () => {
  let B: string;
  let v1: string;
  let v2: string;
  beforeAll(async () => {
    B = await bucket("vops", "Enabled");
    v1 = (await put(B, "obj", "first version")).VersionId!;
    v2 = (await put(B, "obj", "second")).VersionId!;
  });

  test("HEAD and GET of a version; minio reads and removes by id", async () => {
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "obj", VersionId: v1 }));
    expect([h.VersionId, h.ContentLength]).toEqual([v1, "first version".length]);
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: "obj" }))).VersionId).toBe(v2);
    const st = await mc.statObject(B, "obj", { versionId: v1 });
    expect([st.versionId, st.size]).toEqual([v1, "first version".length]);
    expect((await readAll(await mc.getObject(B, "obj", { versionId: v1 }))).toString()).toBe("first version");
    const up = await mc.putObject(B, "mobj", Buffer.from("m"));
    expect(up.versionId).toMatch(ID);
    await mc.removeObject(B, "mobj", { versionId: up.versionId! });
    expect(await versionsOf(B, "mobj")).toEqual([]);
  });

  test("tagging, ACL and attributes per version", async () => {
    await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: "obj", VersionId: v1, Tagging: { TagSet: [{ Key: "old", Value: "yes" }] } }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "obj", VersionId: v1 }))).TagSet).toEqual([{ Key: "old", Value: "yes" }]);
    const latest = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "obj" }));
    expect([latest.TagSet, latest.VersionId]).toEqual([[], v2]);
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: B, Key: "obj", VersionId: v1 }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "obj", VersionId: v1 }))).TagSet).toEqual([]);
    // The version's bytes and record still agree after its record was rewritten.
    expect(await text(B, "obj", v1)).toEqual({ body: "first version", versionId: v1 });
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: B, Key: "obj", VersionId: v1 }));
    expect(acl.Grants?.length).toBeGreaterThan(0);
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: "obj", VersionId: v1, ObjectAttributes: ["ObjectSize", "ETag"] }));
    expect([attrs.ObjectSize, attrs.VersionId]).toEqual(["first version".length, v1]);
  });

  test("CopyObject and UploadPartCopy from a source version; Complete answers its version id", async () => {
    const c = await s3.send(new CopyObjectCommand({ Bucket: B, Key: "copy", CopySource: `${B}/obj?versionId=${v1}` }));
    expect(c.CopySourceVersionId).toBe(v1);
    expect(c.VersionId).toMatch(ID);
    expect(await text(B, "copy")).toEqual({ body: "first version", versionId: c.VersionId });
    // Copying an older version over its own key restores it as a new version.
    const back = await s3.send(new CopyObjectCommand({ Bucket: B, Key: "restore", CopySource: `${B}/obj?versionId=${v1}` }));
    expect(back.VersionId).toMatch(ID);
    const self = await s3.send(new CopyObjectCommand({ Bucket: B, Key: "obj", CopySource: `${B}/obj?versionId=${v1}` }));
    expect((await text(B, "obj")).body).toBe("first version");
    expect(self.VersionId! > v2).toBe(true);

    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "mp" }));
    const part = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: "mp", UploadId: up.UploadId, PartNumber: 1, CopySource: `${B}/obj?versionId=${v2}` }));
    expect(part.CopySourceVersionId).toBe(v2);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "mp", UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult!.ETag }] } }));
    expect(done.VersionId).toMatch(ID);
    expect(await text(B, "mp")).toEqual({ body: "second", versionId: done.VersionId });

    // A marker is no copy source.
    const m = (await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "gone" }))).VersionId!;
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: "x", CopySource: `${B}/gone?versionId=${m}` })), 400, "InvalidRequest");
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: B, Key: "x", CopySource: `${B}/gone` })), 404, "NoSuchKey");
  });

  test("a record too large for the xattr stays with its version through overwrites and restores", async () => {
    const Metadata = { big: "m".repeat(1900) };
    const Tagging = Array.from({ length: 5 }, (_, i) => `t${i}=${"v".repeat(200)}`).join("&");
    const big = (await s3.send(new PutObjectCommand({ Bucket: B, Key: "big", Body: "big one", Metadata, Tagging }))).VersionId!;
    const small = (await put(B, "big", "small")).VersionId!;
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "big", VersionId: big }));
    expect([h.Metadata?.big, h.ContentLength]).toEqual([Metadata.big, 7]);
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "big", VersionId: big }))).TagSet).toHaveLength(5);
    // Removing the newer version brings the big one back as the plain file, record and all.
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "big", VersionId: small }));
    const back = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "big" }));
    expect([back.VersionId, back.Metadata?.big]).toEqual([big, Metadata.big]);
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "big" }))).TagSet).toHaveLength(5);
  });

  test("a browser form upload (PostObject) makes a version and says its id", async () => {
    const { url, fields } = await createPresignedPost(s3, { Bucket: B, Key: "posted", Expires: 600 });
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append("file", new Blob(["posted body"]), "f.txt");
    const r = await fetch(url, { method: "POST", body: form });
    expect(r.status).toBe(204);
    const id = r.headers.get("x-amz-version-id");
    expect(id).toMatch(ID);
    expect(await text(B, "posted")).toEqual({ body: "posted body", versionId: id! });
  });

  test("DeleteObjects with versions: versions removed, markers made and removed", async () => {
    const a1 = (await put(B, "da", "1")).VersionId!;
    const a2 = (await put(B, "da", "2")).VersionId!;
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: "da", VersionId: a1 }, { Key: "db" }, { Key: "da", VersionId: "0".repeat(26) }] } }));
    const byKey = Object.fromEntries((r.Deleted ?? []).map((d) => [`${d.Key}:${d.VersionId ?? ""}`, d]));
    expect(byKey[`da:${a1}`]).toBeDefined();
    expect(byKey["db:"].DeleteMarker).toBe(true);
    expect(byKey["db:"].DeleteMarkerVersionId).toMatch(ID);
    expect(r.Errors ?? []).toEqual([]);
    const marker = byKey["db:"].DeleteMarkerVersionId!;
    const r2 = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: "db", VersionId: marker }] } }));
    expect(r2.Deleted![0]).toMatchObject({ Key: "db", VersionId: marker, DeleteMarker: true, DeleteMarkerVersionId: marker });
    expect((await versionsOf(B, "da")).map((v) => v.id)).toEqual([a2]);
    expect(await versionsOf(B, "db")).toEqual([]);
  });
});

describe("ListObjectVersions details", () => {
  test("encoding-type url, prefix, delimiter and max-keys 0", async () => {
    const B = await bucket("vlist", "Enabled");
    await put(B, "a b/c+d", "1");
    await put(B, "a b/c+d", "2");
    await put(B, "top", "t");
    const r = await signedRequest(gw, { method: "GET", path: `/${B}`, query: { versions: "", "encoding-type": "url", prefix: "a b/" } });
    expect(r.body).toContain("<Key>a%20b/c%2Bd</Key>");
    expect(r.body).toContain("<Prefix>a%20b/</Prefix>");
    expect(r.body.match(/<Version>/g)?.length).toBe(2);
    const d = await s3.send(new ListObjectVersionsCommand({ Bucket: B, Delimiter: "/" }));
    expect([d.CommonPrefixes?.map((p) => p.Prefix), d.Versions?.map((v) => v.Key)]).toEqual([["a b/"], ["top"]]);
    const zero = await s3.send(new ListObjectVersionsCommand({ Bucket: B, MaxKeys: 0 }));
    expect([zero.IsTruncated, zero.Versions]).toEqual([false, undefined]);
    const vm = await signedRequest(gw, { method: "GET", path: `/${B}`, query: { versions: "", "version-id-marker": "null" } });
    expect([vm.status, vm.code]).toEqual([400, "InvalidArgument"]);
  });
});

describe("files changed by other tools", () => {
  test("a rewritten current file is never served with its old record; a vanished one leaves its versions listable", async () => {
    const B = await bucket("vforeign", "Enabled");
    const v1 = (await put(B, "f", "one")).VersionId!;
    const v2 = (await put(B, "f", "two")).VersionId!;
    const before = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "f" }));
    // Another tool rewrites the file in place.
    writeFileSync(join(gw.root, B, "f"), "rewritten by hand");
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "f" }));
    expect(h.ETag).not.toBe(before.ETag);
    expect(h.VersionId).toBe("null");
    expect(h.ContentLength).toBe("rewritten by hand".length);
    // Its next overwrite keeps it as a version (the null one) like any other.
    const v3 = (await put(B, "f", "three")).VersionId!;
    let vs = await s3.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: "f" }));
    // v2's bytes were overwritten in place by the other tool: only its name was left to lose.
    expect(vs.Versions!.map((v) => v.VersionId)).toEqual([v3, "null", v1]);
    expect(await text(B, "f", "null")).toEqual({ body: "rewritten by hand", versionId: "null" });
    void v2;
    // Another tool deletes the current file: the key reads as absent, its versions remain.
    rmSync(join(gw.root, B, "f"));
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: B, Key: "f" })), 404, "NoSuchKey");
    vs = await s3.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: "f" }));
    expect(vs.Versions!.length).toBe(2);
    expect(vs.Versions!.every((v) => v.IsLatest === false)).toBe(true);
    expect(await text(B, "f", v1)).toEqual({ body: "one", versionId: v1 });
  });

  test("a file another tool puts under a delete marker is the latest, the null version", async () => {
    const B = await bucket("vunder", "Enabled");
    const v1 = (await put(B, "u", "one")).VersionId!;
    const m = (await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "u" }))).VersionId!;
    writeFileSync(join(gw.root, B, "u"), "by hand");
    expect(await text(B, "u")).toEqual({ body: "by hand", versionId: "null" });
    const r = await page(B);
    expect(r).toEqual([["Version", "null", true], ["DeleteMarker", m, false], ["Version", v1, false]]);
  });

  test("a crash between keeping the current file and replacing it leaves one latest, listed once", async () => {
    const B = await bucket("vcrash", "Enabled");
    const v1 = (await put(B, "c", "only")).VersionId!;
    // What keep() leaves when the process dies before the rename: a second name for the current file.
    const { linkSync, mkdirSync } = await import("node:fs");
    const dir = join(gw.root, B, ".filegate", "versions", "c", ".filegate-obj.");
    mkdirSync(dir, { recursive: true });
    linkSync(join(gw.root, B, "c"), join(dir, v1));
    const vs = await s3.send(new ListObjectVersionsCommand({ Bucket: B }));
    expect(vs.Versions!.map((v) => [v.VersionId, v.IsLatest])).toEqual([[v1, true]]);
    const v2 = (await put(B, "c", "next")).VersionId!;
    expect((await versionsOf(B, "c")).map((v) => v.id).sort()).toEqual([v1, v2].sort());
  });
});

describe("operator CLI", () => {
  test("filegate versions list and purge (with a dry run) beside a running gateway", async () => {
    const B = await bucket("vcli", "Enabled");
    const a1 = (await put(B, "a", "1")).VersionId!;
    const a2 = (await put(B, "a", "22")).VersionId!;
    await put(B, "b", "b");
    const bm = (await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "b" }))).VersionId!;
    const [cmd, ...base] = gatewayCommand();
    const run = (...args: string[]) => spawnSync(cmd, [...base, "versions", ...args, "--root", gw.root], { encoding: "utf8", timeout: 20000 });
    const list = run("list", B);
    expect(list.status).toBe(0);
    const rows = list.stdout.trim().split("\n").map((l) => l.split("\t").slice(0, 4));
    expect(rows).toEqual([
      ["a", a2, "latest", "version"],
      ["a", a1, "noncurrent", "version"],
      ["b", bm, "latest", "marker"],
      ["b", expect.stringMatching(ID), "noncurrent", "version"],
    ]);
    const dry = run("purge", B, "--dry-run");
    expect(dry.status).toBe(0);
    expect(dry.stderr).toContain("would remove 2 noncurrent version(s) (2 bytes) and 1 delete marker(s)");
    expect((await versionsOf(B, "")).length).toBe(4);
    const purge = run("purge", B);
    expect(purge.status).toBe(0);
    expect(purge.stderr).toContain("removed 2 noncurrent version(s) (2 bytes) and 1 delete marker(s)");
    expect((await versionsOf(B, "")).map((v) => [v.key, v.id, v.latest])).toEqual([["a", a2, true]]);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: B, Key: "b" })), 404, "NoSuchKey");
    expect(run("list", "nobucket").status).not.toBe(0);
  });
});

describe("with --meta sidecar", () => {
  test("records of kept versions live beside them; markers, restores and metadata work the same", async () => {
    const side = await startGateway({ args: ["--meta", "sidecar"] });
    const c = s3Client(side);
    try {
      await c.send(new CreateBucketCommand({ Bucket: "side" }));
      await c.send(new PutBucketVersioningCommand({ Bucket: "side", VersioningConfiguration: { Status: "Enabled" } }));
      const v1 = (await c.send(new PutObjectCommand({ Bucket: "side", Key: "d/k", Body: "one", Metadata: { n: "1" }, ContentType: "text/x-one" }))).VersionId!;
      const v2 = (await c.send(new PutObjectCommand({ Bucket: "side", Key: "d/k", Body: "two", Metadata: { n: "2" } }))).VersionId!;
      expect(existsSync(join(side.root, "side", ".filegate", "versions", "d", "k", ".filegate-obj.", `${v1}.json`))).toBe(true);
      const h1 = await c.send(new HeadObjectCommand({ Bucket: "side", Key: "d/k", VersionId: v1 }));
      expect([h1.Metadata?.n, h1.ContentType, h1.VersionId]).toEqual(["1", "text/x-one", v1]);
      const m = (await c.send(new DeleteObjectCommand({ Bucket: "side", Key: "d/k" }))).VersionId!;
      await expectS3Error(c.send(new HeadObjectCommand({ Bucket: "side", Key: "d/k" })), 404);
      await c.send(new DeleteObjectCommand({ Bucket: "side", Key: "d/k", VersionId: m }));
      expect((await c.send(new HeadObjectCommand({ Bucket: "side", Key: "d/k" }))).VersionId).toBe(v2);
      await c.send(new DeleteObjectCommand({ Bucket: "side", Key: "d/k", VersionId: v2 }));
      const back = await c.send(new HeadObjectCommand({ Bucket: "side", Key: "d/k" }));
      expect([back.VersionId, back.Metadata?.n, back.ContentType]).toEqual([v1, "1", "text/x-one"]);
    } finally {
      c.destroy();
      await side.stop();
    }
  });
});
