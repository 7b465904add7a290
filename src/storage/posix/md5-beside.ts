// MD5 on a second core. MD5 runs at about 0.6 GB/s on one core, which alone caps a single upload
// well below what receiving and writing can do. For large bodies a worker thread hashes the temp
// file just behind the writer (reading it back from the page cache), so hashing overlaps with
// receiving and writing. The writer publishes how far it has written through shared memory.
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";

// The worker is inline source so it works unchanged in the Bun run, the Node bundle and the
// compiled executable (none of which would find a separate worker file at the same place).
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { openSync, readSync, closeSync } = require("node:fs");
const { createHash } = require("node:crypto");
const buf = Buffer.allocUnsafe(1024 * 1024);
parentPort.on("message", ({ path, start, shared }) => {
  const state = new Int32Array(shared, 0, 2);     // [0] write generation, [1] 0 running / 1 done / 2 aborted
  const written = new BigInt64Array(shared, 8, 1); // bytes written so far
  const hash = createHash("md5");
  let fd = -1, off = 0;
  try {
    fd = openSync(path, "r");
    for (;;) {
      const gen = Atomics.load(state, 0);
      const end = Number(Atomics.load(written, 0));
      if (off < end) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, end - off), start + off);
        if (n === 0) throw new Error("temp file shorter than written");
        hash.update(buf.subarray(0, n));
        off += n;
        continue;
      }
      const s = Atomics.load(state, 1);
      if (s === 2) { parentPort.postMessage({ aborted: true }); return; }
      if (s === 1) break;
      Atomics.wait(state, 0, gen, 1000);
    }
    parentPort.postMessage({ md5: hash.digest("hex") });
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  } finally {
    if (fd >= 0) closeSync(fd);
  }
});
`;

const idle: Worker[] = [];
const all = new Set<Worker>();
const MAX_WORKERS = Math.max(1, availableParallelism());

/** @internal Tests kill the workers to check an upload fails instead of hanging; not an API. */
export const besideWorkersForTests = {
  live: () => all.size,
  killAll: () => Promise.all([...all].map((w) => w.terminate())),
};

function acquire(): Worker | null {
  const w = idle.pop();
  if (w) return w;
  if (all.size >= MAX_WORKERS) return null;
  // The worker only streams a file through a hash: a small heap keeps its footprint small.
  const worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
  worker.unref();
  all.add(worker);
  // An error (out of memory under that heap cap) ends the worker; the hash in progress learns of
  // it through "exit" below.
  worker.on("error", () => {});
  worker.on("exit", () => all.delete(worker));
  return worker;
}

export interface BesideHash {
  /** Call after each write with the total bytes written so far (counted from the start offset). */
  advance(total: number): void;
  /** All bytes are written: resolves with the hex MD5 of the file. */
  finish(): Promise<string>;
  /** The upload failed: stop and give the worker back. */
  abort(): void;
}

/**
 * Starts hashing `path` from byte `start` on behind the writer, or returns null when every worker
 * is busy.
 */
export function hashBeside(path: string, start = 0): BesideHash | null {
  const worker = acquire();
  if (!worker) return null;
  const shared = new SharedArrayBuffer(16);
  const state = new Int32Array(shared, 0, 2);
  const written = new BigInt64Array(shared, 8, 1);
  // Settles on the worker's answer, or when the worker dies: an upload must fail, not hang.
  const result = new Promise<{ md5?: string; error?: string; aborted?: boolean; died?: boolean }>((resolve) => {
    const onMessage = (m: { md5?: string; error?: string; aborted?: boolean }) => {
      worker.off("exit", onExit);
      resolve(m);
    };
    const onExit = () => {
      worker.off("message", onMessage);
      resolve({ error: "the worker exited", died: true });
    };
    worker.once("message", onMessage);
    worker.once("exit", onExit);
  });
  worker.postMessage({ path, start, shared });
  let settled = false;
  const done = (flag: 1 | 2) => {
    Atomics.store(state, 1, flag);
    Atomics.add(state, 0, 1);
    Atomics.notify(state, 0);
  };
  const giveBack = () => {
    if (settled) return;
    settled = true;
    result.then((r) => {
      if (!r.died) idle.push(worker);
    });
  };
  return {
    advance(total) {
      Atomics.store(written, 0, BigInt(total));
      Atomics.add(state, 0, 1);
      Atomics.notify(state, 0);
    },
    async finish() {
      done(1);
      const r = await result;
      giveBack();
      if (r.md5 === undefined) throw new Error(`MD5 worker failed: ${r.error ?? "aborted"}`);
      return r.md5;
    },
    abort() {
      done(2);
      giveBack();
    },
  };
}
