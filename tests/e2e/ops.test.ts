// What an operator relies on: health, readiness, metrics, the access log, read-only mode, the
// concurrency cap, TLS, and the compiled executable.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Gateway, REPO, RUNTIME, s3Client, SECRET_KEY, startGateway, uniqueBucket } from "../support/index.ts";

describe("endpoints and access log", () => {
  let gw: Gateway;
  let s3: S3Client;
  beforeAll(async () => {
    gw = await startGateway({ env: { FILEGATE_METRICS_TOKEN: "scrape-token" } });
    s3 = s3Client(gw);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  test("health and ready answer without credentials", async () => {
    const health = await fetch(`${gw.endpoint}/_filegate/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${gw.endpoint}/_filegate/ready`);
    expect(ready.status).toBe(200);
  });

  test("metrics need the token and count requests by operation and status class", async () => {
    const b = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "12345" }));
    await s3.send(new GetObjectCommand({ Bucket: b, Key: "missing" })).catch(() => {});
    expect((await fetch(`${gw.endpoint}/_filegate/metrics`)).status).toBe(401);
    const res = await fetch(`${gw.endpoint}/_filegate/metrics`, { headers: { authorization: "Bearer scrape-token" } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('filegate_requests_total{operation="PutObject",status="2xx"} 1');
    expect(text).toContain('filegate_requests_total{operation="GetObject",status="4xx"} 1');
    expect(text).toMatch(/filegate_request_duration_seconds_bucket\{operation="PutObject",le="\+Inf"\} 1/);
    expect(text).toMatch(/filegate_received_bytes_total \d+/);
    expect(text).toMatch(/filegate_requests_in_flight \d+/);
    expect(text).toMatch(/filegate_multipart_uploads_open 0/);
  });

  test("one JSON line per request, with no secret, signature or presigned credential", async () => {
    const b = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "logged key", Body: "x" }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: b, Key: "logged key" }), { expiresIn: 60 });
    await (await fetch(url)).text();
    await new Promise((r) => setTimeout(r, 100));
    const lines = gw.output().split("\n").filter((l) => l.startsWith("{"));
    const records = lines.map((l) => JSON.parse(l));
    const put = records.find((r) => r.operation === "PutObject" && r.key === "logged key");
    expect(put).toMatchObject({ bucket: b, status: 200, error: null, accessKey: "TESTACCESSKEY0000001", remote: "127.0.0.1" });
    expect(typeof put.requestId).toBe("string");
    expect(typeof put.ms).toBe("number");
    const get = records.find((r) => r.operation === "GetObject" && r.key === "logged key");
    expect(get.bytesOut).toBe(1);
    const signature = new URL(url).searchParams.get("X-Amz-Signature")!;
    const all = gw.output();
    expect(all).not.toContain(SECRET_KEY);
    expect(all).not.toContain(signature);
    expect(all).not.toContain("X-Amz-Credential");
    expect(all).not.toContain("Signature=");
  });
});

test("--readonly refuses writes with AccessDenied and serves reads", async () => {
  const root = mkdtempSync(join(tmpdir(), "filegate-ro-"));
  const writer = await startGateway({ root });
  await s3Client(writer).send(new CreateBucketCommand({ Bucket: "ro-bucket" }));
  await s3Client(writer).send(new PutObjectCommand({ Bucket: "ro-bucket", Key: "k", Body: "kept" }));
  await writer.stop();
  const gw = await startGateway({ root, args: ["--readonly"] });
  try {
    const s3 = s3Client(gw);
    const err = await s3.send(new PutObjectCommand({ Bucket: "ro-bucket", Key: "k", Body: "new" })).catch((e) => e);
    expect(err.name).toBe("AccessDenied");
    expect(err.$metadata.httpStatusCode).toBe(403);
    const got = await s3.send(new GetObjectCommand({ Bucket: "ro-bucket", Key: "k" }));
    expect(await got.Body!.transformToString()).toBe("kept");
  } finally {
    await gw.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test("requests beyond --max-requests get 503 SlowDown", async () => {
  const gw = await startGateway({ args: ["--max-requests", "1"] });
  try {
    const s3 = s3Client(gw, { maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: "busy" }));
    // One upload holds the only slot while its body trickles in.
    const url = new URL(await getSignedUrl(s3, new PutObjectCommand({ Bucket: "busy", Key: "slow" }), { expiresIn: 60 }));
    const net = await import("node:net");
    const sock = net.connect(gw.port, "127.0.0.1");
    await new Promise((r) => sock.once("connect", r));
    sock.write(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nContent-Length: 10\r\n\r\nabc`);
    await new Promise((r) => setTimeout(r, 300));
    const err = await s3.send(new ListBucketsCommand({})).catch((e) => e);
    expect(err.$metadata.httpStatusCode).toBe(503);
    expect(err.name).toBe("SlowDown");
    sock.write("defghij");
    await new Promise((r) => setTimeout(r, 300));
    sock.destroy();
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.length).toBe(1);
  } finally {
    await gw.stop();
  }
});

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;

test.skipIf(!hasOpenssl)("--cert/--key serve HTTPS", async () => {
  const dir = mkdtempSync(join(tmpdir(), "filegate-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"], { stdio: "ignore" });
  const gw = await startGateway({ args: ["--cert", cert, "--key", key] });
  try {
    expect(gw.endpoint.startsWith("https://")).toBe(true);
    const res = await fetch(`${gw.endpoint}/_filegate/health`, { tls: { rejectUnauthorized: false } } as RequestInit);
    expect(res.status).toBe(200);
    gw.proc.kill("SIGHUP");
    await new Promise((r) => setTimeout(r, 300));
    const again = await fetch(`${gw.endpoint}/_filegate/health`, { tls: { rejectUnauthorized: false } } as RequestInit);
    expect(again.status).toBe(200);
  } finally {
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// The executable is one build for both runs; it is exercised once, in the Bun run.
test.skipIf(RUNTIME !== "bun")("the single executable (bun build --compile) serves S3 with xattr metadata", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "filegate-exe-")), "filegate");
  execFileSync(process.execPath, ["build", "--compile", join(REPO, "src/cli.ts"), "--outfile", out], { stdio: "ignore" });
  expect(existsSync(out)).toBe(true);
  const root = mkdtempSync(join(tmpdir(), "filegate-exe-root-"));
  const { spawn } = await import("node:child_process");
  const proc = spawn(out, ["--root", root, "--port", "0", "--workers", "1", "--quiet"], {
    env: { ...process.env, FILEGATE_ACCESS_KEY: "TESTACCESSKEY0000001", FILEGATE_SECRET_KEY: SECRET_KEY },
    cwd: tmpdir(),
  });
  try {
    let text = "";
    const endpoint = await new Promise<string>((ok, fail) => {
      proc.stdout.on("data", (d) => {
        text += d;
        const m = /listening on (\S+)/.exec(text);
        if (m) ok(m[1]);
      });
      proc.on("exit", (c) => fail(new Error(`exited ${c}`)));
    });
    const s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "TESTACCESSKEY0000001", secretAccessKey: SECRET_KEY } });
    await s3.send(new CreateBucketCommand({ Bucket: "exe" }));
    await s3.send(new PutObjectCommand({ Bucket: "exe", Key: "k", Body: "from the executable", ContentType: "text/x-test" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: "exe", Key: "k" }));
    expect(await got.Body!.transformToString()).toBe("from the executable");
    expect(got.ContentType).toBe("text/x-test");
    const { getAttributeSync } = await import("@napi-rs/xattr");
    expect(JSON.parse(String(getAttributeSync(join(root, "exe", "k"), "user.filegate"))).headers["content-type"]).toBe("text/x-test");
    expect(readFileSync(join(root, "exe", "k"), "utf8")).toBe("from the executable");
    // Large bodies are hashed by a worker thread: it must run inside the executable too.
    const big = Buffer.alloc(12 * 1024 * 1024, 7);
    const put = await s3.send(new PutObjectCommand({ Bucket: "exe", Key: "big", Body: big }));
    expect(put.ETag).toBe(`"${createHash("md5").update(big).digest("hex")}"`);
  } finally {
    proc.kill("SIGTERM");
    rmSync(root, { recursive: true, force: true });
  }
});

test("--workers 2: two processes serve one port and stop together on SIGTERM", async () => {
  const gw = await startGateway({ args: ["--workers", "2"] });
  const s3 = s3Client(gw);
  await s3.send(new CreateBucketCommand({ Bucket: "workers" }));
  for (let i = 0; i < 20; i++) await s3.send(new PutObjectCommand({ Bucket: "workers", Key: `k${i}`, Body: `v${i}` }));
  const bodies = await Promise.all(Array.from({ length: 20 }, (_, i) => s3.send(new GetObjectCommand({ Bucket: "workers", Key: `k${i}` })).then((r) => r.Body!.transformToString())));
  expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
  const children = spawnSync("pgrep", ["-P", String(gw.pid)], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean);
  // Bun: two spawned workers; Node: two cluster workers.
  expect(children.length).toBe(2);
  const exited = new Promise<number | null>((r) => gw.proc.once("exit", (code) => r(code)));
  gw.proc.kill("SIGTERM");
  expect(await exited).toBe(0);
  await new Promise((r) => setTimeout(r, 200));
  for (const pid of children) expect(existsSync(`/proc/${pid}`)).toBe(false);
  rmSync(gw.root, { recursive: true, force: true });
});
