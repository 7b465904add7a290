// One gateway over one root: its credentials, metadata store, backend and Hono app. The command
// line (cli.ts) and the embedded startFilegate() (index.ts) both build theirs here; they differ
// only in how they listen and shut down.
import { BucketOwners } from "./access/owners.ts";
import { S3Error } from "./errors.ts";
import { UserStore } from "./identity/user-store.ts";
import { inlinePolicies } from "./identity/user-policies.ts";
import type { AccessSources } from "./access/sources.ts";
import type { ObjectStore } from "./storage/types.ts";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Hono } from "hono";
import { createApp, type Logger } from "./app.ts";
import { bucketAccess } from "./access/bucket-access.ts";
import { aclAllows } from "./access/stored-acls.ts";
import type { Config } from "./config.ts";
import { defaultOwnerId, loadCredentials, type Credentials } from "./credentials.ts";
import { AccessLog } from "./ops/access-log.ts";
import { Metrics, type MetricsSnapshot } from "./ops/metrics.ts";
import { countOpenUploads } from "./ops/uploads-gauge.ts";
import { PosixBackend } from "./storage/posix/backend.ts";
import { GATEWAY_DIR, bucketSidecarDir } from "./storage/posix/layout.ts";
import { writeProblem } from "./ops/ready.ts";
import { SidecarMetaStore, XattrMetaStore, probeXattr, type MetaStore } from "./storage/posix/meta.ts";
import { MultipartStore } from "./storage/posix/multipart.ts";
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
  if (config.meta === "xattr" && !hasXattr) throw new SetupError(`--meta xattr: the filesystem of ${config.root} does not support user extended attributes`);
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
    if (code !== "EEXIST") throw new SetupError(`--root ${root}: ${(e as Error).message}`);
  }
  return writeProblem(root) === "EROFS";
}

export function buildGateway(config: Config, opts: { log: Logger; accessLog: boolean; scrape?: (m: Metrics) => () => Promise<MetricsSnapshot> }): Gateway {
  const readOnlyFs = prepareRoot(config.root);
  if (readOnlyFs && !config.readonly) {
    opts.log(
      `filegate: ${config.root} is on a read-only filesystem: serving reads; writes answer 403 AccessDenied and /_filegate/ready answers 503 until it is writable (--readonly makes this the intent)`,
    );
  }
  let credentials: Credentials;
  try {
    credentials = loadCredentials(config.root, { accessKey: config.accessKey, secretKey: config.secretKey });
  } catch (e) {
    const hint = readOnlyFs ? " (the root is read-only: set FILEGATE_ACCESS_KEY and FILEGATE_SECRET_KEY)" : "";
    throw new SetupError(`cannot load or create credentials under ${config.root}: ${(e as Error).message}${hint}`);
  }
  const meta = chooseMetaStore(config, !readOnlyFs);
  // The one place that names the POSIX store; everything above it sees src/storage/types.ts.
  const backend = new PosixBackend(config.root, meta, config.fsync, config.listingQuietMs === undefined ? {} : { quietMs: config.listingQuietMs });
  const uploads = new MultipartStore(backend);
  const owner = { id: config.ownerId || defaultOwnerId(credentials.accessKey), displayName: config.ownerName };
  // The root's own credentials are the first admin; every other user lives in ROOT/.filegate/users.json.
  let users: UserStore;
  try {
    users = new UserStore(config.root, {
      firstAdmin: { canonicalId: owner.id, displayName: owner.displayName, accessKey: credentials.accessKey, secretKey: credentials.secretKey },
      fsync: config.fsync !== "none",
      log: opts.log,
      refuseSharedKeys: true,
    });
  } catch (e) {
    throw new SetupError(`the users of ${config.root} (${GATEWAY_DIR}/users.json): ${(e as Error).message}`);
  }
  if (!readOnlyFs) users.recordFirstAdminKey();
  const owners = new BucketOwners(backend, owner, (id) => users.byCanonicalId(id)?.displayName);
  // Bucket policies and Block Public Access from the bucket settings; owners and inline policies from the users.
  const access: AccessSources = {
    ...bucketAccess({ store: backend, blockPublic: config.blockPublic, defaultOwner: owner.id, log: opts.log, users: (name) => users.user(name) }),
    bucketOwner: (bucket) => owners.ownerId(bucket),
    userPolicies: inlinePolicies(users, opts.log),
    // ACL grants, on buckets whose Object Ownership enables ACLs.
    aclAllows: (q) => aclAllows({ store: backend, owners }, q),
  };
  const services: Services = {
    config,
    store: backend,
    uploads,
    owner,
    users,
    owners,
    lookupSecret: (ak) => users.lookupSecret(ak),
    identify: (ak) => {
      const principal = users.identify(ak);
      // The key was removed between the signature check and now (another process changed the users).
      if (!principal) throw new S3Error("InvalidAccessKeyId", undefined, { AWSAccessKeyId: ak });
      return principal;
    },
    access,
    tokenKey: createHash("sha256").update("filegate-list-token\0" + credentials.secretKey).digest(),
    log: opts.log,
  };
  const stopSweeper = config.readonly || readOnlyFs ? () => {} : startSweeper(config.root, backend, uploads, opts.log);
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

/**
 * The store of an existing root for operator commands (`filegate versions`), without a server:
 * the same metadata choice serve would make.
 */
export function openStoreForOperator(root: string, meta: Config["meta"]): ObjectStore {
  const readOnly = prepareRoot(root);
  return new PosixBackend(root, chooseMetaStore({ root, meta, fsync: "none" } as Config, !readOnly), "none");
}
