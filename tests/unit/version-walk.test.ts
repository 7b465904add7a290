// walkVersionKeys: the version store's keys in S3 order, against the listing model, for every
// startAfter a page could end on, with and without prefix and delimiter.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeHasVersions, walkVersionKeys } from "../../src/storage/posix/versions.ts";
import { listingModel } from "../support/listing-model.ts";

const KEYS = ["a", "a!", "a-b", "a/b", "a/b!", "a/b/c", "a/b0", "a0", "b/x/y/z", "é", "日本/語", "z~", "sp ace/k"];
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "filegate-vwalk-"));
  for (const k of KEYS) {
    const dir = join(root, ...k.split("/"), ".filegate-obj.");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "01JAAAAAAAAAAAAAAAAAAAAAAA"), "");
  }
  // A key whose versions are all gone leaves no entry (only its parents' directories).
  mkdirSync(join(root, "empty", ".filegate-obj."), { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function walk(o: { prefix?: string; delimiter?: string; startAfter?: string }): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walkVersionKeys(root, { prefix: o.prefix ?? "", delimiter: o.delimiter, startAfter: o.startAfter })) out.push(e.type === "key" ? "K:" + e.key : "P:" + e.prefix);
  return out;
}

test("every key once, in S3 order, from every starting point", async () => {
  for (const opts of [{}, { delimiter: "/" }, { prefix: "a" }, { prefix: "a/" }, { prefix: "a/", delimiter: "/" }, { delimiter: "b" }]) {
    const full = listingModel(KEYS, opts);
    expect(await walk(opts)).toEqual(full.entries);
    for (const after of [...full.merged, "a/", "a/b/", "a.", "zz"]) {
      expect({ opts, after, got: await walk({ ...opts, startAfter: after }) }).toEqual({ opts, after, got: listingModel(KEYS, { ...opts, startAfter: after }).entries });
    }
  }
});

test("a store of empty directories holds no versions", () => {
  const empty = mkdtempSync(join(tmpdir(), "filegate-vempty-"));
  try {
    mkdirSync(join(empty, "a", "b", ".filegate-obj."), { recursive: true });
    mkdirSync(join(empty, "c"), { recursive: true });
    expect(storeHasVersions(empty)).toBe(false);
    expect(storeHasVersions(join(empty, "missing"))).toBe(false);
    expect(storeHasVersions(root)).toBe(true);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
