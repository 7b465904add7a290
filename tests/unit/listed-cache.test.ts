import { describe, expect, test } from "bun:test";
import { setAttributeSync } from "@napi-rs/xattr";
import { appendFileSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PosixBackend } from "../../src/storage/posix/backend.ts";
import { probeXattr, XattrMetaStore, type MetaLocation, type FileIdentity } from "../../src/storage/posix/meta.ts";
import { ListedCache, type FileVersion } from "../../src/storage/posix/listed-cache.ts";
import { walkBucket } from "../../src/storage/posix/walk.ts";
import type { ObjectMeta } from "../../src/storage/types.ts";

const v = (over: Partial<FileVersion> = {}): FileVersion => ({ ino: 7, dev: 2049, size: 3, mtimeMs: 1000.5, ctimeMs: 1000.5, ...over });
const NOW = 10_000;
const md5 = (n: number) => `"${n.toString(16).padStart(32, "0")}"`;
const A = '"0123456789abcdef0123456789abcdef"';

describe("ListedCache", () => {
  test("answers only for the same size, mtime and ctime of the inode", () => {
    const c = new ListedCache(10, 3000);
    c.set(v(), { etag: A }, NOW);
    expect(c.get(v())).toEqual({ etag: A });
    for (const change of [{ size: 4 }, { mtimeMs: 1000.6 }, { ctimeMs: 1000.6 }, { dev: 2050 }]) {
      c.set(v(), { etag: A }, NOW);
      expect(c.get(v(change))).toBeUndefined();
    }
    expect(c.get(v({ ino: 8 }))).toBeUndefined();
    // A file known to have no record is remembered as null, not as a miss.
    c.set(v({ ino: 9 }), null, NOW);
    expect(c.get(v({ ino: 9 }))).toBeNull();
    expect(c.get(v({ ino: 9, size: 5 }))).toBeUndefined();
  });

  test("ETags come back exactly: MD5, multipart part counts, checksum types; others are not kept", () => {
    const c = new ListedCache(10, 0);
    const mp = '"ffffffffffffffffffffffffffffffff-10000"';
    c.set(v({ ino: 1 }), { etag: A }, NOW);
    c.set(v({ ino: 2 }), { etag: mp, checksum: { algorithm: "CRC32", type: "COMPOSITE" } }, NOW);
    c.set(v({ ino: 3 }), { etag: '"not-an-md5"' }, NOW);
    c.set(v({ ino: 4 }), { etag: '"0123456789abcdef0123456789abcdef-0"' }, NOW);
    expect(c.get(v({ ino: 1 }))).toEqual({ etag: A });
    expect(c.get(v({ ino: 2 }))).toEqual({ etag: mp, checksum: { algorithm: "CRC32", type: "COMPOSITE" } });
    expect(c.get(v({ ino: 3 }))).toBeUndefined();
    expect(c.get(v({ ino: 4 }))).toBeUndefined();
    // Replacing a record drops its old checksum type.
    c.set(v({ ino: 2, size: 4 }), { etag: A }, NOW);
    expect(c.get(v({ ino: 2, size: 4 }))).toEqual({ etag: A });
  });

  test("inode numbers beyond 2^53 are not remembered: as doubles, neighbours would be equal", () => {
    const c = new ListedCache(10, 0);
    const big = Number((0x200000400n << 24n) + 17n); // a Lustre-style FID-derived inode
    expect(big).toBe(Number((0x200000400n << 24n) + 18n));
    c.set(v({ ino: big }), { etag: A }, NOW);
    expect(c.size).toBe(0);
    expect(c.get(v({ ino: big }))).toBeUndefined();
  });

  test("a file changed within the quiet period is not remembered (timestamps are coarse)", () => {
    const c = new ListedCache(10, 3000);
    c.set(v({ ctimeMs: NOW - 2999 }), { etag: A }, NOW);
    expect(c.size).toBe(0);
    c.set(v({ ctimeMs: NOW - 3001 }), { etag: A }, NOW);
    expect(c.size).toBe(1);
  });

  test("bounded: the oldest entry goes first; updating an inode keeps its place", () => {
    const c = new ListedCache(3, 0);
    for (let ino = 1; ino <= 5; ino++) c.set(v({ ino }), { etag: md5(ino) }, NOW);
    expect(c.size).toBe(3);
    expect(c.get(v({ ino: 1 }))).toBeUndefined();
    expect(c.get(v({ ino: 2 }))).toBeUndefined();
    for (const ino of [3, 4, 5]) expect(c.get(v({ ino }))?.etag).toBe(md5(ino));
    c.set(v({ ino: 4, size: 9 }), { etag: md5(44) }, NOW);
    expect(c.get(v({ ino: 3 }))?.etag).toBe(md5(3));
    expect(c.get(v({ ino: 4, size: 9 }))?.etag).toBe(md5(44));
  });

  test("the inode index agrees with a plain Map under heavy churn (collisions, wrap-around, eviction)", () => {
    const cap = 64;
    const c = new ListedCache(cap, 0);
    const model = new Map<number, string>();
    const order: number[] = [];
    let seed = 12345;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (let step = 0; step < 20_000; step++) {
      // Few distinct inodes, some huge: many collisions, re-sets and evictions.
      const ino = rnd(3) === 0 ? 2 ** 40 + rnd(50) * 2 ** 32 : rnd(200);
      const etag = md5(step);
      c.set(v({ ino }), { etag }, NOW);
      if (!model.has(ino)) {
        if (order.length === cap) model.delete(order.shift()!);
        order.push(ino);
      }
      model.set(ino, etag);
      if (step % 97 === 0) for (const [i, e] of model) expect(c.get(v({ ino: i }))?.etag).toBe(e);
    }
    expect(c.size).toBe(cap);
    for (let ino = 0; ino < 200; ino++) expect(c.get(v({ ino }))?.etag).toBe(model.get(ino));
  });

  test("the columns grow while filling: every entry survives each doubling, then the oldest go", () => {
    const cap = 20_000; // above the first columns (4,096): grows 4,096 -> 8,192 -> 16,384 -> 20,000
    const c = new ListedCache(cap, 0);
    for (let i = 0; i < cap; i++) {
      c.set(v({ ino: 1000 + i * 3 }), i % 5 === 0 ? null : { etag: md5(i), ...(i % 7 === 0 ? { checksum: { algorithm: "CRC32", type: "FULL_OBJECT" } } : {}) }, NOW);
      if (i === 4095 || i === 4096 || i === 8192 || i === cap - 1) {
        for (let j = 0; j <= i; j += 1 + (j % 13)) {
          const got = c.get(v({ ino: 1000 + j * 3 }));
          if (j % 5 === 0) expect(got).toBeNull();
          else expect(got).toEqual({ etag: md5(j), ...(j % 7 === 0 ? { checksum: { algorithm: "CRC32", type: "FULL_OBJECT" } } : {}) });
        }
      }
    }
    expect(c.size).toBe(cap);
    c.set(v({ ino: 7 }), { etag: A }, NOW);
    expect(c.get(v({ ino: 1000 }))).toBeUndefined();
    expect(c.get(v({ ino: 1003 }))?.etag).toBe(md5(1));
    expect(c.get(v({ ino: 7 }))?.etag).toBe(A);
  });

  test("inode numbers a power of two apart spread over the index instead of sharing a few homes", () => {
    // A hash whose low bits follow the inode's gave inodes 4,096 apart a handful of homes, and
    // ~390 probes per insert at 100k entries. Checked on the home positions themselves.
    const c = new ListedCache(1 << 17, 0) as unknown as { home(ino: number, size: number): number };
    for (const stride of [1, 64, 4096, 2 ** 20, 2 ** 32]) {
      const homes = new Set<number>();
      for (let i = 0; i < 100_000; i++) homes.add(c.home(1 + i * stride, 1 << 18));
      expect({ stride, spread: homes.size > 70_000 }).toEqual({ stride, spread: true });
    }
  });

  // The cache's soundness rests on the kernel moving ctime for every change that could alter what
  // a listing shows. Checked here on the real file system the tests run on.
  test("on this file system, xattr writes, appends and renames over a file all invalidate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "filegate-listed-"));
    try {
      const p = join(dir, "f");
      writeFileSync(p, "abc");
      const version = () => {
        const st = statSync(p);
        return { ino: st.ino, dev: st.dev, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
      };
      const c = new ListedCache(10, 0);
      const changes = [
        // Where there are no user xattrs the gateway uses sidecars, and never this cache.
        ...(probeXattr(dir) ? [() => setAttributeSync(p, "user.filegate.test", "x")] : []),
        () => appendFileSync(p, "d"),
        () => {
          writeFileSync(p + ".tmp", "abcd");
          renameSync(p + ".tmp", p);
        },
      ];
      for (const change of changes) {
        c.set(version(), { etag: A }, Date.now() + 1);
        expect(c.get(version())?.etag).toBe(A);
        // Coarse timestamps tick every few milliseconds; the quiet period covers this in the
        // gateway, the sleep here.
        await Bun.sleep(20);
        change();
        expect(c.get(version())).toBeUndefined();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("PosixBackend.listedObject", () => {
  // An xattr read that fails (EIO on a soft NFS mount, say) once must not be remembered as "this
  // file has no record": the made-up ETag would outlive the fault until the file changed.
  test("a failed metadata read is not remembered", async () => {
    const root = mkdtempSync(join(tmpdir(), "filegate-listed-"));
    try {
      writeFileSync(join(root, "k"), "abc");
      const record: ObjectMeta = { etag: "0123456789abcdef0123456789abcdef", headers: {}, user: {}, size: 3, mtimeMs: 0, ino: 0 };
      let failing = true;
      class FlakyStore extends XattrMetaStore {
        override read(_loc: MetaLocation, _st: FileIdentity): ObjectMeta | null | undefined {
          return failing ? undefined : record;
        }
      }
      const backend = new PosixBackend(root, new FlakyStore(), "none");
      // The file is new, so stand in a cache whose quiet period has passed.
      Object.assign(backend, { listed: new ListedCache(16, 0) });
      const listed = async () => {
        for await (const e of walkBucket(root, { isDirectoryObject: async () => false })) {
          if (e.type === "object") return backend.listedObject(root, e).etag;
        }
      };
      expect(await listed()).toMatch(/-1"$/);
      failing = false;
      expect(await listed()).toBe(`"${record.etag}"`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
