// Bucket policy principals bound to users' unique IDs (src/access/policy-principals.ts): binding,
// evaluation against the bound ID, GetBucketPolicy's view once a user is gone, and policies stored
// before bindings existed (bound to the users of their first read, and kept so).
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bucketAccess, parseBucketPolicy } from "../../src/access/bucket-access.ts";
import { evaluatePolicy, type PolicyPrincipal } from "../../src/access/policy/index.ts";
import { applyBinding, bindPrincipals, decodeBinding, encodeBinding, policyAsShown, unknownUserArns, type UserLookup } from "../../src/access/policy-principals.ts";
import { derivedUserId, parseUserFile } from "../../src/identity/records.ts";
import { UserStore } from "../../src/identity/user-store.ts";
import type { BucketSetting, ObjectStore } from "../../src/storage/types.ts";

const ACCOUNT = "000000000000";
const BOB_ARN = `arn:aws:iam::${ACCOUNT}:user/bob`;
const ADMIN_ARN = `arn:aws:iam::${ACCOUNT}:user/admin`;
const OLD = "AIDAOLDBOB0000000000A";
const NEW = "AIDANEWBOB0000000000B";
const text = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Principal: { AWS: BOB_ARN }, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" },
    { Effect: "Deny", Principal: { AWS: [ADMIN_ARN, BOB_ARN] }, Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/*" },
  ],
});
const bobAs = (userId: string): PolicyPrincipal => ({ anonymous: false, arn: BOB_ARN, canonicalId: "b".repeat(64), userId, account: ACCOUNT });
const ask = (p: PolicyPrincipal, action = "s3:GetObject") => ({ principal: p, action, resource: "arn:aws:s3:::b/k", context: { get: () => undefined } });
const users = (bob: string | undefined): UserLookup => (name) => (name === "admin" ? { userId: "AIDAADMIN000000000000", builtin: true } : name === "bob" && bob ? { userId: bob } : undefined);

test("bound ARNs match the user of that unique ID only; the first admin's ARN stays an ARN", () => {
  const policy = parseBucketPolicy(text, "b");
  const binding = bindPrincipals(policy, users(OLD));
  expect(binding).toEqual({ [BOB_ARN]: OLD });
  const bound = applyBinding(policy, binding);
  expect(evaluatePolicy(bound, ask(bobAs(OLD)))).toBe("Allow");
  expect(evaluatePolicy(bound, ask(bobAs(NEW)))).toBe("None");
  expect(evaluatePolicy(bound, ask(bobAs(NEW), "s3:DeleteObject"))).toBe("None");
  const admin: PolicyPrincipal = { anonymous: false, arn: ADMIN_ARN, canonicalId: "a".repeat(64), userId: "AIDAOTHER000000000000", account: ACCOUNT };
  expect(evaluatePolicy(bound, ask(admin, "s3:DeleteObject"))).toBe("Deny");
});

test("an ARN that named nobody when bound matches nobody, even a user made later under that name", () => {
  const policy = parseBucketPolicy(text, "b");
  expect(unknownUserArns(policy, users(undefined))).toEqual([BOB_ARN]);
  const bound = applyBinding(policy, bindPrincipals(policy, users(undefined)));
  expect(evaluatePolicy(bound, ask(bobAs(NEW)))).toBe("None");
});

test("a unique ID is a valid principal and names the user that has it", () => {
  const policy = parseBucketPolicy(JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: OLD }, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] }), "b");
  expect(evaluatePolicy(policy, ask(bobAs(OLD)))).toBe("Allow");
  expect(evaluatePolicy(policy, ask(bobAs(NEW)))).toBe("None");
  expect(() => parseBucketPolicy(JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: "AIDAshort" }, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] }), "b")).toThrow();
});

test("the binding belongs to one text; GetBucketPolicy shows the bound ID once its user is gone", () => {
  const binding = { [BOB_ARN]: OLD };
  const stored = encodeBinding(text, binding);
  expect(decodeBinding(text, stored)).toEqual(binding);
  expect(decodeBinding(text + " ", stored)).toBeUndefined();
  expect(decodeBinding(text, "not json")).toBeUndefined();
  expect(policyAsShown(text, binding, users(OLD))).toBe(text);
  const shown = JSON.parse(policyAsShown(text, binding, users(NEW)));
  expect(shown.Statement[0].Principal.AWS).toBe(OLD);
  expect(shown.Statement[1].Principal.AWS).toEqual([ADMIN_ARN, OLD]);
  expect(JSON.parse(policyAsShown(text, binding, users(undefined))).Statement[0].Principal.AWS).toBe(OLD);
});

function memoryStore(settings: Map<string, string>): ObjectStore {
  return {
    bucketSetting: (b: string, n: BucketSetting) => settings.get(`${b}/${n}`),
    setBucketSetting: (b: string, n: BucketSetting, v: string | undefined) => (v === undefined ? settings.delete(`${b}/${n}`) : settings.set(`${b}/${n}`, v)),
  } as unknown as ObjectStore;
}

test("a policy stored without a binding is bound to the users of its first read, and stays bound", () => {
  const settings = new Map([["b/bucket-policy.json", text]]);
  let bob: string | undefined = OLD;
  const access = bucketAccess({ store: memoryStore(settings), blockPublic: false, defaultOwner: "x", users: (n) => users(bob)(n) });
  expect(evaluatePolicy(access.bucketPolicy("b")!, ask(bobAs(OLD)))).toBe("Allow");
  expect(decodeBinding(text, settings.get("b/bucket-policy-principals.json"))).toEqual({ [BOB_ARN]: OLD });
  // bob deleted and made again: another process (a fresh cache) still reads the first binding.
  bob = NEW;
  const later = bucketAccess({ store: memoryStore(settings), blockPublic: false, defaultOwner: "x", users: (n) => users(bob)(n) });
  expect(evaluatePolicy(later.bucketPolicy("b")!, ask(bobAs(NEW)))).toBe("None");
  expect(evaluatePolicy(later.bucketPolicy("b")!, ask(bobAs(OLD)))).toBe("Allow");
});

test("users recorded without a unique ID get one derived from their canonical ID, stored at the next write", async () => {
  const root = mkdtempSync(join(tmpdir(), "filegate-ids-"));
  try {
    const canonicalId = "0123456789abcdef".repeat(4);
    const old = { version: 1, users: [{ name: "carol", canonicalId, displayName: "carol", role: "user", created: "2026-01-01T00:00:00.000Z", keys: [], policies: {} }] };
    mkdirSync(join(root, ".filegate"), { recursive: true });
    writeFileSync(join(root, ".filegate", "users.json"), JSON.stringify(old));
    const store = new UserStore(root, { fsync: false });
    const id = store.user("carol")!.userId;
    expect(id).toBe(derivedUserId(canonicalId));
    expect(id).toMatch(/^AIDA[A-Z0-9]{17}$/);
    await store.update(() => {});
    const written = parseUserFile(await Bun.file(join(root, ".filegate", "users.json")).text());
    expect(written.users[0].userId).toBe(id);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
