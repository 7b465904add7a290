#!/usr/bin/env bun
// Entry point for `bun run`, the compiled executable and the Node bundle: parse configuration,
// prepare the root, start the server for the runtime we are on, and shut down gracefully.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "./app.ts";
import { ConfigError, VERSION, helpText, parseCommand, type Config } from "./config.ts";
import { defaultOwnerId, loadCredentials } from "./credentials.ts";
import { PosixBackend } from "./posix/backend.ts";
import { GATEWAY_DIR } from "./posix/layout.ts";
import { TEMP_MIN_AGE_MS, sweepTempFiles } from "./posix/incoming.ts";
import { MultipartStore, cleanupUploads } from "./posix/multipart.ts";
import { SidecarMetaStore, XattrMetaStore, probeXattr, type MetaStore } from "./posix/meta.ts";
import type { Services } from "./s3/context.ts";
import type { RunningServer } from "./serve/types.ts";
import { freePort, isWorkerProcess, superviseCluster, superviseWorkers, waitUntilListening } from "./serve/workers.ts";
import cluster from "node:cluster";
import { AccessLog } from "./ops/access-log.ts";
import { Metrics } from "./ops/metrics.ts";
import { countOpenUploads } from "./ops/uploads-gauge.ts";
import { isBun } from "./runtime.ts";
import { kernelPath } from "./posix/kernel.ts";
import { startSweeper } from "./ops/sweeper.ts";


function fail(message: string): never {
  process.stderr.write(`filegate: ${message}\n`);
  process.exit(2);
}

function chooseMetaStore(config: Config): MetaStore {
  const sidecar = () => new SidecarMetaStore(config.fsync !== "none");
  if (config.meta === "sidecar") return sidecar();
  const hasXattr = probeXattr(join(config.root, GATEWAY_DIR));
  if (config.meta === "xattr" && !hasXattr) fail(`--meta xattr: the filesystem of ${config.root} does not support user extended attributes`);
  return hasXattr ? new XattrMetaStore() : sidecar();
}

function endpointOf(config: Config, port: number): string {
  return `${config.tls ? "https" : "http"}://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
}

async function main(): Promise<void> {
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
  const config = command.config;
  try {
    mkdirSync(join(config.root, GATEWAY_DIR), { recursive: true, mode: 0o700 });
  } catch (e) {
    fail(`--root ${config.root}: ${(e as Error).message}`);
  }
  const creds = loadCredentials(config.root, { accessKey: config.accessKey, secretKey: config.secretKey });
  const meta = chooseMetaStore(config);
  const backend = new PosixBackend(config.root, meta, config.fsync);
  const services: Services = {
    config,
    backend,
    multipart: new MultipartStore(backend),
    owner: { id: config.ownerId || defaultOwnerId(creds.accessKey), displayName: config.ownerName },
    lookupSecret: (ak) => (ak === creds.accessKey ? creds.secretKey : undefined),
    tokenKey: createHash("sha256").update("filegate-list-token\0" + creds.secretKey).digest(),
  };
  const log = (line: string) => process.stderr.write(line + "\n");
  if (!config.readonly) startSweeper(config.root, backend, services.multipart, log);
  const app = createApp(services, {
    log,
    metrics: new Metrics(),
    accessLog: config.quiet ? null : new AccessLog(config.accessLog),
    gauges: () => ({ filegate_multipart_uploads_open: countOpenUploads(config.root) }),
  });

  const banner = (port: number) => {
    if (config.quiet) {
      process.stdout.write(`filegate listening on ${endpointOf(config, port)}\n`);
      return;
    }
    const lines = [
      `filegate ${VERSION} on ${isBun ? "Bun " + Bun.version : "Node " + process.versions.node}, ${config.workers} worker${config.workers > 1 ? "s" : ""}`,
      `  endpoint    ${endpointOf(config, port)}`,
      `  root        ${config.root}  (metadata: ${meta.kind}, kernel calls: ${kernelPath})`,
      `  region      ${config.region}`,
      `  access key  ${creds.accessKey}`,
      // A generated secret has to be shown once or nobody could use it; one from the environment
      // is the operator's own and is never printed.
      creds.source === "environment" ? `  secret key  (from FILEGATE_SECRET_KEY)` : `  secret key  ${creds.secretKey}   (kept in ${creds.source})`,
    ];
    process.stdout.write(lines.join("\n") + "\n");
  };

  const worker = isWorkerProcess() || (!isBun && !cluster.isPrimary);
  if (config.workers > 1 && !worker) {
    if (isBun) {
      const port = config.port || (await freePort(config.host));
      superviseWorkers(config.workers, port, log);
      // Announce the endpoint only when it answers: scripts wait for this line.
      await waitUntilListening(config.host, port).catch((e) => fail((e as Error).message));
      banner(port);
    } else {
      superviseCluster(config.workers, banner, log);
    }
    return;
  }

  const serveOptions = { host: config.host, port: config.port, tls: config.tls, reusePort: worker };
  let server: RunningServer;
  try {
    server = isBun
      ? (await import("./serve/bun.ts")).serveBun(app.fetch, serveOptions)
      : await (await import("./serve/node.ts")).serveNode(app.fetch, serveOptions);
  } catch (e) {
    fail(`cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`);
  }
  if (!worker) banner(server.port);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`filegate: ${signal}: finishing in-flight requests (up to ${config.shutdownTimeoutMs / 1000}s)`);
    await server.stop(config.shutdownTimeoutMs);
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGHUP", () => {
    try {
      server.reloadTls();
      if (config.tls) log("filegate: SIGHUP: TLS certificate and key reloaded");
    } catch (e) {
      log(`filegate: SIGHUP: TLS reload failed, keeping the old certificate: ${(e as Error).message}`);
    }
  });
}

await main();
