#!/usr/bin/env bun
// Entry point for `bun run`, the compiled executable and the Node bundle: parse configuration,
// prepare the root, start the server for the runtime we are on, and shut down gracefully.
import cluster from "node:cluster";
import { ConfigError, VERSION, helpText, parseCommand, type Config } from "./config.ts";
import type { Credentials } from "./credentials.ts";
import { readFileSync } from "node:fs";
import { UsageError, runUserCommand } from "./identity/cli.ts";
import { isIdentityError } from "./identity/records.ts";
import { SetupError, buildGateway, endpointOf, openStoreForOperator, type Gateway } from "./gateway.ts";
import { listVersionsCommand, purgeVersionsCommand } from "./ops/versions-cli.ts";
import { TEMP_MIN_AGE_MS, sweepTempFiles } from "./storage/posix/incoming.ts";
import { cleanupUploads } from "./storage/posix/multipart.ts";
import { isBun, runtime } from "./runtime.ts";
import { kernelPath } from "./storage/posix/kernel.ts";
import type { RunningServer } from "./serve/types.ts";
import { PARENT_PID_ENV, dieWithParent, scrapeThroughSupervisor } from "./serve/worker-link.ts";
import { freePort, isWorkerProcess, superviseCluster, superviseWorkers, waitUntilListening, waitUntilPortFree } from "./serve/workers.ts";

/** How long an orphaned worker lets its in-flight requests run before it exits. */
const ORPHAN_GRACE_MS = 1000;

function fail(message: string): never {
  process.stderr.write(`filegate: ${message}\n`);
  process.exit(2);
}

/** A value as one shell word: plain when it is safe, else single-quoted. */
function shellWord(v: string): string {
  return /^[A-Za-z0-9_+\/=.:,@%-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

function banner(config: Config, gw: Pick<Gateway, "credentials" | "meta">, port: number): string {
  const creds: Credentials = gw.credentials;
  const endpoint = endpointOf(config, port);
  const lines = [
    `filegate ${VERSION} on ${runtime.name === "bun" ? "Bun" : "Node"} ${runtime.version}, ${config.workers} worker${config.workers > 1 ? "s" : ""}`,
    `  endpoint    ${endpoint}`,
    `  root        ${config.root}  (metadata: ${gw.meta.kind}, kernel calls: ${kernelPath})`,
    `  region      ${config.region}`,
    `  access key  ${creds.accessKey}`,
  ];
  // A generated secret has to be shown once or nobody could use it; one from the environment is
  // the operator's own and is never printed, so neither are the ready-to-paste exports.
  if (creds.source === "environment") {
    lines.push(`  secret key  (from FILEGATE_SECRET_KEY)`);
  } else {
    // A wildcard listen address is no address to connect to.
    const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host === "::" ? "::1" : config.host;
    lines.push(
      `  secret key  ${creds.secretKey}   (kept in ${creds.source})`,
      "",
      "  for the aws cli and the AWS SDKs:",
      `export AWS_ENDPOINT_URL=${shellWord(endpointOf({ ...config, host }, port))}`,
      `export AWS_ACCESS_KEY_ID=${shellWord(creds.accessKey)}`,
      `export AWS_SECRET_ACCESS_KEY=${shellWord(creds.secretKey)}`,
      `export AWS_REGION=${shellWord(config.region)}`,
    );
  }
  return lines.join("\n") + "\n";
}

/** `filegate user …`: works on the root's files, no gateway involved. */
async function userCommand(argv: string[]): Promise<void> {
  try {
    const r = await runUserCommand(argv, process.env, () => readFileSync(0, "utf8"));
    process.stdout.write(r.out);
    process.exitCode = r.code;
  } catch (e) {
    if (e instanceof UsageError) fail(e.message);
    // The store's refusals (NoSuchEntity, EntityAlreadyExists, …) and the filesystem's (EACCES).
    process.stderr.write(`filegate: ${isIdentityError(e) ? e.code + ": " : ""}${(e as Error).message}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === "user") return userCommand(process.argv.slice(3));
  let command;
  try {
    command = parseCommand(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  if (command.kind === "help") {
    process.stdout.write(helpText() + "\n");
    return;
  }
  if (command.kind === "version") {
    process.stdout.write(`filegate ${VERSION}\n`);
    return;
  }
  if (command.kind === "cleanup-uploads") {
    const age = command.olderThanMs;
    const uploads = cleanupUploads(command.root, age);
    const temps = sweepTempFiles(command.root, Math.max(age, TEMP_MIN_AGE_MS));
    process.stdout.write(`filegate: removed ${uploads} multipart upload(s) and ${temps} stale temp file(s) under ${command.root}\n`);
    return;
  }
  if (command.kind === "versions") {
    let store;
    try {
      store = openStoreForOperator(command.root, command.meta);
    } catch (e) {
      if (e instanceof SetupError) fail(e.message);
      throw e;
    }
    const out = (s: string) => process.stdout.write(s);
    try {
      if (command.action === "list") {
        await listVersionsCommand(store, command.bucket, out);
      } else {
        const t = await purgeVersionsCommand(store, command.bucket, command.dryRun, out);
        const verb = command.dryRun ? "would remove" : "removed";
        process.stderr.write(`filegate: ${verb} ${t.versions} noncurrent version(s) (${t.bytes} bytes) and ${t.markers} delete marker(s) in ${command.bucket}\n`);
      }
    } catch (e) {
      fail(`versions ${command.action} ${command.bucket}: ${(e as Error).message}`);
    }
    return;
  }
  const config = command.config;
  const log = (line: string) => process.stderr.write(line + "\n");
  const worker = isWorkerProcess() || (!isBun && !cluster.isPrimary);
  let gw: Gateway;
  try {
    gw = buildGateway(config, { log, accessLog: !config.quiet, scrape: worker ? scrapeThroughSupervisor : undefined });
  } catch (e) {
    if (e instanceof SetupError) fail(e.message);
    throw e;
  }
  const announce = (port: number) =>
    process.stdout.write(config.quiet ? `filegate listening on ${endpointOf(config, port)}\n` : banner(config, gw, port));

  if (config.workers > 1 && !worker) {
    if (isBun) {
      let port = config.port;
      try {
        // Workers of an earlier supervisor may still hold the port for a moment after it died.
        port = port ? (await waitUntilPortFree(config.host, port), port) : await freePort(config.host);
      } catch (e) {
        fail((e as Error).message);
      }
      superviseWorkers(config.workers, port, log);
      // Started by the package's launcher: go (taking the workers along) when it goes.
      if (process.env[PARENT_PID_ENV]) dieWithParent(() => process.kill(process.pid, "SIGTERM"));
      // Announce the endpoint only when it answers: scripts wait for this line.
      await waitUntilListening(config.host, port).catch((e) => fail((e as Error).message));
      announce(port);
    } else {
      superviseCluster(config.workers, announce, log);
    }
    return;
  }

  let server: RunningServer;
  try {
    server = await runtime.serve(gw.app.fetch, { host: config.host, port: config.port, tls: config.tls, reusePort: worker });
  } catch (e) {
    fail(`cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`);
  }
  if (!worker) announce(server.port);

  let stopping = false;
  const shutdown = async (why: string, timeoutMs: number) => {
    if (stopping) return;
    stopping = true;
    log(`filegate: ${why}: finishing in-flight requests (up to ${timeoutMs / 1000}s)`);
    await server.stop(timeoutMs);
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT", config.shutdownTimeoutMs));
  process.on("SIGTERM", () => void shutdown("SIGTERM", config.shutdownTimeoutMs));
  process.on("SIGHUP", () => {
    try {
      server.reloadTls();
      if (config.tls) log("filegate: SIGHUP: TLS certificate and key reloaded");
    } catch (e) {
      log(`filegate: SIGHUP: TLS reload failed, keeping the old certificate: ${(e as Error).message}`);
    }
  });
  // A worker never outlives its supervisor: it would keep the port with a stale secret and config.
  if (worker) dieWithParent(() => void shutdown("supervisor gone", ORPHAN_GRACE_MS));
  else if (process.env[PARENT_PID_ENV]) dieWithParent(() => void shutdown("parent gone", config.shutdownTimeoutMs));
}

await main();
