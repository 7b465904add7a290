// Small objects are kept open between GETs (src/storage/posix/open-files.ts) once they have been
// unchanged for a few seconds. Whatever changes the file afterwards — a PUT through another
// gateway process on the same root, a foreign in-place rewrite, a rename, a delete, a link swapped
// in — the next GET answers as a fresh open would.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeGateway, expectS3Error, type Gateway, readAll, s3Client, startGateway } from "../support/index.ts";

let gw: Gateway;
let other: Gateway;
let s3: S3Client;
let s3b: S3Client;
const b = "kept";
const outside = mkdtempSync(join(tmpdir(), "kept-outside-"));
const keys = ["same-size", "renamed", "deleted", "linked", "other-process", "d/nested"];

const get = async (Key: string) => {
  const r = await s3.send(new GetObjectCommand({ Bucket: b, Key }));
  return { body: (await readAll(r.Body)).toString(), etag: r.ETag };
};

beforeAll(async () => {
  gw = await startGateway();
  other = await startGateway({ root: gw.root });
  s3 = s3Client(gw);
  s3b = s3Client(other);
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key, Body: `old ${Key}` }));
  writeFileSync(join(outside, "secret"), "outside secret");
  // Kept only once unchanged for the quiet time (3 s).
  await Bun.sleep(3300);
  for (let i = 0; i < 3; i++) for (const Key of keys) expect((await get(Key)).body).toBe(`old ${Key}`);
  // They are kept: the gateway holds them open between requests.
  const held = readdirSync(`/proc/${gw.pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${gw.pid}/fd/${fd}`);
    } catch {
      return "";
    }
  });
  for (const Key of keys) expect(held).toContain(join(gw.root, b, Key));
}, 30_000);

afterAll(async () => {
  await closeGateway(other, s3b);
  await closeGateway(gw, s3);
  rmSync(outside, { recursive: true, force: true });
});

test("changes by another process or a foreign tool are seen by the next GET", async () => {
  const at = (k: string) => join(gw.root, b, k);
  const before = await get("same-size");
  writeFileSync(at("same-size"), "NEW same-size");
  expect((await get("same-size")).body).toBe("NEW same-size");
  expect((await get("same-size")).etag).not.toBe(before.etag);

  writeFileSync(at("renamed.tmp"), "replacement");
  renameSync(at("renamed.tmp"), at("renamed"));
  expect((await get("renamed")).body).toBe("replacement");

  unlinkSync(at("deleted"));
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: "deleted" })), 404, "NoSuchKey");

  unlinkSync(at("linked"));
  symlinkSync(join(outside, "secret"), at("linked"));
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: "linked" })), 404, "NoSuchKey");

  rmSync(at("d"), { recursive: true });
  symlinkSync(outside, at("d"));
  writeFileSync(join(outside, "nested"), "outside nested");
  await expectS3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: "d/nested" })), 404, "NoSuchKey");

  await s3b.send(new PutObjectCommand({ Bucket: b, Key: "other-process", Body: "written by the other" }));
  expect((await get("other-process")).body).toBe("written by the other");
});
