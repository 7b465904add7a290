// The kernel's permission rules as --posix-permissions applies them (storage/posix/mode-bits.ts),
// and getgrouplist over passwd/group text (storage/posix/unix-accounts.ts).
import { expect, test } from "bun:test";
import { R, W, X, permits, stickyPermits } from "../../src/storage/posix/mode-bits.ts";
import { groupList, parseGroup, parsePasswd } from "../../src/storage/posix/unix-accounts.ts";

const FILE = 0o100000;
const DIR = 0o040000;
const alice = { uid: 1001, gid: 1001, groups: [1001, 2000] };

test("one class decides: owner, else group (primary or supplementary), else other", () => {
  expect(permits({ mode: FILE | 0o640, uid: 1001, gid: 5 }, alice, R)).toBe(true);
  expect(permits({ mode: FILE | 0o640, uid: 1001, gid: 5 }, alice, R | W)).toBe(true);
  expect(permits({ mode: FILE | 0o440, uid: 1001, gid: 5 }, alice, W)).toBe(false);
  // The owner class applies even when it grants less than other.
  expect(permits({ mode: FILE | 0o044, uid: 1001, gid: 5 }, alice, R)).toBe(false);
  expect(permits({ mode: FILE | 0o040, uid: 7, gid: 2000 }, alice, R)).toBe(true);
  expect(permits({ mode: FILE | 0o040, uid: 7, gid: 1001 }, { ...alice, groups: [] }, R)).toBe(true);
  expect(permits({ mode: FILE | 0o604, uid: 7, gid: 2000 }, alice, R)).toBe(false);
  expect(permits({ mode: FILE | 0o604, uid: 7, gid: 3000 }, alice, R)).toBe(true);
  expect(permits({ mode: DIR | 0o751, uid: 7, gid: 3000 }, alice, X)).toBe(true);
  expect(permits({ mode: DIR | 0o751, uid: 7, gid: 3000 }, alice, R | X)).toBe(false);
});

test("uid 0 may do anything but execute a file no one may execute", () => {
  const root = { uid: 0, gid: 0, groups: [] };
  expect(permits({ mode: FILE | 0o000, uid: 7, gid: 7 }, root, R | W)).toBe(true);
  expect(permits({ mode: FILE | 0o000, uid: 7, gid: 7 }, root, X)).toBe(false);
  expect(permits({ mode: DIR | 0o000, uid: 7, gid: 7 }, root, R | X)).toBe(true);
});

test("sticky directories: only the entry's owner, the directory's owner or root remove an entry", () => {
  const tmp = { mode: DIR | 0o1777, uid: 0, gid: 0 };
  expect(stickyPermits(tmp, { mode: FILE | 0o644, uid: 1001, gid: 1 }, alice)).toBe(true);
  expect(stickyPermits(tmp, { mode: FILE | 0o666, uid: 1002, gid: 1 }, alice)).toBe(false);
  expect(stickyPermits({ ...tmp, uid: 1001 }, { mode: FILE | 0o644, uid: 1002, gid: 1 }, alice)).toBe(true);
  expect(stickyPermits({ ...tmp, mode: DIR | 0o777 }, { mode: FILE | 0o644, uid: 1002, gid: 1 }, alice)).toBe(true);
});

test("groupList: the primary gid, then every group naming the uid's login, once", () => {
  const passwd = parsePasswd("root:x:0:0:root:/root:/bin/bash\n# comment\nalice:x:1001:1001::/home/alice:/bin/sh\nbroken:x:abc:1\n");
  const groups = parseGroup("root:x:0:\nalice:x:1001:\nlab:x:2000:bob,alice\nmedia:x:2001:bob\nstaff:x:2002: alice \nbad:x:zz:alice\n");
  expect(passwd.map((p) => p.name)).toEqual(["root", "alice"]);
  expect(groupList(1001, 1001, passwd, groups)).toEqual([1001, 2000, 2002]);
  // A uid without a passwd entry has no login to be a member by.
  expect(groupList(4242, 4242, passwd, groups)).toEqual([4242]);
  // A primary gid that is also listed is not repeated.
  expect(groupList(1001, 2000, passwd, groups)).toEqual([2000, 2002]);
});

test("UnixAccounts reads the account files and sees a change (usermod -aG) without a restart", async () => {
  const { mkdtempSync, writeFileSync, rmSync, utimesSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tmpdir } = await import("node:os");
  const { UnixAccounts } = await import("../../src/storage/posix/unix-accounts.ts");
  const dir = mkdtempSync(join(tmpdir(), "filegate-accounts-"));
  try {
    const passwd = join(dir, "passwd");
    const group = join(dir, "group");
    writeFileSync(passwd, "dana:x:3001:3001::/home/dana:/bin/sh\n");
    writeFileSync(group, "dana:x:3001:\nlab:x:4000:eve\n");
    const accounts = new UnixAccounts(passwd, group);
    expect(accounts.groupsOf(3001, 3001)).toEqual([3001]);
    writeFileSync(group, "dana:x:3001:\nlab:x:4000:eve,dana\n");
    // The files are looked at again at most once a second.
    utimesSync(group, new Date(), new Date(Date.now() + 5000));
    await Bun.sleep(1050);
    expect(accounts.groupsOf(3001, 3001)).toEqual([3001, 4000]);
    // Missing files are no accounts, not a failure.
    expect(new UnixAccounts(join(dir, "none"), join(dir, "none")).groupsOf(5, 5)).toEqual([5]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
