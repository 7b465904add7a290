// What hostile XML costs a gateway: 16 DeleteObjects bodies of ~7 MB with 600k attributes sent at
// once, while a client keeps GETting a 4 KiB object. Prints the gateway's peak RSS, the CPU it
// spent, the slowest 4 KiB GET during the storm, and the answers the bodies got; then the parse
// time of single legitimate and hostile documents in this process.
//
//   bun scripts/xml-cost.ts [--runtime bun|node] [--repo DIR]
//
// --repo runs another checkout's gateway (e.g. a worktree of an older commit) for a before/after.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ACCESS_KEY, SECRET_KEY } from "../tests/support/env.ts";
import { sign } from "../tests/support/sign.ts";

const { values } = parseArgs({
  options: { runtime: { type: "string", default: "bun" }, repo: { type: "string", default: resolve(import.meta.dir, "..") }, "get-loop": { type: "string" } },
});
const repo = resolve(values.repo!);
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const md5b64 = (b: Buffer) => createHash("md5").update(b).digest("base64");
if (values["get-loop"]) await getLoop(Number(values["get-loop"]));

const root = mkdtempSync(join(tmpdir(), "filegate-xmlcost-"));
const cmd = values.runtime === "node" ? ["node", join(repo, "dist/node/filegate.mjs")] : [process.execPath, join(repo, "src/cli.ts")];
const gw = spawn(cmd[0], [...cmd.slice(1), "serve", "--root", root, "--port", "0", "--workers", "1", "--quiet"], {
  env: { ...process.env, FILEGATE_ACCESS_KEY: ACCESS_KEY, FILEGATE_SECRET_KEY: SECRET_KEY },
  stdio: ["ignore", "pipe", "inherit"],
});
const port = await new Promise<number>((ok) => {
  let out = "";
  gw.stdout!.on("data", (d) => {
    out += d;
    const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
    if (m) ok(Number(m[1]));
  });
});

function send(method: string, path: string, query: Record<string, string>, body: Buffer, extra: Record<string, string> = {}): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const { headers } = sign({ method, path, query, headers: { host: `127.0.0.1:${port}`, "content-length": String(body.length), ...extra }, payloadHash: sha256(body) });
  const qs = Object.entries(query).map(([k, v]) => (v ? `${k}=${encodeURIComponent(v)}` : k)).join("&");
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port, method, path: path + (qs ? "?" + qs : ""), headers }, (res) => {
      let data = "";
      res.on("data", (d) => (data += d));
      res.on("end", () => ok({ status: res.statusCode ?? 0, body: data, ms: performance.now() - started }));
    });
    req.on("error", fail);
    req.end(body);
  });
}

/** --get-loop PORT: GET a 4 KiB object back to back, printing each latency in ms, until killed. */
async function getLoop(p: number): Promise<never> {
  for (;;) {
    const t0 = performance.now();
    const { headers } = sign({ method: "GET", path: "/xcost/small", headers: { host: `127.0.0.1:${p}` }, payloadHash: sha256("") });
    await new Promise<void>((ok) => request({ host: "127.0.0.1", port: p, path: "/xcost/small", headers }, (res) => res.resume().on("end", ok)).on("error", () => ok()).end());
    process.stdout.write(`${(performance.now() - t0).toFixed(2)}\n`);
  }
}

const procStatus = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${gw.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const cpuSeconds = () => {
  const f = readFileSync(`/proc/${gw.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};

await send("PUT", "/xcost", {}, Buffer.alloc(0));
await send("PUT", "/xcost/small", {}, Buffer.alloc(4096, 1));
const hostile = Buffer.from(
  "<Delete>" + Array.from({ length: 6000 }, (_, i) => `<Object ${Array.from({ length: 100 }, (_, j) => `attr${j}="1"`).join(" ")}><Key>k${i}</Key></Object>`).join("") + "</Delete>",
);
const rssBefore = procStatus("VmRSS");
const cpuBefore = cpuSeconds();
let peakRss = rssBefore;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, procStatus("VmRSS"))), 10);
// The 4 KiB GETs come from another process: this one is busy sending the bodies.
const getter = spawn(process.execPath, [import.meta.path, "--get-loop", String(port)], { stdio: ["ignore", "pipe", "inherit"] });
let getOut = "";
getter.stdout!.on("data", (d) => (getOut += d));
await new Promise((r) => setTimeout(r, 300));
const started = performance.now();
// XML_COST_BASELINE=1: the same bytes as 16 PutObjects instead, to tell XML's cost from transfer's.
const answers = await Promise.all(
  Array.from({ length: 16 }, (_, i) =>
    process.env.XML_COST_BASELINE ? send("PUT", `/xcost/big${i}`, {}, hostile) : send("POST", "/xcost", { delete: "" }, hostile, { "content-md5": md5b64(hostile) }),
  ),
);
const wall = performance.now() - started;
await new Promise((r) => setTimeout(r, 100));
if (getter.exitCode === null) {
  const exited = new Promise((r) => getter.once("exit", r));
  getter.kill("SIGTERM");
  await exited;
}
const getTimes = getOut.trim().split("\n").map(Number).filter((n) => n > 0);
clearInterval(sampler);
const codes = new Map<string, number>();
for (const a of answers) {
  const k = `${a.status} ${/<Code>([^<]+)/.exec(a.body)?.[1] ?? ""}`.trim();
  codes.set(k, (codes.get(k) ?? 0) + 1);
}
console.log(`runtime ${values.runtime}, repo ${repo}`);
console.log(`16 hostile DeleteObjects bodies of ${(hostile.length / 1e6).toFixed(1)} MB (600k attributes) at once:`);
console.log(`  answers            ${[...codes].map(([k, n]) => `${n}x ${k}`).join(", ")}`);
console.log(`  wall               ${wall.toFixed(0)} ms`);
console.log(`  gateway CPU        ${((cpuSeconds() - cpuBefore) * 1000).toFixed(0)} ms (${(((cpuSeconds() - cpuBefore) * 1000) / 16).toFixed(0)} ms a body)`);
console.log(`  gateway RSS        ${rssBefore.toFixed(0)} MiB before, ${peakRss.toFixed(0)} MiB peak (sampled every 10 ms)`);
console.log(`  4 KiB GETs during  ${getTimes.length}, slowest ${Math.max(...getTimes).toFixed(1)} ms`);
gw.kill("SIGTERM");
await new Promise((r) => gw.once("exit", r));
rmSync(root, { recursive: true, force: true });

// Parse time in this process, for the documents alone.
const { parseXml } = await import(join(repo, "src/xml/index.ts"));
const etag = '"' + "a".repeat(32) + '"';
const docs: [string, string, string][] = [
  ["legit: DeleteObjects, 1000 keys of 1 KiB", "Delete", "<Delete>" + Array.from({ length: 1000 }, (_, i) => `<Object><Key>${`${i}/`.padEnd(1024, "k")}</Key></Object>`).join("") + "</Delete>"],
  ["legit: DeleteObjects, 1000 keys all &amp;", "Delete", "<Delete>" + Array.from({ length: 1000 }, (_, i) => `<Object><Key>${"&amp;".repeat(1020)}${i}</Key></Object>`).join("") + "</Delete>"],
  ["legit: Complete, 10000 parts", "CompleteMultipartUpload", "<CompleteMultipartUpload>" + Array.from({ length: 10000 }, (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>`).join("") + "</CompleteMultipartUpload>"],
  ["hostile: 600k attributes", "Delete", hostile.toString()],
  ["hostile: 1.7M empty elements", "Delete", "<Delete>" + "<a/>".repeat(1_700_000) + "</Delete>"],
  ["hostile: 8 MB of &lt;", "Delete", "<Delete><Object><Key>" + "&lt;".repeat(2_000_000) + "</Key></Object></Delete>"],
];
console.log("parse time in-process (best of 3):");
for (const [label, rootName, text] of docs) {
  let best = Infinity;
  let outcome = "ok";
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    try {
      parseXml(text, rootName);
    } catch (e) {
      outcome = (e as Error).message.slice(0, 60);
    }
    best = Math.min(best, performance.now() - t0);
  }
  console.log(`  ${label.padEnd(42)} ${(text.length / 1e6).toFixed(2)} MB  ${best.toFixed(1).padStart(7)} ms  ${outcome}`);
}
