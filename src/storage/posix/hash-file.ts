// Digests of a file already on disk (a copy whose source had no MD5 yet): read back through the
// page cache, never held whole.
import { createReadStream } from "node:fs";
import { createHasher, type Hasher } from "../../checksums/index.ts";

export async function hashFile(path: string, extra: Hasher | null): Promise<{ md5: string; checksum?: string }> {
  const md5 = createHasher("MD5");
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    md5.update(chunk as Buffer);
    extra?.update(chunk as Buffer);
  }
  return { md5: md5.digest().toString("hex"), ...(extra ? { checksum: extra.digest().toString("base64") } : {}) };
}
