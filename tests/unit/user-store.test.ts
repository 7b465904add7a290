// The user store: the record rules, the view each process keeps, and updates from several
// processes at once (each takes the lock and rewrites the file whole, so none is lost).
import { afterAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isIdentityError, addKey, addUser, emptyFile, putPolicy, removeUser, sharedKeys } from "../../src/identity/records.ts";
import { UserStore } from "../../src/identity/user-store.ts";

const roots: string[] = [];
const tempRoot = () => {
  const r = mkdtempSync(join(tmpdir(), "filegate-users-"));
  roots.push(r);
  return r;
};
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const ADMIN = { canonicalId: "a".repeat(64), displayName: "filegate", accessKey: "ROOTKEY", secretKey: "rootsecret" };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isIdentityError(e)) return e.code;
    throw e;
  }
  return undefined;
}

test("records: names are unique ignoring case, reserved names and keys are refused, quotas hold", () => {
  const f = emptyFile();
  const reserved = new Set(["admin"]);
  const alice = addUser(f, { name: "alice" }, reserved);
  expect(alice.canonicalId).toMatch(/^[0-9a-f]{64}$/);
  expect(alice.userId).toMatch(/^AIDA[A-Z2-7]{17}$/);
  expect(alice.role).toBe("user");
  expect(codeOf(() => addUser(f, { name: "Alice" }, reserved))).toBe("EntityAlreadyExists");
  expect(codeOf(() => addUser(f, { name: "ADMIN" }, reserved))).toBe("EntityAlreadyExists");
  expect(codeOf(() => addUser(f, { name: "no/slash" }, reserved))).toBe("ValidationError");
  expect(codeOf(() => addKey(f, "alice", { accessKeyId: "ROOTKEY", secretAccessKey: "whatever1" }, new Set(["ROOTKEY"])))).toBe("EntityAlreadyExists");
  expect(codeOf(() => addKey(f, "alice", { accessKeyId: "A/B", secretAccessKey: "whatever1" }, new Set()))).toBe("ValidationError");
  addKey(f, "alice", {}, new Set());
  addKey(f, "alice", {}, new Set());
  expect(codeOf(() => addKey(f, "alice", {}, new Set()))).toBe("LimitExceeded");
  expect(codeOf(() => addKey(f, "nobody", {}, new Set()))).toBe("NoSuchEntity");
  expect(codeOf(() => putPolicy(f, "alice", "p", "{not json"))).toBe("MalformedPolicyDocument");
  const big = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::" + "x".repeat(2100) }] });
  expect(codeOf(() => putPolicy(f, "alice", "p", big))).toBe("LimitExceeded");
  expect(codeOf(() => putPolicy(f, "alice", "p", '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}'))).toBe("MalformedPolicyDocument");
  putPolicy(f, "alice", "p", '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}');
  // IAM refuses to delete a user that still has keys or policies; the CLI forces it.
  expect(codeOf(() => removeUser(f, "alice", { force: false }))).toBe("DeleteConflict");
  removeUser(f, "alice", { force: true });
  expect(f.users).toHaveLength(0);
});

test("the store: the first admin, Active keys only, mode 0600, and another store's change seen within the check interval", async () => {
  const root = tempRoot();
  const a = new UserStore(root, { firstAdmin: ADMIN, fsync: false, checkMs: 100 });
  const b = new UserStore(root, { firstAdmin: ADMIN, fsync: false, checkMs: 100 });
  expect(a.lookupSecret("ROOTKEY")).toBe("rootsecret");
  expect(a.identify("ROOTKEY")).toMatchObject({ name: "admin", role: "admin", canonicalId: ADMIN.canonicalId });
  const key = await a.update((f, r) => {
    addUser(f, { name: "carol", uid: 1234, gid: 100 }, r.names);
    return addKey(f, "carol", {}, r.keys);
  });
  expect(statSync(a.file).mode & 0o777).toBe(0o600);
  // The writer sees its own change at once; the other store after its next check.
  expect(a.identify(key.accessKeyId)).toMatchObject({ name: "carol", role: "user", uid: 1234, gid: 100, arn: "arn:aws:iam::000000000000:user/carol" });
  await Bun.sleep(150);
  expect(b.lookupSecret(key.accessKeyId)).toBe(key.secretAccessKey);
  await b.update((f) => {
    f.users[0].keys[0].status = "Inactive";
  });
  await Bun.sleep(150);
  expect(a.lookupSecret(key.accessKeyId)).toBeUndefined();
  expect(a.user("carol")?.keys[0].status).toBe("Inactive");
  // The root's key cannot be shadowed by a stored one.
  expect(codeOf(() => a.refuseBuiltin("admin"))).toBe("UnmodifiableEntity");
});

test("a broken user file keeps the view read before; a store cannot start on one", async () => {
  const root = tempRoot();
  const logged: string[] = [];
  const s = new UserStore(root, { firstAdmin: ADMIN, fsync: false, checkMs: 50, log: (l) => logged.push(l) });
  const key = await s.update((f, r) => {
    addUser(f, { name: "dave" }, r.names);
    return addKey(f, "dave", {}, r.keys);
  });
  writeFileSync(s.file, "{ half a fi");
  await Bun.sleep(80);
  expect(s.lookupSecret(key.accessKeyId)).toBe(key.secretAccessKey);
  expect(logged.join("\n")).toContain("keeping the users read before");
  expect(() => new UserStore(root, { firstAdmin: ADMIN })).toThrow();
});

test("two processes adding users at once lose no update", async () => {
  const root = tempRoot();
  const storeModule = join(import.meta.dir, "../../src/identity/user-store.ts");
  const recordsModule = join(import.meta.dir, "../../src/identity/records.ts");
  const script = (who: string) => `
    const { UserStore } = await import(${JSON.stringify(storeModule)});
    const { addUser, addKey } = await import(${JSON.stringify(recordsModule)});
    const s = new UserStore(${JSON.stringify(root)}, { fsync: false });
    for (let i = 0; i < 25; i++) {
      await s.update((f, r) => { addUser(f, { name: "${who}" + i }, r.names); addKey(f, "${who}" + i, {}, r.keys); });
    }`;
  const run = (who: string) =>
    new Promise<number>((done) => {
      const p = spawn(process.execPath, ["-e", script(who)], { stdio: ["ignore", "inherit", "inherit"] });
      p.on("exit", (code) => done(code ?? -1));
    });
  expect(await Promise.all([run("p"), run("q")])).toEqual([0, 0]);
  const s = new UserStore(root);
  const names = s.users().map((u) => u.name);
  expect(names).toHaveLength(50);
  for (let i = 0; i < 25; i++) expect(names).toContain(`p${i}`), expect(names).toContain(`q${i}`);
  // Every key is distinct and resolves to its user.
  for (const u of s.users()) expect(s.identify(u.keys[0].accessKeyId)?.name).toBe(u.name);
});

test("a key two users hold: named by sharedKeys, refused at a gateway's start, told once to a running one", async () => {
  const key = (accessKeyId: string) => ({ accessKeyId, secretAccessKey: "s".repeat(8), status: "Active" as const, created: "" });
  expect(sharedKeys([{ name: "admin", keys: [key("K1")] }, { name: "eve", keys: [key("K2"), key("K1")] }, { name: "bob", keys: [key("K2")] }])).toEqual([
    { accessKeyId: "K1", users: ["admin", "eve"] },
    { accessKeyId: "K2", users: ["eve", "bob"] },
  ]);
  const root = tempRoot();
  // Written by a CLI that could not know the gateway's key.
  const cli = new UserStore(root, { fsync: false });
  await cli.update((f, r) => {
    addUser(f, { name: "eve" }, r.names);
    addKey(f, "eve", { accessKeyId: "ROOTKEY", secretAccessKey: "evesecret" }, r.keys);
  });
  expect(() => new UserStore(root, { firstAdmin: ADMIN, fsync: false, refuseSharedKeys: true })).toThrow(/ROOTKEY of user eve is the first admin's/);
  // Without refuseSharedKeys (the CLI, which must be able to repair it) the admin keeps the key.
  const logged: string[] = [];
  const running = new UserStore(root, { firstAdmin: ADMIN, fsync: false, checkMs: 50, log: (l) => logged.push(l) });
  expect(running.identify("ROOTKEY")?.name).toBe("admin");
  await cli.update((f) => {
    f.users[0].displayName = "changed";
  });
  await Bun.sleep(80);
  running.refresh();
  expect(logged.filter((l) => l.includes("ROOTKEY"))).toHaveLength(1);
  running.refresh();
  expect(logged.filter((l) => l.includes("ROOTKEY"))).toHaveLength(1);
});

test("the first admin's key as a gateway noted it is refused by a store that does not know it", async () => {
  const root = tempRoot();
  new UserStore(root, { firstAdmin: ADMIN, fsync: false }).recordFirstAdminKey();
  expect(statSync(join(root, ".filegate", "admin-key.sha256")).mode & 0o777).toBe(0o600);
  const cli = new UserStore(root, { fsync: false });
  const err = await cli
    .update((f, r) => {
      addUser(f, { name: "mallory" }, r.names);
      addKey(f, "mallory", { accessKeyId: "ROOTKEY", secretAccessKey: "whatever1" }, r.keys);
    })
    .catch((e) => e);
  expect(isIdentityError(err) && err.code).toBe("EntityAlreadyExists");
  expect(cli.user("mallory")).toBeUndefined();
});
