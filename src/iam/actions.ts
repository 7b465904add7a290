// The IAM actions an admin needs to manage users, keys and inline user policies, over the user
// store. Each takes the request's parameters and the caller and returns the action's Result
// element (undefined: an action whose response has only ResponseMetadata).
import type { UserPrincipal } from "../access/principal.ts";
import { ACCOUNT_ID } from "../access/principal.ts";
import {
  addKey,
  addUser,
  checkUserName,
  deletePolicy,
  putPolicy,
  removeKey,
  removeUser,
  setKeyStatus,
  type UserRecord,
} from "../identity/records.ts";
import type { UserStore, UserView } from "../identity/user-store.ts";
import { IamError } from "./errors.ts";

export interface IamCall {
  params: URLSearchParams;
  caller: UserPrincipal;
  users: UserStore;
}

type Action = (call: IamCall) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined;

/** IAM's wording for a missing required parameter. */
function required(params: URLSearchParams, name: string): string {
  const v = params.get(name);
  if (v === null || v === "") {
    const member = name[0].toLowerCase() + name.slice(1);
    throw new IamError("ValidationError", `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }
  return v;
}

/** UserName, or the caller when the action allows leaving it out. */
function userNameOr(call: IamCall): string {
  const name = call.params.get("UserName");
  return name === null || name === "" ? call.caller.name : name;
}

function existing(call: IamCall, name: string): UserView {
  checkUserName(name);
  const u = call.users.user(name);
  if (!u) throw new IamError("NoSuchEntity", `The user with name ${name} cannot be found.`);
  return u;
}

const arnOf = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:user/${name}`;

function userXml(u: UserRecord) {
  return { Path: "/", UserName: u.name, UserId: u.userId, Arn: arnOf(u.name), CreateDate: u.created };
}

/** MaxItems (1-1000, default 100) and Marker (where the previous page ended) over a sorted list. */
function page<T>(params: URLSearchParams, items: T[], keyOf: (t: T) => string): { items: T[]; truncated: boolean; marker?: string } {
  const raw = params.get("MaxItems");
  const max = raw === null ? 100 : Number(raw);
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw new IamError("ValidationError", `1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`);
  }
  const marker = params.get("Marker");
  const from = marker ? items.filter((t) => keyOf(t) > marker) : items;
  const shown = from.slice(0, max);
  const truncated = from.length > shown.length;
  return { items: shown, truncated, ...(truncated ? { marker: keyOf(shown[shown.length - 1]) } : {}) };
}

/** The store changes a user in the file; the first admin is the root's credentials, not a record. */
function changeable(call: IamCall, name: string): void {
  checkUserName(name);
  call.users.refuseBuiltin(name);
}

function keyStatus(params: URLSearchParams): "Active" | "Inactive" {
  const s = required(params, "Status");
  if (s !== "Active" && s !== "Inactive") {
    throw new IamError("ValidationError", `1 validation error detected: Value '${s}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`);
  }
  return s;
}

export const ACTIONS: Record<string, Action> = {
  async CreateUser(call) {
    const name = required(call.params, "UserName");
    const path = call.params.get("Path");
    if (path !== null && path !== "/") throw new IamError("ValidationError", "filegate keeps every user at path /.");
    const user = await call.users.update((file, reserved) => addUser(file, { name }, reserved.names));
    return { User: userXml(user) };
  },

  GetUser(call) {
    return { User: userXml(existing(call, userNameOr(call))) };
  },

  ListUsers(call) {
    const all = call.users.users().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const p = page(call.params, all, (u) => u.name);
    return { Users: { member: p.items.map(userXml) }, IsTruncated: p.truncated, Marker: p.marker };
  },

  async DeleteUser(call) {
    const name = required(call.params, "UserName");
    existing(call, name);
    changeable(call, name);
    await call.users.update((file) => removeUser(file, name, { force: false }));
    return undefined;
  },

  async CreateAccessKey(call) {
    const name = userNameOr(call);
    existing(call, name);
    changeable(call, name);
    const key = await call.users.update((file, reserved) => addKey(file, name, {}, reserved.keys));
    return { AccessKey: { UserName: name, AccessKeyId: key.accessKeyId, Status: key.status, SecretAccessKey: key.secretAccessKey, CreateDate: key.created } };
  },

  ListAccessKeys(call) {
    const u = existing(call, userNameOr(call));
    const p = page(call.params, u.keys, (k) => k.accessKeyId);
    return {
      AccessKeyMetadata: { member: p.items.map((k) => ({ UserName: u.name, AccessKeyId: k.accessKeyId, Status: k.status, CreateDate: k.created })) },
      IsTruncated: p.truncated,
      Marker: p.marker,
    };
  },

  async UpdateAccessKey(call) {
    const name = userNameOr(call);
    const id = required(call.params, "AccessKeyId");
    const status = keyStatus(call.params);
    existing(call, name);
    changeable(call, name);
    await call.users.update((file) => setKeyStatus(file, name, id, status));
    return undefined;
  },

  async DeleteAccessKey(call) {
    const name = userNameOr(call);
    const id = required(call.params, "AccessKeyId");
    existing(call, name);
    changeable(call, name);
    await call.users.update((file) => removeKey(file, name, id));
    return undefined;
  },

  async PutUserPolicy(call) {
    const name = required(call.params, "UserName");
    const policyName = required(call.params, "PolicyName");
    const doc = required(call.params, "PolicyDocument");
    existing(call, name);
    changeable(call, name);
    await call.users.update((file) => putPolicy(file, name, policyName, doc));
    return undefined;
  },

  GetUserPolicy(call) {
    const name = required(call.params, "UserName");
    const policyName = required(call.params, "PolicyName");
    const doc = existing(call, name).policies[policyName];
    if (doc === undefined) throw new IamError("NoSuchEntity", `The user policy with name ${policyName} cannot be found.`);
    // IAM returns the document URL-encoded (RFC 3986); SDKs decode it, or leave that to the caller.
    return { UserName: name, PolicyName: policyName, PolicyDocument: encodeURIComponent(doc) };
  },

  async DeleteUserPolicy(call) {
    const name = required(call.params, "UserName");
    const policyName = required(call.params, "PolicyName");
    existing(call, name);
    changeable(call, name);
    await call.users.update((file) => deletePolicy(file, name, policyName));
    return undefined;
  },

  ListUserPolicies(call) {
    const u = existing(call, required(call.params, "UserName"));
    const p = page(call.params, Object.keys(u.policies).sort(), (n) => n);
    return { PolicyNames: { member: p.items }, IsTruncated: p.truncated, Marker: p.marker };
  },
};
