// The command line: help, version, configuration errors, generated credentials, graceful shutdown.
import { afterAll, expect, test } from "bun:test";
import { CreateBucketCommand, ListBucketsCommand } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gatewayCommand, rawRequest, s3Client, startGateway } from "../support/index.ts";

const [cmd, ...base] = gatewayCommand();
const roots: string[] = [];
const tempRoot = () => {
  const r = mkdtempSync(join(tmpdir(), "filegate-cli-"));
  roots.push(r);
  return r;
};
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, [...base, ...args], { encoding: "utf8", env: { ...process.env, FILEGATE_ACCESS_KEY: "", FILEGATE_SECRET_KEY: "", ...env }, timeout: 20000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("--help lists every flag with its env var; --version prints the version", () => {
  const help = run(["--help"]);
  expect(help.code).toBe(0);
  for (const flag of ["--root", "--port", "--host", "--region", "--virtual-domain", "--workers", "--readonly", "--cert"]) expect(help.out).toContain(flag);
  expect(help.out).toContain("FILEGATE_PORT");
  const version = run(["--version"]);
  expect(version.code).toBe(0);
  expect(version.out).toMatch(/^filegate \d+\.\d+\.\d+\n$/);
});

test.each([
  [["--port", "abc"], "--port"],
  [["--port", "70000"], "--port"],
  [["--meta", "nfs"], "--meta"],
  [["--fsync", "sometimes"], "--fsync"],
  [["--bogus"], "bogus"],
])("bad configuration %p: one line naming the flag, exit code 2", (args, flag) => {
  const r = run(["serve", "--root", tempRoot(), ...args]);
  expect(r.code).toBe(2);
  expect(r.err.trim().split("\n")).toHaveLength(1);
  expect(r.err).toContain(flag);
});

test("a bad env value names the env var too", () => {
  const r = run(["serve", "--root", tempRoot()], { FILEGATE_PORT: "-1" });
  expect(r.code).toBe(2);
  expect(r.err).toContain("FILEGATE_PORT");
});

test("only one of the key pair from the environment is refused", () => {
  const r = run(["serve", "--root", tempRoot()], { FILEGATE_ACCESS_KEY: "ONLYTHEACCESSKEY", FILEGATE_SECRET_KEY: "" });
  expect(r.code).toBe(2);
});

test("without keys: a pair is generated once (mode 0600), printed, and reused", async () => {
  const root = tempRoot();
  const env = { FILEGATE_ACCESS_KEY: "", FILEGATE_SECRET_KEY: "" };
  const first = await startGateway({ root, env });
  const file = join(root, ".filegate", "credentials");
  const creds = JSON.parse(readFileSync(file, "utf8"));
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(first.output()).toContain(creds.accessKeyId);
  expect(first.output()).toContain(creds.secretAccessKey);
  const client = s3Client(first, { credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey } });
  await client.send(new CreateBucketCommand({ Bucket: "generated-keys" }));
  await first.stop();
  const second = await startGateway({ root, env });
  try {
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(creds);
    const again = s3Client(second, { credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey } });
    const list = await again.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toContain("generated-keys");
    // The ready-to-paste exports, pasted into a shell: the aws cli finds the gateway through them.
    const exports = second.output().split("\n").filter((l) => l.startsWith("export AWS_"));
    expect(exports.map((l) => l.split("=")[0])).toEqual(["export AWS_ENDPOINT_URL", "export AWS_ACCESS_KEY_ID", "export AWS_SECRET_ACCESS_KEY", "export AWS_REGION"]);
    const pasted = spawnSync("bash", ["-c", `${exports.join("\n")}\nenv | grep ^AWS_ | sort`], { encoding: "utf8", env: {} });
    expect(pasted.stdout).toContain(`AWS_ENDPOINT_URL=${second.endpoint}\n`);
    expect(pasted.stdout).toContain(`AWS_SECRET_ACCESS_KEY=${creds.secretAccessKey}\n`);
    const aws = spawnSync("bash", ["-c", `${exports.join("\n")}\naws s3api list-buckets --query 'Buckets[].Name' --output text`], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: root } });
    if (aws.error === undefined && !/command not found/.test(aws.stderr)) expect(aws.stdout).toContain("generated-keys");
  } finally {
    await second.stop();
  }
});

test("a secret from the environment is never printed", async () => {
  const gw = await startGateway();
  try {
    await rawRequest(gw.port, "GET", "/", {});
    expect(gw.output()).not.toContain("test/secret+key");
    expect(gw.output()).not.toContain("export AWS_");
  } finally {
    await gw.stop();
  }
});

test("SIGTERM lets an in-flight upload finish, then exits 0", async () => {
  const gw = await startGateway();
  const client = s3Client(gw);
  await client.send(new CreateBucketCommand({ Bucket: "shutdown" }));
  const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  const url = new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: "shutdown", Key: "slow" }), { expiresIn: 60 }));
  // Send headers and half the body, signal the server, then finish the body.
  const net = await import("node:net");
  const sock = net.connect(gw.port, "127.0.0.1");
  await new Promise((r) => sock.once("connect", r));
  const body = Buffer.alloc(200_000, 3);
  sock.write(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
  sock.write(body.subarray(0, 100_000));
  await new Promise((r) => setTimeout(r, 200));
  const exited = new Promise<number | null>((r) => gw.proc.once("exit", (code) => r(code)));
  gw.proc.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  let response = "";
  sock.on("data", (d) => (response += d));
  const closed = new Promise((r) => sock.once("close", r));
  sock.write(body.subarray(100_000));
  await closed;
  expect(response).toMatch(/^HTTP\/1\.1 200/);
  expect(await exited).toBe(0);
  expect(readFileSync(join(gw.root, "shutdown", "slow")).equals(body)).toBe(true);
  rmSync(gw.root, { recursive: true, force: true });
});
