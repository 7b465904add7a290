// Throughput and memory of filegate against nginx (the zero-copy floor for GETs), md5sum (the
// floor for PUTs, which must hash every byte for the ETag) and s3rver (the JS fake S3 server).
// Not a test: run it by hand, on a quiet machine, with `scripts/bench` (see docs/PERFORMANCE.md).
//
// Rounds are interleaved (round 1 runs every server on every workload, then round 2, ...) so slow
// drift on a shared machine spreads over all servers; the report shows medians over rounds.
// The parts: options.ts, setup.ts, servers.ts, load.ts (+ sink.c, put-client.mjs, lua/),
// presign.ts, workloads.ts, report.ts.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseOptions } from "./options.ts";
import { log } from "./proc.ts";
import { fmt, machine, report, writeDoc, type Results } from "./report.ts";
import { ensureS3rver, killAll, SERVER_LABEL } from "./servers.ts";
import { setup } from "./setup.ts";
import { md5sumFloor, measure, WORKLOADS } from "./workloads.ts";

process.on("exit", killAll);
process.on("SIGINT", () => {
  killAll();
  process.exit(130);
});

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const command = "scripts/bench " + process.argv.slice(2).join(" ");
  const s3rverBin = ensureS3rver(opts);
  const machineLines = machine(s3rverBin);
  const env = await setup(opts, s3rverBin);
  const results: Results = new Map();
  const floors: number[] = [];
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      for (const w of WORKLOADS) {
        if (opts.only && !opts.only.has(w.name)) continue;
        if (w.name === "put1g") {
          const f = md5sumFloor(env, opts);
          floors.push(f);
          log(`round ${round} ${w.name} md5sum: ${f.toFixed(2)} GB/s`);
        }
        // Rotate the order each round so no server always runs right after the same one.
        const order = w.servers.filter((s) => !opts.servers || opts.servers.has(s));
        if (opts.baseSrc && order.includes("bun")) order.push("base");
        for (let i = 0; i < order.length; i++) {
          const name = order[(i + round - 1) % order.length];
          const sample = await measure(env, opts, w.name, name, round);
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
  // The machine is shared: the load at both ends says how much the numbers can be trusted.
  machineLines.push(`- load average at end: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
  const section = report(opts, results, floors, startedAt, machineLines, command);
  process.stdout.write(section + "\n");
  writeFileSync(join(tmpdir(), "filegate-bench-last.json"), JSON.stringify({ startedAt, opts: { ...opts, only: opts.only && [...opts.only], servers: opts.servers && [...opts.servers] }, results: Object.fromEntries(results), floors }, null, 1));
  if (opts.doc) {
    writeDoc(opts.doc, section);
    log(`wrote ${opts.doc}`);
  }
}

await main();
