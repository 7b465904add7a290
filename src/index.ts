// The embeddable gateway: `import { startFilegate } from "filegate"` starts one in the calling
// process (Bun or Node), for a test suite or a dev server. It is the same app the command line
// serves, over a temp directory unless told otherwise, on a free loopback port.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, parseCommand } from "./config.ts";
import { buildGateway, endpointOf } from "./gateway.ts";
import { waitUntilPortFree } from "./serve/workers.ts";
import { runtime } from "./runtime.ts";

export interface FilegateOptions {
  /** Directory served as buckets. Default: a new temp directory, removed by stop(). */
  root?: string;
  /** TCP port. Default 0: a free port. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Region reported and required in signatures. Default us-east-1. */
  region?: string;
  /** The account's keys. Default: generated once per root (kept in ROOT/.filegate/credentials). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Buckets created before startFilegate() resolves (existing ones are kept). */
  buckets?: string[];
  /** Durability before a write is acknowledged. Default "none" for a temp root, else "file". */
  fsync?: "none" | "file" | "full";
  /** Metadata store. Default "auto": xattrs where the filesystem has them, else sidecar files. */
  meta?: "auto" | "xattr" | "sidecar";
  /** Refuse every write with 403 AccessDenied. */
  readonly?: boolean;
  /** Enables virtual-hosted style requests: bucket.DOMAIN. */
  virtualDomain?: string;
  /** Requests handled at once; more get 503 SlowDown. Default 1024. */
  maxRequests?: number;
  /** JSON access log: a file path, "-" for stdout. Default: none. */
  accessLog?: string;
  /** Serve HTTPS with this PEM certificate and key. */
  tls?: { cert: string; key: string };
  /** Where the gateway's own log lines go (e.g. each 5xx with its cause). Default: stderr. */
  log?: (line: string) => void;
}

export interface RunningFilegate {
  /** e.g. http://127.0.0.1:40123 — pass to the S3 client with forcePathStyle: true. */
  endpoint: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  root: string;
  /** Closes every connection and resolves when the port is free; removes a temp root. */
  stop(): Promise<void>;
}

export async function startFilegate(options: FilegateOptions = {}): Promise<RunningFilegate> {
  const tempRoot = options.root === undefined ? mkdtempSync(join(tmpdir(), "filegate-")) : null;
  const root = options.root ?? tempRoot!;
  const removeTemp = () => tempRoot && rmSync(tempRoot, { recursive: true, force: true });
  try {
    // The command line's parser validates (one set of rules); the caller's environment is not read.
    const args = ["serve", "--root", root, "--port", String(options.port ?? 0), "--host", options.host ?? "127.0.0.1", "--workers", "1", "--quiet"];
    const flag = (name: string, v: string | number | undefined) => v !== undefined && args.push(`--${name}`, String(v));
    flag("region", options.region);
    flag("fsync", options.fsync ?? (tempRoot ? "none" : undefined));
    flag("meta", options.meta);
    flag("virtual-domain", options.virtualDomain);
    flag("max-requests", options.maxRequests);
    flag("access-log", options.accessLog);
    flag("cert", options.tls?.cert);
    flag("key", options.tls?.key);
    if (options.readonly) args.push("--readonly");
    const env = options.credentials ? { FILEGATE_ACCESS_KEY: options.credentials.accessKeyId, FILEGATE_SECRET_KEY: options.credentials.secretAccessKey } : {};
    const command = parseCommand(args, env);
    if (command.kind !== "serve") throw new Error("unreachable");
    const config = command.config;
    const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
    const gw = buildGateway(config, { log, accessLog: options.accessLog !== undefined });
    for (const bucket of options.buckets ?? []) {
      try {
        gw.services.store.createBucket(bucket);
      } catch (e) {
        if ((e as { code?: string }).code !== "BucketAlreadyOwnedByYou") throw e;
      }
    }
    const server = await runtime.serve(gw.app.fetch, { host: config.host, port: config.port, tls: config.tls, reusePort: false });
    let stopped: Promise<void> | null = null;
    return {
      endpoint: endpointOf(config, server.port),
      port: server.port,
      accessKeyId: gw.credentials.accessKey,
      secretAccessKey: gw.credentials.secretKey,
      region: config.region,
      root,
      stop: () =>
        (stopped ??= (async () => {
          // In-flight requests get a moment; idle keep-alive connections are closed at once.
          await server.stop(1000);
          gw.stopSweeper();
          await gw.accessLog?.close();
          await waitUntilPortFree(config.host, server.port, 5000).catch(() => {});
          removeTemp();
        })()),
    };
  } catch (e) {
    removeTemp();
    if (e instanceof ConfigError) throw new TypeError(`startFilegate: ${e.message}`);
    throw e;
  }
}
