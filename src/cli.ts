#!/usr/bin/env bun
// Entry point for `bun run`, the compiled executable and the Node bundle: parse configuration,
// prepare the root, start the server for the runtime we are on, and shut down gracefully.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "./app.ts";
import { ConfigError, VERSION, helpText, parseCommand, type Config } from "./config.ts";
import { defaultOwnerId, loadCredentials } from "./credentials.ts";
import { PosixBackend } from "./posix/backend.ts";
import { GATEWAY_DIR, bucketSidecarDir } from "./posix/layout.ts";
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
import { writeProblem } from "./ops/ready.ts";
import { isBun } from "./runtime.ts";


function fail(message: string): never {
  process.stderr.write(`filegate: ${message}\n`);
  process.exit(2);
}

/** True when some bucket keeps sidecar records: the tree was served with the sidecar store. */
function hasSidecars(root: string): boolean {
  try {
    return readdirSync(root).some((b) => existsSync(bucketSidecarDir(join(root, b))));
  } catch {
    return false;
  }
}

function chooseMetaStore(config: Config, writable: boolean): MetaStore {
  const sidecar = () => new SidecarMetaStore(config.fsync !== "none");
  if (config.meta === "sidecar") return sidecar();
  // A read-only filesystem cannot take the probe's test file. Reading xattrs is harmless where
  // there are none (every file is then served as a foreign file), so `auto` reads them unless the
  // tree shows it was written with sidecars.
  if (!writable) return config.meta === "auto" && hasSidecars(config.root) ? sidecar() : new XattrMetaStore();
  const hasXattr = probeXattr(join(config.root, GATEWAY_DIR));
  if (config.meta === "xattr" && !hasXattr) fail(`--meta xattr: the filesystem of ${config.root} does not support user extended attributes`);
  return hasXattr ? new XattrMetaStore() : sidecar();
}

/**
 * Creates ROOT/.filegate. Returns true when the root's filesystem is read-only: the gateway then
 * still starts and serves reads (EROFS on a write is a 403, see errors.ts).
 */
function prepareRoot(root: string): boolean {
  try {
    // Level by level: Node's recursive mkdir reports ENOENT for a read-only filesystem.
    if (!existsSync(root)) mkdirSync(root, { recursive: true });
    mkdirSync(join(root, GATEWAY_DIR), { mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EROFS") return true;
    if (code !== "EEXIST") fail(`--root ${root}: ${(e as Error).message}`);
  }
  return writeProblem(root) === "EROFS";
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
  const readOnlyFs = prepareRoot(config.root);
  if (readOnlyFs && !config.readonly) {
    process.stderr.write(
      `filegate: ${config.root} is on a read-only filesystem: serving reads; writes answer 403 AccessDenied and /_filegate/ready answers 503 until it is writable (--readonly makes this the intent)\n`,
    );
  }
  let creds;
  try {
    creds = loadCredentials(config.root, { accessKey: config.accessKey, secretKey: config.secretKey });
  } catch (e) {
    const hint = readOnlyFs ? " (the root is read-only: set FILEGATE_ACCESS_KEY and FILEGATE_SECRET_KEY)" : "";
    fail(`cannot load or create credentials under ${config.root}: ${(e as Error).message}${hint}`);
  }
  const meta = chooseMetaStore(config, !readOnlyFs);
  const backend = new PosixBackend(config.root, meta, config.fsync);
  const log = (line: string) => process.stderr.write(line + "\n");
  const services: Services = {
    config,
    backend,
    multipart: new MultipartStore(backend),
    owner: { id: config.ownerId || defaultOwnerId(creds.accessKey), displayName: config.ownerName },
    lookupSecret: (ak) => (ak === creds.accessKey ? creds.secretKey : undefined),
    tokenKey: createHash("sha256").update("filegate-list-token\0" + creds.secretKey).digest(),
    log,
  };
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
      `  root        ${config.root}  (metadata: ${meta.kind})`,
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
