// One gateway over one root: its credentials, metadata store, backend and Hono app. The command
// line (cli.ts) and the embedded startFilegate() (index.ts) both build theirs here; they differ
// only in how they listen and shut down.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Hono } from "hono";
import { createApp, type Logger } from "./app.ts";
import type { Config } from "./config.ts";
import { defaultOwnerId, loadCredentials, type Credentials } from "./credentials.ts";
import { AccessLog } from "./ops/access-log.ts";
import { Metrics, type MetricsSnapshot } from "./ops/metrics.ts";
import { countOpenUploads } from "./ops/uploads-gauge.ts";
import { PosixBackend } from "./posix/backend.ts";
import { GATEWAY_DIR } from "./posix/layout.ts";
import { SidecarMetaStore, XattrMetaStore, probeXattr, type MetaStore } from "./posix/meta.ts";
import { MultipartStore } from "./posix/multipart.ts";
import type { Services } from "./s3/context.ts";
import { startSweeper } from "./ops/sweeper.ts";

/** A configuration that cannot be served (root not creatable, --meta xattr without xattrs). */
export class SetupError extends Error {}

export interface Gateway {
  app: Hono;
  services: Services;
  credentials: Credentials;
  meta: MetaStore;
  metrics: Metrics;
  accessLog: AccessLog | null;
  /** Stops the periodic sweep of what dead processes left (ops/sweeper.ts). */
  stopSweeper: () => void;
}

function chooseMetaStore(config: Config): MetaStore {
  const sidecar = () => new SidecarMetaStore(config.fsync !== "none");
  if (config.meta === "sidecar") return sidecar();
  const hasXattr = probeXattr(join(config.root, GATEWAY_DIR));
  if (config.meta === "xattr" && !hasXattr) throw new SetupError(`--meta xattr: the filesystem of ${config.root} does not support user extended attributes`);
  return hasXattr ? new XattrMetaStore() : sidecar();
}

export function buildGateway(config: Config, opts: { log: Logger; accessLog: boolean; scrape?: (m: Metrics) => () => Promise<MetricsSnapshot> }): Gateway {
  try {
    mkdirSync(join(config.root, GATEWAY_DIR), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new SetupError(`--root ${config.root}: ${(e as Error).message}`);
  }
  const credentials = loadCredentials(config.root, { accessKey: config.accessKey, secretKey: config.secretKey });
  const meta = chooseMetaStore(config);
  const backend = new PosixBackend(config.root, meta, config.fsync);
  const services: Services = {
    config,
    backend,
    multipart: new MultipartStore(backend),
    owner: { id: config.ownerId || defaultOwnerId(credentials.accessKey), displayName: config.ownerName },
    lookupSecret: (ak) => (ak === credentials.accessKey ? credentials.secretKey : undefined),
    tokenKey: createHash("sha256").update("filegate-list-token\0" + credentials.secretKey).digest(),
  };
  const stopSweeper = config.readonly ? () => {} : startSweeper(config.root, backend, services.multipart, opts.log);
  const metrics = new Metrics();
  const accessLog = opts.accessLog ? new AccessLog(config.accessLog) : null;
  const app = createApp(services, {
    log: opts.log,
    metrics,
    accessLog,
    gauges: () => ({ filegate_multipart_uploads_open: countOpenUploads(config.root) }),
    scrape: opts.scrape?.(metrics),
  });
  return { app, services, credentials, meta, metrics, accessLog, stopSweeper };
}

export function endpointOf(config: Pick<Config, "tls" | "host">, port: number): string {
  return `${config.tls ? "https" : "http"}://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
}
