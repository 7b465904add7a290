// Object Lock end to end, with the AWS SDK, minio-js and raw signed requests: the bucket's
// configuration, retention and legal hold on objects, the lock headers of PutObject, CopyObject and
// multipart uploads, the integrity header S3 demands, the refusals, the governance bypass, and the
// immutable flag on the files where the gateway may set it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import type * as Minio from "minio";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCESS_KEY, SECRET_KEY, closeGateway, expectS3Error, gatewayCommand, md5B64, openGateway, s3Client, signedRequest, startGateway, type Gateway, uniqueBucket } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;
let mc: Minio.Client;

beforeAll(async () => {
  ({ gw, s3, mc } = await openGateway());
});
afterAll(async () => {
  await closeGateway(gw, s3);
});

const inSeconds = (s: number) => new Date(Date.now() + s * 1000);
const HOUR = 3600;

async function lockedBucket(rule?: { Mode: "GOVERNANCE" | "COMPLIANCE"; Days?: number; Years?: number }): Promise<string> {
  const Bucket = uniqueBucket();
  await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
  if (rule) await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: rule } } }));
  return Bucket;
}

/** Whether the gateway can set the immutable flag here (root with the addon): lsattr says. */
function immutable(path: string): boolean | null {
  const r = spawnSync("lsattr", ["-d", path], { encoding: "utf8" });
  if (r.status !== 0) return null;
  return /^\S*i\S*\s/.test(r.stdout);
}
const canFlag = process.getuid?.() === 0 && process.env.FILEGATE_NO_ADDON !== "1" && spawnSync("lsattr", ["-d", "/"]).status === 0;

describe("bucket configuration", () => {
  test("CreateBucket with Object Lock: versioning Enabled, configuration without a rule, then a rule", async () => {
    const Bucket = await lockedBucket();
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe("Enabled");
    const none = await s3.send(new GetObjectLockConfigurationCommand({ Bucket }));
    expect(none.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: "Enabled" });
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 3 } } } }));
    const got = await s3.send(new GetObjectLockConfigurationCommand({ Bucket }));
    expect(got.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 3 } } });
    // minio-js reads the same configuration, and writes one in years.
    expect(await mc.getObjectLockConfig(Bucket)).toMatchObject({ objectLockEnabled: "Enabled", mode: "GOVERNANCE", unit: "Days", validity: 3 });
    await mc.setObjectLockConfig(Bucket, { mode: "COMPLIANCE", unit: "Years", validity: 1 });
    expect((await s3.send(new GetObjectLockConfigurationCommand({ Bucket }))).ObjectLockConfiguration?.Rule?.DefaultRetention).toEqual({ Mode: "COMPLIANCE", Years: 1 });
  });

  test("a bucket without Object Lock: no configuration (404), none may be put while versioning is off (409)", async () => {
    const Bucket = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket }));
    await expectS3Error(s3.send(new GetObjectLockConfigurationCommand({ Bucket })), 404, "ObjectLockConfigurationNotFoundError");
    await expectS3Error(s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: "Enabled" } })), 409, "InvalidBucketState");
    await s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "x" }));
    await expectS3Error(s3.send(new GetObjectRetentionCommand({ Bucket, Key: "k" })), 400, "InvalidRequest");
    await expectS3Error(s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: "k", LegalHold: { Status: "ON" } })), 400, "InvalidRequest");
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: "k2", Body: "x", ObjectLockLegalHoldStatus: "ON" })), 400, "InvalidRequest");
  });

  test("bad configurations: both periods, zero days, Disabled", async () => {
    const Bucket = await lockedBucket();
    const put = (xml: string) => signedRequest(gw, { method: "PUT", path: `/${Bucket}`, query: { "object-lock": "" }, headers: { "content-md5": md5B64(xml) }, body: xml });
    const both = await put("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>");
    expect([both.status, both.code]).toEqual([400, "MalformedXML"]);
    const zero = await put("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>0</Days></DefaultRetention></Rule></ObjectLockConfiguration>");
    expect([zero.status, zero.code]).toEqual([400, "InvalidArgument"]);
    const off = await put("<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>");
    expect([off.status, off.code]).toEqual([400, "MalformedXML"]);
  });
});

describe("locks on writes", () => {
  test("PutObject's lock headers are stored, returned by HEAD and GET, and read by Get*Retention/LegalHold", async () => {
    const Bucket = await lockedBucket();
    const until = inSeconds(HOUR);
    await s3.send(new PutObjectCommand({ Bucket, Key: "a", Body: "locked", ObjectLockMode: "GOVERNANCE", ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: "ON" }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "a" }));
    expect([head.ObjectLockMode, head.ObjectLockRetainUntilDate?.getTime(), head.ObjectLockLegalHoldStatus]).toEqual(["GOVERNANCE", until.getTime(), "ON"]);
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: "a" }));
    expect(get.ObjectLockMode).toBe("GOVERNANCE");
    expect(await get.Body?.transformToString()).toBe("locked");
    const r = await s3.send(new GetObjectRetentionCommand({ Bucket, Key: "a" }));
    expect([r.Retention?.Mode, r.Retention?.RetainUntilDate?.getTime()]).toEqual(["GOVERNANCE", until.getTime()]);
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: "a" }))).LegalHold?.Status).toBe("ON");
    expect(await mc.getObjectLegalHold(Bucket, "a")).toEqual({ Status: "ON" } as never);
    expect(await mc.getObjectRetention(Bucket, "a")).toMatchObject({ mode: "GOVERNANCE" });
  });

  test("an object without a lock: NoSuchObjectLockConfiguration (404) for both", async () => {
    const Bucket = await lockedBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: "plain", Body: "x" }));
    await expectS3Error(s3.send(new GetObjectRetentionCommand({ Bucket, Key: "plain" })), 404, "NoSuchObjectLockConfiguration");
    await expectS3Error(s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: "plain" })), 404, "NoSuchObjectLockConfiguration");
  });

  test("lock headers need Content-MD5 or a checksum; so does any PUT into a bucket with a default rule", async () => {
    const Bucket = await lockedBucket();
    const put = (headers: Record<string, string>) => signedRequest(gw, { method: "PUT", path: `/${Bucket}/raw`, headers, body: "data" });
    const lock = { "x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": inSeconds(HOUR).toISOString() };
    const bare = await put(lock);
    expect([bare.status, bare.code]).toEqual([400, "InvalidRequest"]);
    expect(bare.body).toContain("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters");
    expect((await put({ ...lock, "content-md5": md5B64("data") })).status).toBe(200);
    // Without lock headers and without a default rule, no digest is needed.
    const other = await signedRequest(gw, { method: "PUT", path: `/${Bucket}/raw2`, body: "data" });
    expect(other.status).toBe(200);
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket, ObjectLockConfiguration: { ObjectLockEnabled: "Enabled", Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 1 } } } }));
    const ruled = await signedRequest(gw, { method: "PUT", path: `/${Bucket}/raw3`, body: "data" });
    expect([ruled.status, ruled.code]).toEqual([400, "InvalidRequest"]);
  });

  test("bad lock headers: one without the other, unknown mode, a date in the past", async () => {
    const Bucket = await lockedBucket();
    const put = (headers: Record<string, string>) => signedRequest(gw, { method: "PUT", path: `/${Bucket}/bad`, headers: { "content-md5": md5B64("d"), ...headers }, body: "d" });
    const one = await put({ "x-amz-object-lock-mode": "GOVERNANCE" });
    expect([one.status, one.code]).toEqual([400, "InvalidArgument"]);
    const mode = await put({ "x-amz-object-lock-mode": "STRICT", "x-amz-object-lock-retain-until-date": inSeconds(HOUR).toISOString() });
    expect([mode.status, mode.code]).toEqual([400, "InvalidArgument"]);
    const past = await put({ "x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": inSeconds(-HOUR).toISOString() });
    expect([past.status, past.code]).toEqual([400, "InvalidArgument"]);
    expect(past.body).toContain("The retain until date must be in the future!");
  });

  test("the bucket's default retention applies to new objects; its own headers win", async () => {
    const Bucket = await lockedBucket({ Mode: "GOVERNANCE", Days: 1 });
    const before = Date.now();
    await s3.send(new PutObjectCommand({ Bucket, Key: "d", Body: "x" }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "d" }));
    expect(head.ObjectLockMode).toBe("GOVERNANCE");
    const until = head.ObjectLockRetainUntilDate!.getTime();
    expect(until).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 86_400_000);
    const own = inSeconds(2 * 86400);
    await s3.send(new PutObjectCommand({ Bucket, Key: "e", Body: "x", ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: own }));
    const h2 = await s3.send(new HeadObjectCommand({ Bucket, Key: "e" }));
    expect([h2.ObjectLockMode, h2.ObjectLockRetainUntilDate?.getTime()]).toEqual(["COMPLIANCE", own.getTime()]);
  });

  test("CopyObject and multipart uploads carry their own lock headers; a copy does not inherit the source's", async () => {
    const Bucket = await lockedBucket();
    const until = inSeconds(HOUR);
    await s3.send(new PutObjectCommand({ Bucket, Key: "src", Body: "copy me", ObjectLockLegalHoldStatus: "ON" }));
    await s3.send(new CopyObjectCommand({ Bucket, Key: "copy", CopySource: `${Bucket}/src` }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "copy" }))).ObjectLockLegalHoldStatus).toBeUndefined();
    await s3.send(new CopyObjectCommand({ Bucket, Key: "copy2", CopySource: `${Bucket}/src`, ObjectLockMode: "GOVERNANCE", ObjectLockRetainUntilDate: until }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "copy2" }))).ObjectLockMode).toBe("GOVERNANCE");

    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "mp", ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: "OFF" }));
    const part = await s3.send(new UploadPartCommand({ Bucket, Key: "mp", UploadId: up.UploadId, PartNumber: 1, Body: "only part" }));
    // Before Complete there is no object, so nothing is locked yet.
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket, Key: "mp" })), 404);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: "mp", UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "mp" }));
    expect([head.ObjectLockMode, head.ObjectLockRetainUntilDate?.getTime(), head.ObjectLockLegalHoldStatus]).toEqual(["COMPLIANCE", until.getTime(), "OFF"]);
    // On a bucket without Object Lock, CreateMultipartUpload refuses lock headers.
    const plain = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    await expectS3Error(s3.send(new CreateMultipartUploadCommand({ Bucket: plain, Key: "mp", ObjectLockLegalHoldStatus: "ON" })), 400, "InvalidRequest");
  });
});

test("PostObject: the form's lock fields lock the object; without a digest field they are refused", async () => {
  const Bucket = await lockedBucket();
  const until = inSeconds(HOUR).toISOString();
  const send = async (Key: string, digest: boolean) => {
    const { url, fields } = await createPresignedPost(s3, {
      Bucket,
      Key,
      Expires: 600,
      Fields: { "x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": until, ...(digest ? { "Content-MD5": md5B64("form") } : {}) },
    });
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append("file", new Blob(["form"]), "f.bin");
    const r = await fetch(url, { method: "POST", body: form });
    return { status: r.status, body: await r.text() };
  };
  const bare = await send("p1", false);
  expect(bare.status).toBe(400);
  expect(bare.body).toContain("<Code>InvalidRequest</Code>");
  expect((await send("p2", true)).status).toBe(204);
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "p2" }));
  expect([head.ObjectLockMode, head.ObjectLockRetainUntilDate?.toISOString()]).toEqual(["GOVERNANCE", until]);
});

const hasRclone = spawnSync("sh", ["-c", "command -v rclone"]).status === 0;

test.skipIf(!hasRclone)("rclone into a bucket with a default GOVERNANCE rule: uploads locked; its deletes only add markers, its cleanup of old versions is refused", async () => {
  const Bucket = await lockedBucket({ Mode: "GOVERNANCE", Days: 1 });
  const work = mkdtempSync(join(tmpdir(), "filegate-rclone-lock-"));
  try {
    writeFileSync(join(work, "small.txt"), "hello");
    writeFileSync(join(work, "big.bin"), randomBytes(12 * 1024 * 1024));
    const { AWS_CA_BUNDLE: _ignored, ...base } = process.env;
    const env = {
      ...base,
      RCLONE_CONFIG_FG_TYPE: "s3",
      RCLONE_CONFIG_FG_PROVIDER: "Other",
      RCLONE_CONFIG_FG_ACCESS_KEY_ID: ACCESS_KEY,
      RCLONE_CONFIG_FG_SECRET_ACCESS_KEY: SECRET_KEY,
      RCLONE_CONFIG_FG_ENDPOINT: gw.endpoint,
      RCLONE_CONFIG_FG_REGION: "us-east-1",
      RCLONE_CONFIG_FG_FORCE_PATH_STYLE: "true",
      RCLONE_S3_UPLOAD_CUTOFF: "5M",
      RCLONE_S3_CHUNK_SIZE: "5M",
    };
    const rclone = (...args: string[]) => spawnSync("rclone", ["--retries", "1", "--low-level-retries", "1", ...args], { encoding: "utf8", env, timeout: 120_000 });
    const copy = rclone("copy", work, `fg:${Bucket}/backup`);
    expect(copy.stderr).not.toContain("ERROR");
    expect(copy.status).toBe(0);
    expect(rclone("check", work, `fg:${Bucket}/backup`).status).toBe(0);
    for (const Key of ["backup/small.txt", "backup/big.bin"]) expect((await s3.send(new HeadObjectCommand({ Bucket, Key }))).ObjectLockMode).toBe("GOVERNANCE");
    // As on S3: a delete in a versioned bucket is a delete marker, which a lock allows.
    const del = rclone("delete", `fg:${Bucket}/backup`);
    expect(del.status).toBe(0);
    expect(rclone("lsf", "-R", `fg:${Bucket}`).stdout.trim()).toBe("");
    // The versions are still there, and rclone's own view of them has the data.
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    expect(versions.Versions?.map((v) => v.Key).sort()).toEqual(["backup/big.bin", "backup/small.txt"]);
    expect(versions.DeleteMarkers?.length).toBe(2);
    // Removing the noncurrent versions (what `cleanup-hidden` does) is what the lock refuses.
    const cleanup = rclone("backend", "cleanup-hidden", `fg:${Bucket}`);
    expect(cleanup.stderr).toContain("AccessDenied");
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket }))).Versions?.length).toBe(2);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

describe("enforcement (versioned: every write and delete keeps the locked versions)", () => {
  test("GOVERNANCE: a version is not removed or shortened without the bypass; an overwrite and a delete marker are fine", async () => {
    const Bucket = await lockedBucket();
    const v1 = (await s3.send(new PutObjectCommand({ Bucket, Key: "g", Body: "v1", ObjectLockMode: "GOVERNANCE", ObjectLockRetainUntilDate: inSeconds(HOUR) }))).VersionId!;
    expect(v1).toBeDefined();
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket, Key: "g", VersionId: v1 })), 403, "AccessDenied");
    // Overwriting keeps v1 as a noncurrent version, still locked.
    const v2 = (await s3.send(new PutObjectCommand({ Bucket, Key: "g", Body: "v2" }))).VersionId!;
    expect(v2).not.toBe(v1);
    const old = await s3.send(new GetObjectCommand({ Bucket, Key: "g", VersionId: v1 }));
    expect([await old.Body?.transformToString(), old.ObjectLockMode]).toEqual(["v1", "GOVERNANCE"]);
    // A delete without a version id is a delete marker: allowed.
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: "g" }));
    expect(marker.DeleteMarker).toBe(true);
    await expectS3Error(s3.send(new PutObjectRetentionCommand({ Bucket, Key: "g", VersionId: v1, Retention: { Mode: "GOVERNANCE", RetainUntilDate: inSeconds(60) } })), 403, "AccessDenied");
    // Extending needs no bypass; shortening takes it, and so does changing the mode, even to COMPLIANCE.
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: "g", VersionId: v1, Retention: { Mode: "GOVERNANCE", RetainUntilDate: inSeconds(2 * HOUR) } }));
    await expectS3Error(s3.send(new PutObjectRetentionCommand({ Bucket, Key: "g", VersionId: v1, Retention: { Mode: "COMPLIANCE", RetainUntilDate: inSeconds(3 * HOUR) } })), 403, "AccessDenied");
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: "g", VersionId: v1, Retention: { Mode: "GOVERNANCE", RetainUntilDate: inSeconds(60) }, BypassGovernanceRetention: true }));
    const r = await s3.send(new GetObjectRetentionCommand({ Bucket, Key: "g", VersionId: v1 }));
    expect(r.Retention?.RetainUntilDate!.getTime()).toBeLessThan(Date.now() + 120_000);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "g", VersionId: v1, BypassGovernanceRetention: true }));
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket, Key: "g", VersionId: v1 })), 404);
    // v2 carries no lock: it goes without a bypass.
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "g", VersionId: v2 }));
  });

  test("COMPLIANCE: a version is not removed, shortened or weakened, bypass or not; extending is allowed", async () => {
    const Bucket = await lockedBucket();
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: "c", Body: "kept", ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: inSeconds(HOUR) }))).VersionId!;
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket, Key: "c", VersionId: v, BypassGovernanceRetention: true })), 403, "AccessDenied");
    await expectS3Error(s3.send(new PutObjectRetentionCommand({ Bucket, Key: "c", VersionId: v, Retention: { Mode: "COMPLIANCE", RetainUntilDate: inSeconds(60) }, BypassGovernanceRetention: true })), 403, "AccessDenied");
    await expectS3Error(s3.send(new PutObjectRetentionCommand({ Bucket, Key: "c", Retention: { Mode: "GOVERNANCE", RetainUntilDate: inSeconds(2 * HOUR) }, BypassGovernanceRetention: true })), 403, "AccessDenied");
    const d = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: "c", VersionId: v }] }, BypassGovernanceRetention: true }));
    expect(d.Errors?.map((e) => e.Code)).toEqual(["AccessDenied"]);
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: "c", VersionId: v, Retention: { Mode: "COMPLIANCE", RetainUntilDate: inSeconds(2 * HOUR) } }));
    // minio-js asks the same and hears the same.
    await expect(mc.putObjectRetention(Bucket, "c", { mode: "COMPLIANCE" as never, retainUntilDate: inSeconds(30).toISOString(), governanceBypass: true, versionId: v })).rejects.toMatchObject({ code: "AccessDenied" });
    await expect(mc.removeObject(Bucket, "c", { versionId: v, governanceBypass: true })).rejects.toMatchObject({ code: "AccessDenied" });
    // A delete marker through minio is allowed; the version stays.
    await mc.removeObject(Bucket, "c");
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: "c", VersionId: v }))).Body?.transformToString()).toBe("kept");
  });

  test("legal hold: blocks even the bypass until it is OFF; DeleteObjects reports it per version", async () => {
    const Bucket = await lockedBucket();
    const held = (await s3.send(new PutObjectCommand({ Bucket, Key: "h", Body: "held" }))).VersionId!;
    const free = (await s3.send(new PutObjectCommand({ Bucket, Key: "free", Body: "x" }))).VersionId!;
    await mc.setObjectLegalHold(Bucket, "h", { status: "ON", versionId: held } as never);
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: "h", VersionId: held }))).LegalHold?.Status).toBe("ON");
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket, Key: "h", VersionId: held, BypassGovernanceRetention: true })), 403, "AccessDenied");
    const d = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: "h", VersionId: held }, { Key: "free", VersionId: free }] } }));
    // The error names the version asked for, so a client can look at that version's lock.
    expect(d.Errors?.map((e) => [e.Key, e.VersionId, e.Code])).toEqual([["h", held, "AccessDenied"]]);
    expect(d.Deleted?.map((e) => e.Key)).toEqual(["free"]);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: "h", VersionId: held, LegalHold: { Status: "OFF" } }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "h", VersionId: held }));
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket, Key: "h" })), 404);
  });

  test("per version: each version has its own lock; a delete marker has none (405)", async () => {
    const Bucket = await lockedBucket();
    const a = (await s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "a", ObjectLockLegalHoldStatus: "ON" }))).VersionId!;
    const b = (await s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "b" }))).VersionId!;
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: "k", VersionId: a }))).LegalHold?.Status).toBe("ON");
    await expectS3Error(s3.send(new GetObjectLegalHoldCommand({ Bucket, Key: "k" })), 404, "NoSuchObjectLockConfiguration");
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: "k", VersionId: b, Retention: { Mode: "GOVERNANCE", RetainUntilDate: inSeconds(HOUR) } }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "k" }))).ObjectLockMode).toBe("GOVERNANCE");
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "k", VersionId: a }))).ObjectLockMode).toBeUndefined();
    const m = (await s3.send(new DeleteObjectCommand({ Bucket, Key: "k" }))).VersionId!;
    await expectS3Error(s3.send(new GetObjectRetentionCommand({ Bucket, Key: "k", VersionId: m })), 405);
    await expectS3Error(s3.send(new GetObjectRetentionCommand({ Bucket, Key: "k" })), 404, "NoSuchKey");
    // The marker itself may go; the locked versions stay.
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "k", VersionId: m }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: "k" }))).Body?.transformToString()).toBe("b");
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket, Key: "k", VersionId: b })), 403, "AccessDenied");
  });

  test("versioning cannot be suspended on a bucket with Object Lock", async () => {
    const Bucket = await lockedBucket();
    await expectS3Error(s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: "Suspended" } })), 409, "InvalidBucketState");
  });

  test("a retention that has ended protects nothing", async () => {
    const Bucket = await lockedBucket();
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: "short", Body: "x", ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: inSeconds(2) }))).VersionId!;
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket, Key: "short", VersionId: v })), 403, "AccessDenied");
    await Bun.sleep(2200);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "short", VersionId: v }));
    expect(existsSync(join(gw.root, Bucket, "short"))).toBe(false);
  });
});

test("filegate versions purge keeps versions under Object Lock (and the marker above them), dry run or not", async () => {
  const Bucket = await lockedBucket();
  const locked = (await s3.send(new PutObjectCommand({ Bucket, Key: "p", Body: "locked", ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: inSeconds(HOUR) }))).VersionId!;
  const plain = (await s3.send(new PutObjectCommand({ Bucket, Key: "p", Body: "plain" }))).VersionId!;
  await s3.send(new DeleteObjectCommand({ Bucket, Key: "p" }));
  await s3.send(new PutObjectCommand({ Bucket, Key: "q", Body: "q1" }));
  await s3.send(new PutObjectCommand({ Bucket, Key: "q", Body: "q2" }));
  const [cmd, ...base] = gatewayCommand();
  const run = (...args: string[]) => spawnSync(cmd, [...base, "versions", ...args, "--root", gw.root], { encoding: "utf8", timeout: 20000 });
  const dry = run("purge", Bucket, "--dry-run");
  expect(dry.status).toBe(0);
  expect(dry.stdout).toContain(`kept (object lock)\tp\t${locked}`);
  expect(dry.stderr).toContain("would remove 2 noncurrent version(s)");
  expect(dry.stderr).toContain("kept 1 version(s) under Object Lock");
  const purge = run("purge", Bucket);
  expect(purge.status).toBe(0);
  expect(purge.stderr).toContain("removed 2 noncurrent version(s) (7 bytes) and 0 delete marker(s)");
  const left = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  expect(left.Versions?.map((v) => [v.Key, v.VersionId === locked, v.IsLatest])).toEqual([["p", true, false], ["q", false, true]]);
  expect(left.DeleteMarkers?.map((m) => [m.Key, m.IsLatest])).toEqual([["p", true]]);
  expect(left.Versions?.some((v) => v.VersionId === plain)).toBe(false);
});

/** Files of a bucket's version store (noncurrent versions and markers), by path. */
function versionFiles(bucket: string): string[] {
  const root = join(gw.root, bucket, ".filegate", "versions");
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true }) as string[]).map((p) => join(root, p)).filter((p) => statSync(p).isFile() && !p.endsWith(".json"));
}

describe.skipIf(!canFlag)("the immutable flag (root with the addon)", () => {
  test("a locked file is immutable on the host, at the key and in the version store; the flag follows the lock", async () => {
    const Bucket = await lockedBucket();
    const file = join(gw.root, Bucket, "im");
    const v1 = (await s3.send(new PutObjectCommand({ Bucket, Key: "im", Body: "worm", ObjectLockLegalHoldStatus: "ON" }))).VersionId!;
    expect(immutable(file)).toBe(true);
    // Even root's plain write is refused by the kernel.
    expect(() => writeFileSync(file, "changed")).toThrow(/EPERM|operation not permitted/i);
    expect(readFileSync(file, "utf8")).toBe("worm");
    // The record still changes through S3 (the gateway clears and sets the flag around it).
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: "im", Retention: { Mode: "GOVERNANCE", RetainUntilDate: inSeconds(HOUR) } }));
    expect(immutable(file)).toBe(true);
    // An overwrite keeps v1 in the version store, still immutable; the new current has no lock.
    await s3.send(new PutObjectCommand({ Bucket, Key: "im", Body: "two" }));
    expect(immutable(file)).toBe(false);
    const kept = versionFiles(Bucket);
    expect(kept.length).toBe(1);
    expect(immutable(kept[0])).toBe(true);
    expect(() => writeFileSync(kept[0], "changed")).toThrow(/EPERM|operation not permitted/i);
    // Lock changes on the noncurrent version move its flag too.
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: "im", VersionId: v1, LegalHold: { Status: "OFF" } }));
    expect(immutable(kept[0])).toBe(true); // the retention still holds it
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: "im", VersionId: v1, Retention: {}, BypassGovernanceRetention: true }));
    expect(immutable(kept[0])).toBe(false);
    await s3.send(new PutObjectRetentionCommand({ Bucket, Key: "im", VersionId: v1, Retention: { Mode: "GOVERNANCE", RetainUntilDate: inSeconds(HOUR) } }));
    expect(immutable(kept[0])).toBe(true);
    // A bypassed delete removes the version file although it carries the flag.
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "im", VersionId: v1, BypassGovernanceRetention: true }));
    expect(existsSync(kept[0])).toBe(false);
  });

  test("a delete marker over a locked current object: the version moves to the store with its flag; deleting the marker brings it back", async () => {
    const Bucket = await lockedBucket();
    const file = join(gw.root, Bucket, "dm");
    await s3.send(new PutObjectCommand({ Bucket, Key: "dm", Body: "data", ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: inSeconds(HOUR) }));
    const m = (await s3.send(new DeleteObjectCommand({ Bucket, Key: "dm" }))).VersionId!;
    expect(existsSync(file)).toBe(false);
    const kept = versionFiles(Bucket).filter((p) => statSync(p).size > 0);
    expect(kept.length).toBe(1);
    expect(immutable(kept[0])).toBe(true);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "dm", VersionId: m }));
    expect(readFileSync(file, "utf8")).toBe("data");
    expect(immutable(file)).toBe(true);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "dm" }))).ObjectLockMode).toBe("COMPLIANCE");
  });

  test("a locked object moves beside the directory its name becomes, flag and lock kept, and back", async () => {
    const Bucket = await lockedBucket();
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: "a", Body: "parent", ObjectLockLegalHoldStatus: "ON" }))).VersionId!;
    await s3.send(new PutObjectCommand({ Bucket, Key: "a/b", Body: "child" }));
    expect(immutable(join(gw.root, Bucket, ".filegate-obj.a"))).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "a" }));
    expect(head.ObjectLockLegalHoldStatus).toBe("ON");
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket, Key: "a", VersionId: v })), 403, "AccessDenied");
    const child = (await s3.send(new HeadObjectCommand({ Bucket, Key: "a/b" }))).VersionId!;
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "a/b", VersionId: child }));
    expect(immutable(join(gw.root, Bucket, "a"))).toBe(true);
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: "a" }))).Body?.transformToString()).toBe("parent");
  });

  test("without the bucket's settings (removed on the host), the records still protect their files", async () => {
    const Bucket = await lockedBucket();
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: "kept", Body: "one", ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: inSeconds(HOUR) }))).VersionId!;
    rmSync(join(gw.root, Bucket, ".filegate", "object-lock.json"));
    rmSync(join(gw.root, Bucket, ".filegate", "versioning"));
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket, Key: "kept", VersionId: v, BypassGovernanceRetention: true })), 403, "AccessDenied");
    // Unversioned now, a delete would remove the file: refused by its record.
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket, Key: "kept" })), 403, "AccessDenied");
    // A PUT is no longer checked above the store (no lock setting), but the store will not clear
    // the flag of a COMPLIANCE version to replace it.
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket, Key: "kept", Body: "two" })), 403, "AccessDenied");
    expect(readFileSync(join(gw.root, Bucket, "kept"), "utf8")).toBe("one");
  });

  test("an ended retention's flag is cleared when the gateway next moves or removes the version", async () => {
    const Bucket = await lockedBucket();
    const file = join(gw.root, Bucket, "end");
    const v = (await s3.send(new PutObjectCommand({ Bucket, Key: "end", Body: "one", ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: inSeconds(1) }))).VersionId!;
    expect(immutable(file)).toBe(true);
    await Bun.sleep(1200);
    await s3.send(new PutObjectCommand({ Bucket, Key: "end", Body: "two" }));
    expect(readFileSync(file, "utf8")).toBe("two");
    expect(immutable(file)).toBe(false);
    // Kept as a noncurrent version: the gateway touched it, and its lock had ended.
    const [kept] = versionFiles(Bucket);
    expect(immutable(kept)).toBe(false);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: "end", VersionId: v }));
    expect(existsSync(kept)).toBe(false);
  });
});

describe("with --meta sidecar", () => {
  let side: Gateway;
  let c: S3Client;
  beforeAll(async () => {
    side = await startGateway({ args: ["--meta", "sidecar"] });
    c = s3Client(side);
  });
  afterAll(() => closeGateway(side, c));

  test("locks live in the sidecar records, per version, and are enforced the same", async () => {
    const Bucket = uniqueBucket();
    await c.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    const v1 = (await c.send(new PutObjectCommand({ Bucket, Key: "s", Body: "one", ObjectLockMode: "COMPLIANCE", ObjectLockRetainUntilDate: inSeconds(HOUR) }))).VersionId!;
    await c.send(new PutObjectCommand({ Bucket, Key: "s", Body: "two" }));
    await c.send(new PutObjectLegalHoldCommand({ Bucket, Key: "s", VersionId: v1, LegalHold: { Status: "ON" } }));
    const head = await c.send(new HeadObjectCommand({ Bucket, Key: "s", VersionId: v1 }));
    expect([head.ObjectLockMode, head.ObjectLockLegalHoldStatus]).toEqual(["COMPLIANCE", "ON"]);
    await expectS3Error(c.send(new DeleteObjectCommand({ Bucket, Key: "s", VersionId: v1, BypassGovernanceRetention: true })), 403, "AccessDenied");
    expect((await c.send(new DeleteObjectCommand({ Bucket, Key: "s" }))).DeleteMarker).toBe(true);
    expect(await (await c.send(new GetObjectCommand({ Bucket, Key: "s", VersionId: v1 }))).Body?.transformToString()).toBe("one");
  });
});
