// Node entry: the same app through @hono/node-server (HTTP, or HTTPS with --cert/--key).
import { serve } from "@hono/node-server";
import { closeSync, createReadStream, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream";
import { readBodyFrom } from "../http/node-body.ts";
import { nodeFileBody, sendFileBodiesFromNodeServer, type NodeFileBody } from "./node-runtime.ts";
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

/** @hono/node-server leaves a response whose headers carry this to whoever sent it already. */
const ALREADY_SENT = "x-hono-already-sent";
/**
 * The runtime's own Response, taken before serve() replaces the global with @hono/node-server's
 * lighter one, whose bodiless responses take a path that does not look for ALREADY_SENT.
 */
const NativeResponse = globalThis.Response;
/** Reads of 512 KiB: fewer turns of the event loop per GiB than the default 64 KiB; 1 MiB was no
 * faster here and peaked ~25 MiB higher (VmHWM 174 MiB after nine 1 GiB GETs against 148). */
const FILE_READ_SIZE = 512 * 1024;

/**
 * Sends a file body straight from a Node file stream into the socket, after the Response's
 * status and headers: no web stream, no per-chunk promise. The stream owns the descriptor and
 * closes it at the end, on error, and when the client goes away (pipeline destroys both sides).
 */
function sendFile(res: Response, file: NodeFileBody, outgoing: ServerResponse): Response {
  const head: Record<string, string> = {};
  res.headers.forEach((v, k) => (head[k] = v));
  outgoing.writeHead(res.status, head);
  const stream = createReadStream("", { fd: file.fd, start: file.start, end: file.end, highWaterMark: FILE_READ_SIZE, autoClose: true });
  pipeline(stream, outgoing, () => {});
  return new NativeResponse(null, { headers: { [ALREADY_SENT]: "1" } });
}

function drainingFetch(fetch: FetchHandler): FetchHandler {
  return async (req, env) => {
    const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (incoming) readBodyFrom(req, incoming);
    const res = await fetch(req, env);
    if (req.body && !req.bodyUsed && !req.body.locked) void drainUnread(req.body);
    const file = nodeFileBody(res);
    if (file !== undefined) {
      const outgoing = (env as { outgoing?: ServerResponse; incoming?: IncomingMessage } | undefined)?.outgoing;
      if (outgoing) return sendFile(res, file, outgoing);
      // Not reachable through serve(); never leak the descriptor.
      closeSync(file.fd);
    }
    return res;
  };
}

export function serveNode(fetch: FetchHandler, opts: ServeOptions): Promise<RunningServer> {
  sendFileBodiesFromNodeServer();
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
