// The load tools, each run in its own process so its CPU is not the orchestrator's:
// sink.c for large GETs (it drains bodies in the kernel; curl would spend a whole core copying
// 3-4 GB/s to userspace and cap every server alike), wrk with the Lua scripts in lua/ for the
// 4 KiB GET/PUT request rates, and put-client.mjs (Node, AWS SDK) for the 1 GiB PUT.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lastJson, run, runAsync } from "./proc.ts";

const HERE = import.meta.dir;

export interface LoadTools {
  sink: string;
  luaGet: string;
  luaPut: string;
  luaGetSigned: string;
}

/** Compiles sink.c and writes the wrk scripts into `dir`. */
export function prepareLoadTools(dir: string): LoadTools {
  const tools = { sink: join(dir, "bench-sink"), luaGet: join(dir, "get.lua"), luaPut: join(dir, "put.lua"), luaGetSigned: join(dir, "get-signed.lua") };
  run("cc", ["-O2", "-pthread", "-o", tools.sink, join(HERE, "sink.c")]);
  const report = readFileSync(join(HERE, "lua/report.lua"), "utf8");
  writeFileSync(tools.luaGet, report);
  writeFileSync(tools.luaPut, readFileSync(join(HERE, "lua/put.lua"), "utf8") + report);
  writeFileSync(tools.luaGetSigned, readFileSync(join(HERE, "lua/get-signed.lua"), "utf8") + report);
  return tools;
}

export interface SinkResult {
  requests: number;
  bytes: number;
  seconds: number;
  errors: number;
}

/** sink.c: `whole TARGET CONNS REPEAT` or `range TARGET CONNS SECONDS SPAN OBJSIZE`. */
export async function sink(tools: LoadTools, port: number, args: string[]): Promise<SinkResult> {
  const r = lastJson<SinkResult>(await runAsync(tools.sink, [args[0], "127.0.0.1", String(port), ...args.slice(1)]));
  if (r.errors > 0) throw new Error(`${r.errors} failed requests in ${args[0]}`);
  return r;
}

export interface WrkResult {
  requests: number;
  duration_us: number;
  bytes: number;
  socket_errors: number;
  status_errors: number;
  p50_us: number;
  p99_us: number;
}

/** wrk with 2 threads and 32 connections; any non-2xx answer or socket error fails the run. */
export async function wrk(script: string, url: string, seconds: number, extra: string[] = []): Promise<WrkResult> {
  const r = lastJson<WrkResult>(await runAsync("wrk", ["-t2", "-c32", `-d${seconds}s`, "--timeout", "10s", "-s", script, url, ...extra]));
  if (r.status_errors || r.socket_errors) throw new Error(`wrk saw ${r.status_errors} non-2xx and ${r.socket_errors} socket errors`);
  return r;
}

/** put-client.mjs: one PutObject of `file`; `whenRequired` sends a plain body instead of aws-chunked. */
export async function sdkPut(endpoint: string, ak: string, sk: string, bucket: string, key: string, file: string, whenRequired: boolean) {
  const flag = whenRequired ? ["--when-required"] : [];
  const out = await runAsync("node", [join(HERE, "put-client.mjs"), endpoint, ak, sk, bucket, key, file, ...flag], { NODE_NO_WARNINGS: "1" });
  return lastJson<{ bytes: number; seconds: number; etag: string }>(out);
}
