import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PosixBackend } from "../../src/storage/posix/backend.ts";
import { copyRange } from "../../src/storage/posix/kernel-copy.ts";
import { kernelPath } from "../../src/storage/posix/kernel.ts";
import { SidecarMetaStore } from "../../src/storage/posix/meta.ts";
import { MultipartStore, cleanupUploads } from "../../src/storage/posix/multipart.ts";
import { tryLock } from "../../src/storage/posix/locks.ts";
import { parseAge } from "../../src/config.ts";

const root = mkdtempSync(join(tmpdir(), "filegate-mp-unit-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("copyRange", () => {
  test("copies a slice to an offset, through copy_file_range on Bun", async () => {
    const src = join(root, "src.bin");
    const dst = join(root, "dst.bin");
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(src, data);
    writeFileSync(dst, "head:");
    const i = openSync(src, "r");
    const o = openSync(dst, "r+");
    const method = await copyRange(i, 1000, o, 5, data.length - 1000);
    closeSync(i);
    closeSync(o);
    expect(method).toBe(kernelPath === "addon" ? "copy_file_range" : "userspace");
    expect(readFileSync(dst).equals(Buffer.concat([Buffer.from("head:"), data.subarray(1000)]))).toBe(true);
  });

  test("a source shorter than promised is an error", async () => {
    const src = join(root, "short.bin");
    writeFileSync(src, "abc");
    const i = openSync(src, "r");
    const o = openSync(join(root, "short-out.bin"), "w");
    await expect(copyRange(i, 0, o, 0, 10)).rejects.toThrow();
    closeSync(i);
    closeSync(o);
  });
});

describe("cleanupUploads", () => {
  test("removes old uploads and leftovers, keeps young ones", () => {
    mkdirSync(join(root, "bkt"));
    const backend = new PosixBackend(root, new SidecarMetaStore(), "none");
    const mp = new MultipartStore(backend);
    const old = mp.create("bkt", "k/old", { headers: {}, user: {} }).uploadId;
    const young = mp.create("bkt", "k/young", { headers: {}, user: {} }).uploadId;
    const uploads = join(root, "bkt", ".filegate", "uploads");
    const rec = JSON.parse(readFileSync(join(uploads, old, "upload.json"), "utf8"));
    rec.initiated = new Date(Date.now() - 8 * 86_400_000).toISOString();
    writeFileSync(join(uploads, old, "upload.json"), JSON.stringify(rec));
    writeFileSync(join(uploads, old, "part-00001.abc"), "data");
    mkdirSync(join(uploads, `${young}.aborting-123456`));
    expect(cleanupUploads(root, parseAge("7d"), Date.now() + 2 * 3600_000)).toBe(1);
    const left = readdirSync(uploads);
    expect(left).toEqual([young]);
    expect(existsSync(join(uploads, old))).toBe(false);
    expect(mp.listUploads("bkt").map((u) => u.key)).toEqual(["k/young"]);
  });

  test("a .completing- directory goes only when no live Complete holds its upload's claim", () => {
    mkdirSync(join(root, "bkt2"));
    const backend = new PosixBackend(root, new SidecarMetaStore(), "none");
    const id = new MultipartStore(backend).create("bkt2", "k", { headers: {}, user: {} }).uploadId;
    const uploads = join(root, "bkt2", ".filegate", "uploads");
    const completing = join(uploads, `${id}.completing-abcdef`);
    renameSync(join(uploads, id), completing);
    const later = Date.now() + 9 * 86_400_000;
    const claim = tryLock(backend.uploadLockFile("bkt2", id))!;
    try {
      cleanupUploads(root, parseAge("7d"), later);
      expect(existsSync(completing)).toBe(true);
    } finally {
      claim.release();
    }
    cleanupUploads(root, parseAge("7d"), later);
    expect(existsSync(completing)).toBe(false);
  });

  test("a dead writer's temp of an upload's .done record goes when the upload is recovered", () => {
    mkdirSync(join(root, "bkt3"));
    const backend = new PosixBackend(root, new SidecarMetaStore(), "none");
    const mp = new MultipartStore(backend);
    const id = mp.create("bkt3", "k", { headers: {}, user: {} }).uploadId;
    const uploads = join(root, "bkt3", ".filegate", "uploads");
    const temp = join(uploads, `${id}.done.0123456789ab.tmp`);
    writeFileSync(temp, "{");
    mp.sweep("bkt3");
    expect(existsSync(temp)).toBe(true);
    renameSync(join(uploads, id), join(uploads, `${id}.completing-abcdef`));
    mp.sweep("bkt3");
    expect(existsSync(temp)).toBe(false);
    expect(readdirSync(uploads).filter((n) => n.startsWith(id))).toEqual([id]);
  });

  test("parseAge", () => {
    expect(parseAge("7d")).toBe(7 * 86_400_000);
    expect(parseAge("90m")).toBe(90 * 60_000);
    expect(parseAge("1500")).toBe(1500);
    expect(() => parseAge("7 days")).toThrow();
  });
});
