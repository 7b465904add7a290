// Proof of zero-copy GETs on Bun (Linux): the gateway runs under strace, and a whole GET of an
// 8 MiB object and a ranged GET of 4 MiB at offset 2 MiB must go out through sendfile(2) at those
// exact offsets. Node has no zero-copy Response body (docs/RUNTIME.md), so this is Bun only.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Gateway, presign, RUNTIME, signedRequest, startGateway } from "../support/index.ts";

const hasStrace = process.platform === "linux" && spawnSync("strace", ["-V"]).status === 0;
const skip = RUNTIME !== "bun" || !hasStrace;

let gw: Gateway;
let traceDir: string;
let traceFile: string;
const MiB = 1024 * 1024;
const body = randomBytes(8 * MiB);

beforeAll(async () => {
  if (skip) return;
  traceDir = mkdtempSync(join(tmpdir(), "filegate-strace-"));
  traceFile = join(traceDir, "trace");
  gw = await startGateway({ wrap: ["strace", "-f", "-e", "trace=sendfile,sendfile64", "-o", traceFile] });
  mkdirSync(join(gw.root, "zc"));
  const put = await signedRequest(gw, { method: "PUT", path: "/zc/eight.bin", body });
  expect(put.status).toBe(200);
});
afterAll(async () => {
  if (skip) return;
  // strace holds on to SIGTERM; stop the traced gateway itself (strace then exits with it).
  try {
    for (const pid of readFileSync(`/proc/${gw.pid}/task/${gw.pid}/children`, "utf8").trim().split(/\s+/)) {
      if (pid) process.kill(Number(pid), "SIGTERM");
    }
  } catch {
    // already gone
  }
  await gw?.stop();
  rmSync(traceDir, { recursive: true, force: true });
});

/** sendfile lines as [offset, count], "resumed" halves of interrupted calls included. */
function sendfileCalls(): { line: string; offset: number; count: number }[] {
  const text = readFileSync(traceFile, "utf8");
  const out: { line: string; offset: number; count: number }[] = [];
  for (const line of text.split("\n")) {
    const m = /sendfile(?:64)?\(\d+, \d+, \[(\d+)\](?: => \[\d+\])?, (\d+)/.exec(line);
    if (m) out.push({ line: line.trim(), offset: Number(m[1]), count: Number(m[2]) });
  }
  return out;
}

test.skipIf(skip)("whole 8 MiB GET and 4 MiB ranged GET at 2 MiB go out with sendfile at those offsets", async () => {
  const whole = await signedRequest(gw, { method: "GET", path: "/zc/eight.bin" });
  expect(whole.status).toBe(200);
  const ranged = await fetchBytes("/zc/eight.bin", `bytes=${2 * MiB}-${6 * MiB - 1}`);
  expect(ranged.status).toBe(206);
  expect(ranged.bytes.equals(body.subarray(2 * MiB, 6 * MiB))).toBe(true);
  // strace writes as the calls happen; give it a moment to flush.
  await Bun.sleep(200);
  const calls = sendfileCalls();
  console.log("sendfile calls seen:\n" + calls.map((c) => "  " + c.line).join("\n"));
  expect(calls.some((c) => c.offset === 0 && c.count === 8 * MiB)).toBe(true);
  expect(calls.some((c) => c.offset === 2 * MiB && c.count === 4 * MiB)).toBe(true);
});

async function fetchBytes(path: string, range: string): Promise<{ status: number; bytes: Buffer }> {
  const url = await presign(gw, "GET", path.split("/")[1], path.split("/").slice(2).join("/"));
  const r = await fetch(url, { headers: { range } });
  return { status: r.status, bytes: Buffer.from(await r.arrayBuffer()) };
}

test.skipIf(skip)("in a versioned bucket, the latest and a noncurrent version by id both go out with sendfile", async () => {
  mkdirSync(join(gw.root, "zcv"));
  const on = await signedRequest(gw, { method: "PUT", path: "/zcv", query: { versioning: "" }, body: "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>" });
  expect(on.status).toBe(200);
  const older = randomBytes(3 * MiB);
  const first = await signedRequest(gw, { method: "PUT", path: "/zcv/v.bin", body: older });
  const v1 = first.headers.get("x-amz-version-id")!;
  expect((await signedRequest(gw, { method: "PUT", path: "/zcv/v.bin", body: randomBytes(5 * MiB) })).status).toBe(200);
  expect((await signedRequest(gw, { method: "GET", path: "/zcv/v.bin" })).status).toBe(200);
  const old = await signedRequest(gw, { method: "GET", path: "/zcv/v.bin", query: { versionId: v1 } });
  expect([old.status, old.headers.get("x-amz-version-id")]).toEqual([200, v1]);
  await Bun.sleep(200);
  const calls = sendfileCalls();
  expect(calls.some((c) => c.offset === 0 && c.count === 5 * MiB)).toBe(true);
  expect(calls.some((c) => c.offset === 0 && c.count === 3 * MiB)).toBe(true);
});
