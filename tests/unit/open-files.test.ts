// The open-files cache (src/storage/posix/open-files.ts) over a real directory: an entry is used
// only while its name still leads to the same, unchanged file; shared descriptors close once.
import { afterAll, beforeEach, expect, test } from "bun:test";
import { closeSync, constants, fstatSync, mkdirSync, mkdtempSync, openSync, readSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OpenFiles } from "../../src/storage/posix/open-files.ts";
import type { OpenObject } from "../../src/storage/types.ts";

const root = mkdtempSync(join(tmpdir(), "open-files-"));
const rootFd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
mkdirSync(join(root, "b"));
afterAll(() => {
  closeSync(rootFd);
  rmSync(root, { recursive: true, force: true });
});

const isOpen = (fd: number) => {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

/** What the backend hands the cache: an object open at `rel`, with close-once and hand-over. */
function opened(rel: string): { obj: OpenObject; fd: number } {
  const fd = openSync(join(root, rel), "r");
  let open = true;
  const st = fstatSync(fd);
  const obj: OpenObject = {
    bucket: "b", key: rel, size: st.size, etag: '"e"', lastModified: st.mtime, meta: null, isDirectoryObject: false, fd,
    close: () => { if (open) closeSync(fd); open = false; },
    detach: () => { open = false; return fd; },
  };
  return { obj, fd };
}

function offered(cache: OpenFiles, rel: string): OpenObject {
  const { obj, fd } = opened(rel);
  return cache.offer(rel, obj);
}

const read = (o: OpenObject) => {
  const buf = Buffer.alloc(o.size);
  readSync(o.fd!, buf, 0, o.size, 0);
  return buf.toString();
};

const tick = () => Bun.sleep(20);

let cache: OpenFiles;
beforeEach(() => {
  cache?.clear();
  cache = new OpenFiles(rootFd, root, 4, 0, 60_000);
  rmSync(join(root, "b/k"), { force: true });
  writeFileSync(join(root, "b/k"), "first");
});

test("a second read of an unchanged file is served from the kept descriptor", async () => {
  await tick();
  const a = offered(cache, "b/k");
  const b = cache.lookup("b/k");
  expect(b).not.toBeNull();
  expect(b!.fd).toBe(a.fd);
  expect(read(b!)).toBe("first");
  a.close();
  b!.close();
  expect(isOpen(a.fd!)).toBe(true);
  cache.clear();
  expect(isOpen(a.fd!)).toBe(false);
});

test("a file renamed over the name, deleted, or rewritten in place is not served from the entry", async () => {
  await tick();
  offered(cache, "b/k").close();
  writeFileSync(join(root, "b/new"), "other");
  renameSync(join(root, "b/new"), join(root, "b/k"));
  expect(cache.lookup("b/k")).toBeNull();

  await tick();
  offered(cache, "b/k").close();
  unlinkSync(join(root, "b/k"));
  expect(cache.lookup("b/k")).toBeNull();

  writeFileSync(join(root, "b/k"), "third");
  await tick();
  offered(cache, "b/k").close();
  await tick();
  writeFileSync(join(root, "b/k"), "THIRD");
  expect(cache.lookup("b/k")).toBeNull();
});

test("a name replaced by a link, even to the same file, misses", async () => {
  writeFileSync(join(root, "b/target"), "linked");
  await tick();
  offered(cache, "b/target").close();
  await tick();
  rmSync(join(root, "b/k"));
  symlinkSync("target", join(root, "b/k"));
  expect(cache.lookup("b/k")).toBeNull();
  expect(cache.lookup("b/target")).not.toBeNull();
});

test("files changed within the quiet time, and large files, are not kept", async () => {
  const young = new OpenFiles(rootFd, root, 4, 60_000, 60_000);
  const { obj } = opened("b/k");
  expect(young.offer("b/k", obj)).toBe(obj);
  obj.close();
  expect(young.lookup("b/k")).toBeNull();
  writeFileSync(join(root, "b/big"), Buffer.alloc(64 * 1024));
  await tick();
  const big = opened("b/big").obj;
  expect(cache.offer("b/big", big)).toBe(big);
  big.close();
});

test("a dropped entry's descriptor stays open for a reader still holding it, then closes", async () => {
  await tick();
  const a = offered(cache, "b/k");
  const fd = a.fd!;
  await tick();
  writeFileSync(join(root, "b/k"), "again");
  expect(cache.lookup("b/k")).toBeNull();
  expect(isOpen(fd)).toBe(true);
  expect(read(a)).toBe("again");
  a.close();
  a.close();
  expect(isOpen(fd)).toBe(false);
});

test("detach hands out a descriptor of its own; capacity evicts the oldest", async () => {
  await tick();
  const a = offered(cache, "b/k");
  const own = a.detach();
  expect(own).not.toBe(a.fd);
  cache.clear();
  expect(isOpen(a.fd!)).toBe(false);
  const buf = Buffer.alloc(5);
  readSync(own, buf, 0, 5, 0);
  expect(buf.toString()).toBe("first");
  closeSync(own);

  for (let i = 0; i < 5; i++) writeFileSync(join(root, `b/f${i}`), `f${i}`);
  await tick();
  const fds = [0, 1, 2, 3, 4].map((i) => {
    const o = offered(cache, `b/f${i}`);
    o.close();
    return o.fd!;
  });
  expect(cache.lookup("b/f0")).toBeNull();
  expect(isOpen(fds[0])).toBe(false);
  expect(cache.lookup("b/f4")).not.toBeNull();
});
