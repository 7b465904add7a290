// The AWS CLI's own multipart path (s3transfer): `aws s3 cp` of 100 MiB in 8 MiB parts, up and
// down. Skipped when no `aws` is installed (Debian: apt-get install awscli); FILEGATE_TEST_AWS
// names another binary.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { CreateBucketCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCESS_KEY, type Gateway, md5Hex, REGION, s3Client, SECRET_KEY, startGateway, uniqueBucket } from "../support/index.ts";

const AWS = process.env.FILEGATE_TEST_AWS || Bun.which("aws");
const MiB = 1024 * 1024;

let gw: Gateway;
let work: string;

beforeAll(async () => {
  if (!AWS) return;
  gw = await startGateway();
  work = mkdtempSync(join(tmpdir(), "filegate-awscli-"));
  writeFileSync(
    join(work, "config"),
    ["[default]", `region = ${REGION}`, "s3 =", "  multipart_threshold = 8MB", "  multipart_chunksize = 8MB", "  addressing_style = path", ""].join("\n"),
  );
});

afterAll(async () => {
  await gw?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function aws(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(AWS!, ["--endpoint-url", gw.endpoint, ...args], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY: SECRET_KEY,
        AWS_CONFIG_FILE: join(work, "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(work, "none"),
        AWS_PAGER: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("close", (code) => resolve({ code, out }));
  });
}

test.skipIf(!AWS)("aws s3 cp of 100 MiB in 8 MiB parts round-trips", async () => {
  const bucket = uniqueBucket("cli");
  const s3 = s3Client(gw);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const data = randomBytes(100 * MiB);
  writeFileSync(join(work, "in.bin"), data);
  const up = await aws(["s3", "cp", join(work, "in.bin"), `s3://${bucket}/cli/in.bin`]);
  expect(up.out).not.toContain("error");
  expect(up.code).toBe(0);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "cli/in.bin" }));
  expect(head.ETag).toMatch(/-13"$/);
  expect(head.ContentLength).toBe(100 * MiB);
  const down = await aws(["s3", "cp", `s3://${bucket}/cli/in.bin`, join(work, "out.bin")]);
  expect(down.code).toBe(0);
  expect(md5Hex(readFileSync(join(work, "out.bin")))).toBe(md5Hex(data));
  s3.destroy();
}, 60000);
