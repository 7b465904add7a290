// Node entry: the same app through @hono/node-server (HTTP, or HTTPS with --cert/--key).
import { serve } from "@hono/node-server";
import { readFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { Server } from "node:http";
import type { FetchHandler, RunningServer, ServeOptions } from "./types.ts";

function readTls(tls: NonNullable<ServeOptions["tls"]>) {
  return { cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
}

export function serveNode(fetch: FetchHandler, opts: ServeOptions): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const tlsOptions = opts.tls ? { createServer: createHttpsServer, serverOptions: readTls(opts.tls) } : {};
    const server = serve({ fetch, hostname: opts.host, port: opts.port, ...tlsOptions } as never, (info) => {
      resolve({
        port: info.port,
        stop(timeoutMs) {
          return new Promise<void>((done) => {
            const timer = setTimeout(() => server.closeAllConnections?.(), timeoutMs);
            timer.unref();
            server.close(() => {
              clearTimeout(timer);
              done();
            });
            server.closeIdleConnections?.();
          });
        },
        reloadTls() {
          if (opts.tls) (server as unknown as HttpsServer).setSecureContext(readTls(opts.tls));
        },
      });
    }) as Server;
    // No request timeout: large uploads legitimately take minutes. Headers must still come soon.
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    server.on("error", reject);
  });
}
