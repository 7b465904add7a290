// Node's side of the runtime interface. Node has no zero-copy Response body, and a Blob body is
// read whole into memory there, so object bodies stream from the descriptor with a read size
// fitted to the length.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { readSpan } from "../http/read-span.ts";
import type { FetchHandler, OpenBody, Runtime, ServeOptions } from "./types.ts";

const SMALL_BODY = 128 * 1024;

function fileResponse(body: OpenBody, start: number, end: number, _size: number, status: number, headers: Record<string, string>): Response {
  const length = end - start + 1;
  // A stream costs more than the bytes for small bodies on Node; one read is cheaper. Bounded,
  // so memory per request stays small.
  if (length <= SMALL_BODY) {
    try {
      return new Response(readSpan(body.fd!, start, length), { status, headers });
    } finally {
      body.close();
    }
  }
  const highWaterMark = Math.min(512 * 1024, Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(Math.max(1, length)))));
  // The stream owns the descriptor from here: it closes it at the end, on error and on abort.
  const stream = Readable.toWeb(createReadStream("", { fd: body.detach(), start, end, highWaterMark, autoClose: true })) as unknown as ReadableStream<Uint8Array>;
  return new Response(stream, { status, headers });
}

/** @hono/node-server passes `{ incoming, outgoing }` as Hono's env. */
type NodeEnv = { incoming?: { url?: unknown; socket?: { remoteAddress?: string } } } | undefined;

export const nodeRuntime: Runtime = {
  name: "node",
  version: process.versions.node,
  serve: async (fetch: FetchHandler, opts: ServeOptions) => (await import("./node.ts")).serveNode(fetch, opts),
  fileResponse,
  remoteAddress: (env) => (env as NodeEnv)?.incoming?.socket?.remoteAddress ?? null,
  // Request.url has `.` and `..` segments resolved, which breaks the client's signature and hides
  // hostile keys from the key checks; Node keeps the raw request target.
  rawUrl: (env, req) => {
    const target = (env as NodeEnv)?.incoming?.url;
    return typeof target === "string" && target.startsWith("/") ? new URL(req.url).origin + target : req.url;
  },
};
