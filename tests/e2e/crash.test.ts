// kill -9 of a gateway in the middle of a PUT or a CompleteMultipartUpload, then a restart on the
// same root: the old object is intact or the new one complete, a retried Complete answers, and
// the start-up sweep leaves nothing of the dead process behind.
import { afterAll, expect, test } from "bun:test";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { amzDate, closeGateway, type Gateway, readAll, s3Client, sign, startGateway } from "../support/index.ts";

const root = mkdtempSync(join(tmpdir(), "filegate-crash-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

async function killed(gw: Gateway): Promise<void> {
  const exited = new Promise((r) => gw.proc.once("exit", r));
  gw.proc.kill("SIGKILL");
  await exited;
}

test("kill -9 mid-PUT: the old object stays, and the restart sweeps the dead temp file", async () => {
  let gw = await startGateway({ root });
  let s3 = s3Client(gw);
  await s3.send(new CreateBucketCommand({ Bucket: "crash" }));
  const old = randomBytes(4096);
  await s3.send(new PutObjectCommand({ Bucket: "crash", Key: "k", Body: old }));
  // Half of a declared body, then silence: the gateway is writing its temp file when it dies.
  const t = amzDate();
  const signed = sign({ method: "PUT", path: "/crash/k", headers: { host: `127.0.0.1:${gw.port}`, "content-length": String(1 << 20), "x-amz-date": t }, payloadHash: "UNSIGNED-PAYLOAD" });
  const req = request({ host: "127.0.0.1", port: gw.port, method: "PUT", path: "/crash/k", headers: signed.headers });
  req.on("error", () => {});
  req.write(randomBytes(512 * 1024));
  const tmp = join(root, "crash", ".filegate", "tmp");
  for (let i = 0; i < 100 && readdirSync(tmp).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(readdirSync(tmp).length).toBe(1);
  await killed(gw);
  s3.destroy();
  req.destroy();
  gw = await startGateway({ root });
  s3 = s3Client(gw);
  expect(readdirSync(tmp)).toEqual([]);
  const got = await readAll((await s3.send(new GetObjectCommand({ Bucket: "crash", Key: "k" }))).Body);
  expect(got.equals(old)).toBe(true);
  await closeGateway(gw, s3);
});

test("kill -9 mid-Complete: after a restart the retried Complete answers with the whole object", async () => {
  let gw = await startGateway({ root });
  let s3 = s3Client(gw);
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: "crash", Key: "mp" }));
  const parts: { PartNumber: number; ETag: string }[] = [];
  const bodies: Buffer[] = [];
  for (let n = 1; n <= 24; n++) {
    const body = randomBytes(5 * 1024 * 1024);
    bodies.push(body);
    const r = await s3.send(new UploadPartCommand({ Bucket: "crash", Key: "mp", UploadId: up.UploadId, PartNumber: n, Body: body }));
    parts.push({ PartNumber: n, ETag: r.ETag! });
  }
  const complete = () => s3.send(new CompleteMultipartUploadCommand({ Bucket: "crash", Key: "mp", UploadId: up.UploadId, MultipartUpload: { Parts: parts } }));
  const first = complete().catch(() => null);
  // Somewhere inside the assembly (where exactly does not matter: every point must recover).
  await new Promise((r) => setTimeout(r, 25 + Math.floor(Math.random() * 40)));
  await killed(gw);
  await first;
  if (process.env.CRASH_DEBUG) console.log("after kill:", readdirSync(join(root, "crash", ".filegate", "uploads")));
  s3.destroy();
  gw = await startGateway({ root });
  s3 = s3Client(gw);
  const done = await complete();
  const whole = Buffer.concat(bodies);
  expect(done.ETag).toMatch(/-24"$/);
  const got = await readAll((await s3.send(new GetObjectCommand({ Bucket: "crash", Key: "mp" }))).Body);
  expect(md5(got)).toBe(md5(whole));
  // Nothing of the upload is left but its completion record.
  expect(readdirSync(join(root, "crash", ".filegate", "uploads")).filter((n) => n.startsWith(up.UploadId!))).toEqual(
    expect.arrayContaining([`${up.UploadId}.done`]),
  );
  await new Promise((r) => setTimeout(r, 200));
  expect(readdirSync(join(root, "crash", ".filegate", "uploads")).filter((n) => n.startsWith(up.UploadId!) && !n.endsWith(".done"))).toEqual([]);
  expect(readdirSync(join(root, "crash", ".filegate", "tmp"))).toEqual([]);
  await closeGateway(gw, s3);
});
