import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { besideWorkersForTests, hashBeside } from "../../src/storage/posix/md5-beside.ts";

describe("hashBeside", () => {
  const dir = mkdtempSync(join(tmpdir(), "filegate-beside-"));
  const file = join(dir, "f");

  test("hashes the file as it is written", async () => {
    writeFileSync(file, "");
    const h = hashBeside(file)!;
    expect(h).not.toBeNull();
    let total = 0;
    for (const part of ["abc", "def", "x".repeat(3_000_000)]) {
      appendFileSync(file, part);
      total += part.length;
      h.advance(total);
    }
    expect(await h.finish()).toBe(createHash("md5").update("abcdef" + "x".repeat(3_000_000)).digest("hex"));
  });

  test("a worker that dies makes finish() fail instead of hanging, and is not reused", async () => {
    writeFileSync(file, "abc");
    const h = hashBeside(file)!;
    h.advance(3);
    await besideWorkersForTests.killAll();
    expect(besideWorkersForTests.live()).toBe(0);
    await expect(h.finish()).rejects.toThrow(/MD5 worker failed/);
    // The next upload gets a fresh worker that works.
    const again = hashBeside(file)!;
    again.advance(3);
    expect(await again.finish()).toBe(createHash("md5").update("abc").digest("hex"));
    rmSync(dir, { recursive: true, force: true });
  });
});
