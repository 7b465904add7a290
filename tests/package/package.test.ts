// The npm package as a user gets it: `npm pack`, installed into an empty project with npm on a PATH
// where no Bun is reachable, `npx filegate` serves (on Node) and the aws cli and the SDK round-trip
// through it; then with the bun package installed beside it, the same command runs on Bun, and so
// does `bunx filegate`. startFilegate() from the installed package, in a `node --test` file and a
// `bun test` file (the README's example), on each runtime.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../..");
const BUN_VERSION = JSON.parse(readFileSync(join(REPO, "node_modules/bun/package.json"), "utf8")).version as string;
const SDK_VERSION = JSON.parse(readFileSync(join(REPO, "node_modules/@aws-sdk/client-s3/package.json"), "utf8")).version as string;

/** The caller's PATH without any directory that holds a bun (nor node_modules/.bin). */
const CLEAN_PATH = (process.env.PATH ?? "")
  .split(delimiter)
  .filter((d) => d && !d.includes("node_modules") && !existsSync(join(d, "bun")) && !existsSync(join(d, "bun.exe")))
  .join(delimiter);
/** A user's shell: no npm_*, BUN_* or FILEGATE_* variables from the test runner. */
const ENV: Record<string, string> = Object.fromEntries(
  Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(npm_|BUN_|FILEGATE_)/i.test(k)) as [string, string][],
);
ENV.PATH = CLEAN_PATH;

let work: string;
let project: string;
let tarball: string;

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? project, env: opts.env ?? ENV, encoding: "utf8", timeout: opts.timeout ?? 180_000 });
  return { code: r.status, out: r.stdout ?? "", err: r.stderr ?? "", all: (r.stdout ?? "") + (r.stderr ?? "") };
}

const hasAws = sh("sh", ["-c", "command -v aws"], { cwd: tmpdir() }).code === 0;

interface Served {
  proc: ChildProcess;
  endpoint: string;
  output: () => string;
  exports: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts `cmd args` in a process group of its own (npx → sh → node → maybe bun) and waits for the banner. */
async function serve(cmd: string, args: string[], env = ENV): Promise<Served> {
  const proc = spawn(cmd, args, { cwd: project, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const endpoint = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no banner:\n${out}`)), 60_000);
    const check = () => {
      const m = /export AWS_REGION=\S+/.test(out) && /endpoint\s+(http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    proc.stdout!.on("data", check);
    proc.on("exit", (code) => fail(new Error(`exited with ${code}:\n${out}`)));
  });
  const exports = Object.fromEntries([...out.matchAll(/^export (AWS_[A-Z_]+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
  return {
    proc,
    endpoint,
    output: () => out,
    exports,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      process.kill(-proc.pid!, "SIGTERM");
      await exited;
    },
  };
}

/** An S3 round trip with the aws cli (when installed) and the SDK, using only the banner's exports. */
async function roundTrip(s: Served, bucket: string) {
  const x = s.exports;
  expect(Object.keys(x)).toEqual(["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]);
  if (hasAws) {
    // --endpoint-url too: Debian's aws cli 2.9 predates AWS_ENDPOINT_URL.
    const env = { ...ENV, ...x, HOME: work };
    const aws = (...a: string[]) => sh("aws", ["--endpoint-url", x.AWS_ENDPOINT_URL, ...a], { env });
    writeFileSync(join(work, "upload.txt"), `hello ${bucket}\n`);
    expect(aws("s3", "mb", `s3://${bucket}`).all).toContain("make_bucket");
    expect(aws("s3", "cp", join(work, "upload.txt"), `s3://${bucket}/dir/upload.txt`).code).toBe(0);
    expect(aws("s3", "cp", `s3://${bucket}/dir/upload.txt`, "-").out).toBe(`hello ${bucket}\n`);
  }
  const s3 = new S3Client({ endpoint: x.AWS_ENDPOINT_URL, region: x.AWS_REGION, forcePathStyle: true, credentials: { accessKeyId: x.AWS_ACCESS_KEY_ID, secretAccessKey: x.AWS_SECRET_ACCESS_KEY } });
  await s3.send(new CreateBucketCommand({ Bucket: `${bucket}-sdk` }));
  await s3.send(new PutObjectCommand({ Bucket: `${bucket}-sdk`, Key: "k", Body: "sdk body" }));
  expect(await (await s3.send(new GetObjectCommand({ Bucket: `${bucket}-sdk`, Key: "k" }))).Body!.transformToString()).toBe("sdk body");
  s3.destroy();
}

// The README's example, as a user's test file (node --test and bun test read the same file).
const EMBED_TEST = `
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { startFilegate } from "filegate";

test("put and get through an embedded filegate", async () => {
  const [a, b] = await Promise.all([startFilegate({ buckets: ["photos"] }), startFilegate()]);
  for (const gw of [a, b]) {
    const s3 = new S3Client({ endpoint: gw.endpoint, region: gw.region, forcePathStyle: true,
      credentials: { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey } });
    if (gw === b) await s3.send(new CreateBucketCommand({ Bucket: "photos" }));
    await s3.send(new PutObjectCommand({ Bucket: "photos", Key: "a.txt", Body: "hi" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: "photos", Key: "a.txt" }));
    assert.equal(await got.Body.transformToString(), "hi");
    s3.destroy();
  }
  await Promise.all([a.stop(), b.stop()]);
  assert.equal(existsSync(a.root) || existsSync(b.root), false);
  console.log("embedded on " + (typeof Bun === "undefined" ? "node" : "bun") + " ok");
});
`;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "filegate-pkg-"));
  project = join(work, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "uses-filegate", private: true, type: "module" }));
  // npm pack runs prepack, which builds dist/ from the current source.
  const pack = sh("npm", ["pack", "--pack-destination", work, "--json"], { cwd: REPO, env: { ...process.env } as Record<string, string> });
  expect(pack.code).toBe(0);
  const info = JSON.parse(pack.out.slice(pack.out.indexOf("[")))[0] as { filename: string; files: { path: string }[] };
  tarball = join(work, info.filename);
  (globalThis as { packed?: string[] }).packed = info.files.map((f) => f.path);
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("on a machine with Node and npm only", () => {
  test("the tarball holds the built code, not the sources or tests", () => {
    const files = (globalThis as { packed?: string[] }).packed!;
    for (const f of ["bin/filegate.mjs", "dist/node/filegate.mjs", "dist/node/index.mjs", "dist/bun/filegate.js", "dist/bun/index.js", "dist/types/index.d.ts", "package.json", "README.md"]) expect(files).toContain(f);
    expect(files.filter((f) => /^(src|tests|scripts)\//.test(f))).toEqual([]);
  });

  test("npm install of the tarball, without Bun anywhere on the PATH", () => {
    expect(sh("sh", ["-c", "command -v bun"]).code).not.toBe(0);
    const r = sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball]);
    expect(r.code).toBe(0);
    const deps = Object.keys(JSON.parse(readFileSync(join(project, "node_modules/filegate/package.json"), "utf8")).dependencies);
    expect(deps.sort()).toEqual(Object.keys(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).dependencies).sort());
    expect(existsSync(join(project, "node_modules/bun"))).toBe(false);
    expect(existsSync(join(project, "node_modules/@aws-sdk"))).toBe(false);
  });

  test("npx filegate serves on Node (default --workers), and the aws cli and the SDK round-trip through it", async () => {
    const s = await serve("npx", ["filegate", "--root", join(work, "data-node"), "--port", "0"]);
    try {
      expect(s.output()).toMatch(/^filegate \S+ on Node \d+/m);
      await roundTrip(s, "via-node");
    } finally {
      await s.stop();
    }
    expect(existsSync(join(work, "data-node/via-node-sdk/k"))).toBe(true);
  });

  test("startFilegate() from the installed package in a node --test file", () => {
    expect(sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", `@aws-sdk/client-s3@${SDK_VERSION}`]).code).toBe(0);
    writeFileSync(join(project, "embed.test.mjs"), EMBED_TEST);
    const r = sh("node", ["--test", "embed.test.mjs"]);
    expect(r.all).toContain("embedded on node ok");
    expect(r.code).toBe(0);
  });
});

describe("with the bun package installed beside it", () => {
  beforeAll(() => {
    const r = sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", `bun@${BUN_VERSION}`]);
    expect(r.code).toBe(0);
  });

  test("npx filegate runs on Bun; a SIGKILL of the launcher takes the Bun process and its workers along", async () => {
    const s = await serve("npx", ["filegate", "--root", join(work, "data-bun"), "--port", "0", "--workers", "2"]);
    try {
      expect(s.output()).toMatch(/^filegate \S+ on Bun \d+/m);
      await roundTrip(s, "via-bun");
      const tree = sh("ps", ["-o", "pid=,ppid=,args=", "-g", String(s.proc.pid)]).out;
      const launcher = /^\s*(\d+)\s+\d+\s+node \S*filegate/m.exec(tree)?.[1];
      const bunPids = [...tree.matchAll(/^\s*(\d+)\s+\d+\s+\S*bun\.exe /gm)].map((m) => m[1]);
      expect(bunPids.length).toBe(3); // the supervisor and two workers
      process.kill(Number(launcher), "SIGKILL");
      const deadline = Date.now() + 5000;
      const alive = (pid: string) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
      while (bunPids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(bunPids.filter(alive)).toEqual([]);
    } finally {
      await s.stop().catch(() => {});
    }
  });

  test("bunx filegate runs on Bun", async () => {
    const s = await serve(join(project, "node_modules/.bin/bunx"), ["filegate", "--root", join(work, "data-bunx"), "--port", "0", "--workers", "1"]);
    try {
      expect(s.output()).toMatch(/^filegate \S+ on Bun \d+/m);
      await roundTrip(s, "via-bunx");
    } finally {
      await s.stop();
    }
  });

  test("startFilegate() from the installed package in a bun test file", () => {
    writeFileSync(join(project, "embed.test.mjs"), EMBED_TEST);
    const r = sh(join(project, "node_modules/.bin/bun"), ["test", "./embed.test.mjs"]);
    expect(r.all).toContain("embedded on bun ok");
    expect(r.code).toBe(0);
  });
});
