// Listing cost against the `find | sort` floor. Not a test: run it by hand with
//   node_modules/.bin/bun scripts/bench-list.ts [--keep DIR] [--runs N]
// --keep DIR builds the trees in DIR once and reuses them on later runs (creation dominates
// otherwise). Prints a markdown table.
//
// `Lister` is the seam for going through the S3 API later: the walkBucket one models
// continuation tokens by resuming each page after the previous page's last key.

import { getAttribute } from "@napi-rs/xattr";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { walkBucket, type WalkOptions } from "../src/posix/walk.ts";

type Lister = {
  /** Lists the whole bucket in pages; resolves to the number of entries seen. */
  listAll(bucket: string, pageSize: number): Promise<number>;
  /** Lists only the first page; resolves to its number of entries. */
  firstPage(bucket: string, pageSize: number): Promise<number>;
};

// Same probe cost the gateway pays per directory: one xattr read.
const isDirectoryObject: WalkOptions["isDirectoryObject"] = async (p) => (await getAttribute(p, "user.filegate").catch(() => null)) !== null;

async function page(bucketDir: string, pageSize: number, startAfter: string | undefined, delimiter?: string) {
  let n = 0;
  let last: string | undefined;
  for await (const e of walkBucket(bucketDir, { startAfter, delimiter, isDirectoryObject })) {
    last = e.type === "object" ? e.key : e.prefix;
    if (++n >= pageSize) break;
  }
  return { n, last };
}

function walkLister(root: string, delimiter?: string): Lister {
  return {
    async listAll(bucket, pageSize) {
      let total = 0;
      let startAfter: string | undefined;
      for (;;) {
        const { n, last } = await page(join(root, bucket), pageSize, startAfter, delimiter);
        total += n;
        if (n < pageSize) return total;
        startAfter = last;
      }
    },
    async firstPage(bucket, pageSize) {
      return (await page(join(root, bucket), pageSize, undefined, delimiter)).n;
    },
  };
}

/** The floor: names only, as the issue defines it. With `withStat`, find also stats every file
 * for size and mtime, which a listing must report; the fairer comparison for walkBucket. */
function floor(root: string, bucket: string, withStat = false): number {
  const printf = withStat ? ` -printf '%p %s %T@\\n'` : "";
  const r = spawnSync("sh", ["-c", `find '${join(root, bucket)}' -type f${printf} | LC_ALL=C sort | wc -l`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error("find|sort failed: " + r.stderr);
  return Number(r.stdout.trim());
}

interface Tree {
  bucket: string;
  label: string;
  build(dir: string): void;
}

const touch = (p: string) => fs.writeFileSync(p, "");

const TREES: Tree[] = [
  {
    bucket: "flat",
    label: "100k objects, flat",
    build(dir) {
      for (let i = 0; i < 100_000; i++) touch(join(dir, `obj-${((i * 7919) % 100_000).toString().padStart(6, "0")}.dat`));
    },
  },
  {
    bucket: "dirs",
    label: "100k objects in 1,000 dirs",
    build(dir) {
      for (let d = 0; d < 1000; d++) {
        const sub = join(dir, `dir-${d.toString().padStart(4, "0")}`);
        fs.mkdirSync(sub);
        for (let i = 0; i < 100; i++) touch(join(sub, `obj-${i.toString().padStart(3, "0")}.dat`));
      }
    },
  },
  {
    bucket: "deep",
    label: "chain 200 dirs deep, 5 files/level",
    build(dir) {
      let cur = dir;
      for (let level = 0; level < 200; level++) {
        for (let i = 0; i < 5; i++) touch(join(cur, `f${i}`));
        cur = join(cur, "d");
        fs.mkdirSync(cur);
      }
    },
  },
];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function time<T>(runs: number, fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  let best = Infinity;
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    value = await fn();
    best = Math.min(best, performance.now() - t);
  }
  return { ms: best, value };
}

async function main() {
  const keep = arg("--keep");
  const runs = Number(arg("--runs") ?? 3);
  const root = keep ?? fs.mkdtempSync(join(tmpdir(), "filegate-bench-"));
  const pageSize = 1000;
  try {
    for (const t of TREES) {
      const dir = join(root, t.bucket);
      if (fs.existsSync(join(dir, ".built"))) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      const t0 = performance.now();
      t.build(dir);
      fs.mkdirSync(join(dir, ".filegate"));
      fs.writeFileSync(join(dir, ".built"), "");
      console.error(`built ${t.bucket} in ${Math.round(performance.now() - t0)} ms`);
    }
    // The marker file is a key too; the counts below include it.
    const lister = walkLister(root);
    const rows: string[] = [];
    rows.push(
      "| tree | keys | full listing (pages of 1,000) ms | first page ms | find\\|sort ms (floor) | full / floor | first / floor | find -printf size,mtime \\| sort ms | full / that |",
    );
    rows.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const t of TREES) {
      await lister.firstPage(t.bucket, pageSize); // warm the dentry cache and the JIT
      const fl = await time(runs, () => floor(root, t.bucket));
      const fls = await time(runs, () => floor(root, t.bucket, true));
      const full = await time(runs, () => lister.listAll(t.bucket, pageSize));
      const first = await time(runs, () => lister.firstPage(t.bucket, pageSize));
      if (full.value !== fl.value) console.error(`warning: ${t.bucket}: listed ${full.value}, find saw ${fl.value}`);
      rows.push(
        `| ${t.label} | ${full.value} | ${full.ms.toFixed(0)} | ${first.ms.toFixed(1)} | ${fl.ms.toFixed(0)} | ${(full.ms / fl.ms).toFixed(2)}× | ${(first.ms / fl.ms).toFixed(2)}× | ${fls.ms.toFixed(0)} | ${(full.ms / fls.ms).toFixed(2)}× |`,
      );
    }
    const delim = walkLister(root, "/");
    const cps = await time(runs, () => delim.listAll("dirs", pageSize));
    rows.push("");
    rows.push(`delimiter "/" over 1,000 dirs (common prefixes, each probed): ${cps.value} entries in ${cps.ms.toFixed(1)} ms`);
    console.log(rows.join("\n"));
  } finally {
    if (!keep) fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
