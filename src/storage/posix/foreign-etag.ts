// The ETag of a file nobody stored through S3 (no record, so no MD5): made from what identifies
// its contents' version on disk, cheaply enough for listings to compute one per object.

/**
 * A file nobody stored through S3 gets an ETag derived from what identifies its contents' version
 * on disk. The `-1` suffix makes clients treat it as a multipart ETag, never as an MD5.
 *
 * Four murmur3-style 32-bit lanes over the numbers themselves (no string is built): 32
 * well-mixed hex digits. An MD5 here cost more than the stat and the xattr read together in a
 * listing; nothing relies on it being one. mtime counts to the microsecond, finer than any two
 * runtimes' doubles might disagree on. */
export function foreignEtagOf(ino: number, size: number, mtimeMs: number): string {
  const ms = Math.floor(mtimeMs);
  // A scratch array, not a fresh one per call: listings call this once per object.
  const words = FOREIGN_WORDS;
  words[0] = ino >>> 0;
  words[1] = Math.floor(ino / 2 ** 32);
  words[2] = size >>> 0;
  words[3] = Math.floor(size / 2 ** 32);
  words[4] = ms >>> 0;
  words[5] = Math.floor(ms / 2 ** 32);
  words[6] = Math.round((mtimeMs - ms) * 1000);
  for (let lane = 0; lane < 4; lane++) {
    let h = Math.imul(lane + 1, 0x9e3779b1);
    for (let i = 0; i < 7; i++) {
      const w = words[i];
      let k = Math.imul(w, 0xcc9e2d51);
      k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    FOREIGN_ETAG.writeUInt32BE(h >>> 0, 4 * lane);
  }
  return FOREIGN_ETAG.toString("hex") + "-1";
}

/** Scratch for foreignEtagOf; it is synchronous, so one buffer serves every call. */
const FOREIGN_ETAG = Buffer.alloc(16);

const FOREIGN_WORDS = new Uint32Array(7);
