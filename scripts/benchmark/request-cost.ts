// What one 4 KiB GET costs inside filegate, stage by stage, with no socket and no load tool:
// the gateway's own app (as src/gateway.ts builds it) over a temp root, called in-process.
// Not a test; docs/PERFORMANCE.md quotes its output ("what each µs is").
//   bun scripts/benchmark/request-cost.ts [--ms N]     (N: time per measurement, default 1500)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyRequest } from "../../src/auth/verify.ts";
import { parseCommand } from "../../src/config.ts";
import { buildGateway } from "../../src/gateway.ts";
import { runtime } from "../../src/runtime.ts";
import { parseRequestTarget } from "../../src/http/request-target.ts";
import { resolveAddress } from "../../src/s3/address.ts";
import { resolveOperation } from "../../src/s3/operations.ts";
import { headerSigner } from "./header-sign.ts";
import { ACCESS_KEY, BUCKET, SECRET_KEY } from "./options.ts";
import { presignGet } from "./presign.ts";

const ENDPOINT = "http://127.0.0.1:9000";
/** In-process requests carry no Host of their own; a server's always do. */
const HOST = "127.0.0.1:9000";
const withHost = { headers: { host: HOST } };
const msArg = process.argv.indexOf("--ms");
const BUDGET_MS = msArg > 0 ? Number(process.argv[msArg + 1]) : 1500;

/**
 * CPU µs per call of `fn` (user + system, all of the process's threads, so GC counts), after a
 * warm-up, over about BUDGET_MS of wall time; the best of 3 runs. CPU time rather than wall time
 * because the machine this runs on is shared: being descheduled costs wall time, not CPU.
 */
async function perCall(fn: () => unknown): Promise<number> {
  const isAsync = fn() instanceof Promise;
  for (let i = 0; i < 2000; i++) isAsync ? await fn() : fn();
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < BUDGET_MS / 3) {
      for (let i = 0; i < 200; i++) isAsync ? await fn() : fn();
      n += 200;
    }
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / n);
  }
  return best;
}

const root = mkdtempSync(join(tmpdir(), "filegate-cost-"));
const command = parseCommand(["serve", "--root", root, "--quiet", "--fsync", "none"], { FILEGATE_ACCESS_KEY: ACCESS_KEY, FILEGATE_SECRET_KEY: SECRET_KEY });
if (command.kind !== "serve") throw new Error("not serve");
const gw = buildGateway(command.config, { log: (l) => process.stderr.write(l + "\n"), accessLog: false });
try {
  const creds = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
  gw.services.store.createBucket(BUCKET);
  // Stored through the API, so it carries its xattr record as in use.
  const putUrl = new URL(await (await import("./presign.ts")).putPresigner(ENDPOINT, creds).then((sign) => sign(BUCKET, "small.bin")), ENDPOINT);
  const put = await gw.app.fetch(new Request(putUrl.href, { method: "PUT", body: new Uint8Array(4096).fill(120), headers: { "content-length": "4096", host: HOST } }));
  if (put.status !== 200) throw new Error(`PUT: ${put.status} ${await put.text()}`);
  const url = await presignGet(ENDPOINT, creds, BUCKET, "small.bin");
  const nextSigned = await headerSigner(ENDPOINT, creds, BUCKET, "small.bin");
  const signed = await Promise.all(Array.from({ length: 20000 }, () => nextSigned()));
  let k = 0;
  const signedRequest = () => {
    const s = signed[k++ % signed.length];
    return new Request(ENDPOINT + s.path, { headers: s.headers });
  };
  const check = await gw.app.fetch(signedRequest());
  if (check.status !== 200) throw new Error(`header-signed GET: ${check.status} ${await check.text()}`);

  const rows: [string, number][] = [];
  const row = async (name: string, fn: () => unknown) => {
    const us = await perCall(fn);
    rows.push([name, us]);
    process.stderr.write(`${name}: ${us.toFixed(2)} µs\n`);
  };
  const presignedReq = new Request(url, withHost);
  const target = parseRequestTarget(url);
  const verifyOpts = () => ({ lookupSecret: gw.services.lookupSecret, now: new Date(), region: gw.services.config.region });
  const signedReqs = Array.from({ length: 1000 }, signedRequest);
  let j = 0;

  // The first second of a path runs slower (JIT tiers, heap growth): warm both up before measuring.
  for (const warm of [() => gw.app.fetch(new Request(url, withHost)), () => gw.app.fetch(signedRequest())]) {
    const t = performance.now();
    while (performance.now() - t < 1000) for (let i = 0; i < 100; i++) await warm();
  }
  await row("whole request, presigned (app.fetch, new Request included)", () => gw.app.fetch(new Request(url, withHost)));
  await row("whole request, header-signed (app.fetch, new Request included)", () => gw.app.fetch(signedRequest()));
  await row("  new Request(url) alone", () => new Request(url, withHost));
  await row("  new Request(url, headers) alone (header-signed)", () => signedRequest());
  await row("  parse the request target", () => parseRequestTarget(url));
  await row("  address + operation", () => {
    const addr = resolveAddress(target, "127.0.0.1:9000", null);
    return resolveOperation({ method: "GET", bucket: addr.bucket, key: addr.key, query: target.query, headers: presignedReq.headers });
  });
  await row("  SigV4 presigned verification", () => verifyRequest({ method: "GET", url, target: parseRequestTarget(url), headers: presignedReq.headers }, verifyOpts()));
  await row("  SigV4 header verification", () => {
    const r = signedReqs[j++ % signedReqs.length];
    return verifyRequest({ method: "GET", url: r.url, headers: r.headers }, verifyOpts());
  });
  await row("  open + fstat + xattr + close (store.openObject)", () => gw.services.store.openObject(BUCKET, "small.bin").close());
  await row("  open … + read 4 KiB into the Response (fileResponse)", () => {
    const o = gw.services.store.openObject(BUCKET, "small.bin");
    return runtime.fileResponse(o, 0, o.size - 1, o.size, 200, { "content-length": String(o.size) });
  });
  await row("  new Response(4 KiB buffer, 8 headers)", () =>
    new Response(Buffer.allocUnsafe(4096), { headers: { etag: '"x"', "last-modified": "x", "accept-ranges": "bytes", "content-type": "a/b", "content-length": "4096", "x-amz-request-id": "1", "x-amz-id-2": "2", a: "b" } }),
  );
  const out = rows.map(([n, us]) => `| ${n} | ${us.toFixed(1)} |`).join("\n");
  process.stdout.write(`| stage (in-process, Bun ${Bun.version}) | CPU µs per call |\n| --- | ---: |\n${out}\n`);
} finally {
  gw.stopSweeper();
  rmSync(root, { recursive: true, force: true });
}
