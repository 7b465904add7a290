import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isStorageError } from "../../src/storage/errors.ts";
import { listingModel, utf8Sort } from "../support/listing-model.ts";
import { compareKeys, walkBucket, type WalkEntry, type WalkOptions } from "../../src/storage/posix/walk.ts";
import { DirListings } from "../../src/storage/posix/dir-listing.ts";

// Keys the tree below holds. "dir/" is a directory object; "lnk" is a symlink to a file inside the
// bucket ("out", a link to a file outside it, is no key). A file
// "a" cannot coexist with the directory holding "a/b", so "a" is exercised by prefix instead.
const KEYS = [
  "a-b", "a/b", "a.b", "a0", "Z", "é", "日本", "😀", "\uff61", "a b", "a+b", "dir/", "dir/in",
  "x/y/z/deep", "x/y/z/deep2", "x/y/top", "x/y-", "x/yz", "x/y/", "b/c-d/e", "b/c-d-f", "b/cd", "bab",
  "m/\ud83d\ude00/1", "m/\uff61/2", "lnk", "only/", "nested/obj/", "nested/obj/inner/",
];


type Flat = string; // "K:key" for objects, "P:prefix" for common prefixes
const flat = (e: WalkEntry): Flat => (e.type === "object" ? "K:" + e.key : "P:" + e.prefix);
const lastOf = (f: Flat) => f.slice(2);

const model = (keys: string[], o: Parameters<typeof listingModel>[1]): Flat[] => listingModel(keys, o).entries;

let root: string;
let bucket: string;
const dirObjects = new Set<string>();
let dirObjectCalls: string[] = [];
const isDirectoryObject = async (p: string) => {
  dirObjectCalls.push(p);
  return dirObjects.has(p);
};

function put(key: string) {
  const abs = join(bucket, key);
  if (key.endsWith("/")) {
    fs.mkdirSync(abs, { recursive: true });
    dirObjects.add(abs.replace(/\/$/, ""));
  } else {
    fs.mkdirSync(join(abs, ".."), { recursive: true });
    fs.writeFileSync(abs, key);
  }
}

async function collect(opts: Partial<WalkOptions>, limit = Infinity, dir = bucket): Promise<WalkEntry[]> {
  const out: WalkEntry[] = [];
  if (limit <= 0) return out;
  for await (const e of walkBucket(dir, { isDirectoryObject, ...opts })) {
    out.push(e);
    if (out.length >= limit) break;
  }
  return out;
}

/** Lists page by page, resuming after the last entry (NextMarker / continuation semantics). */
async function paginate(opts: Partial<WalkOptions>, pageSize: number): Promise<Flat[]> {
  const all: Flat[] = [];
  let startAfter = opts.startAfter;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = (await collect({ ...opts, startAfter }, pageSize)).map(flat);
    all.push(...page);
    if (page.length < pageSize) return all;
    startAfter = lastOf(page[page.length - 1]);
  }
  throw new Error("pagination did not terminate");
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "filegate-walk-"));
  bucket = join(root, "bkt");
  fs.mkdirSync(bucket);
  for (const k of KEYS) if (k !== "lnk") put(k);
  fs.symlinkSync("x/y/top", join(bucket, "lnk"));
  // Outside the bucket: not a key, however it is reached.
  fs.writeFileSync(join(root, "target"), "0123456789");
  fs.symlinkSync(join(root, "target"), join(bucket, "out"));
  fs.symlinkSync(join(bucket, "x"), join(bucket, "dirlink"));
  fs.symlinkSync(join(root, "missing"), join(bucket, "broken"));
  // Directories that hold no keys must never surface, not even as common prefixes.
  fs.mkdirSync(join(bucket, "empty"));
  fs.mkdirSync(join(bucket, "hollow/deeper/still"), { recursive: true });
  fs.mkdirSync(join(bucket, "x/void"));
  // The private area and its junk.
  fs.mkdirSync(join(bucket, ".filegate/tmp"), { recursive: true });
  fs.writeFileSync(join(bucket, ".filegate/tmp/upload-123"), "junk");
  fs.writeFileSync(join(bucket, ".filegate/meta"), "junk");
  // A name that is not valid UTF-8 cannot be a key.
  fs.writeFileSync(Buffer.concat([Buffer.from(bucket + "/bad"), Buffer.from([0xff, 0xfe])]), "x");
  try {
    execFileSync("mkfifo", [join(bucket, "fifo")]);
  } catch {
    // mkfifo missing: the fifo case is just not exercised.
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("compareKeys", () => {
  test("matches Buffer.compare on UTF-8, unlike JS string order", () => {
    const xs = ["a", "a-b", "a/", "a/b", "a0", "Z", "é", "日本", "😀", "\uff61", "\ue000", "", "a\u0000", "\ud800", "\ufffd"];
    for (const a of xs)
      for (const b of xs) expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
    // The case that motivates it: U+FF61 is 3 UTF-8 bytes, 😀 is 4 and sorts after; UTF-16 says the opposite.
    expect(compareKeys("\uff61", "😀")).toBeLessThan(0);
    expect("\uff61" < "😀").toBe(false);
  });
});

describe("walkBucket", () => {
  test("names deeper than S3's 1024-byte key limit are not listed (no API call could reach them)", async () => {
    const deepBucket = fs.mkdtempSync(join(root, "deep-"));
    const seg = "d".repeat(200);
    const dirs = join(deepBucket, seg, seg, seg, seg, seg);
    fs.mkdirSync(dirs, { recursive: true });
    fs.writeFileSync(join(dirs, "ok"), "x"); // 5 × 201 + 2 = 1007 bytes
    fs.writeFileSync(join(dirs, "e".repeat(30)), "x"); // 1035 bytes
    fs.mkdirSync(join(dirs, "f".repeat(30)));
    fs.writeFileSync(join(dirs, "f".repeat(30), "g"), "x");
    const keys = (await collect({}, Infinity, deepBucket)).map(flat);
    expect(keys).toEqual([`K:${[seg, seg, seg, seg, seg].join("/")}/ok`]);
  });

  test("full walk equals the keys in UTF-8 byte order", async () => {
    const got = await collect({});
    expect(got.map(flat)).toEqual(utf8Sort(KEYS).map((k) => "K:" + k));
  });

  test("object metadata: sizes from stat, symlinks followed, directory objects size 0", async () => {
    const got = await collect({});
    const byKey = new Map(got.map((e) => [e.type === "object" ? e.key : "", e]));
    const lnk = byKey.get("lnk") as Extract<WalkEntry, { type: "object" }>;
    expect(lnk.size).toBe(fs.statSync(join(bucket, "x/y/top")).size);
    // Through a link the entry names the target, whose metadata is the link's.
    expect(lnk.path).toBe(fs.realpathSync(join(bucket, "x/y/top")));
    expect(lnk.viaLink).toBe(true);
    expect(byKey.has("out")).toBe(false);
    const d = byKey.get("dir/") as Extract<WalkEntry, { type: "object" }>;
    expect(d.isDirectoryObject).toBe(true);
    expect(d.size).toBe(0);
    const a = byKey.get("a-b") as Extract<WalkEntry, { type: "object" }>;
    expect(a.size).toBe(3);
    expect(a.isDirectoryObject).toBe(false);
    expect(a.ino).toBe(fs.statSync(join(bucket, "a-b")).ino);
    expect(a.mtimeMs).toBe(fs.statSync(join(bucket, "a-b")).mtimeMs);
  });

  const prefixes = ["", "a", "a/", "x/", "x/y", "x/y/", "x/y/z/", "nope/", "b/c", "m/", "dir/", "dir", "nested/obj/", "é", "zz"];
  const delimiters = [undefined, "/", "-", "b", "ab", "/z/"];

  test("matches the model for every prefix × delimiter", async () => {
    for (const prefix of prefixes)
      for (const delimiter of delimiters) {
        const got = (await collect({ prefix, delimiter })).map(flat);
        expect({ prefix, delimiter, got }).toEqual({ prefix, delimiter, got: model(KEYS, { prefix, delimiter }) });
      }
  });

  test("matches the model for arbitrary startAfter values", async () => {
    const starts = new Set<string>([""]);
    for (const k of KEYS) {
      starts.add(k);
      starts.add(k.slice(0, -1));
      starts.add(k + "\u0000");
      const slash = k.indexOf("/");
      if (slash >= 0) starts.add(k.slice(0, slash + 1));
    }
    for (const s of ["a/", "a/a", "a/c", "x/y/z", "x/y/zz", "x/y/z/deep", "x/y/z/deeq", "zzz", "\uffff", "😀😀"]) starts.add(s);
    for (const prefix of ["", "a", "x/", "x/y/", "b/", "m/"])
      for (const delimiter of [undefined, "/", "-"])
        for (const startAfter of starts) {
          const got = (await collect({ prefix, delimiter, startAfter })).map(flat);
          const want = model(KEYS, { prefix, delimiter, startAfter });
          expect({ prefix, delimiter, startAfter, got }).toEqual({ prefix, delimiter, startAfter, got: want });
        }
  });

  test("pagination via startAfter concatenates to the full listing", async () => {
    for (const prefix of ["", "a", "a/", "x/y/", "nope/", "x/"])
      for (const delimiter of [undefined, "/", "-", "b"]) {
        const full = model(KEYS, { prefix, delimiter });
        expect((await collect({ prefix, delimiter })).map(flat)).toEqual(full);
        for (const size of [1, 2, 3, 4, 5, 37]) {
          const got = await paginate({ prefix, delimiter }, size);
          expect({ prefix, delimiter, size, got }).toEqual({ prefix, delimiter, size, got: full });
        }
      }
  });

  test("a common prefix used as marker is not repeated (Ceph s3-tests list_delimiter_prefix)", async () => {
    const tmp = await mkdtemp(join(root, "s3t-"));
    for (const k of ["asdf", "boo/bar", "boo/baz/xyzzy", "cquux/thud", "cquux/bla"]) {
      fs.mkdirSync(join(tmp, k, ".."), { recursive: true });
      fs.writeFileSync(join(tmp, k), "");
    }
    const page = async (prefix: string, startAfter: string, n: number) =>
      (await collect({ prefix, delimiter: "/", startAfter }, n, tmp)).map(flat);
    expect(await page("", "", 1)).toEqual(["K:asdf"]);
    expect(await page("", "asdf", 1)).toEqual(["P:boo/"]);
    expect(await page("", "boo/", 1)).toEqual(["P:cquux/"]);
    expect(await page("", "", 2)).toEqual(["K:asdf", "P:boo/"]);
    expect(await page("", "boo/", 2)).toEqual(["P:cquux/"]);
    expect(await page("boo/", "", 1)).toEqual(["K:boo/bar"]);
    expect(await page("boo/", "boo/bar", 1)).toEqual(["P:boo/baz/"]);
    expect(await page("boo/", "", 2)).toEqual(["K:boo/bar", "P:boo/baz/"]);
    // startAfter strictly inside a common prefix: the prefix counts as already listed.
    expect(await page("", "boo/bar", 5)).toEqual(["P:cquux/"]);
    // startAfter equal to the stem of a common prefix does not lie inside it.
    expect(await page("", "boo", 5)).toEqual(["P:boo/", "P:cquux/"]);
  });

  test("directory object edges: startAfter equal to d/, prefix naming d/", async () => {
    expect((await collect({ startAfter: "dir/" }, 1)).map(flat)).toEqual(["K:dir/in"]);
    expect((await collect({ startAfter: "dir" }, 1)).map(flat)).toEqual(["K:dir/"]);
    expect((await collect({ prefix: "dir/", delimiter: "/" })).map(flat)).toEqual(["K:dir/", "K:dir/in"]);
    expect((await collect({ prefix: "dir", delimiter: "/" })).map(flat)).toEqual(["P:dir/"]);
    // A directory object alone makes its common prefix exist.
    expect((await collect({ prefix: "o", delimiter: "/" })).map(flat)).toEqual(["P:only/"]);
    expect((await collect({ prefix: "nested/", delimiter: "/" })).map(flat)).toEqual(["P:nested/obj/"]);
  });

  test("empty directories, the private area, symlinked dirs, fifos, bad names never appear", async () => {
    const all = (await collect({ delimiter: "/" })).map(flat);
    for (const hidden of ["P:empty/", "P:hollow/", "P:.filegate/", "P:dirlink/", "K:dirlink", "K:broken", "K:fifo"])
      expect(all).not.toContain(hidden);
    expect((await collect({ prefix: "x/", delimiter: "/" })).map(flat)).not.toContain("P:x/void/");
    expect(await collect({ prefix: ".filegate/" })).toEqual([]);
    expect(await collect({ prefix: ".file" })).toEqual([]);
    expect(await collect({ prefix: "dirlink/" })).toEqual([]);
    expect(await collect({ prefix: "a//" })).toEqual([]);
    expect(await collect({ prefix: "x/../" })).toEqual([]);
    expect((await collect({})).some((e) => e.type === "object" && e.key.includes("\ufffd"))).toBe(false);
  });

  test("resuming does not consider directories that sort before startAfter", async () => {
    dirObjectCalls = [];
    await collect({ startAfter: "x/y/z/deep" });
    const rel = dirObjectCalls.map((p) => p.slice(bucket.length + 1));
    // Only directories after startAfter are asked whether they are directory objects.
    expect(rel.every((r) => compareKeys(r + "/", "x/y/z/deep") > 0)).toBe(true);
    dirObjectCalls = [];
    await collect({ delimiter: "/", startAfter: "m/" });
    expect(dirObjectCalls.some((p) => p.startsWith(join(bucket, "b")) || p.startsWith(join(bucket, "m")))).toBe(false);
  });

  test("entries that vanish between pages or mid-walk are skipped", async () => {
    const tmp = await mkdtemp(join(root, "vanish-"));
    const keys = ["a1", "a2", "a3", "a4", "d/x1", "d/x2", "e/y", "f"];
    for (const k of keys) {
      fs.mkdirSync(join(tmp, k, ".."), { recursive: true });
      fs.writeFileSync(join(tmp, k), "");
    }
    const first = (await collect({}, 2, tmp)).map(flat);
    expect(first).toEqual(["K:a1", "K:a2"]);
    fs.rmSync(join(tmp, "a3"));
    const rest: Flat[] = [];
    const it = walkBucket(tmp, { isDirectoryObject, startAfter: "a2" });
    for await (const e of it) {
      rest.push(flat(e));
      // Listing reflects the tree as it is reached: a file in a directory not read yet and a
      // whole directory ahead are gone by then. (On a slow file system stats of the current
      // directory's next files are issued ahead, so a file deleted there a moment later may still
      // be listed — a benign race.)
      if (e.type === "object" && e.key === "a4") {
        fs.rmSync(join(tmp, "d/x2"));
        fs.rmSync(join(tmp, "e"), { recursive: true });
      }
    }
    expect(rest).toEqual(["K:a4", "K:d/x1", "K:f"]);
  });

  test("the thread-pool stat mode (slow file systems) walks exactly like the synchronous one", async () => {
    const cases: Partial<WalkOptions>[] = [{}, { delimiter: "/" }, { prefix: "x/" }, { startAfter: "a/b" }, { prefix: "dir", delimiter: "-" }];
    for (const opts of cases) {
      const sync = await collect(opts);
      expect(await collect({ ...opts, slowStatMs: -1 })).toEqual(sync);
      // Stopping early abandons stats issued ahead; none may surface as an unhandled rejection.
      expect((await collect({ ...opts, slowStatMs: -1 }, 1)).length).toBe(Math.min(1, sync.length));
    }
  });

  test("cached large directories stay exact as entries come and go", async () => {
    const tmp = await mkdtemp(join(root, "cache-"));
    const keys: string[] = [];
    for (let i = 0; i < 400; i++) keys.push(`k${(i * 37) % 400}`);
    for (const k of keys) fs.writeFileSync(join(tmp, k), "");
    fs.mkdirSync(join(tmp, "sub"));
    fs.writeFileSync(join(tmp, "sub/x"), "");
    keys.push("sub/x");
    // Treat the fresh directory as long quiet so it is cached on first read.
    const listings = new DirListings({ quietMs: -60_000, maxNames: 300_000 });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const pages = async () => {
      const all: Flat[] = [];
      let startAfter: string | undefined;
      for (;;) {
        const page = (await collect({ startAfter, listings }, 50, tmp)).map(flat);
        all.push(...page);
        if (page.length < 50) return all;
        startAfter = lastOf(page[page.length - 1]);
      }
    };
    expect(await pages()).toEqual(model(keys, {}));
    expect(listings.size).toBe(1);
    // Directory ctimes tick at kernel-timer granularity; the quiet period normally covers that.
    await sleep(30);
    fs.writeFileSync(join(tmp, "k200a"), "");
    fs.rmSync(join(tmp, "k3"));
    keys.push("k200a");
    keys.splice(keys.indexOf("k3"), 1);
    expect(await pages()).toEqual(model(keys, {}));
    await sleep(30);
    fs.renameSync(join(tmp, "k5"), join(tmp, "k5b"));
    keys[keys.indexOf("k5")] = "k5b";
    expect(await pages()).toEqual(model(keys, {}));
    expect((await collect({ prefix: "k1", delimiter: "/", listings }, Infinity, tmp)).map(flat)).toEqual(model(keys, { prefix: "k1", delimiter: "/" }));
  });

  test("a directory changed within the quiet period is not cached", async () => {
    const tmp = await mkdtemp(join(root, "nocache-"));
    for (let i = 0; i < 300; i++) fs.writeFileSync(join(tmp, `f${i}`), "");
    const listings = new DirListings();
    await collect({ listings }, 10, tmp);
    expect(listings.size).toBe(0);
  });

  test("stopping early leaves no directory handles open", async () => {
    const fds = () => fs.readdirSync("/proc/self/fd").length;
    if (!fs.existsSync("/proc/self/fd")) return;
    await collect({ delimiter: "/" }, 1);
    const before = fds();
    for (let i = 0; i < 50; i++) {
      await collect({}, 3);
      await collect({ delimiter: "/" }, 2);
      await collect({ delimiter: "-", prefix: "x/" }, 1);
    }
    expect(fds()).toBeLessThanOrEqual(before);
  });

  test("missing bucket is NoSuchBucket; missing prefix directory is empty", async () => {
    expect(await collect({ prefix: "nope/deeper/" })).toEqual([]);
    expect(await collect({ prefix: "a-b/" })).toEqual([]);
    let err: unknown;
    try {
      await collect({}, Infinity, join(root, "no-such-bucket"));
    } catch (e) {
      err = e;
    }
    expect(isStorageError(err) && err.kind).toBe("NoSuchBucket");
  });

  test.skipIf(process.getuid?.() === 0)("unreadable bucket root is AccessDenied, unreadable subdirectory is skipped", async () => {
    const tmp = await mkdtemp(join(root, "perm-"));
    fs.mkdirSync(join(tmp, "locked"));
    fs.writeFileSync(join(tmp, "locked/f"), "");
    fs.writeFileSync(join(tmp, "ok"), "");
    fs.chmodSync(join(tmp, "locked"), 0);
    try {
      expect((await collect({}, Infinity, tmp)).map(flat)).toEqual(["K:ok"]);
      fs.chmodSync(tmp, 0);
      let err: unknown;
      try {
        await collect({}, Infinity, tmp);
      } catch (e) {
        err = e;
      }
      expect(isStorageError(err) && err.kind).toBe("AccessDenied");
    } finally {
      fs.chmodSync(tmp, 0o755);
      fs.chmodSync(join(tmp, "locked"), 0o755);
    }
  });
});
