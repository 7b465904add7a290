// Child processes and what /proc says about them: running tools, and the peak memory of a server.
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { MiB } from "./options.ts";

export const log = (s: string) => process.stderr.write(s + "\n");
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function run(cmd: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 * MiB });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs a command to completion asynchronously (so the event loop keeps serving nothing else). */
export function runAsync(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout!.on("data", (d) => (out += d));
    p.stderr!.on("data", (d) => (err += d));
    p.on("exit", (code) => (code === 0 ? ok(out) : fail(new Error(`${cmd} ${args.slice(0, 3).join(" ")}… exited ${code}:\n${out}\n${err}`))));
  });
}

/** The load tools print one JSON line as their result, after whatever else they say. */
export function lastJson<T>(out: string): T {
  const line = out.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  if (!line) throw new Error("no JSON result in:\n" + out);
  return JSON.parse(line) as T;
}

/** The process and all its descendants, from /proc. */
export function processTree(root: number): number[] {
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

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ; 100 on Linux unless configured). */
const TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** CPU time (user + system, every thread) of the process and its descendants, in µs. */
export function cpuMicros(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return (ticks * 1e6) / TICKS_PER_SECOND;
}

/** VmHWM (peak resident set) of one process in MiB; NaN when it is gone. */
export function vmHwmMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export interface PeakRss {
  sum: number;
  max: number;
  procs: number;
}

/** VmHWM in MiB: summed over the server's processes, and the largest one. */
export function peakRss(root: number): PeakRss {
  let sum = 0;
  let max = 0;
  let procs = 0;
  for (const pid of processTree(root)) {
    const mib = vmHwmMiB(pid);
    if (Number.isNaN(mib)) continue;
    sum += mib;
    max = Math.max(max, mib);
    procs++;
  }
  return { sum, max, procs };
}

/** SIGKILLs a process and its descendants, children first. */
export function killTree(root: number): void {
  for (const pid of processTree(root).reverse()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}
