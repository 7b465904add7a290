// CompleteMultipartUpload cost against the `cat parts > out` floor. Not a test: run it by hand with
//   node_modules/.bin/bun scripts/bench-multipart.ts [--parts 100] [--part-mib 16] [--rounds 3]
//       [--fsync none] [--root DIR] [--no-cat]
// FILEGATE_TEST_RUNTIME=node measures the Node bundle instead (build it first). Rounds are
// interleaved (Complete, then cat, then the other way round) and the table shows medians; each
// round uploads the parts again (untimed), and `sync` runs (untimed) before each timed side so that
// neither is throttled by the other's dirty pages. The gateway runs with --fsync none by default so
// that neither side pays for a flush. `--root DIR` puts the gateway's root (and the cat files) on
// another filesystem, e.g. a loop-mounted xfs; `--no-cat` skips the floor (for sizes where writing
// the bytes a third time is not worth it). The completion record says how Complete built the object.
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, HeadObjectCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RUNTIME } from "../tests/support/env.ts";
import { startGateway } from "../tests/support/gateway.ts";
import { s3Client } from "../tests/support/clients.ts";
import { vmHwmMiB } from "./benchmark/proc.ts";

const { values } = parseArgs({
  options: {
    parts: { type: "string", default: "100" },
    "part-mib": { type: "string", default: "16" },
    rounds: { type: "string", default: "3" },
    fsync: { type: "string", default: "none" },
    root: { type: "string" },
    "no-cat": { type: "boolean", default: false },
  },
});
const PARTS = Number(values.parts);
const PART = Number(values["part-mib"]) * 1024 * 1024;
const ROUNDS = Number(values.rounds);
const CONCURRENCY = 4;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Each part differs from the base buffer in its first bytes, so parts have distinct MD5s.
const base = randomBytes(PART);
function partBody(n: number): Buffer {
  const b = Buffer.from(base);
  b.writeUInt32BE(n, 0);
  return b;
}

const place = values.root ?? tmpdir();
const gwRoot = mkdtempSync(join(place, "filegate-bench-mp-root-"));
const scratch = mkdtempSync(join(place, "filegate-bench-mp-"));
const gw = await startGateway({ args: ["--fsync", values.fsync!, "--quiet"], root: gwRoot });
const s3 = s3Client(gw);
const Bucket = "bench";
const Key = "assembled.bin";

async function completeOnce(): Promise<{ s: number; how: string; uploadS: number }> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const etags: string[] = new Array(PARTS);
  let next = 1;
  const u0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next <= PARTS) {
        const n = next++;
        etags[n - 1] = (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n, Body: partBody(n) }))).ETag!;
      }
    }),
  );
  const uploadS = (performance.now() - u0) / 1000;
  // Writeback of the freshly uploaded bytes would otherwise throttle whichever side runs next.
  spawnSync("sync");
  const t0 = performance.now();
  const done = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) } }),
  );
  const s = (performance.now() - t0) / 1000;
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
  if (head.ContentLength !== PARTS * PART || !done.ETag?.endsWith(`-${PARTS}"`)) throw new Error("assembled object is wrong");
  const rec = JSON.parse(readFileSync(join(gw.root, Bucket, ".filegate", "uploads", `${UploadId}.done`), "utf8"));
  await s3.send(new DeleteObjectCommand({ Bucket, Key }));
  return { s, how: `${rec.assembly ?? "append"}, copied: ${rec.copyMethod ?? "?"}`, uploadS };
}

let files: string[] = [];
function catOnce(): number {
  if (!files.length) {
    const partsDir = join(scratch, "parts");
    mkdirSync(partsDir);
    files = Array.from({ length: PARTS }, (_, i) => {
      const p = join(partsDir, `p${String(i + 1).padStart(5, "0")}`);
      writeFileSync(p, partBody(i + 1));
      return p;
    });
  }
  const out = join(scratch, "out.bin");
  spawnSync("sync");
  const c0 = performance.now();
  const cat = spawnSync("sh", ["-c", 'cat "$@" > "$0"', out, ...files]);
  const s = (performance.now() - c0) / 1000;
  if (cat.status !== 0 || statSync(out).size !== PARTS * PART) throw new Error("cat failed: " + cat.stderr);
  rmSync(out);
  return s;
}

const load = loadavg().map((x) => x.toFixed(2)).join(" ");
try {
  await s3.send(new CreateBucketCommand({ Bucket }));
  const completes: number[] = [];
  const cats: number[] = [];
  const ratios: number[] = [];
  const hows = new Set<string>();
  let uploadS = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let c: number | null = null;
    let cs: { s: number; how: string; uploadS: number };
    if (r % 2 === 1 && !values["no-cat"]) c = catOnce();
    cs = await completeOnce();
    if (r % 2 === 0 && !values["no-cat"]) c = catOnce();
    completes.push(cs.s);
    hows.add(cs.how);
    uploadS = cs.uploadS;
    if (c !== null) {
      cats.push(c);
      ratios.push(cs.s / c);
    }
    process.stderr.write(`round ${r + 1}: Complete ${(cs.s * 1000).toFixed(1)} ms${c !== null ? `, cat ${(c * 1000).toFixed(0)} ms` : ""} (${cs.how})\n`);
  }
  const gb = (PARTS * PART) / 1e9;
  const fsType = spawnSync("stat", ["-f", "-c", "%T", gwRoot], { encoding: "utf8" }).stdout.trim();
  console.log(
    `\nmultipart assembly: ${PARTS} parts x ${PART / 1024 / 1024} MiB = ${(gb * 1000).toFixed(0)} MB on ${fsType}, runtime ${RUNTIME}, --fsync ${values.fsync}, ${ROUNDS} interleaved rounds (medians), load average at start ${load}\n`,
  );
  console.log("| operation | seconds (median) | GB/s |");
  console.log("|---|---:|---:|");
  console.log(`| CompleteMultipartUpload (client-observed) | ${median(completes).toFixed(4)} | ${(gb / median(completes)).toFixed(1)} |`);
  if (cats.length) console.log(`| \`cat parts > out\` | ${median(cats).toFixed(3)} | ${(gb / median(cats)).toFixed(2)} |`);
  if (ratios.length) console.log(`\nratio Complete / cat: ${median(ratios).toFixed(4)} (median of per-round ratios; target ≤ 0.1)`);
  console.log(`Complete built the object: ${[...hows].join("; ")}`);
  console.log(`server VmHWM: ${vmHwmMiB(gw.pid).toFixed(1)} MiB (part uploads took ${uploadS.toFixed(2)} s per round, ${CONCURRENCY} concurrent)`);
} finally {
  s3.destroy();
  await gw.stop();
  rmSync(scratch, { recursive: true, force: true });
  rmSync(gwRoot, { recursive: true, force: true });
}
