#!/usr/bin/env node
// The `filegate` command of the npm package. The gateway runs on Bun when Bun came with the
// install: this script already runs on Bun (`bunx --bun filegate`), the project has the `bun`
// package, or Bun launched us (`bunx filegate` runs this file with node, as its first line asks).
// Else it runs on Node. FILEGATE_RUNTIME=bun|node chooses. The banner names the runtime.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const bunBundle = join(here, "../dist/bun/filegate.js");
const nodeBundle = join(here, "../dist/node/filegate.mjs");
const wanted = process.env.FILEGATE_RUNTIME;

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

/** The Bun executable of the `bun` npm package, where the project (or a parent) installed one. */
function installedBun() {
  try {
    const pkg = createRequire(import.meta.url).resolve("bun/package.json");
    return executable(join(dirname(pkg), "bin", "bun.exe")); // so named on every platform
  } catch {
    return null;
  }
}

/** The Bun that started us through bunx or `bun run`: it names itself in the npm_* variables. */
function launchingBun() {
  if (!process.env.npm_config_user_agent?.startsWith("bun/") || !process.env.npm_execpath) return null;
  // npm_execpath is bunx's path; bun sits beside it (bun.exe in the npm package).
  const dir = dirname(process.env.npm_execpath);
  return executable(join(dir, "bun")) ?? executable(join(dir, "bun.exe"));
}

/** Runs `exe bundle args` as a child that dies with us, and exits as it exits. */
function runChild(exe, bundle) {
  const child = spawn(exe, [bundle, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, FILEGATE_PARENT_PID: String(process.pid) },
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("error", (e) => {
    process.stderr.write(`filegate: cannot start ${exe}: ${e.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

if (wanted !== undefined && wanted !== "bun" && wanted !== "node") {
  process.stderr.write(`filegate: FILEGATE_RUNTIME must be bun or node, not '${wanted}'\n`);
  process.exit(2);
}
const onBun = typeof globalThis.Bun !== "undefined";
if (onBun && wanted !== "node") {
  await import(bunBundle);
} else if (onBun) {
  runChild("node", nodeBundle);
} else if (wanted === "node") {
  await import(nodeBundle);
} else {
  const bun = installedBun() ?? launchingBun();
  if (bun) runChild(bun, bunBundle);
  else if (wanted === "bun") {
    process.stderr.write("filegate: FILEGATE_RUNTIME=bun, but no Bun came with this install (npm install bun)\n");
    process.exit(2);
  } else await import(nodeBundle);
}
