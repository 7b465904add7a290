// startFilegate(): the gateway embedded in the test process. On Bun it runs here, from the source;
// on Node a node process runs the same checks against the built bundle (dist/node/index.mjs).
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO, RUNTIME } from "../support/index.ts";

const CHECKS = join(REPO, "tests/e2e/embed-checks.mjs");

test(`startFilegate() on ${RUNTIME}: two at once, buckets, put and get, stop frees port and temp root`, async () => {
  if (RUNTIME === "bun") {
    const { startFilegate } = await import("../../src/index.ts");
    const { runEmbedChecks } = await import(CHECKS);
    expect(await runEmbedChecks(startFilegate)).toBe("ok");
    return;
  }
  const script = [
    `import { startFilegate } from ${JSON.stringify(pathToFileURL(join(REPO, "dist/node/index.mjs")).href)};`,
    `import { runEmbedChecks } from ${JSON.stringify(pathToFileURL(CHECKS).href)};`,
    `console.log(await runEmbedChecks(startFilegate));`,
  ].join("\n");
  const r = spawnSync(process.env.NODE_BINARY ?? "node", ["--input-type=module", "-e", script], { cwd: REPO, encoding: "utf8", timeout: 60000 });
  // The SDK warns on stderr about Node 20's support window; only the result matters.
  expect({ status: r.status, stdout: r.stdout.trim(), stderr: r.status === 0 ? "" : r.stderr }).toEqual({ status: 0, stdout: "ok", stderr: "" });
});
