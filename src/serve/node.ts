// Node entry: the same app through @hono/node-server (HTTP, or HTTPS with --cert/--key).
import { serve } from "@hono/node-server";
import { readFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { Server } from "node:http";
import type { FetchHandler, RunningServer, ServeOptions } from "./types.ts";

function readTls(tls: NonNullable<ServeOptions["tls"]>) {
  return { cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
}

// How much of a refused request's unread body is read and dropped so the client, still sending,
// gets to read the S3 error; past it the connection is closed.
const MAX_DRAIN = 64 * 1024 * 1024;

/**
 * A request answered before its body was read (an early NoSuchBucket, AccessDenied, a refused
 * upload) still has the client sending. @hono/node-server drains only briefly before it destroys
 * the socket, and a client that sends its whole body before reading then sees a broken pipe
 * instead of the error (Bun delivers it). Reading the rest here lets the answer through.
 */
async function drainUnread(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > MAX_DRAIN) break;
    }
  } catch {
    return;
  }
  await reader.cancel().catch(() => {});
}

function drainingFetch(fetch: FetchHandler): FetchHandler {
  return async (req, env) => {
    const res = await fetch(req, env);
    if (req.body && !req.bodyUsed && !req.body.locked) void drainUnread(req.body);
    return res;
  };
}

export function serveNode(fetch: FetchHandler, opts: ServeOptions): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const tlsOptions = opts.tls ? { createServer: createHttpsServer, serverOptions: readTls(opts.tls) } : {};
    const server = serve({ fetch: drainingFetch(fetch), hostname: opts.host, port: opts.port, ...tlsOptions } as never, (info) => {
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
    // A connection with no traffic either way for 120 s is closed, as Bun's idleTimeout does.
    server.timeout = 120_000;
    // Node answers an Expect other than 100-continue (`Expect: 200`, an empty `Expect:`) with its
    // own bare 417 unless someone listens here; S3 ignores an expectation it does not know, and so
    // does Bun, so hand the request to the app as if the header were absent.
    server.on("checkExpectation", (req, res) => server.emit("request", req, res));
    server.on("error", reject);
  });
}
