// Memory stays flat with big objects: after a 1 GiB PUT and four concurrent 1 GiB GETs, the
// gateway's peak RSS (VmHWM in /proc/PID/status) stays under 160 MiB. Linux only.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Gateway, presign, RUNTIME, startGateway } from "../support/index.ts";

const skip = process.platform !== "linux";
const GiB = 1024 ** 3;
const LIMIT_KIB = 160 * 1024;

let gw: Gateway;
let work: string;
let src: string;
let srcMd5: string;

function vm(pid: number, field: "VmHWM" | "VmRSS"): number {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1]);
}

beforeAll(async () => {
  if (skip) return;
  gw = await startGateway();
  work = mkdtempSync(join(tmpdir(), "filegate-mem-"));
  src = join(work, "one-gib.bin");
  // 1 GiB of random-ish content: a random MiB, each copy stamped with its index.
  const chunk = randomBytes(1024 * 1024);
  const md5 = createHash("md5");
  const fd = openSync(src, "w");
  for (let i = 0; i < 1024; i++) {
    chunk.writeUInt32BE(i, 0);
    writeSync(fd, chunk);
    md5.update(chunk);
  }
  closeSync(fd);
  srcMd5 = md5.digest("hex");
  mkdirSync(join(gw.root, "mem"));
});
afterAll(async () => {
  if (skip) return;
  await gw?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.skipIf(skip)(`1 GiB PUT + four concurrent 1 GiB GETs: VmHWM under 160 MiB (${RUNTIME})`, async () => {
  const startHwm = vm(gw.pid, "VmHWM");
  const putUrl = await presign(gw, "PUT", "mem", "big/one-gib.bin");
  const put = await fetch(putUrl, { method: "PUT", body: Bun.file(src), headers: { "content-length": String(GiB) } });
  expect(put.status).toBe(200);
  expect(put.headers.get("etag")).toBe(`"${srcMd5}"`);
  expect(statSync(join(gw.root, "mem/big/one-gib.bin")).size).toBe(GiB);
  const afterPut = vm(gw.pid, "VmHWM");

  const getUrl = await presign(gw, "GET", "mem", "big/one-gib.bin");
  const sizes = await Promise.all(
    [0, 1, 2, 3].map(async () => {
      const r = await fetch(getUrl);
      expect(r.status).toBe(200);
      let n = 0;
      for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) n += c.byteLength;
      return n;
    }),
  );
  expect(sizes).toEqual([GiB, GiB, GiB, GiB]);
  const afterGets = vm(gw.pid, "VmHWM");
  console.log(`${RUNTIME}: gateway VmHWM at start ${startHwm} kB, after 1 GiB PUT ${afterPut} kB, after 4×1 GiB GET ${afterGets} kB (VmRSS now ${vm(gw.pid, "VmRSS")} kB)`);
  expect(afterGets).toBeLessThan(LIMIT_KIB);
  expect(existsSync(join(gw.root, "mem/.filegate/tmp")) ? readdirSync(join(gw.root, "mem/.filegate/tmp")) : []).toEqual([]);
}, 60_000);
