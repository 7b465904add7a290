// The immutable flag helpers on real files (src/storage/posix/immutable.ts, kernel.ts's fsFlags):
// where the process may set the flag (root with the addon) they set, clear and work around it;
// elsewhere they report that they could not, and change nothing.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evenIfImmutable, moveEvenIfImmutable, syncImmutableAt } from "../../src/storage/posix/immutable.ts";
import { isImmutable, kernelPath, setImmutable } from "../../src/storage/posix/kernel.ts";
import type { ObjectMeta } from "../../src/storage/types.ts";

const dir = mkdtempSync(join(tmpdir(), "filegate-immutable-"));
afterAll(() => {
  for (const f of ["a", "b", "c", "d"]) {
    try {
      const fd = openSync(join(dir, f), "r");
      setImmutable(fd, false);
      closeSync(fd);
    } catch {
      // not there
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const flagged = (path: string) => {
  const fd = openSync(path, "r");
  try {
    return isImmutable(fd);
  } finally {
    closeSync(fd);
  }
};
const record = (over: Partial<ObjectMeta>): ObjectMeta => ({ etag: "x", headers: {}, user: {}, size: 1, mtimeMs: 0, ...over });
const held = record({ legalHold: true });
const ended = record({ retention: { mode: "COMPLIANCE", until: "2000-01-01T00:00:00.000Z" } });
const canFlag = kernelPath === "addon" && process.getuid?.() === 0;

describe.skipIf(!canFlag)("with CAP_LINUX_IMMUTABLE and the addon", () => {
  test("the flag follows the record; the kernel refuses changes while it is set", () => {
    const a = join(dir, "a");
    writeFileSync(a, "x");
    expect(syncImmutableAt(a, held)).toBe(true);
    expect(flagged(a)).toBe(true);
    expect(() => writeFileSync(a, "y")).toThrow();
    expect(() => unlinkSync(a)).toThrow(/EPERM|not permitted/);
    expect(syncImmutableAt(a, ended)).toBe(true);
    expect(flagged(a)).toBe(false);
    // A record that never had a lock is never touched (no ioctl on the plain write path).
    expect(syncImmutableAt(a, record({}))).toBe(true);
  });

  test("evenIfImmutable clears the flag for an allowed removal, unless beforeClear refuses", () => {
    const b = join(dir, "b");
    writeFileSync(b, "x");
    syncImmutableAt(b, held);
    expect(() => evenIfImmutable([b], () => unlinkSync(b), () => { throw new Error("refused"); })).toThrow("refused");
    expect(flagged(b)).toBe(true);
    evenIfImmutable([b], () => unlinkSync(b));
    expect(() => readFileSync(b)).toThrow();
  });

  test("moveEvenIfImmutable moves a flagged file and sets the flag again where it landed", () => {
    const c = join(dir, "c");
    const d = join(dir, "d");
    writeFileSync(c, "moved");
    syncImmutableAt(c, held);
    moveEvenIfImmutable(c, d, () => renameSync(c, d));
    expect(readFileSync(d, "utf8")).toBe("moved");
    expect(flagged(d)).toBe(true);
  });
});

test.skipIf(canFlag)("without the capability or the addon: nothing is set, and the helpers say so", () => {
  const a = join(dir, "a");
  writeFileSync(a, "x");
  expect(syncImmutableAt(a, held)).toBe(false);
  writeFileSync(a, "still writable");
});
