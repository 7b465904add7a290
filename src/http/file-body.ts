// Object bodies. On Bun a Bun.file (sliced for ranges) goes out with sendfile(2), no bytes
// through JavaScript. Node has no zero-copy Response body, and a Blob body is read whole into
// memory there (RUNTIME-NOTES), so Node streams with a read size fitted to the length.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** Body for bytes start..end (inclusive) of the file at `path`; null for an empty range. */
export function fileBody(path: string, start: number, end: number, size: number): ConstructorParameters<typeof Response>[0] {
  if (end < start) return null;
  if (isBun) {
    const file = Bun.file(path);
    return start === 0 && end === size - 1 ? file : file.slice(start, end + 1);
  }
  const length = end - start + 1;
  const highWaterMark = Math.min(1024 * 1024, Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(Math.min(length, 1024 * 1024)))));
  return Readable.toWeb(createReadStream(path, { start, end, highWaterMark })) as unknown as ReadableStream<Uint8Array>;
}
