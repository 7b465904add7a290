// Object bodies, served from the descriptor the object was opened with (so the bytes are of the
// version whose headers were sent). On Bun a Bun.file of /proc/self/fd/N (sliced for ranges) goes
// out with sendfile(2), no bytes through JavaScript: Bun opens that path itself when it starts
// the response, right after the handler's promise settles, and closes its own descriptor when
// done; ours is closed on the next turn of the event loop (docs/RUNTIME.md). Node has no
// zero-copy Response body, and a Blob body is read whole into memory there. Under filegate's own
// Node server (serve/node.ts) a large body skips web streams altogether: the Response goes back
// without a body, and the server pipes a file stream straight into the socket after the headers
// (nodeFileBody). Anywhere else Node streams from the descriptor through a web stream.
import { createReadStream, readSync } from "node:fs";
import { Readable } from "node:stream";
import { isBun } from "../runtime.ts";
import { fdPath } from "../storage/posix/kernel.ts";

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
/** Under this Bun never uses sendfile anyway (docs/RUNTIME.md). */
const BUN_READ_ITSELF = 64 * 1024;

/** An open object's descriptor and the way to close it (once). */
export interface OpenBody {
  fd: number | null;
  close(): void;
  /** Hands the descriptor over to its new owner: close() no longer touches it. */
  detach(): number;
}

function readSpan(fd: number, start: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, buf, off, length - off, start + off);
    if (n === 0) throw new Error("file shrank while being read");
    off += n;
  }
  return buf;
}

/**
 * Response carrying bytes start..end (inclusive) of the open file `body`, which it takes over.
 * `headers` must already hold Content-Length (and Content-Range for 206): Bun must never size or
 * range the body itself.
 */
export function fileResponse(body: OpenBody, start: number, end: number, size: number, status: number, headers: Record<string, string>): Response {
  if (isBun && end - start < BUN_READ_ITSELF) {
    // Bun reads bodies this small itself (pread, then one sendmsg with the headers) instead of
    // sendfile; reading them from our descriptor spares its reopening /proc/self/fd/N.
    try {
      return new Response(readSpan(body.fd!, start, end - start + 1), { status, headers });
    } finally {
      body.close();
    }
  }
  if (isBun) {
    // Bun adds `Content-Disposition: filename="<backend file name>"` to file bodies of types it
    // does not render, unless the response has one. An empty value is the only setting that
    // neither leaks the name nor tells clients anything they did not store.
    if (headers["content-disposition"] === undefined) headers["content-disposition"] = "";
    const file = Bun.file(fdPath(body.fd!));
    setImmediate(body.close);
    return new Response(start === 0 && end === size - 1 ? file : file.slice(start, end + 1), { status, headers });
  }
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
