// One bounded read of a file span into memory, for bodies too small to be worth a stream or a
// sendfile.
import { readSync } from "node:fs";

export function readSpan(fd: number, start: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, buf, off, length - off, start + off);
    if (n === 0) throw new Error("file shrank while being read");
    off += n;
  }
  return buf;
}
