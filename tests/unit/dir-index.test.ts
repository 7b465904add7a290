import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IndexBroken, indexFile, openIndex, writeIndex, type DirStamp } from "../../src/storage/posix/dir-index.ts";
import { DirListings } from "../../src/storage/posix/dir-listing.ts";
import { walkBucket, type WalkEntry, type WalkOptions } from "../../src/storage/posix/walk.ts";
import { listingModel, utf8Sort } from "../support/listing-model.ts";

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(join(tmpdir(), "filegate-dir-index-"));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const STAMP: DirStamp = { dev: 2049n, ino: 1234567n, mtimeNs: 1_700_000_000_123_456_789n, ctimeNs: 1_700_000_000_123_456_789n };
const BUILT = 1_700_000_100_000; // 100 s after the stamp: quiet
const trust = (over: Partial<{ stamp: DirStamp; rel: string; quietMs: number }> = {}) => ({ stamp: STAMP, rel: "d/", atBucketTop: false, quietMs: 3000, ...over });

const list = (n: number) => {
  const names: string[] = [];
  for (let i = 0; i < n; i++) names.push(`k${String(i).padStart(5, "0")}` + (i % 97 === 0 ? "/" : ""));
  names.push("é", "日本", "😀", "\uff61", "a b", "a-b", "a/", "a0");
  return utf8Sort(names);
};
const asSource = (a: string[]) => ({ length: a.length, at: (i: number) => a[i] });

async function write(path: string, names: string[], links: Set<string> | null = null, stamp = STAMP, built = BUILT, blockNames?: number) {
  fs.mkdirSync(join(path, ".."), { recursive: true });
  await writeIndex(path, join(path, ".."), "d/", false, asSource(names), links, stamp, built, blockNames);
}

function all(idx: NonNullable<ReturnType<typeof openIndex>>): string[] {
  const out: string[] = [];
  for (let i = 0; i < idx.names.length; i++) out.push(idx.names.at(i)!);
  return out;
}

describe("index format", () => {
  test("round trip: names in order, links, any block read first", async () => {
    const path = join(root, "rt", "a.idx");
    const names = list(3000);
    await write(path, names, new Set(["k00001", "😀"]), STAMP, BUILT, 100);
    const idx = openIndex(path, trust())!;
    expect(idx).not.toBeNull();
    expect(idx.names.length).toBe(names.length);
    // Random access before sequential: blocks load independently.
    expect(idx.names.at(names.length - 1)).toBe(names[names.length - 1]);
    expect(idx.names.at(1500)).toBe(names[1500]);
    expect(idx.names.at(names.length)).toBeUndefined();
    expect(all(idx)).toEqual(names);
    expect([...idx.links!].sort()).toEqual(["k00001", "😀"].sort());
    // No temp file left beside it.
    expect(fs.readdirSync(join(root, "rt"))).toEqual(["a.idx"]);
  });

  test("empty and single-block directories", async () => {
    const path = join(root, "small", "a.idx");
    await write(path, []);
    expect(openIndex(path, trust())!.names.length).toBe(0);
    await write(path, ["x", "y/"]);
    expect(all(openIndex(path, trust())!)).toEqual(["x", "y/"]);
  });

  test("stale: any change of the directory's identity or times", async () => {
    const path = join(root, "stale", "a.idx");
    await write(path, list(10));
    expect(openIndex(path, trust())).not.toBeNull();
    for (const k of ["dev", "ino", "mtimeNs", "ctimeNs"] as const) {
      expect(openIndex(path, trust({ stamp: { ...STAMP, [k]: STAMP[k] + 1n } }))).toBeNull();
    }
    // Written for another directory.
    expect(openIndex(path, trust({ rel: "e/" }))).toBeNull();
  });

  test("made from a read within the quiet margin: never trusted", async () => {
    const path = join(root, "racy", "a.idx");
    const ctimeMs = Number(STAMP.ctimeNs / 1_000_000n);
    await write(path, list(10), null, STAMP, ctimeMs + 2000);
    expect(openIndex(path, trust({ quietMs: 3000 }))).toBeNull();
    expect(openIndex(path, trust({ quietMs: 1000 }))).not.toBeNull();
  });

  test("damaged header, table or size: ignored", async () => {
    const path = join(root, "bad", "a.idx");
    const names = list(2000);
    await write(path, names, null, STAMP, BUILT, 64);
    const good = fs.readFileSync(path);
    const tamper = (edit: (b: Buffer) => Buffer) => {
      fs.writeFileSync(path, edit(Buffer.from(good)), { mode: 0o600 });
      return openIndex(path, trust());
    };
    expect(tamper((b) => b)).not.toBeNull();
    for (const at of [0, 9, 13, 17, 21, 65, 73, 90, 100, 200, 96 + 8 * 32 + 1]) {
      expect(tamper((b) => ((b[at] ^= 0x40), b))).toBeNull();
    }
    expect(tamper((b) => b.subarray(0, b.length - 1))).toBeNull();
    expect(tamper((b) => b.subarray(0, 50))).toBeNull();
    expect(tamper((b) => Buffer.concat([b, Buffer.from("x")]))).toBeNull();
    expect(tamper(() => Buffer.from("not an index at all, just some text that is long enough to have a header".repeat(3)))).toBeNull();
    expect(tamper(() => Buffer.alloc(0))).toBeNull();
  });

  test("a damaged name block is found when read, not trusted", async () => {
    const path = join(root, "block", "a.idx");
    const names = list(2000);
    await write(path, names, null, STAMP, BUILT, 64);
    const b = fs.readFileSync(path);
    b[b.length - 10] ^= 0x01; // inside the last block
    fs.writeFileSync(path, b);
    const idx = openIndex(path, trust())!;
    expect(idx.names.at(0)).toBe(names[0]);
    expect(() => idx.names.at(names.length - 1)).toThrow(IndexBroken);
  });

  test("names that could leave the directory are refused even with good checksums", async () => {
    for (const bad of [["..", "a"], ["a", "b/c"], [".", "x"], ["a", "b//"], ["/"], ["b", "a"], [".filegate-obj.a"]]) {
      const path = join(root, "shape", "a.idx");
      await write(path, bad);
      const idx = openIndex(path, trust());
      expect(() => all(idx!)).toThrow(IndexBroken);
    }
  });

  test("not ours: group/world-writable, or a symlink", async () => {
    const path = join(root, "owner", "a.idx");
    await write(path, list(10));
    fs.chmodSync(path, 0o666);
    expect(openIndex(path, trust())).toBeNull();
    fs.chmodSync(path, 0o600);
    fs.symlinkSync(path, join(root, "owner", "b.idx"));
    expect(openIndex(join(root, "owner", "b.idx"), trust())).toBeNull();
  });
});

describe("listings through the index", () => {
  const isDirectoryObject = async () => false;
  type Flat = string;
  const flat = (e: WalkEntry): Flat => (e.type === "object" ? "K:" + e.key : "P:" + e.prefix);
  async function collect(bucket: string, listings: DirListings, opts: Partial<WalkOptions> = {}, max = Infinity): Promise<Flat[]> {
    const out: Flat[] = [];
    for await (const e of walkBucket(bucket, { isDirectoryObject, listings, ...opts })) {
      out.push(flat(e));
      if (out.length >= max) break;
    }
    return out;
  }
  const model = (keys: string[], o: Parameters<typeof listingModel>[1]) => listingModel(keys, o).entries;

  // A directory of 2,000 files plus a few others; indexes from 500 entries, no quiet margin.
  const OPTS = { quietMs: -60_000, indexMinEntries: 500 };
  let bucket: string;
  let keys: string[];
  beforeAll(() => {
    bucket = join(root, "bucket");
    fs.mkdirSync(join(bucket, "big"), { recursive: true });
    keys = [];
    for (let i = 0; i < 2000; i++) keys.push(`big/f${(i * 7919) % 2000}`);
    keys.push("big/sub/x", "big/é", "big/😀", "big/\uff61", "top");
    for (const k of keys) {
      fs.mkdirSync(join(bucket, k, ".."), { recursive: true });
      fs.writeFileSync(join(bucket, k), "");
    }
    fs.symlinkSync("f1", join(bucket, "big", "ln"));
    fs.symlinkSync("/etc/passwd", join(bucket, "big", "out"));
    keys.push("big/ln");
  });

  test("a fresh process lists via the index: same pages, markers, prefixes, delimiters", async () => {
    const first = new DirListings(OPTS);
    const expected = model(keys, {});
    expect(await collect(bucket, first)).toEqual(expected);
    await first.indexWrites;
    const idxDir = join(bucket, ".filegate", "listing");
    expect(fs.readdirSync(idxDir).length).toBe(1);

    const fresh = new DirListings(OPTS);
    const l = await fresh.read(join(bucket, "big"), false, false, bucket);
    expect(l!.names.constructor.name).toBe("IndexBacked");
    expect(l!.links).toEqual(new Set(["ln", "out"]));
    expect(await collect(bucket, new DirListings(OPTS))).toEqual(expected);
    for (const o of [
      { startAfter: "big/f1500" },
      { startAfter: "big/f1500x" },
      { startAfter: "big/sub/" },
      { startAfter: "big/" },
      { prefix: "big/f19" },
      { prefix: "big/f19", startAfter: "big/f195" },
      { prefix: "big/", delimiter: "/" },
      { prefix: "big/s", delimiter: "/" },
      { delimiter: "1" },
    ]) {
      expect(await collect(bucket, new DirListings(OPTS), o)).toEqual(model(keys, o));
    }
    // Pages of 100 following the last key.
    const pages: Flat[] = [];
    let startAfter: string | undefined;
    const listings = new DirListings(OPTS);
    for (;;) {
      const page = await collect(bucket, listings, { startAfter }, 100);
      pages.push(...page);
      if (page.length < 100) break;
      startAfter = page[page.length - 1].slice(2);
    }
    expect(pages).toEqual(expected);
  });

  test("a name added or removed afterwards: the index is stale, the listing is right, the index is rebuilt", async () => {
    const warm = new DirListings(OPTS);
    await collect(bucket, warm);
    await warm.indexWrites;
    await Bun.sleep(20); // directory times tick at kernel-timer granularity
    fs.writeFileSync(join(bucket, "big", "added"), "");
    fs.rmSync(join(bucket, "big", "f7"));
    const now = [...keys.filter((k) => k !== "big/f7"), "big/added"];
    const fresh = new DirListings(OPTS);
    expect(await collect(bucket, fresh)).toEqual(model(now, {}));
    // The warm process's cached listing is stale too.
    expect(await collect(bucket, warm)).toEqual(model(now, {}));
    await fresh.indexWrites;
    const again = new DirListings(OPTS);
    const l = await again.read(join(bucket, "big"), false, false, bucket);
    expect(l!.names.constructor.name).toBe("IndexBacked");
    expect(await collect(bucket, again)).toEqual(model(now, {}));
    fs.rmSync(join(bucket, "big", "added"));
    fs.writeFileSync(join(bucket, "big", "f7"), "");
  });

  test("a damaged block: the listing falls back to reading the directory and drops the index", async () => {
    const warm = new DirListings(OPTS);
    await collect(bucket, warm);
    await warm.indexWrites;
    const idxDir = join(bucket, ".filegate", "listing");
    const file = join(idxDir, fs.readdirSync(idxDir)[0]);
    const b = fs.readFileSync(file);
    b[b.length - 3] ^= 0x01;
    fs.writeFileSync(file, b);
    expect(await collect(bucket, new DirListings(OPTS))).toEqual(model(keys, {}));
    expect(fs.existsSync(file)).toBe(false);
  });

  test("a directory changed within the quiet margin gets no index", async () => {
    const b2 = join(root, "fresh-bucket");
    fs.mkdirSync(b2);
    for (let i = 0; i < 600; i++) fs.writeFileSync(join(b2, `f${i}`), "");
    const l = new DirListings({ quietMs: 3000, indexMinEntries: 500 });
    expect((await collect(b2, l)).length).toBe(600);
    await l.indexWrites;
    expect(fs.existsSync(join(b2, ".filegate", "listing"))).toBe(false);
  });

  test("the index path depends on the directory", () => {
    expect(indexFile("/p", "")).not.toBe(indexFile("/p", "a/"));
    expect(indexFile("/p", "a/")).toMatch(/^\/p\/listing\/[0-9a-f]{32}\.idx$/);
  });
});
