// --workers N: workers die with their supervisor (even on SIGKILL), a restarted gateway never
// shares its port with stale workers, and one metrics scrape sums every worker.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { EMPTY_SHA256, errorCode, sign, startGateway, uniqueBucket } from "../support/index.ts";
import { createHash } from "node:crypto";

const OTHER_SECRET = "another/secret+key000000000000000000000";

/** Alive and not a zombie waiting for a slow reaper (a zombie holds no socket). */
function alive(pid: string): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen({ port, host: "127.0.0.1", exclusive: true }, () => s.close(() => resolve(true)));
  });
}

const childrenOf = (pid: number) => spawnSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean);

/** A request on a connection of its own (no agent: no reuse, on either runtime's client). */
function ownConnection(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (data += d));
      res.on("end", () => ok({ status: res.statusCode ?? 0, body: data }));
    });
    req.on("error", fail);
    req.end(body);
  });
}

/** A signed request on a connection of its own, so SO_REUSEPORT can hand it to any worker. */
function signed(port: number, method: string, path: string, secret?: string, body = "") {
  const payloadHash = body ? createHash("sha256").update(body).digest("hex") : EMPTY_SHA256;
  const { headers } = sign({ method, path, headers: { host: `127.0.0.1:${port}` }, payloadHash, secret });
  return ownConnection(port, method, path, headers, body || undefined);
}

test("SIGKILL of the supervisor: workers are gone within 2 s, the port is free, and a restart with a new secret refuses the old one", async () => {
  const gw = await startGateway({ args: ["--workers", "2"] });
  const workers = childrenOf(gw.pid);
  expect(workers.length).toBe(2);
  const killed = Date.now();
  gw.proc.kill("SIGKILL");
  while (workers.some(alive) && Date.now() - killed < 5000) await new Promise((r) => setTimeout(r, 20));
  const gone = Date.now() - killed;
  expect(workers.filter(alive)).toEqual([]);
  expect(gone).toBeLessThan(2000);
  expect(await portFree(gw.port)).toBe(true);

  // The restarted gateway (new secret) owns the port alone: the old secret never works again.
  const again = await startGateway({ root: gw.root, args: ["--workers", "2", "--port", String(gw.port)], env: { FILEGATE_SECRET_KEY: OTHER_SECRET } });
  try {
    const b = uniqueBucket("k9");
    expect((await signed(again.port, "PUT", `/${b}`, OTHER_SECRET)).status).toBe(200);
    for (let i = 0; i < 20; i++) {
      const stale = await signed(again.port, "PUT", `/${b}/k${i}`, undefined, "old secret");
      expect(errorCode(stale.body)).toBe("SignatureDoesNotMatch");
    }
  } finally {
    await again.stop();
    rmSync(gw.root, { recursive: true, force: true });
  }
  expect(await portFree(gw.port)).toBe(true);
});

function requestsCounted(metrics: string): number {
  return [...metrics.matchAll(/^filegate_requests_total\{operation="(?:HeadBucket|ListBuckets)",status="2xx"\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
}

test("--workers 2: one scrape counts the requests of both workers, and a restarted worker's count is kept", async () => {
  const gw = await startGateway({ args: ["--workers", "2"] });
  try {
    const b = uniqueBucket("sum");
    expect((await signed(gw.port, "PUT", `/${b}`)).status).toBe(200);
    // 40 connections: each goes to one worker; all landing on the same one is a 2^-39 chance.
    for (let i = 0; i < 20; i++) expect((await signed(gw.port, "HEAD", `/${b}`)).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await signed(gw.port, "GET", "/")).status).toBe(200);
    const scrape = async () => (await ownConnection(gw.port, "GET", "/_filegate/metrics", {})).body;
    const first = await scrape();
    expect(requestsCounted(first)).toBe(40);
    expect(first).toMatch(/^filegate_processes 2$/m);
    expect(first).toMatch(/^filegate_request_duration_seconds_count\{operation="HeadBucket"\} 20$/m);
    expect(first).toMatch(/^filegate_request_duration_seconds_bucket\{operation="HeadBucket",le="\+Inf"\} 20$/m);

    // A worker killed and restarted must not take its counts with it (a counter never goes down).
    const [victim] = childrenOf(gw.pid);
    process.kill(Number(victim), "SIGKILL");
    const deadline = Date.now() + 10000;
    while ((alive(victim) || childrenOf(gw.pid).filter(alive).length < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    const after = await scrape();
    expect(requestsCounted(after)).toBe(40);
    expect(after).toMatch(/^filegate_processes 2$/m);
  } finally {
    await gw.stop();
  }
});
