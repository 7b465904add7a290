// Object bodies. On Bun a Bun.file (sliced for ranges) goes out with sendfile(2), no bytes
// through JavaScript. Node has no zero-copy Response body, and a Blob body is read whole into
// memory there (RUNTIME-NOTES), so Node streams with a read size fitted to the length.
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { Readable } from "node:stream";
import { isBun } from "../runtime.ts";

const SMALL_BODY = 128 * 1024;

function readSpan(path: string, start: number, length: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(length);
    let off = 0;
    while (off < length) {
      const n = readSync(fd, buf, off, length - off, start + off);
      if (n === 0) throw new Error("file shrank while being read");
      off += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * Response carrying bytes start..end (inclusive) of the file at `path`. `headers` must already
 * hold Content-Length (and Content-Range for 206): Bun must never size or range the body itself.
 */
export function fileResponse(path: string, start: number, end: number, size: number, status: number, headers: Record<string, string>): Response {
  if (isBun) {
    // Bun adds `Content-Disposition: filename="<backend file name>"` to file bodies of types it
    // does not render, unless the response has one (RUNTIME-NOTES). An empty value is the only
    // setting that neither leaks the name nor tells clients anything they did not store.
    if (headers["content-disposition"] === undefined) headers["content-disposition"] = "";
    const file = Bun.file(path);
    return new Response(start === 0 && end === size - 1 ? file : file.slice(start, end + 1), { status, headers });
  }
  const length = end - start + 1;
  // A stream costs more than the bytes for small bodies on Node; one read is cheaper. Bounded,
  // so memory per request stays small.
  if (length <= SMALL_BODY) return new Response(readSpan(path, start, length), { status, headers });
  const highWaterMark = Math.min(512 * 1024, Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(Math.max(1, length)))));
  const stream = Readable.toWeb(createReadStream(path, { start, end, highWaterMark })) as unknown as ReadableStream<Uint8Array>;
  return new Response(stream, { status, headers });
}
