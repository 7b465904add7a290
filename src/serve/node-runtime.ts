// Node's side of the runtime interface. Node has no zero-copy Response body, and a Blob body is
// read whole into memory there. Under filegate's own Node server (serve/node.ts) a large body
// skips web streams altogether: the Response goes back without a body, and the server pipes a
// file stream straight into the socket after the headers (nodeFileBody). Anywhere else (an
// embedder's server) Node streams from the descriptor through a web stream.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { readSpan } from "../http/read-span.ts";
import type { FetchHandler, OpenBody, Runtime, ServeOptions } from "./types.ts";

const SMALL_BODY = 128 * 1024;

/** What serve/node.ts sends after the headers of a Response that fileResponse left without a body. */
export interface NodeFileBody {
  fd: number;
  start: number;
  end: number;
}

const nodeFileBodies = new WeakMap<Response, NodeFileBody>();
let nodeServerSendsFiles = false;

/** Called by the Node server, which then sends the bodies nodeFileBody hands it. */
export function sendFileBodiesFromNodeServer(): void {
  nodeServerSendsFiles = true;
}

/** The file a bodiless Response stands for (taken: asked once, by the Node server). */
export function nodeFileBody(response: Response): NodeFileBody | undefined {
  const body = nodeFileBodies.get(response);
  if (body !== undefined) nodeFileBodies.delete(response);
  return body;
}

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
  if (nodeServerSendsFiles) {
    // The descriptor goes with the entry; serve/node.ts opens the stream that closes it.
    const response = new Response(null, { status, headers });
    nodeFileBodies.set(response, { fd: body.detach(), start, end });
    return response;
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
