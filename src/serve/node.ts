// Node entry: the same app through @hono/node-server.
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { FetchHandler, RunningServer } from "./types.ts";

export function serveNode(fetch: FetchHandler, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: host, port }, (info) => {
      resolve({
        port: info.port,
        stop(timeoutMs) {
          return new Promise<void>((done) => {
            const timer = setTimeout(() => {
              (server as Server).closeAllConnections?.();
            }, timeoutMs);
            timer.unref();
            server.close(() => {
              clearTimeout(timer);
              done();
            });
            (server as Server).closeIdleConnections?.();
          });
        },
      });
    }) as Server;
    // No request timeout: large uploads legitimately take minutes.
    server.requestTimeout = 0;
    server.on("error", reject);
  });
}
