// The lock used when the addon (flock) is missing: an owner file naming boot id and pid, taken
// over when its process is gone — by one waiter only, however many found it dead.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootId } from "../../src/storage/posix/kernel.ts";
import { tryOwnerFile } from "../../src/storage/posix/locks.ts";

const dir = mkdtempSync(join(tmpdir(), "fg-owner-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Far above any pid this machine hands out (pid_max is at most 2^22).
const DEAD_PID = 4_194_303 + 1000;

test("a free lock is taken and released; a held one is refused", () => {
  const owner = join(dir, "a.held");
  const held = tryOwnerFile(owner)!;
  expect(held).not.toBeNull();
  expect(readFileSync(owner, "utf8").split(" ")[1]).toBe(String(process.pid));
  expect(tryOwnerFile(owner)).toBeNull();
  held.release();
  expect(existsSync(owner)).toBe(false);
});

test("a dead owner's lock is taken over; a live owner's is not", () => {
  const owner = join(dir, "b.held");
  writeFileSync(owner, `${bootId()} ${DEAD_PID} ${Date.now()}`);
  const held = tryOwnerFile(owner)!;
  expect(held).not.toBeNull();
  expect(readFileSync(owner, "utf8").split(" ")[1]).toBe(String(process.pid));
  held.release();
  writeFileSync(owner, `${bootId()} ${process.pid} ${Date.now()}`);
  expect(tryOwnerFile(owner)).toBeNull();
});

test("while another waiter is taking over, a dead owner's lock is refused, until that takeover is stale", () => {
  const owner = join(dir, "c.held");
  writeFileSync(owner, `${bootId()} ${DEAD_PID} ${Date.now()}`);
  writeFileSync(owner + ".takeover", `${bootId()} ${process.pid} ${Date.now()}`);
  expect(tryOwnerFile(owner)).toBeNull();
  const old = (Date.now() - 60_000) / 1000;
  utimesSync(owner + ".takeover", old, old);
  const held = tryOwnerFile(owner)!;
  expect(held).not.toBeNull();
  expect(existsSync(owner + ".takeover")).toBe(false);
  held.release();
});
