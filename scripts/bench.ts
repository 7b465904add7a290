// Throughput and memory of filegate against nginx (the zero-copy floor for GETs), md5sum (the
// floor for PUTs, which must hash every byte for the ETag) and s3rver (the JS fake S3 server).
// Not a test: run it by hand, on a quiet machine, with `scripts/bench` (see docs/PERFORMANCE.md).
//
// Every measurement starts its server fresh, so VmHWM read at the end is that workload's peak.
// Rounds are interleaved (round 1 runs every server on every workload, then round 2, ...) so slow
// drift on a shared machine spreads over all servers; the table shows medians over rounds.
//
// Load tools: scripts/bench-sink.c (compiled here) for large GETs, because curl spends a whole
// core copying 3-4 GB/s to userspace and would cap every server alike; wrk with Lua scripts for
// the 4 KiB GET/PUT request rates; scripts/bench-put.mjs (Node, AWS SDK) for the 1 GiB PUT.
import { S3Client, PutObjectCommand, GetObjectCommand, CreateBucketCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "..");
const BUN = process.execPath;
const MiB = 1024 * 1024;
const ACCESS_KEY = "BENCHACCESSKEY000001";
const SECRET_KEY = "bench/secret+key0000000000000000000000000";
const REGION = "us-east-1";
const BUCKET = "bench";
const PUT_BUCKET = "puts";

// ---------------------------------------------------------------- options

interface Options {
  workers: number;
  rounds: number;
  seconds: number;
  rangeSeconds: number;
  bigMiB: number;
  putKeys: number;
  only: Set<string> | null;
  servers: Set<string> | null;
  doc: string | null;
  keep: boolean;
  s3rverDir: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    workers: 1,
    rounds: 3,
    seconds: 4,
    rangeSeconds: 3,
    bigMiB: 1024,
    putKeys: 60_000,
    only: null,
    servers: null,
    doc: join(REPO, "docs/PERFORMANCE.md"),
    keep: false,
    s3rverDir: join(tmpdir(), "filegate-bench-deps"),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--workers") o.workers = Number(next());
    else if (a === "--rounds") o.rounds = Number(next());
    else if (a === "--seconds") o.seconds = Number(next());
    else if (a === "--range-seconds") o.rangeSeconds = Number(next());
    else if (a === "--big-mib") o.bigMiB = Number(next());
    else if (a === "--put-keys") o.putKeys = Number(next());
    else if (a === "--only") o.only = new Set(next().split(","));
    else if (a === "--servers") o.servers = new Set(next().split(","));
    else if (a === "--doc") o.doc = resolve(next());
    else if (a === "--no-doc") o.doc = null;
    else if (a === "--keep") o.keep = true;
    else if (a === "--deps") o.s3rverDir = resolve(next());
    else if (a === "--help" || a === "-h") {
      process.stdout.write(
        [
          "usage: scripts/bench [options]",
          "  --workers N        worker processes for nginx and both filegates (default 1; s3rver has one)",
          "  --rounds R         interleaved rounds, medians reported (default 3)",
          "  --seconds S        duration of each 4 KiB GET/PUT run (default 4)",
          "  --range-seconds S  duration of each ranged-GET run (default 3)",
          "  --big-mib M        size of the large object (default 1024)",
          "  --only LIST        workloads: get1,get4,range,get4k,put1g,put4k",
          "  --servers LIST     nginx,bun,node,s3rver",
          "  --doc FILE         where to write the results (default docs/PERFORMANCE.md)",
          "  --no-doc           print only",
          "  --keep             keep the temp directory",
          "  --deps DIR         where s3rver is installed when the repo lacks it (default $TMPDIR/filegate-bench-deps)",
        ].join("\n") + "\n",
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const opts = parseOptions(process.argv.slice(2));
const log = (s: string) => process.stderr.write(s + "\n");

// ---------------------------------------------------------------- helpers

function run(cmd: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 * MiB });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs a command to completion asynchronously (so the event loop keeps serving nothing else). */
function runAsync(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout!.on("data", (d) => (out += d));
    p.stderr!.on("data", (d) => (err += d));
    p.on("exit", (code) => (code === 0 ? ok(out) : fail(new Error(`${cmd} ${args.slice(0, 3).join(" ")}… exited ${code}:\n${out}\n${err}`))));
  });
}

function lastJson<T>(out: string): T {
  const line = out.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  if (!line) throw new Error("no JSON result in:\n" + out);
  return JSON.parse(line) as T;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The process and all its descendants, from /proc. */
function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(d), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid);
  return out;
}

/** VmHWM (peak resident set) in MiB: summed over the server's processes, and the largest one. */
function peakRss(root: number): { sum: number; max: number; procs: number } {
  let sum = 0;
  let max = 0;
  let procs = 0;
  for (const pid of processTree(root)) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (!m) continue;
      const mib = Number(m[1]) / 1024;
      sum += mib;
      max = Math.max(max, mib);
      procs++;
    } catch {
      // gone
    }
  }
  return { sum, max, procs };
}

// ---------------------------------------------------------------- SigV4 presigning
//
// Presigned URLs are made with @aws-sdk/s3-request-presigner. The 4 KiB PUT run needs one URL per
// key (100k+), and the SDK presigner takes ~0.7 ms per URL here, so bulk PUT URLs come from
// `presignPut` below, which is checked at start-up to produce exactly the SDK's URL.

function presignClient(endpoint: string, accessKeyId: string, secretAccessKey: string): S3Client {
  // WHEN_REQUIRED: by default the presigner hoists an x-amz-checksum-crc32 of the *empty* body
  // into a PUT URL, which no real body then matches.
  return new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, requestChecksumCalculation: "WHEN_REQUIRED" });
}

const EXPIRES = 7 * 24 * 3600;

function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function hmac(key: Buffer | string, s: string): Buffer {
  return createHmac("sha256", key).update(s).digest();
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

function makePutSigner(endpoint: string, accessKeyId: string, secretAccessKey: string, date: Date) {
  const u = new URL(endpoint);
  const stamp = amzDate(date);
  const day = stamp.slice(0, 8);
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const kSigning = hmac(hmac(hmac(hmac("AWS4" + secretAccessKey, day), REGION), "s3"), "aws4_request");
  const q = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=${rfc3986(`${accessKeyId}/${scope}`)}&X-Amz-Date=${stamp}&X-Amz-Expires=${EXPIRES}`;
  return (bucket: string, key: string): string => {
    const path = `/${bucket}/${key.split("/").map(rfc3986).join("/")}`;
    const query = `${q}&X-Amz-SignedHeaders=host&x-id=PutObject`;
    const canonical = `PUT\n${path}\n${query}\nhost:${u.host}\n\nhost\nUNSIGNED-PAYLOAD`;
    const sts = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${createHash("sha256").update(canonical).digest("hex")}`;
    const sig = createHmac("sha256", kSigning).update(sts).digest("hex");
    return `${path}?${q}&X-Amz-Signature=${sig}&X-Amz-SignedHeaders=host&x-id=PutObject`;
  };
}

async function putSigner(endpoint: string, ak: string, sk: string) {
  const date = new Date();
  const sign = makePutSigner(endpoint, ak, sk, date);
  const sdk = await getSignedUrl(presignClient(endpoint, ak, sk), new PutObjectCommand({ Bucket: PUT_BUCKET, Key: "check-0" }), { expiresIn: EXPIRES, signingDate: date });
  const mine = endpoint + sign(PUT_BUCKET, "check-0");
  if (sdk !== mine) throw new Error(`bulk presigner disagrees with the SDK:\n  sdk:  ${sdk}\n  mine: ${mine}`);
  return sign;
}

async function presignGet(endpoint: string, ak: string, sk: string, key: string): Promise<string> {
  return getSignedUrl(presignClient(endpoint, ak, sk), new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: EXPIRES });
}

// ---------------------------------------------------------------- servers

type ServerName = "nginx" | "bun" | "node" | "s3rver";
const SERVER_LABEL: Record<ServerName, string> = { nginx: "nginx", bun: "filegate Bun", node: "filegate Node", s3rver: "s3rver" };

interface Running {
  name: ServerName;
  endpoint: string;
  port: number;
  proc: ChildProcess;
  output: () => string;
}

interface Env {
  tmp: string;
  root: string;
  s3dir: string;
  srcBig: string;
  srcSmall: string;
  sink: string;
  s3rverBin: string;
  luaGet: string;
  luaPut: string;
}

function serverCommand(env: Env, name: ServerName, port: number): { cmd: string; args: string[]; extraEnv: Record<string, string> } {
  const fgArgs = ["serve", "--root", env.root, "--host", "127.0.0.1", "--port", String(port), "--workers", String(opts.workers), "--quiet", "--fsync", "none"];
  const fgEnv = { FILEGATE_ACCESS_KEY: ACCESS_KEY, FILEGATE_SECRET_KEY: SECRET_KEY };
  switch (name) {
    case "nginx": {
      const dir = join(env.tmp, "nginx");
      mkdirSync(dir, { recursive: true });
      const conf = join(dir, "nginx.conf");
      writeFileSync(
        conf,
        `worker_processes ${opts.workers};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  default_type application/octet-stream;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${env.root};
  }
}
`,
      );
      return { cmd: "nginx", args: ["-c", conf, "-p", dir, "-e", join(dir, "error.log")], extraEnv: {} };
    }
    case "bun":
      return { cmd: BUN, args: [join(REPO, "src/cli.ts"), ...fgArgs], extraEnv: fgEnv };
    case "node":
      return { cmd: "node", args: [join(REPO, "dist/node/filegate.mjs"), ...fgArgs], extraEnv: fgEnv };
    case "s3rver":
      return { cmd: "node", args: [env.s3rverBin, "-d", env.s3dir, "-a", "127.0.0.1", "-p", String(port), "--silent"], extraEnv: {} };
  }
}

async function startServer(env: Env, name: ServerName): Promise<Running> {
  const port = await freePort();
  const { cmd, args, extraEnv } = serverCommand(env, name, port);
  const proc = spawn(cmd, args, { env: { ...process.env, NODE_NO_WARNINGS: "1", ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const endpoint = `http://127.0.0.1:${port}`;
  const probe = name === "bun" || name === "node" ? "/_filegate/health" : "/";
  const deadline = Date.now() + 20_000;
  // With --workers N a supervisor may answer before every worker listens: require a few answers.
  let answers = 0;
  while (answers < 3 * opts.workers) {
    if (proc.exitCode !== null) throw new Error(`${name} exited at start:\n${out}`);
    if (Date.now() > deadline) throw new Error(`${name} did not start:\n${out}`);
    try {
      await fetch(endpoint + probe);
      answers++;
    } catch {
      await sleep(50);
    }
  }
  await sleep(200);
  return { name, endpoint, port, proc, output: () => out };
}

async function stopServer(s: Running): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  const exited = new Promise((r) => s.proc.once("exit", r));
  s.proc.kill(s.name === "nginx" ? "SIGQUIT" : "SIGTERM");
  const t = setTimeout(() => {
    for (const pid of processTree(s.proc.pid!).reverse()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }, 10_000);
  await exited;
  clearTimeout(t);
}

const live = new Set<Running>();
function killAll() {
  for (const s of live) for (const pid of processTree(s.proc.pid!).reverse()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}
process.on("exit", killAll);
process.on("SIGINT", () => {
  killAll();
  process.exit(130);
});

// ---------------------------------------------------------------- setup

function ensureS3rver(): string {
  const inRepo = join(REPO, "node_modules/s3rver/bin/s3rver.js");
  if (existsSync(inRepo)) return inRepo;
  const bin = join(opts.s3rverDir, "node_modules/s3rver/bin/s3rver.js");
  if (!existsSync(bin)) {
    log(`installing s3rver into ${opts.s3rverDir} (npm install --no-save s3rver)…`);
    mkdirSync(opts.s3rverDir, { recursive: true });
    if (!existsSync(join(opts.s3rverDir, "package.json"))) writeFileSync(join(opts.s3rverDir, "package.json"), '{"private":true}\n');
    run("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", opts.s3rverDir, "s3rver"]);
  }
  return bin;
}

const LUA_DONE = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"bytes":%d,"socket_errors":%d,"status_errors":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
`;

// Each wrk thread takes every nthreads-th presigned path from the file, starting at its index.
const LUA_PUT = `
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  paths = {}
  local nthreads = tonumber(args[2])
  local n = 0
  for line in io.lines(args[1]) do
    if n % nthreads == (tid or 0) then paths[#paths + 1] = line end
    n = n + 1
  end
  body = string.rep("x", 4096)
  i = 0
  wrapped = false
end
function request()
  i = i + 1
  if i > #paths then i = 1 end
  return wrk.format("PUT", paths[i], { ["Content-Length"] = "4096", ["Content-Type"] = "application/octet-stream" }, body)
end
` + LUA_DONE;

async function setup(): Promise<Env> {
  const tmp = mkdtempSync(join(tmpdir(), "filegate-bench-"));
  // nginx workers drop to an unprivileged user, which must be able to reach the root.
  chmodSync(tmp, 0o755);
  const env: Env = {
    tmp,
    root: join(tmp, "root"),
    s3dir: join(tmp, "s3rver"),
    srcBig: join(tmp, "src-big.bin"),
    srcSmall: join(tmp, "src-small.bin"),
    sink: join(tmp, "bench-sink"),
    s3rverBin: "",
    luaGet: join(tmp, "get.lua"),
    luaPut: join(tmp, "put.lua"),
  };
  mkdirSync(join(env.root, BUCKET), { recursive: true });
  mkdirSync(env.s3dir, { recursive: true });
  for (const tool of ["nginx", "wrk", "md5sum", "cc"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is required (apt-get install nginx-light wrk gcc coreutils)`);
  }
  run("cc", ["-O2", "-pthread", "-o", env.sink, join(REPO, "scripts/bench-sink.c")]);
  writeFileSync(env.luaGet, LUA_DONE);
  writeFileSync(env.luaPut, LUA_PUT);
  env.s3rverBin = ensureS3rver();
  log("building the Node bundle (bun run build:node)…");
  run(BUN, ["run", "build:node"], {});
  log(`writing a ${opts.bigMiB} MiB random file…`);
  run("sh", ["-c", `head -c ${opts.bigMiB * MiB} /dev/urandom > '${env.srcBig}' && head -c 4096 /dev/urandom > '${env.srcSmall}'`]);

  // Objects go in through the S3 API, so filegate serves them with their stored metadata (xattr)
  // as it would in use; nginx serves the very same files.
  log("uploading the objects to filegate and s3rver…");
  for (const name of ["bun", "s3rver"] as const) {
    const s = await startServer(env, name);
    live.add(s);
    const [ak, sk] = name === "s3rver" ? ["S3RVER", "S3RVER"] : [ACCESS_KEY, SECRET_KEY];
    if (name === "s3rver") {
      const c = presignClient(s.endpoint, ak, sk);
      await c.send(new CreateBucketCommand({ Bucket: BUCKET }));
    }
    const flag = name === "s3rver" ? ["--when-required"] : [];
    await runAsync("node", [join(REPO, "scripts/bench-put.mjs"), s.endpoint, ak, sk, BUCKET, "big.bin", env.srcBig, ...flag], { NODE_NO_WARNINGS: "1" });
    await runAsync("node", [join(REPO, "scripts/bench-put.mjs"), s.endpoint, ak, sk, BUCKET, "small.bin", env.srcSmall, ...flag], { NODE_NO_WARNINGS: "1" });
    await stopServer(s);
    live.delete(s);
  }
  if (statSync(join(env.root, BUCKET, "big.bin")).size !== opts.bigMiB * MiB) throw new Error("upload to filegate failed");
  run("sh", ["-c", `cat '${env.srcBig}' '${join(env.root, BUCKET, "big.bin")}' > /dev/null`]);
  return env;
}

// ---------------------------------------------------------------- workloads

type WorkloadName = "get1" | "get4" | "range" | "get4k" | "put1g" | "put4k";
const WORKLOADS: { name: WorkloadName; label: string; unit: string; servers: ServerName[]; floor: "nginx" | "md5sum" }[] = [
  { name: "get1", label: "GET 1 GiB, 1 stream", unit: "GB/s", servers: ["nginx", "bun", "node", "s3rver"], floor: "nginx" },
  { name: "get4", label: "GET 1 GiB, 4 streams", unit: "GB/s", servers: ["nginx", "bun", "node", "s3rver"], floor: "nginx" },
  { name: "range", label: "ranged GET 4 MiB, random offsets, 4 conns", unit: "GB/s", servers: ["nginx", "bun", "node", "s3rver"], floor: "nginx" },
  { name: "get4k", label: "GET 4 KiB, wrk 32 conns", unit: "req/s", servers: ["nginx", "bun", "node", "s3rver"], floor: "nginx" },
  { name: "put1g", label: "PUT 1 GiB, SDK default (aws-chunked + CRC32 trailer), --fsync none", unit: "GB/s", servers: ["bun", "node", "s3rver"], floor: "md5sum" },
  { name: "put4k", label: "PUT 4 KiB, wrk 32 conns, presigned, distinct keys, --fsync none", unit: "req/s", servers: ["bun", "node", "s3rver"], floor: "md5sum" },
];

interface Sample {
  value: number;
  rss?: { sum: number; max: number; procs: number };
  note?: string;
}

function creds(name: ServerName): [string, string] {
  return name === "s3rver" ? ["S3RVER", "S3RVER"] : [ACCESS_KEY, SECRET_KEY];
}

async function target(s: Running, key: string): Promise<string> {
  if (s.name === "nginx") return `/${BUCKET}/${key}`;
  const [ak, sk] = creds(s.name);
  const u = new URL(await presignGet(s.endpoint, ak, sk, key));
  return u.pathname + u.search;
}

interface SinkResult {
  requests: number;
  bytes: number;
  seconds: number;
  errors: number;
}
interface WrkResult {
  requests: number;
  duration_us: number;
  bytes: number;
  socket_errors: number;
  status_errors: number;
  p50_us: number;
  p99_us: number;
}

async function sink(env: Env, s: Running, args: string[]): Promise<SinkResult> {
  const r = lastJson<SinkResult>(await runAsync(env.sink, [args[0], "127.0.0.1", String(s.port), ...args.slice(1)]));
  if (r.errors > 0) throw new Error(`${s.name}: ${r.errors} failed requests in ${args[0]}`);
  return r;
}

async function wrk(s: Running, script: string, url: string, extra: string[] = []): Promise<WrkResult> {
  const out = await runAsync("wrk", ["-t2", "-c32", `-d${opts.seconds}s`, "--timeout", "10s", "-s", script, url, ...extra]);
  return lastJson<WrkResult>(out);
}

async function measure(env: Env, w: WorkloadName, name: ServerName, round: number): Promise<Sample> {
  const s = await startServer(env, name);
  live.add(s);
  try {
    let value: number;
    let note: string | undefined;
    const big = opts.bigMiB * MiB;
    switch (w) {
      case "get1": {
        const r = await sink(env, s, ["whole", await target(s, "big.bin"), "1", "3"]);
        value = r.bytes / r.seconds / 1e9;
        break;
      }
      case "get4": {
        const r = await sink(env, s, ["whole", await target(s, "big.bin"), "4", "1"]);
        value = r.bytes / r.seconds / 1e9;
        break;
      }
      case "range": {
        const r = await sink(env, s, ["range", await target(s, "big.bin"), "4", String(opts.rangeSeconds), String(4 * MiB), String(big)]);
        value = r.bytes / r.seconds / 1e9;
        note = `${(r.requests / r.seconds).toFixed(0)} req/s`;
        break;
      }
      case "get4k": {
        const t = await target(s, "small.bin");
        const r = await wrk(s, env.luaGet, s.endpoint + t);
        if (r.status_errors || r.socket_errors) throw new Error(`${name}: wrk saw ${r.status_errors} non-2xx and ${r.socket_errors} socket errors`);
        value = r.requests / (r.duration_us / 1e6);
        note = `p99 ${(r.p99_us / 1000).toFixed(1)} ms`;
        break;
      }
      case "put1g": {
        const [ak, sk] = creds(name);
        const flag = name === "s3rver" ? ["--when-required"] : [];
        const r = lastJson<{ bytes: number; seconds: number; etag: string }>(
          await runAsync("node", [join(REPO, "scripts/bench-put.mjs"), s.endpoint, ak, sk, BUCKET, "put-big.bin", env.srcBig, ...flag], { NODE_NO_WARNINGS: "1" }),
        );
        value = r.bytes / r.seconds / 1e9;
        break;
      }
      case "put4k": {
        const [ak, sk] = creds(name);
        const sign = await putSigner(s.endpoint, ak, sk);
        // A fresh bucket (directory) per run: a directory that once held 100k names stays large
        // on ext4, which would slow every later run.
        const bucket = putBucket(name, round);
        if (name === "s3rver") await presignClient(s.endpoint, ak, sk).send(new CreateBucketCommand({ Bucket: bucket }));
        else mkdirSync(join(env.root, bucket));
        const file = join(env.tmp, "put-paths.txt");
        const lines: string[] = [];
        for (let i = 0; i < opts.putKeys; i++) lines.push(sign(bucket, `k${i}`));
        writeFileSync(file, lines.join("\n") + "\n");
        const r = await wrk(s, env.luaPut, s.endpoint + "/", ["--", file, "2"]);
        if (r.status_errors || r.socket_errors) throw new Error(`${name}: wrk saw ${r.status_errors} non-2xx and ${r.socket_errors} socket errors`);
        value = r.requests / (r.duration_us / 1e6);
        if (r.requests > opts.putKeys) note = `keys reused after ${opts.putKeys}`;
        break;
      }
    }
    const rss = peakRss(s.proc.pid!);
    return { value, rss, note };
  } catch (e) {
    log(`  ${name} ${w}: FAILED: ${(e as Error).message.split("\n").slice(0, 4).join(" | ")}`);
    return { value: NaN, note: "failed" };
  } finally {
    await stopServer(s);
    live.delete(s);
    if (w === "put4k") cleanPuts(env, putBucket(name, round));
  }
}

function putBucket(name: ServerName, round: number): string {
  return `puts-${name}-r${round}`;
}

/** Removes a 4 KiB PUT run's bucket with everything in it (the server is stopped by then). */
function cleanPuts(env: Env, bucket: string) {
  for (const dir of [join(env.root, bucket), join(env.s3dir, bucket)]) rmSync(dir, { recursive: true, force: true });
}

function md5sumFloor(env: Env): number {
  const t0 = performance.now();
  run("md5sum", [env.srcBig]);
  return (opts.bigMiB * MiB) / ((performance.now() - t0) / 1000) / 1e9;
}

// ---------------------------------------------------------------- report

function machine(): string[] {
  const cpu = cpus()[0]?.model ?? "?";
  const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  const node = run("node", ["--version"]).trim();
  const nginx = (spawnSync("nginx", ["-v"], { encoding: "utf8" }).stderr ?? "").trim().replace("nginx version: ", "");
  const wrkV = (spawnSync("wrk", ["-v"], { encoding: "utf8" }).stdout ?? "").split("\n")[0].split(" ")[1] ?? "?";
  let s3rverV = "?";
  try {
    s3rverV = JSON.parse(readFileSync(join(resolve(ensureS3rver(), "../.."), "package.json"), "utf8")).version;
  } catch {
    // unknown
  }
  return [
    `- CPU: ${cpus().length} × ${cpu} (nproc ${run("nproc", []).trim()})`,
    `- kernel ${kernel}; memory ${Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0) / 1024 / 1024)} GiB`,
    `- Bun ${Bun.version}, Node ${node}, nginx ${nginx}, wrk ${wrkV}, s3rver ${s3rverV}`,
    `- load average at start: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
  ];
}

function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return "–";
  return unit === "req/s" ? Math.round(v).toLocaleString("en-US") : v.toFixed(2);
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) + "×" : "–";
}

const TARGETS: Partial<Record<WorkloadName, { vs: "floor" | "s3rver"; min: number }[]>> = {
  get1: [{ vs: "floor", min: 0.95 }],
  get4: [{ vs: "floor", min: 0.95 }],
  range: [{ vs: "floor", min: 0.9 }],
  get4k: [
    { vs: "floor", min: 0.5 },
    { vs: "s3rver", min: 5 },
  ],
  put1g: [{ vs: "floor", min: 0.85 }],
};

function report(results: Map<string, Sample[]>, floors: number[], startedAt: Date, machineLines: string[], command: string): string {
  const med = (w: string, s: string) => {
    const xs = (results.get(`${w}/${s}`) ?? []).map((x) => x.value).filter(Number.isFinite);
    return xs.length ? median(xs) : NaN;
  };
  const lines: string[] = [];
  lines.push(`Run ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC, ${opts.rounds} interleaved rounds, medians; ${opts.workers} worker${opts.workers > 1 ? "s" : ""} for nginx and both filegates (s3rver is one process).`);
  lines.push("");
  lines.push("```");
  lines.push(command);
  lines.push("```");
  lines.push("");
  lines.push(...machineLines);
  lines.push("");
  lines.push("| workload | unit | floor (nginx / md5sum) | filegate Bun | filegate Node | s3rver | Bun ÷ floor | Node ÷ floor | Bun ÷ s3rver | target |");
  lines.push("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  const verdicts: string[] = [];
  for (const w of WORKLOADS) {
    if (opts.only && !opts.only.has(w.name)) continue;
    const floor = w.floor === "nginx" ? med(w.name, "nginx") : w.name === "put1g" ? (floors.length ? median(floors) : NaN) : NaN;
    const b = med(w.name, "bun");
    const n = med(w.name, "node");
    const s = med(w.name, "s3rver");
    const t = TARGETS[w.name] ?? [];
    const tText = t.map((x) => `≥ ${x.min}× ${x.vs === "floor" ? w.floor : "s3rver"}`).join(", ") || "–";
    const met = t.map((x) => {
      const r = b / (x.vs === "floor" ? floor : s);
      return Number.isFinite(r) ? r >= x.min : null;
    });
    const verdict = met.length === 0 ? "" : met.every((m) => m === true) ? " ✅" : met.some((m) => m === false) ? " ❌" : " ?";
    const floorCell = w.floor === "nginx" ? fmt(floor, w.unit) : w.name === "put1g" ? `md5sum ${fmt(floor, w.unit)}` : "–";
    const notes = (k: string) => {
      const ns = [...new Set((results.get(`${w.name}/${k}`) ?? []).map((x) => x.note).filter((x) => x && !/^p99|req\/s$/.test(x)))];
      return ns.length ? ` (${ns.join("; ")})` : "";
    };
    lines.push(
      `| ${w.label} | ${w.unit} | ${floorCell} | ${fmt(b, w.unit)}${notes("bun")} | ${fmt(n, w.unit)}${notes("node")} | ${fmt(s, w.unit)}${notes("s3rver")}${w.name === "put1g" ? " ¹" : ""} | ${ratio(b, floor)} | ${ratio(n, floor)} | ${ratio(b, s)} | ${tText}${verdict} |`,
    );
    if (t.length) verdicts.push(`${w.label}:${verdict || " –"}`);
  }
  lines.push("");
  lines.push("¹ s3rver cannot parse aws-chunked trailers (it stores the framing as data), so its PUT uses `requestChecksumCalculation: WHEN_REQUIRED` (a plain UNSIGNED-PAYLOAD body). filegate PUTs run with `--fsync none` (no fdatasync before the reply), like s3rver, which never fsyncs.");
  lines.push("");
  lines.push("Peak RSS (VmHWM, MiB, largest over rounds; each workload starts a fresh server). A cell is the sum over the server's processes, with the largest single process in brackets when there are several (nginx master + workers, a Bun supervisor + workers, a Node cluster primary + workers); the target is checked on the largest single process:");
  lines.push("");
  lines.push("| workload | nginx | filegate Bun | filegate Node | s3rver | target |");
  lines.push("| --- | ---: | ---: | ---: | ---: | --- |");
  for (const w of WORKLOADS) {
    if (opts.only && !opts.only.has(w.name)) continue;
    const peaks = (k: ServerName) => (results.get(`${w.name}/${k}`) ?? []).map((x) => x.rss).filter((x): x is NonNullable<Sample["rss"]> => x !== undefined);
    const cell = (k: ServerName) => {
      const xs = peaks(k);
      if (!xs.length) return "–";
      const sum = Math.max(...xs.map((x) => x.sum));
      const max = Math.max(...xs.map((x) => x.max));
      return xs.some((x) => x.procs > 1) ? `${sum.toFixed(0)} (${max.toFixed(0)})` : sum.toFixed(0);
    };
    const bunPeak = Math.max(...peaks("bun").map((x) => x.max));
    const ok = Number.isFinite(bunPeak) ? (bunPeak < 160 ? " ✅" : " ❌") : "";
    lines.push(`| ${w.label} | ${cell("nginx")} | ${cell("bun")} | ${cell("node")} | ${cell("s3rver")} | Bun < 160${ok} |`);
  }
  lines.push("");
  lines.push("Targets (filegate on Bun): " + verdicts.join("; ") + ".");
  return lines.join("\n");
}

function writeDoc(file: string, section: string) {
  const START = "<!-- bench:start -->";
  const END = "<!-- bench:end -->";
  let text = existsSync(file) ? readFileSync(file, "utf8") : `# Performance\n\n${START}\n${END}\n`;
  if (!text.includes(START) || !text.includes(END)) text += `\n${START}\n${END}\n`;
  const a = text.indexOf(START) + START.length;
  const b = text.indexOf(END);
  writeFileSync(file, text.slice(0, a) + "\n" + section + "\n" + text.slice(b));
}

// ---------------------------------------------------------------- main

async function main() {
  const startedAt = new Date();
  const command = "scripts/bench " + process.argv.slice(2).join(" ");
  const machineLines = machine();
  const env = await setup();
  const results = new Map<string, Sample[]>();
  const floors: number[] = [];
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      for (const w of WORKLOADS) {
        if (opts.only && !opts.only.has(w.name)) continue;
        if (w.name === "put1g") {
          const f = md5sumFloor(env);
          floors.push(f);
          log(`round ${round} ${w.name} md5sum: ${f.toFixed(2)} GB/s`);
        }
        // Rotate the order each round so no server always runs right after the same one.
        const order = w.servers.filter((s) => !opts.servers || opts.servers.has(s));
        for (let i = 0; i < order.length; i++) {
          const name = order[(i + round - 1) % order.length];
          const sample = await measure(env, w.name, name, round);
          const key = `${w.name}/${name}`;
          results.set(key, [...(results.get(key) ?? []), sample]);
          log(`round ${round} ${w.name} ${SERVER_LABEL[name]}: ${fmt(sample.value, w.unit)} ${w.unit}${sample.note ? ` (${sample.note})` : ""}, VmHWM ${sample.rss ? sample.rss.sum.toFixed(0) + " MiB" : "?"}`);
        }
      }
    }
  } finally {
    killAll();
    if (!opts.keep) rmSync(env.tmp, { recursive: true, force: true });
    else log(`kept ${env.tmp}`);
  }
  const section = report(results, floors, startedAt, machineLines, command);
  process.stdout.write(section + "\n");
  writeFileSync(join(tmpdir(), "filegate-bench-last.json"), JSON.stringify({ startedAt, opts: { ...opts, only: opts.only && [...opts.only], servers: opts.servers && [...opts.servers] }, results: Object.fromEntries(results), floors }, null, 1));
  if (opts.doc) {
    writeDoc(opts.doc, section);
    log(`wrote ${opts.doc}`);
  }
}

await main();
