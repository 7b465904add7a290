// On Node, an upload's body read straight from the request's IncomingMessage. @hono/node-server
// gives the app a Request whose body is Readable.toWeb(incoming), which copies every chunk into a
// new Uint8Array and queues it through the web-stream machinery; reading the IncomingMessage
// hands over Node's own Buffers (docs/PERFORMANCE.md, "1 GiB PUT"). Bun never registers anything
// here: its request.body is already the cheapest reader it has.
import type { Readable } from "node:stream";
import type { BodyReader, BodySource } from "../storage/types.ts";

const incomingOf = new WeakMap<Request, Readable>();

/** serve/node.ts: `incoming` is where `req`'s body comes from. */
export function readBodyFrom(req: Request, incoming: Readable): void {
  incomingOf.set(req, incoming);
}

/**
 * The body of `req` straight from its IncomingMessage, or null (Bun, or a request whose web body
 * was already touched). Taken once: the web body must stay untouched while this is read, and the
 * server's drain after the response reads whatever this left over.
 */
export function directBody(req: Request): BodySource | null {
  const incoming = incomingOf.get(req);
  if (!incoming) return null;
  incomingOf.delete(req);
  // destroyOnReturn false: reaching the end must not destroy the request (and so, the keep-alive
  // connection); an error still does, as it would under a web stream.
  const it = incoming.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  const reader: BodyReader = {
    async read() {
      const r = await it.next();
      return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
    },
    releaseLock() {},
    // Nothing to stop: the server drains what is left once the response is out.
    cancel: async () => {},
  };
  return { getReader: () => reader };
}
