import { describe, expect, test } from "bun:test";
import { setAttributeSync } from "@napi-rs/xattr";
import { appendFileSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probeXattr } from "../../src/posix/meta.ts";
import { ListedCache, type FileVersion } from "../../src/posix/listed-cache.ts";

const v = (over: Partial<FileVersion> = {}): FileVersion => ({ ino: 7, size: 3, mtimeMs: 1000.5, ctimeMs: 1000.5, ...over });
const NOW = 10_000;

describe("ListedCache", () => {
  test("answers only for the same size, mtime and ctime of the inode", () => {
    const c = new ListedCache(10, 3000);
    c.set(v(), { etag: '"a"' }, NOW);
    expect(c.get(v())?.etag).toBe('"a"');
    for (const change of [{ size: 4 }, { mtimeMs: 1000.6 }, { ctimeMs: 1000.6 }]) {
      c.set(v(), { etag: '"a"' }, NOW);
      expect(c.get(v(change))).toBeUndefined();
      // a mismatch drops the entry
      expect(c.get(v())).toBeUndefined();
    }
    expect(c.get(v({ ino: 8 }))).toBeUndefined();
  });

  test("a file changed within the quiet period is not remembered (timestamps are coarse)", () => {
    const c = new ListedCache(10, 3000);
    c.set(v({ ctimeMs: NOW - 2999 }), { etag: '"a"' }, NOW);
    expect(c.size).toBe(0);
    c.set(v({ ctimeMs: NOW - 3001 }), { etag: '"a"' }, NOW);
    expect(c.size).toBe(1);
  });

  test("bounded: the oldest entry goes first", () => {
    const c = new ListedCache(3, 0);
    for (let ino = 1; ino <= 5; ino++) c.set(v({ ino }), { etag: `"${ino}"` }, NOW);
    expect(c.size).toBe(3);
    expect(c.get(v({ ino: 1 }))).toBeUndefined();
    expect(c.get(v({ ino: 2 }))).toBeUndefined();
    expect(c.get(v({ ino: 5 }))?.etag).toBe('"5"');
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
        return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
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
        c.set(version(), { etag: '"old"' }, Date.now() + 1);
        expect(c.get(version())?.etag).toBe('"old"');
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
