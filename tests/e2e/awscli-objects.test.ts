// The aws cli (botocore) against the gateway: `aws s3 cp` up and down of a 64 MiB file, once with
// the cli's defaults (multipart above 8 MiB) and once as a single PutObject.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCESS_KEY, type Gateway, REGION, SECRET_KEY, sha256Hex, startGateway } from "../support/index.ts";

const hasAws = spawnSync("aws", ["--version"], { encoding: "utf8" }).status === 0;

let gw: Gateway;
let work: string;
let src: string;
let srcSha: string;
const B = "awscli";

function aws(args: string[], config?: string): { status: number | null; out: string } {
  const r = spawnSync("aws", [...args, "--endpoint-url", gw.endpoint], {
    encoding: "utf8",
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: config ?? join(work, "config-default"),
      AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
    },
    timeout: 60_000,
  });
  return { status: r.status, out: (r.stdout ?? "") + (r.stderr ?? "") };
}

beforeAll(async () => {
  if (!hasAws) return;
  gw = await startGateway();
  work = mkdtempSync(join(tmpdir(), "filegate-awscli-"));
  writeFileSync(join(work, "config-default"), "[default]\n");
  writeFileSync(join(work, "config-single"), "[default]\ns3 =\n  multipart_threshold = 128MB\n");
  src = join(work, "src.bin");
  const chunk = randomBytes(1024 * 1024);
  const buf = Buffer.alloc(64 * 1024 * 1024);
  for (let i = 0; i < 64; i++) {
    chunk.copy(buf, i * chunk.length);
    buf.writeUInt32BE(i, i * chunk.length); // no two MiB alike
  }
  writeFileSync(src, buf);
  srcSha = sha256Hex(buf);
  mkdirSync(join(gw.root, B));
});
afterAll(async () => {
  if (!hasAws) return;
  await gw?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.skipIf(!hasAws)("aws s3 cp of 64 MiB as one PutObject: up and down byte-identical, file at ROOT/bucket/key", () => {
  const up = aws(["s3", "cp", src, `s3://${B}/single/data 64.bin`], join(work, "config-single"));
  expect(up.out).toContain("upload:");
  expect(up.status).toBe(0);
  expect(sha256Hex(readFileSync(join(gw.root, B, "single/data 64.bin")))).toBe(srcSha);
  const dst = join(work, "down-single.bin");
  const down = aws(["s3", "cp", `s3://${B}/single/data 64.bin`, dst], join(work, "config-single"));
  expect(down.status).toBe(0);
  expect(sha256Hex(readFileSync(dst))).toBe(srcSha);
}, 60_000);

test.skipIf(!hasAws)("aws s3 cp of 64 MiB with the cli defaults (multipart): up and down byte-identical", () => {
  const up = aws(["s3", "cp", src, `s3://${B}/multi/data.bin`]);
  expect(up.out).toContain("upload:");
  expect(up.status).toBe(0);
  expect(sha256Hex(readFileSync(join(gw.root, B, "multi/data.bin")))).toBe(srcSha);
  const dst = join(work, "down-multi.bin");
  const down = aws(["s3", "cp", `s3://${B}/multi/data.bin`, dst]);
  expect(down.status).toBe(0);
  expect(sha256Hex(readFileSync(dst))).toBe(srcSha);
}, 60_000);
