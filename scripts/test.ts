// The whole suite: unit tests, then the end-to-end suite against the gateway on Bun and on Node,
// then the npm package as a user installs it (tests/package: npm pack, npm install, npx, bunx).
// Ends with one line `N passed, M failed`, summed over every run.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const repo = resolve(import.meta.dir, "..");
const bun = process.execPath;
const only = process.argv.slice(2); // optional test-file filters, passed to every run

// bunfig's [test] timeout covers tests but not beforeAll/afterAll hooks, which stay at 5 s; the
// command-line flag covers both. A clean CI machine needed more than 5 s for a setup hook.
const TIMEOUT = ["--timeout", "120000"];

function run(label: string, args: string[], env: Record<string, string> = {}): { pass: number; fail: number; ok: boolean } {
  process.stdout.write(`\n=== ${label} ===\n`);
  const r = spawnSync(bun, args, { cwd: repo, env: { ...process.env, ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 1024 * 1024 });
  const out = (r.stdout ?? "") + (r.stderr ?? "");
  process.stdout.write(out);
  const pass = Number(/^\s*(\d+) pass/m.exec(out)?.[1] ?? 0);
  const fail = Number(/^\s*(\d+) fail/m.exec(out)?.[1] ?? 0);
  // A crash or a runner error with no counted failure still counts as one failure.
  const ok = r.status === 0;
  return { pass, fail: ok ? fail : Math.max(fail, 1), ok };
}

const build = spawnSync(bun, ["run", "build:node"], { cwd: repo, encoding: "utf8" });
process.stdout.write(build.stdout + build.stderr);
if (build.status !== 0) {
  process.stdout.write("0 passed, 1 failed\n");
  process.exit(1);
}

const results = [
  run("unit", ["test", ...TIMEOUT, ...(only.length ? only : ["tests/unit"])]),
  run("e2e on Bun", ["test", ...TIMEOUT, ...(only.length ? only : ["tests/e2e"])], { FILEGATE_TEST_RUNTIME: "bun" }),
  run("e2e on Node", ["test", ...TIMEOUT, ...(only.length ? only : ["tests/e2e"])], { FILEGATE_TEST_RUNTIME: "node" }),
  ...(only.length ? [] : [run("package", ["test", ...TIMEOUT, "tests/package"])]),
];
const pass = results.reduce((a, r) => a + r.pass, 0);
const fail = results.reduce((a, r) => a + r.fail, 0);
process.stdout.write(`\n${pass} passed, ${fail} failed\n`);
process.exit(fail === 0 && results.every((r) => r.ok) ? 0 : 1);
