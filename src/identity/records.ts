// The user records kept in ROOT/.filegate/users.json, and the pure rules for changing them. The
// error codes are IAM's (the IAM API answers them as they are; the CLI prints their messages).
import { randomBytes } from "node:crypto";
import { generateKeyPair } from "../credentials.ts";
import type { Role } from "../access/principal.ts";
import { parsePolicy, type Policy } from "../access/policy/index.ts";
import { S3_ACTIONS } from "../s3/actions.ts";

export type KeyStatus = "Active" | "Inactive";

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  status: KeyStatus;
  /** ISO time. */
  created: string;
}

export interface UserRecord {
  name: string;
  /** 64 hex digits: the S3 canonical user ID (Owner/Grantee ID). */
  canonicalId: string;
  /** IAM's UserId (AIDA…), shown by GetUser/ListUsers. */
  userId: string;
  displayName: string;
  role: Role;
  uid?: number;
  gid?: number;
  /** ISO time. */
  created: string;
  keys: AccessKeyRecord[];
  /** Inline policies: name → the JSON document as given. */
  policies: Record<string, string>;
}

export interface UserFile {
  version: 1;
  users: UserRecord[];
}

export type IdentityErrorCode =
  | "NoSuchEntity"
  | "EntityAlreadyExists"
  | "LimitExceeded"
  | "ValidationError"
  | "DeleteConflict"
  | "MalformedPolicyDocument"
  | "UnmodifiableEntity";

export class IdentityError extends Error {
  override readonly name = "IdentityError";
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** By name, not instanceof: Bun's bundle of the Node build may hold this module twice. */
export function isIdentityError(e: unknown): e is IdentityError {
  return e instanceof Error && e.name === "IdentityError";
}

/** IAM's quota of access keys per user. */
export const MAX_KEYS_PER_USER = 2;
/** IAM's quota of inline policy text per user (characters, whitespace not counted). */
export const MAX_USER_POLICY_CHARS = 2048;

/** The name of the first admin (the root's own credentials); no stored user may take it. */
export const FIRST_ADMIN = "admin";

const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

export function emptyFile(): UserFile {
  return { version: 1, users: [] };
}

/**
 * The unique ID of a user recorded without one (a file written by hand or by an older filegate),
 * and of the first admin: derived from the canonical ID, so every process agrees on it before the
 * next write stores it, and a user made again under the same name (new canonical ID) differs.
 */
export function derivedUserId(canonicalId: string): string {
  return "AIDA" + canonicalId.slice(0, 17).toUpperCase().padEnd(17, "0");
}

/** The file's text as records; a file that is not one is an error, never an empty store. */
export function parseUserFile(text: string): UserFile {
  const data = JSON.parse(text) as UserFile;
  if (data === null || typeof data !== "object" || data.version !== 1 || !Array.isArray(data.users)) {
    throw new Error("not a filegate user file (version 1)");
  }
  for (const u of data.users) if (u && typeof u === "object" && typeof u.userId !== "string") u.userId = derivedUserId(String(u.canonicalId ?? u.name));
  return data;
}

export function checkUserName(name: string): void {
  if (!USER_NAME.test(name)) {
    throw new IdentityError("ValidationError", `1 validation error detected: Value '${name}' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 64`);
  }
}

export function checkPolicyName(name: string): void {
  if (!POLICY_NAME.test(name)) {
    throw new IdentityError("ValidationError", `1 validation error detected: Value '${name}' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 128`);
  }
}

/** An inline policy parsed as the access decisions read it (src/access/policy/). */
export function parseUserPolicy(doc: string): Policy {
  return parsePolicy(doc, { kind: "identity", s3Actions: S3_ACTIONS });
}

/** Refuses a document the policy evaluator could not read, with the parser's reason. */
export function checkPolicyDocument(doc: string): void {
  try {
    parseUserPolicy(doc);
  } catch (e) {
    // The parser throws only PolicyError (told by its message: the Node bundle may hold the class twice).
    throw new IdentityError("MalformedPolicyDocument", (e as Error).message);
  }
}

const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function randomId(prefix: string, length: number): string {
  let out = prefix;
  for (const b of randomBytes(length)) out += UPPER_ALNUM[b & 31];
  return out;
}

export function findUser(file: UserFile, name: string): UserRecord {
  const user = file.users.find((u) => u.name === name);
  if (!user) throw new IdentityError("NoSuchEntity", `The user with name ${name} cannot be found.`);
  return user;
}

/** Keys in use outside the file (the first admin's): a set, or the CLI's check against the gateway's record. */
export interface ReservedKeys {
  has(accessKeyId: string): boolean;
}

function keyInUse(file: UserFile, reserved: ReservedKeys, accessKeyId: string): boolean {
  return reserved.has(accessKeyId) || file.users.some((u) => u.keys.some((k) => k.accessKeyId === accessKeyId));
}

export interface NewUser {
  name: string;
  role?: Role;
  uid?: number;
  gid?: number;
  displayName?: string;
}

/** Adds a user without keys. `reservedNames` are users that exist outside the file (the first admin). */
export function addUser(file: UserFile, u: NewUser, reservedNames: ReadonlySet<string>, now = new Date()): UserRecord {
  checkUserName(u.name);
  // IAM user names are unique ignoring case.
  const lower = u.name.toLowerCase();
  if ([...reservedNames].some((n) => n.toLowerCase() === lower) || file.users.some((x) => x.name.toLowerCase() === lower)) {
    throw new IdentityError("EntityAlreadyExists", `User with name ${u.name} already exists.`);
  }
  for (const [what, v] of [["uid", u.uid], ["gid", u.gid]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xfffffffe)) throw new IdentityError("ValidationError", `${what} must be an integer from 0 to 4294967294`);
  }
  const user: UserRecord = {
    name: u.name,
    canonicalId: randomBytes(32).toString("hex"),
    userId: randomId("AIDA", 17),
    displayName: u.displayName ?? u.name,
    role: u.role ?? "user",
    ...(u.uid !== undefined ? { uid: u.uid } : {}),
    ...(u.gid !== undefined ? { gid: u.gid } : {}),
    created: now.toISOString(),
    keys: [],
    policies: {},
  };
  file.users.push(user);
  return user;
}

export function removeUser(file: UserFile, name: string, opts: { force: boolean }): void {
  const user = findUser(file, name);
  if (!opts.force && (user.keys.length > 0 || Object.keys(user.policies).length > 0)) {
    throw new IdentityError("DeleteConflict", user.keys.length > 0 ? "Cannot delete entity, must delete access keys first." : "Cannot delete entity, must delete policies first.");
  }
  file.users = file.users.filter((u) => u !== user);
}

/** Adds a key (generated unless given) to `name`. `reservedKeys`: keys that exist outside the file. */
export function addKey(
  file: UserFile,
  name: string,
  given: { accessKeyId?: string; secretAccessKey?: string },
  reservedKeys: ReservedKeys,
  now = new Date(),
): AccessKeyRecord {
  const user = findUser(file, name);
  if (user.keys.length >= MAX_KEYS_PER_USER) throw new IdentityError("LimitExceeded", `Cannot exceed quota for AccessKeysPerUser: ${MAX_KEYS_PER_USER}`);
  if (Boolean(given.accessKeyId) !== Boolean(given.secretAccessKey)) throw new IdentityError("ValidationError", "give both the access key and the secret key, or neither");
  const pair = given.accessKeyId && given.secretAccessKey ? { accessKey: given.accessKeyId, secretKey: given.secretAccessKey } : generateKeyPair();
  // Access keys travel in the credential scope (split on '/') and in V2's "AWS key:sig".
  if (!/^[\x21-\x7e]{3,128}$/.test(pair.accessKey) || /[/:]/.test(pair.accessKey)) {
    throw new IdentityError("ValidationError", "an access key is 3 to 128 printable characters without '/' or ':'");
  }
  if (pair.secretKey.length < 8 || pair.secretKey.length > 128 || !/^[\x21-\x7e]+$/.test(pair.secretKey)) {
    throw new IdentityError("ValidationError", "a secret key is 8 to 128 printable characters");
  }
  if (keyInUse(file, reservedKeys, pair.accessKey)) throw new IdentityError("EntityAlreadyExists", `The access key ${pair.accessKey} is already in use.`);
  const key: AccessKeyRecord = { accessKeyId: pair.accessKey, secretAccessKey: pair.secretKey, status: "Active", created: now.toISOString() };
  user.keys.push(key);
  return key;
}

function findKey(user: UserRecord, accessKeyId: string): AccessKeyRecord {
  const key = user.keys.find((k) => k.accessKeyId === accessKeyId);
  if (!key) throw new IdentityError("NoSuchEntity", `The Access Key with id ${accessKeyId} cannot be found.`);
  return key;
}

export function setKeyStatus(file: UserFile, name: string, accessKeyId: string, status: KeyStatus): void {
  findKey(findUser(file, name), accessKeyId).status = status;
}

export function removeKey(file: UserFile, name: string, accessKeyId: string): void {
  const user = findUser(file, name);
  const key = findKey(user, accessKeyId);
  user.keys = user.keys.filter((k) => k !== key);
}

/**
 * Access keys that more than one user holds (`users` first admin first): only the first of them
 * can sign with it, the others hold a dead key. The CLI and IAM API refuse to make one; a file
 * edited by hand, or a CLI that could not know the gateway's own key, can still hold one.
 */
export function sharedKeys(users: readonly Pick<UserRecord, "name" | "keys">[]): { accessKeyId: string; users: string[] }[] {
  const holders = new Map<string, string[]>();
  for (const u of users) for (const k of u.keys) holders.set(k.accessKeyId, [...(holders.get(k.accessKeyId) ?? []), u.name]);
  return [...holders].filter(([, names]) => names.length > 1).map(([accessKeyId, names]) => ({ accessKeyId, users: names }));
}

/** The user a key belongs to: the CLI's `key` commands may name only the key. */
export function ownerOfKey(file: UserFile, accessKeyId: string): UserRecord {
  const user = file.users.find((u) => u.keys.some((k) => k.accessKeyId === accessKeyId));
  if (!user) throw new IdentityError("NoSuchEntity", `The Access Key with id ${accessKeyId} cannot be found.`);
  return user;
}

const policyChars = (doc: string) => doc.replace(/\s+/g, "").length;

export function putPolicy(file: UserFile, name: string, policyName: string, doc: string): void {
  const user = findUser(file, name);
  checkPolicyName(policyName);
  const others = Object.entries(user.policies).filter(([n]) => n !== policyName);
  const total = others.reduce((sum, [, d]) => sum + policyChars(d), policyChars(doc));
  if (total > MAX_USER_POLICY_CHARS) throw new IdentityError("LimitExceeded", `Maximum policy size of ${MAX_USER_POLICY_CHARS} bytes exceeded for user ${name}`);
  checkPolicyDocument(doc);
  user.policies[policyName] = doc;
}

export function getPolicy(file: UserFile, name: string, policyName: string): string {
  const doc = findUser(file, name).policies[policyName];
  if (doc === undefined) throw new IdentityError("NoSuchEntity", `The user policy with name ${policyName} cannot be found.`);
  return doc;
}

export function deletePolicy(file: UserFile, name: string, policyName: string): void {
  getPolicy(file, name, policyName);
  delete findUser(file, name).policies[policyName];
}
