// PUT overwrite and GET of the latest version, unversioned against versioned, in one process
// through the gateway's own app (src/gateway.ts, app.fetch: no sockets, so the numbers are the
// gateway's work, signing and checking included, and not a load tool's). Blocks of requests
// alternate between the two buckets so drift on a shared machine hits both; medians of blocks.
//   bun scripts/bench-versioning.ts [--blocks N] [--per-block N] [--keys N] [--size BYTES]
import { parseArgs } from "node:util";
import { openApp } from "../tests/support/app.ts";

const { values } = parseArgs({
  options: { blocks: { type: "string", default: "12" }, "per-block": { type: "string", default: "400" }, keys: { type: "string", default: "64" }, size: { type: "string", default: "4096" } },
});
const blocks = Number(values.blocks);
const perBlock = Number(values["per-block"]);
const keys = Number(values.keys);
const body = Buffer.alloc(Number(values.size), 120);

const gw = openApp(["--fsync", "none"]);
const must = async (p: Promise<{ status: number; body: string }>, what: string) => {
  const r = await p;
  if (r.status !== 200) throw new Error(`${what}: ${r.status} ${r.body}`);
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  for (const b of ["plain", "versioned"]) await must(gw.signed("PUT", `/${b}`), `create ${b}`);
  await must(gw.signed("PUT", "/versioned", { query: { versioning: "" }, body: "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>" }), "enable");
  const rates: Record<string, number[]> = { "put plain": [], "put versioned": [], "get plain": [], "get versioned": [] };
  let n = 0;
  for (let round = 0; round < blocks; round++) {
    for (const b of round % 2 ? ["versioned", "plain"] : ["plain", "versioned"]) {
      let t = performance.now();
      for (let i = 0; i < perBlock; i++) await must(gw.signed("PUT", `/${b}/k${n++ % keys}`, { body }), "put");
      rates[`put ${b}`].push(perBlock / ((performance.now() - t) / 1000));
      t = performance.now();
      for (let i = 0; i < perBlock; i++) {
        const r = await gw.fetch(`/${b}/k${i % keys}`, { headers: await signedGetHeaders(`/${b}/k${i % keys}`) });
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`get: ${r.status}`);
      }
      rates[`get ${b}`].push(perBlock / ((performance.now() - t) / 1000));
    }
  }
  const versionsPerKey = Math.round((blocks * perBlock) / keys);
  console.log(`${isBunRuntime()} in-process, ${blocks} blocks of ${perBlock} per bucket, ${keys} keys, ${body.length}-byte bodies, --fsync none; ~${versionsPerKey} versions per key at the end`);
  for (const op of ["put", "get"]) {
    const p = median(rates[`${op} plain`]);
    const v = median(rates[`${op} versioned`]);
    console.log(`${op.toUpperCase()} ${op === "put" ? "overwrite" : "latest"}: unversioned ${p.toFixed(0)} req/s, versioned ${v.toFixed(0)} req/s, versioned/unversioned ${(v / p).toFixed(3)}`);
  }
} finally {
  gw.close();
}

/** GETs are signed the same way as PUTs (the fixture's signer), without a body. */
async function signedGetHeaders(path: string): Promise<Record<string, string>> {
  const { sign, sha256Hex } = await import("../tests/support/sign.ts");
  return sign({ method: "GET", path, headers: { host: "127.0.0.1:9000" }, payloadHash: sha256Hex("") }).headers;
}

function isBunRuntime(): string {
  return typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.versions.node}`;
}
