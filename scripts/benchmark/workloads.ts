// The workloads and one measurement of one workload on one freshly started server.
import { CreateBucketCommand, PutBucketVersioningCommand } from "@aws-sdk/client-s3";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { headerSigner } from "./header-sign.ts";
import { sdkPut, sink, wrk } from "./load.ts";
import { BUCKET, MiB, type Options } from "./options.ts";
import { presignClient, presignGet, putPresigner } from "./presign.ts";
import { cpuMicros, log, peakRss, run, type PeakRss } from "./proc.ts";
import { credentials, startServer, stopServer, type Running, type ServerName } from "./servers.ts";
import type { Env } from "./setup.ts";

export type WorkloadName = "get1" | "get4" | "range" | "get4k" | "get4kh" | "put1g" | "put4k" | "ow4k" | "ow4kv";

export interface Workload {
  name: WorkloadName;
  label: string;
  unit: "GB/s" | "req/s";
  servers: ServerName[];
  /** What the row is measured against: a server of the same run (nginx, the bare Bun.serve) or md5sum. */
  /** What the row is measured against; "ow4k": the unversioned overwrite row, same server and round. */
  floor: "nginx" | "floor" | "md5sum" | "ow4k" | "none";
}

export const WORKLOADS: Workload[] = [
  { name: "get1", label: "GET 1 GiB, 1 stream", unit: "GB/s", servers: ["nginx", "bun", "node", "s3rver"], floor: "nginx" },
  { name: "get4", label: "GET 1 GiB, 4 streams", unit: "GB/s", servers: ["nginx", "bun", "node", "s3rver"], floor: "nginx" },
  { name: "range", label: "ranged GET 4 MiB, random offsets, 4 conns", unit: "GB/s", servers: ["nginx", "bun", "node", "s3rver"], floor: "nginx" },
  // nginx rides along on the 4 KiB GET for scale (report.ts notes it); the floor is bare Bun.
  { name: "get4k", label: "GET 4 KiB, presigned, wrk 32 conns", unit: "req/s", servers: ["floor", "nginx", "bun", "node", "s3rver"], floor: "floor" },
  { name: "get4kh", label: "GET 4 KiB, header-signed, a distinct signature per request, wrk 32 conns", unit: "req/s", servers: ["floor", "bun", "node", "s3rver"], floor: "floor" },
  { name: "put1g", label: "PUT 1 GiB, SDK default (aws-chunked + CRC32 trailer), --fsync none", unit: "GB/s", servers: ["bun", "node", "s3rver"], floor: "md5sum" },
  { name: "put4k", label: "PUT 4 KiB, wrk 32 conns, presigned, distinct keys, --fsync none", unit: "req/s", servers: ["floor", "bun", "node", "s3rver"], floor: "floor" },
  // Overwrites of a few keys: the cost of keeping every version against replacing the file.
  { name: "ow4k", label: "PUT 4 KiB overwriting 256 keys, unversioned bucket, wrk 32 conns, --fsync none", unit: "req/s", servers: ["bun", "node"], floor: "none" },
  { name: "ow4kv", label: "PUT 4 KiB overwriting 256 keys, versioned bucket (every version kept), same", unit: "req/s", servers: ["bun", "node"], floor: "ow4k" },
];

/** Keys the overwrite workloads cycle through. */
const OVERWRITE_KEYS = 256;

export interface Sample {
  value: number;
  rss?: PeakRss;
  note?: string;
  /** Server CPU µs per request during the measured run (request-rate rows). */
  cpuUs?: number;
}

/** The measured wrk run of a request-rate row, with the server's CPU per request: unlike req/s,
 * that hardly moves with what else the machine is doing. */
async function measuredWrk(s: Running, script: string, url: string, seconds: number, extra: string[] = []) {
  const before = cpuMicros(s.proc.pid!);
  const r = await wrk(script, url, seconds, extra);
  return { r, cpuUs: (cpuMicros(s.proc.pid!) - before) / r.requests };
}

/**
 * Every server starts fresh for each workload; the small-GET rows first run one unmeasured second
 * of the same load, so that they measure each server's steady state rather than its JIT warm-up
 * (filegate has far more JavaScript to compile than the bare floor).
 */
const WARM_UP_SECONDS = 1;

/** The path-and-query a load tool GETs `key` with: presigned, except on nginx. */
async function target(s: Running, key: string): Promise<string> {
  if (s.name === "nginx" || s.name === "floor") return `/${BUCKET}/${key}`;
  const u = new URL(await presignGet(s.endpoint, credentials(s.name), BUCKET, key));
  return u.pathname + u.search;
}

/** A fresh bucket (directory) per 4 KiB PUT run: a directory that once held 100k names stays
 * large on ext4, which would slow every later run. */
function putBucket(name: ServerName, round: number, w: WorkloadName = "put4k"): string {
  return `${w === "put4k" ? "puts" : w}-${name}-r${round}`;
}

/** Removes a 4 KiB PUT run's bucket with everything in it (the server is stopped by then). */
function cleanPuts(env: Env, bucket: string) {
  for (const dir of [join(env.root, bucket), join(env.s3dir, bucket)]) rmSync(dir, { recursive: true, force: true });
}

async function runWorkload(env: Env, opts: Options, w: WorkloadName, s: Running, round: number): Promise<{ value: number; note?: string; cpuUs?: number }> {
  const big = opts.bigMiB * MiB;
  const c = credentials(s.name);
  switch (w) {
    case "get1": {
      const r = await sink(env, s.port, ["whole", await target(s, "big.bin"), "1", "3"]);
      return { value: r.bytes / r.seconds / 1e9 };
    }
    case "get4": {
      const r = await sink(env, s.port, ["whole", await target(s, "big.bin"), "4", "1"]);
      return { value: r.bytes / r.seconds / 1e9 };
    }
    case "range": {
      const r = await sink(env, s.port, ["range", await target(s, "big.bin"), "4", String(opts.rangeSeconds), String(4 * MiB), String(big)]);
      return { value: r.bytes / r.seconds / 1e9, note: `${(r.requests / r.seconds).toFixed(0)} req/s` };
    }
    case "get4k": {
      const url = s.endpoint + (await target(s, "small.bin"));
      await wrk(env.luaGet, url, WARM_UP_SECONDS);
      const { r, cpuUs } = await measuredWrk(s, env.luaGet, url, opts.seconds);
      return { value: r.requests / (r.duration_us / 1e6), note: `p99 ${(r.p99_us / 1000).toFixed(1)} ms`, cpuUs };
    }
    case "get4kh": {
      // One request per line (path, then tab-separated headers), enough that none repeats in a run.
      const file = join(env.tmp, "get-signed.txt");
      const next = await headerSigner(s.endpoint, c, BUCKET, "small.bin");
      const lines: string[] = [];
      for (let i = 0; i < opts.putKeys; i++) {
        const r = await next();
        lines.push([r.path, ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`)].join("\t"));
      }
      writeFileSync(file, lines.join("\n") + "\n");
      await wrk(env.luaGetSigned, s.endpoint + "/", WARM_UP_SECONDS, ["--", file, "2"]);
      const { r, cpuUs } = await measuredWrk(s, env.luaGetSigned, s.endpoint + "/", opts.seconds, ["--", file, "2"]);
      return { value: r.requests / (r.duration_us / 1e6), note: r.requests > opts.putKeys ? `signatures reused after ${opts.putKeys}` : undefined, cpuUs };
    }
    case "put1g": {
      // s3rver cannot parse aws-chunked trailers: it gets a plain body (footnote ¹ in the report).
      const r = await sdkPut(s.endpoint, c.accessKeyId, c.secretAccessKey, BUCKET, "put-big.bin", env.srcBig, s.name === "s3rver");
      return { value: r.bytes / r.seconds / 1e9 };
    }
    case "ow4k":
    case "ow4kv": {
      const sign = await putPresigner(s.endpoint, c);
      const bucket = putBucket(s.name, round, w);
      mkdirSync(join(env.root, bucket));
      if (w === "ow4kv") await presignClient(s.endpoint, c).send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
      const file = join(env.tmp, "put-paths.txt");
      const lines: string[] = [];
      for (let i = 0; i < OVERWRITE_KEYS; i++) lines.push(await sign(bucket, `k${i}`));
      writeFileSync(file, lines.join("\n") + "\n");
      const { r, cpuUs } = await measuredWrk(s, env.luaPut, s.endpoint + "/", opts.seconds, ["--", file, "2"]);
      return { value: r.requests / (r.duration_us / 1e6), note: `${Math.round(r.requests / OVERWRITE_KEYS)} versions/key`, cpuUs };
    }
    case "put4k": {
      const sign = await putPresigner(s.endpoint, c);
      const bucket = putBucket(s.name, round);
      // The floor ignores the signature, so the same presigned paths serve it.
      if (s.name === "s3rver") await presignClient(s.endpoint, c).send(new CreateBucketCommand({ Bucket: bucket }));
      else mkdirSync(join(env.root, bucket));
      const file = join(env.tmp, "put-paths.txt");
      const lines: string[] = [];
      for (let i = 0; i < opts.putKeys; i++) lines.push(await sign(bucket, `k${i}`));
      writeFileSync(file, lines.join("\n") + "\n");
      const { r, cpuUs } = await measuredWrk(s, env.luaPut, s.endpoint + "/", opts.seconds, ["--", file, "2"]);
      return { value: r.requests / (r.duration_us / 1e6), note: r.requests > opts.putKeys ? `keys reused after ${opts.putKeys}` : undefined, cpuUs };
    }
  }
}

/** One workload on a freshly started server, so VmHWM read at the end is that workload's peak.
 * A failed run is a sample of NaN ("failed"), not the end of the whole benchmark. */
export async function measure(env: Env, opts: Options, w: WorkloadName, name: ServerName, round: number): Promise<Sample> {
  const s = await startServer(env, opts.workers, name);
  try {
    const { value, note, cpuUs } = await runWorkload(env, opts, w, s, round);
    return { value, rss: peakRss(s.proc.pid!), note, cpuUs };
  } catch (e) {
    log(`  ${name} ${w}: FAILED: ${(e as Error).message.split("\n").slice(0, 4).join(" | ")}`);
    return { value: NaN, note: "failed" };
  } finally {
    await stopServer(s);
    if (w === "put4k" || w === "ow4k" || w === "ow4kv") cleanPuts(env, putBucket(name, round, w));
  }
}

/** The PUT floor: md5sum of the (cached) big file, since every PUT must hash every byte for its ETag. */
export function md5sumFloor(env: Env, opts: Options): number {
  const t0 = performance.now();
  run("md5sum", [env.srcBig]);
  return (opts.bigMiB * MiB) / ((performance.now() - t0) / 1000) / 1e9;
}
