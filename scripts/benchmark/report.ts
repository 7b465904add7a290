// The markdown section scripts/bench prints and writes into docs/PERFORMANCE.md: the machine,
// a throughput table of medians with ratios and targets, and a peak-RSS table.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import type { Options } from "./options.ts";
import { run } from "./proc.ts";
import type { ServerName } from "./servers.ts";
import { WORKLOADS, type Sample, type WorkloadName } from "./workloads.ts";

/** Samples by `${workload}/${server}`, one per round. */
export type Results = Map<string, Sample[]>;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Read at the start of the run, before any load: hardware, versions, load average. */
export function machine(s3rverBin: string): string[] {
  const cpu = cpus()[0]?.model ?? "?";
  const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  const node = run("node", ["--version"]).trim();
  const nginx = (spawnSync("nginx", ["-v"], { encoding: "utf8" }).stderr ?? "").trim().replace("nginx version: ", "");
  const wrkV = (spawnSync("wrk", ["-v"], { encoding: "utf8" }).stdout ?? "").split("\n")[0].split(" ")[1] ?? "?";
  let s3rverV = "?";
  try {
    s3rverV = JSON.parse(readFileSync(join(resolve(s3rverBin, "../.."), "package.json"), "utf8")).version;
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

export function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return "–";
  return unit === "req/s" ? Math.round(v).toLocaleString("en-US") : v.toFixed(2);
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) + "×" : "–";
}

/** What filegate should reach (on Bun unless `node`), as a multiple of the floor or of s3rver. */
const TARGETS: Partial<Record<WorkloadName, { vs: "floor" | "s3rver"; min: number; node?: true }[]>> = {
  get1: [
    { vs: "floor", min: 0.95 },
    { vs: "floor", min: 0.3, node: true },
  ],
  get4: [{ vs: "floor", min: 0.95 }],
  range: [{ vs: "floor", min: 0.9 }],
  get4k: [
    { vs: "floor", min: 0.5 },
    { vs: "s3rver", min: 5 },
  ],
  get4kh: [{ vs: "floor", min: 0.4 }],
  put1g: [{ vs: "floor", min: 0.85 }],
  put4k: [{ vs: "floor", min: 0.5 }],
  // Issue 14: keeping every version may cost at most 10% of an overwrite.
  ow4kv: [{ vs: "floor", min: 0.9 }],
};

const FLOOR_NAME = { nginx: "nginx", floor: "bare Bun", md5sum: "md5sum", ow4k: "unversioned (same server)", none: "–" } as const;

/** Peak RSS target, checked on the largest single filegate-on-Bun process. */
const RSS_TARGET_MIB = 160;

export function report(opts: Options, results: Results, floors: number[], startedAt: Date, machineLines: string[], command: string): string {
  const med = (w: string, s: string) => {
    const xs = (results.get(`${w}/${s}`) ?? []).map((x) => x.value).filter(Number.isFinite);
    return xs.length ? median(xs) : NaN;
  };
  const workloads = WORKLOADS.filter((w) => !opts.only || opts.only.has(w.name));
  const lines: string[] = [];
  lines.push(`Run ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC, ${opts.rounds} interleaved rounds, medians; ${opts.workers} worker${opts.workers > 1 ? "s" : ""} for nginx and both filegates (s3rver is one process).`);
  lines.push("");
  lines.push("```");
  lines.push(command);
  lines.push("```");
  lines.push("");
  lines.push(...machineLines);
  lines.push("");
  lines.push("Throughputs are medians over rounds; a ratio to the floor is the median of the per-round ratios (each round's two numbers share that minute's load).");
  lines.push("");
  lines.push("| workload | unit | floor | filegate Bun | filegate Node | s3rver | Bun ÷ floor | Node ÷ floor | Bun ÷ s3rver | target |");
  lines.push("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  const verdicts: string[] = [];
  for (const w of workloads) {
    const floor = w.floor === "md5sum" ? (floors.length ? median(floors) : NaN) : w.floor === "none" || w.floor === "ow4k" ? NaN : med(w.name, w.floor);
    const b = med(w.name, "bun");
    const n = med(w.name, "node");
    const s = med(w.name, "s3rver");
    const t = TARGETS[w.name] ?? [];
    // Against a floor measured in the same rounds, the median of the per-round ratios: a round's
    // two numbers share that minute's load, which on a shared machine moves both a lot.
    const vsFloor = (server: string, fallback: number): number => {
      if (w.floor === "md5sum" || w.floor === "none") return fallback;
      const xs = (results.get(`${w.name}/${server}`) ?? []).map((x) => x.value);
      // The versioned overwrite against the unversioned one of the same server, round by round.
      const fs = (results.get(w.floor === "ow4k" ? `ow4k/${server}` : `${w.name}/${w.floor}`) ?? []).map((x) => x.value);
      const rs = xs.map((x, i) => x / fs[i]).filter(Number.isFinite);
      return rs.length ? median(rs) : fallback;
    };
    const bRatio = vsFloor("bun", b / floor);
    const nRatio = vsFloor("node", n / floor);
    const mark = (m: boolean | null) => (m === null ? " ?" : m ? " ✅" : " ❌");
    const checked = t.map((x) => {
      const r = x.vs === "floor" ? (x.node ? nRatio : bRatio) : (x.node ? n : b) / s;
      const text = `${x.node ? "Node " : ""}≥ ${x.min}× ${x.vs === "floor" ? FLOOR_NAME[w.floor] : "s3rver"}`;
      const met = Number.isFinite(r) ? r >= x.min : null;
      verdicts.push(`${w.label}, ${text}: ${Number.isFinite(r) ? r.toFixed(2) + "×" : "–"}${mark(met)}`);
      return text + mark(met);
    });
    const tText = checked.join(", ") || "–";
    const floorCell = w.floor === "none" || w.floor === "ow4k" ? FLOOR_NAME[w.floor] : `${FLOOR_NAME[w.floor]} ${fmt(floor, w.unit)}`;
    // Latencies and request rates are in the log; only exceptions ("failed", reused keys) go in cells.
    const notes = (k: string) => {
      const ns = [...new Set((results.get(`${w.name}/${k}`) ?? []).map((x) => x.note).filter((x) => x && !/^p99|req\/s$/.test(x)))];
      return ns.length ? ` (${ns.join("; ")})` : "";
    };
    lines.push(
      `| ${w.label} | ${w.unit} | ${floorCell} | ${fmt(b, w.unit)}${notes("bun")} | ${fmt(n, w.unit)}${notes("node")} | ${fmt(s, w.unit)}${notes("s3rver")}${w.name === "put1g" ? " ¹" : ""} | ${Number.isFinite(bRatio) ? bRatio.toFixed(2) + "×" : "–"} | ${Number.isFinite(nRatio) ? nRatio.toFixed(2) + "×" : "–"} | ${ratio(b, s)} | ${tText} |`,
    );
  }
  lines.push("");
  if (workloads.some((w) => w.name === "get4k")) {
    const ng = med("get4k", "nginx");
    const fl = med("get4k", "floor");
    lines.push(`The bare Bun.serve floor (scripts/benchmark/floor-server.ts: \`Bun.file\` of the same file with the same headers; for PUT, the body written to a temp file and renamed) against nginx on the presigned 4 KiB GET: ${fmt(fl, "req/s")} vs ${fmt(ng, "req/s")} req/s = ${ratio(fl, ng)}; filegate Bun ÷ nginx ${ratio(med("get4k", "bun"), ng)}.`);
    lines.push("");
  }
  lines.push("¹ s3rver cannot parse aws-chunked trailers (it stores the framing as data), so its PUT uses `requestChecksumCalculation: WHEN_REQUIRED` (a plain UNSIGNED-PAYLOAD body). filegate PUTs run with `--fsync none` (no fdatasync before the reply), like s3rver, which never fsyncs.");
  lines.push("");
  lines.push("Peak RSS (VmHWM, MiB, largest over rounds; each workload starts a fresh server). A cell is the sum over the server's processes, with the largest single process in brackets when there are several (nginx master + workers, a Bun supervisor + workers, a Node cluster primary + workers); the target is checked on the largest single process:");
  lines.push("");
  lines.push("| workload | nginx | bare Bun | filegate Bun | filegate Node | s3rver | target |");
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const w of workloads) {
    const peaks = (k: ServerName) => (results.get(`${w.name}/${k}`) ?? []).map((x) => x.rss).filter((x): x is NonNullable<Sample["rss"]> => x !== undefined);
    const cell = (k: ServerName) => {
      const xs = peaks(k);
      if (!xs.length) return "–";
      const sum = Math.max(...xs.map((x) => x.sum));
      const max = Math.max(...xs.map((x) => x.max));
      return xs.some((x) => x.procs > 1) ? `${sum.toFixed(0)} (${max.toFixed(0)})` : sum.toFixed(0);
    };
    // Every filegate process, on either runtime, must stay under the target.
    const fgPeak = Math.max(...peaks("bun").map((x) => x.max), ...peaks("node").map((x) => x.max));
    const ok = Number.isFinite(fgPeak) ? (fgPeak < RSS_TARGET_MIB ? " ✅" : " ❌") : "";
    if (Number.isFinite(fgPeak)) verdicts.push(`peak RSS, ${w.label}: ${fgPeak.toFixed(0)} MiB${ok}`);
    lines.push(`| ${w.label} | ${cell("nginx")} | ${cell("floor")} | ${cell("bun")} | ${cell("node")} | ${cell("s3rver")} | filegate < ${RSS_TARGET_MIB}${ok} |`);
  }
  const cpuRows = workloads.filter((w) => [...results.entries()].some(([k, xs]) => k.startsWith(`${w.name}/`) && xs.some((x) => x.cpuUs !== undefined)));
  if (cpuRows.length) {
    lines.push("");
    lines.push("Server CPU per request (µs, median over rounds: user + system time of all the server's processes and threads during the measured run, divided by its requests). Unlike req/s, this hardly depends on what else the machine runs:");
    lines.push("");
    lines.push("| workload | nginx | bare Bun | filegate Bun | filegate Node | s3rver |");
    lines.push("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (const w of cpuRows) {
      const cell = (k: ServerName) => {
        const xs = (results.get(`${w.name}/${k}`) ?? []).map((x) => x.cpuUs).filter((x): x is number => x !== undefined && Number.isFinite(x));
        return xs.length ? median(xs).toFixed(1) : "–";
      };
      lines.push(`| ${w.label} | ${cell("nginx")} | ${cell("floor")} | ${cell("bun")} | ${cell("node")} | ${cell("s3rver")} |`);
    }
  }
  lines.push("");
  lines.push("Targets: " + verdicts.join("; ") + ".");
  return lines.join("\n");
}

/** Replaces what lies between the bench markers in `file` (appending the markers if missing). */
export function writeDoc(file: string, section: string): void {
  const START = "<!-- bench:start -->";
  const END = "<!-- bench:end -->";
  let text = existsSync(file) ? readFileSync(file, "utf8") : `# Performance\n\n${START}\n${END}\n`;
  if (!text.includes(START) || !text.includes(END)) text += `\n${START}\n${END}\n`;
  const a = text.indexOf(START) + START.length;
  const b = text.indexOf(END);
  writeFileSync(file, text.slice(0, a) + "\n" + section + "\n" + text.slice(b));
}
