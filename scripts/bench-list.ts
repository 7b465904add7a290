// Listing cost against the `find | sort` floor. Not a test: run it by hand with
//   node_modules/.bin/bun scripts/bench-list.ts [--keep DIR] [--runs N]
//   node_modules/.bin/bun scripts/bench-list.ts --issue [--keep DIR] [--rounds 5] [--million]
// --issue prints only the rows of the performance issue, each against its floor measured in the
// same run (interleaved rounds, medians): the 100k objects in 1,000 directories over plain signed
// HTTP (a warm gateway, and a fresh one per round) against `find -printf '%s %T@ %p\n' | sort`;
// with --million also a 1M-object flat bucket (first page from a fresh gateway and again, a page
// resumed half-way, the full listing, and the gateway's peak RSS over all of it).
// (FILEGATE_TEST_RUNTIME=node benches the Node bundle; build it first.)
// --keep DIR builds the trees in DIR once and reuses them on later runs (creation dominates
// otherwise). Prints a markdown table.
//
// Listers: through the S3 API (a real gateway process on the same tree, started like the e2e
// tests start it, listed with the SDK's ListObjectsV2 in pages of 1,000 following continuation
// tokens; the client's request signing and XML parsing are included); the same pages over plain
// signed HTTP; the SDK against a server that replays those pages from memory (the client's own
// floor); and walkBucket called directly in-process, which models continuation tokens by resuming
// after each page's last key.

import { getAttribute } from "@napi-rs/xattr";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { walkBucket, type WalkOptions } from "../src/storage/posix/walk.ts";
import { DirListings } from "../src/storage/posix/dir-listing.ts";
import { EMPTY_SHA256 } from "../src/auth/types.ts";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { RUNTIME } from "../tests/support/env.ts";
import { startGateway, type Gateway } from "../tests/support/gateway.ts";
import { s3Client } from "../tests/support/clients.ts";
import { sign } from "../tests/support/sign.ts";
import { vmHwmMiB } from "./benchmark/proc.ts";
import { loadavg } from "node:os";

type Lister = {
  /** Lists the whole bucket in pages; resolves to the number of entries seen. */
  listAll(bucket: string, pageSize: number): Promise<number>;
  /** Lists only the first page; resolves to its number of entries. */
  firstPage(bucket: string, pageSize: number): Promise<number>;
};

// Same probe cost the gateway pays per directory: one xattr read.
const isDirectoryObject: WalkOptions["isDirectoryObject"] = async (p) => (await getAttribute(p, "user.filegate").catch(() => null)) !== null;

/** Kept across pages, as the gateway's store keeps it across requests. */
const listings = new DirListings();

/** One page of walkBucket resuming after `startAfter`, as a continuation token models it. */
async function page(bucketDir: string, pageSize: number, startAfter: string | undefined, delimiter?: string) {
  let n = 0;
  let last: string | undefined;
  for await (const e of walkBucket(bucketDir, { startAfter, delimiter, isDirectoryObject, listings })) {
    last = e.type === "object" ? e.key : e.prefix;
    if (++n >= pageSize) break;
  }
  return { n, next: n < pageSize ? undefined : last };
}

/** A lister from one page request: entries on the page and the token for the next, if any. */
type PageRequest = (bucket: string, pageSize: number, token?: string) => Promise<{ n: number; next?: string }>;

function tokenLister(list: PageRequest): Lister {
  return {
    async listAll(bucket, pageSize) {
      let total = 0;
      let token: string | undefined;
      do {
        const r = await list(bucket, pageSize, token);
        total += r.n;
        token = r.next;
      } while (token);
      return total;
    },
    async firstPage(bucket, pageSize) {
      return (await list(bucket, pageSize)).n;
    },
  };
}

function walkLister(root: string, delimiter?: string): Lister {
  return tokenLister((bucket, pageSize, startAfter) => page(join(root, bucket), pageSize, startAfter, delimiter));
}

/** ListObjectsV2 through the gateway, pages of `pageSize` following continuation tokens. */
function httpLister(s3: S3Client, delimiter?: string): Lister {
  return tokenLister(async (bucket, pageSize, token) => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: pageSize, ContinuationToken: token, Delimiter: delimiter }));
    return { n: r.KeyCount ?? 0, next: r.NextContinuationToken };
  });
}

/** The same ListObjectsV2 pages over plain signed HTTP (fetch, keep-alive), reading only KeyCount
 * and the token: the gateway's cost without the SDK's XML parsing. `pages`, when given, collects
 * each page's body by the continuation token that asked for it (see cannedServer). */
function rawLister(gw: Gateway, pages?: Map<string, string>): Lister {
  return tokenLister(async (bucket, pageSize, token) => {
    const query: Record<string, string> = { "list-type": "2", "max-keys": String(pageSize), ...(token ? { "continuation-token": token } : {}) };
    const { headers } = sign({ method: "GET", path: `/${bucket}`, query, headers: { host: `127.0.0.1:${gw.port}` }, payloadHash: EMPTY_SHA256 });
    const qs = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
    const r = await fetch(`http://127.0.0.1:${gw.port}/${bucket}?${qs}`, { headers });
    const body = await r.text();
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${body}`);
    pages?.set(token ?? "", body);
    return { n: Number(/<KeyCount>(\d+)</.exec(body)![1]), next: /<NextContinuationToken>([^<]+)</.exec(body)?.[1] };
  });
}

/** Answers ListObjectsV2 with pages the gateway produced earlier, doing no work of its own: what
 * the SDK takes against it is the client's own cost, which no server can go below. */
function cannedServer(pages: Map<string, string>): { port: number; stop(): void } {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const body = pages.get(new URL(req.url).searchParams.get("continuation-token") ?? "");
      return body === undefined ? new Response("no such page", { status: 500 }) : new Response(body, { headers: { "content-type": "application/xml" } });
    },
  });
  return { port: server.port!, stop: () => server.stop(true) };
}

/** The floor: names only, as the issue defines it. With `withStat`, find also stats every file
 * for size and mtime, which a listing must report; the fairer comparison for walkBucket. */
function floor(root: string, bucket: string, withStat = false): number {
  const printf = withStat ? ` -printf '%s %T@ %p\\n'` : "";
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

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuOf(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").slice(fs.readFileSync(`/proc/${pid}/stat`, "utf8").lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** The floor with its CPU time (find and sort together), for ratios that the machine's load moves less. */
function floorWithCpu(root: string, bucket: string): { ms: number; cpu: number } {
  const t = performance.now();
  const r = spawnSync("bash", ["-c", `TIMEFORMAT='%U %S'; time ( find '${join(root, bucket)}' -type f -printf '%s %T@ %p\\n' | LC_ALL=C sort > /dev/null )`], { encoding: "utf8" });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error("find|sort failed: " + r.stderr);
  const [u, sys] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
  return { ms, cpu: u + sys };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const elapsed = async (fn: () => unknown) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

/** One ListObjectsV2 page over plain signed HTTP, from the start or after `startAfter`. */
async function rawPage(gw: Gateway, bucket: string, pageSize: number, startAfter?: string): Promise<number> {
  const query: Record<string, string> = { "list-type": "2", "max-keys": String(pageSize), ...(startAfter ? { "start-after": startAfter } : {}) };
  const { headers } = sign({ method: "GET", path: `/${bucket}`, query, headers: { host: `127.0.0.1:${gw.port}` }, payloadHash: EMPTY_SHA256 });
  const qs = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
  const r = await fetch(`http://127.0.0.1:${gw.port}/${bucket}?${qs}`, { headers });
  const body = await r.text();
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${body}`);
  return Number(/<KeyCount>(\d+)</.exec(body)![1]);
}

const MILLION: Tree = {
  bucket: "flat1m",
  label: "1M objects, flat",
  build(dir) {
    for (let i = 0; i < 1_000_000; i++) touch(join(dir, `obj-${((i * 7919) % 1_000_000).toString().padStart(7, "0")}.dat`));
  },
};

/** One full listing of `dirs` against the floor per round, the floor first in even rounds and
 * second in odd ones, with wall and CPU times of both. */
class RoundSet {
  readonly f: number[] = [];
  readonly g: number[] = [];
  readonly ratios: number[] = [];
  readonly cpuRatios: number[] = [];

  async add(round: number, root: string, pid: number, list: () => Promise<unknown>): Promise<void> {
    let gateway = { ms: 0, cpu: 0 };
    const listOnce = async () => {
      const c0 = cpuOf(pid);
      const ms = await elapsed(list);
      gateway = { ms, cpu: cpuOf(pid) - c0 };
    };
    let floorRun: { ms: number; cpu: number };
    if (round % 2 === 0) {
      floorRun = floorWithCpu(root, "dirs");
      await listOnce();
    } else {
      await listOnce();
      floorRun = floorWithCpu(root, "dirs");
    }
    this.f.push(floorRun.ms);
    this.g.push(gateway.ms);
    this.ratios.push(gateway.ms / floorRun.ms);
    this.cpuRatios.push(gateway.cpu / floorRun.cpu);
  }
}

async function issueRows(root: string, rounds: number, million: boolean) {
  const pageSize = 1000;
  // Rows print as they finish (the 1M rows take minutes).
  const out = { push: (line: string) => console.log(line) };
  const load = loadavg().map((x) => x.toFixed(2)).join(" ");
  out.push(`runtime ${RUNTIME}, ${rounds} interleaved rounds, medians, pages of ${pageSize}; load average at start ${load}`);
  out.push("");
  out.push("| row | floor: find -printf '%s %T@ %p\\n' \\| sort (ms) | filegate (ms) | ratio (median of rounds) | target |");
  out.push("|---|---:|---:|---:|---|");
  const floorMs = (bucket: string) => elapsed(() => floor(root, bucket, true));
  // Warm: one gateway, listed twice before the rounds.
  {
    const gw = await startGateway({ root });
    try {
      const plain = rawLister(gw);
      await plain.listAll("dirs", pageSize);
      await plain.listAll("dirs", pageSize);
      const rs = new RoundSet();
      for (let r = 0; r < rounds; r++) await rs.add(r, root, gw.pid, () => plain.listAll("dirs", pageSize));
      const { f, g, ratios, cpuRatios } = rs;
      out.push(`| 100k objects in 1,000 dirs, plain signed HTTP, warm gateway | ${median(f).toFixed(0)} | ${median(g).toFixed(0)} | ${median(ratios).toFixed(2)}× (CPU: gateway ${median(cpuRatios).toFixed(2)}× find+sort) | ≤ 2× ${median(ratios) <= 2 ? "✅" : "❌"} |`);
      out.push(`| (same, gateway peak RSS) | | ${vmHwmMiB(gw.pid).toFixed(0)} MiB | | < 160 MiB |`);
    } finally {
      await gw.stop();
    }
  }
  // Cold: a fresh gateway process for each round (the page cache stays warm).
  {
    const rs = new RoundSet();
    for (let r = 0; r < rounds; r++) {
      const gw = await startGateway({ root });
      try {
        await rs.add(r, root, gw.pid, () => rawLister(gw).listAll("dirs", pageSize));
      } finally {
        await gw.stop();
      }
    }
    const { f, g, ratios, cpuRatios } = rs;
    out.push(`| 100k objects in 1,000 dirs, plain signed HTTP, fresh gateway | ${median(f).toFixed(0)} | ${median(g).toFixed(0)} | ${median(ratios).toFixed(2)}× (CPU: gateway ${median(cpuRatios).toFixed(2)}× find+sort) | ≤ 3× ${median(ratios) <= 3 ? "✅" : "❌"} |`);
  }
  if (million) {
    const first: number[] = [];
    const again: number[] = [];
    const mid: number[] = [];
    const full: number[] = [];
    const f: number[] = [];
    let hwm = 0;
    const midKey = "obj-0500000.dat";
    for (let r = 0; r < Math.min(rounds, 3); r++) {
      const gw = await startGateway({ root });
      try {
        first.push(await elapsed(() => rawPage(gw, "flat1m", pageSize)));
        again.push(await elapsed(() => rawPage(gw, "flat1m", pageSize)));
        mid.push(await elapsed(() => rawPage(gw, "flat1m", pageSize, midKey)));
        if (r % 2 === 1) f.push(await floorMs("flat1m"));
        full.push(await elapsed(() => rawLister(gw).listAll("flat1m", pageSize)));
        if (r % 2 === 0) f.push(await floorMs("flat1m"));
        hwm = Math.max(hwm, vmHwmMiB(gw.pid));
      } finally {
        await gw.stop();
      }
    }
    out.push(`| 1M flat: first page, fresh gateway | | ${median(first).toFixed(1)} | | < 50 ms ${median(first) < 50 ? "✅" : "❌"} |`);
    out.push(`| 1M flat: first page again | | ${median(again).toFixed(1)} | | < 50 ms ${median(again) < 50 ? "✅" : "❌"} |`);
    out.push(`| 1M flat: one page after ${midKey} | | ${median(mid).toFixed(1)} | | flat per-page cost |`);
    out.push(`| 1M flat: full listing, plain signed HTTP | ${median(f).toFixed(0)} | ${median(full).toFixed(0)} | ${(median(full) / median(f)).toFixed(2)}× | – |`);
    out.push(`| 1M flat: gateway peak RSS (VmHWM) over all of the above | | ${hwm.toFixed(0)} MiB | | < 160 MiB ${hwm < 160 ? "✅" : "❌"} |`);
  }
}

async function main() {
  const keep = arg("--keep");
  if (process.argv.includes("--issue") && process.argv.includes("--million")) TREES.push(MILLION);
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
    if (process.argv.includes("--issue")) {
      await issueRows(root, Number(arg("--rounds") ?? 5), process.argv.includes("--million"));
      return;
    }
    // The marker file is a key too; the counts below include it.
    // A fresh gateway process per tree, listed once: cold JIT, empty listing caches (the page
    // cache stays warm; dropping it needs root and measures the disk, not the gateway).
    const fresh = new Map<string, number>();
    for (const t of TREES) {
      const g = await startGateway({ root });
      try {
        fresh.set(t.bucket, (await time(1, () => rawLister(g).listAll(t.bucket, pageSize))).ms);
      } finally {
        await g.stop();
      }
    }
    const gw = await startGateway({ root });
    try {
      const s3 = s3Client(gw);
      const http = httpLister(s3);
      const walk = walkLister(root);
      const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
      const rows: string[] = [];
      rows.push(`runtime: ${RUNTIME}, best of ${runs} runs, pages of ${pageSize}; ratios are to find|sort`);
      rows.push("");
      rows.push(
        "| tree | keys | find\\|sort (floor) | find -printf '%s %T@ %p' \\| sort | SDK full | SDK vs canned pages | plain HTTP full | plain HTTP, fresh gateway | walker in-process | SDK first page | SDK / floor | canned / floor | plain / floor | fresh / floor | walker / floor |",
      );
      rows.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
      for (const t of TREES) {
        const pages = new Map<string, string>();
        const plain = rawLister(gw, pages);
        // Warm the dentry/inode caches, the JITs and the gateway's caches.
        await walk.listAll(t.bucket, pageSize);
        await http.listAll(t.bucket, pageSize);
        await plain.listAll(t.bucket, pageSize);
        const fl = await time(runs, () => floor(root, t.bucket));
        const fls = await time(runs, () => floor(root, t.bucket, true));
        const full = await time(runs, () => http.listAll(t.bucket, pageSize));
        const first = await time(runs, () => http.firstPage(t.bucket, pageSize));
        const pfull = await time(runs, () => plain.listAll(t.bucket, pageSize));
        const wfull = await time(runs, () => walk.listAll(t.bucket, pageSize));
        const canned = cannedServer(pages);
        let cfull;
        try {
          const cannedClient = httpLister(s3Client({ ...gw, endpoint: `http://127.0.0.1:${canned.port}` }));
          await cannedClient.listAll(t.bucket, pageSize);
          cfull = await time(runs, () => cannedClient.listAll(t.bucket, pageSize));
        } finally {
          canned.stop();
        }
        if (full.value !== fl.value || pfull.value !== fl.value || wfull.value !== fl.value || cfull.value !== fl.value) {
          console.error(`warning: ${t.bucket}: SDK listed ${full.value}, plain ${pfull.value}, walker ${wfull.value}, canned ${cfull.value}, find saw ${fl.value}`);
        }
        const fr = fresh.get(t.bucket)!;
        const ms = (x: number) => x.toFixed(0);
        rows.push(
          `| ${t.label} | ${full.value} | ${ms(fl.ms)} | ${ms(fls.ms)} | ${ms(full.ms)} | ${ms(cfull.ms)} | ${ms(pfull.ms)} | ${ms(fr)} | ${ms(wfull.ms)} | ${first.ms.toFixed(1)} | ${ratio(full.ms, fl.ms)} | ${ratio(cfull.ms, fl.ms)} | ${ratio(pfull.ms, fl.ms)} | ${ratio(fr, fl.ms)} | ${ratio(wfull.ms, fl.ms)} |`,
        );
      }
      const cps = await time(runs, () => httpLister(s3, "/").listAll("dirs", pageSize));
      const wcps = await time(runs, () => walkLister(root, "/").listAll("dirs", pageSize));
      rows.push("");
      rows.push("All times in ms. SDK: @aws-sdk/client-s3 ListObjectsV2 following continuation tokens. SDK vs canned pages: the same SDK calls answered from memory with the gateway's own page bodies (the client's cost alone). Plain HTTP: signed fetch, body read, token found by regex.");
      rows.push("");
      rows.push(`delimiter "/" over 1,000 dirs (common prefixes, each probed): ${cps.value} entries, SDK ${cps.ms.toFixed(1)} ms, walker ${wcps.ms.toFixed(1)} ms`);
      console.log(rows.join("\n"));
    } finally {
      await gw.stop();
    }
  } finally {
    if (!keep) fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
