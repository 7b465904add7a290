// rclone and s3cmd, as users run them (Debian's packages; each test skips when the tool is absent).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCESS_KEY, type Gateway, SECRET_KEY, startGateway } from "../support/index.ts";

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
let gw: Gateway;
let work: string;

beforeAll(async () => {
  gw = await startGateway();
  work = mkdtempSync(join(tmpdir(), "filegate-clients-"));
  const src = join(work, "src");
  mkdirSync(join(src, "sub", "deeper"), { recursive: true });
  writeFileSync(join(src, "small.txt"), "hello");
  writeFileSync(join(src, "sub", "with space.txt"), "spaced");
  writeFileSync(join(src, "sub", "deeper", "é+ü.txt"), "unicode");
  writeFileSync(join(src, "big.bin"), randomBytes(12 * 1024 * 1024));
});
afterAll(async () => {
  await gw?.stop();
  rmSync(work, { recursive: true, force: true });
});

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const { AWS_CA_BUNDLE: _ignored, ...base } = process.env;
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...base, ...env }, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test.skipIf(!has("rclone"))("rclone: copy, check, copy back, sync deletes extras, purge", () => {
  const env = {
    RCLONE_CONFIG_FG_TYPE: "s3",
    RCLONE_CONFIG_FG_PROVIDER: "Other",
    RCLONE_CONFIG_FG_ACCESS_KEY_ID: ACCESS_KEY,
    RCLONE_CONFIG_FG_SECRET_ACCESS_KEY: SECRET_KEY,
    RCLONE_CONFIG_FG_ENDPOINT: gw.endpoint,
    RCLONE_CONFIG_FG_REGION: "us-east-1",
    RCLONE_CONFIG_FG_FORCE_PATH_STYLE: "true",
    // Make the 12 MiB file a multipart upload.
    RCLONE_S3_UPLOAD_CUTOFF: "5M",
    RCLONE_S3_CHUNK_SIZE: "5M",
  };
  const src = join(work, "src");
  run("rclone", ["mkdir", "fg:rclone-bucket"], env);
  run("rclone", ["copy", src, "fg:rclone-bucket/data"], env);
  expect(readFileSync(join(gw.root, "rclone-bucket", "data", "sub", "deeper", "é+ü.txt"), "utf8")).toBe("unicode");
  run("rclone", ["check", src, "fg:rclone-bucket/data"], env);
  const back = join(work, "back");
  run("rclone", ["copy", "fg:rclone-bucket/data", back], env);
  expect(readFileSync(join(back, "big.bin")).equals(readFileSync(join(src, "big.bin")))).toBe(true);
  run("rclone", ["sync", join(src, "sub"), "fg:rclone-bucket/data"], env);
  expect(run("rclone", ["lsf", "-R", "--files-only", "fg:rclone-bucket"], env).trim().split("\n").sort()).toEqual(["data/deeper/é+ü.txt", "data/with space.txt"]);
  run("rclone", ["purge", "fg:rclone-bucket"], env);
});

test.skipIf(!has("s3cmd"))("s3cmd: mb, put (single and multipart), ls, info, get, del, rb", () => {
  const port = new URL(gw.endpoint).port;
  const s3cmd = (...args: string[]) =>
    run("s3cmd", [`--access_key=${ACCESS_KEY}`, `--secret_key=${SECRET_KEY}`, `--host=127.0.0.1:${port}`, `--host-bucket=127.0.0.1:${port}`, "--no-ssl", "--region=us-east-1", "-c", "/dev/null", ...args]);
  const src = join(work, "src");
  s3cmd("mb", "s3://s3cmd-bucket");
  s3cmd("put", join(src, "small.txt"), "s3://s3cmd-bucket/a dir/small.txt");
  s3cmd("put", "--multipart-chunk-size-mb=5", join(src, "big.bin"), "s3://s3cmd-bucket/big.bin");
  const ls = s3cmd("ls", "-r", "s3://s3cmd-bucket");
  expect(ls).toContain("s3://s3cmd-bucket/a dir/small.txt");
  expect(ls).toContain("s3://s3cmd-bucket/big.bin");
  expect(s3cmd("info", "s3://s3cmd-bucket/big.bin")).toContain("File size: 12582912");
  const out = join(work, "big.back");
  s3cmd("get", "--force", "s3://s3cmd-bucket/big.bin", out);
  expect(readFileSync(out).equals(readFileSync(join(src, "big.bin")))).toBe(true);
  s3cmd("del", "--recursive", "--force", "s3://s3cmd-bucket");
  s3cmd("rb", "s3://s3cmd-bucket");
});
