// CompleteMultipartUpload cost against the `cat parts > out` floor. Not a test: run it by hand with
//   node_modules/.bin/bun scripts/bench-multipart.ts [--parts 200] [--part-mib 5] [--fsync none]
// FILEGATE_TEST_RUNTIME=node measures the Node bundle instead (build it first). The gateway runs
// with --fsync none by default so that neither side pays for a flush to disk; both read warm page
// cache, and `sync` runs (untimed) before each side so that neither is throttled by the other's
// dirty pages. Prints a markdown table.
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, HeadObjectCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RUNTIME } from "../tests/support/env.ts";
import { startGateway } from "../tests/support/gateway.ts";
import { s3Client } from "../tests/support/clients.ts";
import { vmHwmMiB } from "./benchmark/proc.ts";

const { values } = parseArgs({
  options: { parts: { type: "string", default: "200" }, "part-mib": { type: "string", default: "5" }, fsync: { type: "string", default: "none" } },
});
const PARTS = Number(values.parts);
const PART = Number(values["part-mib"]) * 1024 * 1024;
const CONCURRENCY = 4;

// Each part differs from the base buffer in its first bytes, so parts have distinct MD5s.
const base = randomBytes(PART);
function partBody(n: number): Buffer {
  const b = Buffer.from(base);
  b.writeUInt32BE(n, 0);
  return b;
}

const gw = await startGateway({ args: ["--fsync", values.fsync!, "--quiet"] });
const s3 = s3Client(gw);
const scratch = mkdtempSync(join(tmpdir(), "filegate-bench-mp-"));
try {
  const Bucket = "bench";
  const Key = "assembled.bin";
  await s3.send(new CreateBucketCommand({ Bucket }));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const etags: string[] = new Array(PARTS);
  let next = 1;
  const uploadStart = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next <= PARTS) {
        const n = next++;
        const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n, Body: partBody(n) }));
        etags[n - 1] = r.ETag!;
      }
    }),
  );
  const uploadS = (performance.now() - uploadStart) / 1000;
  const hwmBefore = vmHwmMiB(gw.pid);
  // Writeback of the freshly uploaded gigabyte would otherwise throttle whichever side runs first.
  spawnSync("sync");

  const t0 = performance.now();
  const done = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) } }),
  );
  const completeS = (performance.now() - t0) / 1000;
  const hwmAfter = vmHwmMiB(gw.pid);
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
  if (head.ContentLength !== PARTS * PART || !done.ETag?.endsWith(`-${PARTS}"`)) throw new Error("assembled object is wrong");

  // The same bytes as separate files on the same filesystem, warm in the page cache like the parts.
  const partsDir = join(scratch, "parts");
  mkdirSync(partsDir);
  const files = Array.from({ length: PARTS }, (_, i) => {
    const p = join(partsDir, `p${String(i + 1).padStart(5, "0")}`);
    writeFileSync(p, partBody(i + 1));
    return p;
  });
  const out = join(scratch, "out.bin");
  spawnSync("sync");
  const c0 = performance.now();
  const cat = spawnSync("sh", ["-c", 'cat "$@" > "$0"', out, ...files]);
  const catS = (performance.now() - c0) / 1000;
  if (cat.status !== 0 || statSync(out).size !== PARTS * PART) throw new Error("cat failed: " + cat.stderr);

  const gb = (PARTS * PART) / 1e9;
  const row = (name: string, s: number) => `| ${name} | ${s.toFixed(3)} | ${(gb / s).toFixed(2)} |`;
  console.log(`\nmultipart assembly: ${PARTS} parts x ${PART / 1024 / 1024} MiB = ${(gb * 1000).toFixed(0)} MB, runtime ${RUNTIME}, --fsync ${values.fsync}\n`);
  console.log("| operation | seconds | GB/s |");
  console.log("|---|---:|---:|");
  console.log(row("CompleteMultipartUpload (client-observed)", completeS));
  console.log(row("`cat parts > out`", catS));
  console.log(`\nratio Complete / cat: ${(completeS / catS).toFixed(2)}`);
  console.log(`server VmHWM: ${hwmBefore.toFixed(1)} MiB after the part uploads, ${hwmAfter.toFixed(1)} MiB after Complete`);
  console.log(`(part uploads took ${uploadS.toFixed(2)} s, ${CONCURRENCY} concurrent)`);
} finally {
  s3.destroy();
  await gw.stop();
  rmSync(scratch, { recursive: true, force: true });
}
