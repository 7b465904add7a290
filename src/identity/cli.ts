// `filegate user …`: manages the users of a root directly on its files, so it works with the
// gateway stopped too; running gateways see the change within a second (user-store.ts). Output is
// JSON on stdout; a secret is printed only when a key is made.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { defaultOwnerId } from "../credentials.ts";
import { GATEWAY_DIR } from "../storage/posix/layout.ts";
import {
  FIRST_ADMIN,
  IdentityError,
  addKey,
  addUser,
  deletePolicy,
  getPolicy,
  ownerOfKey,
  putPolicy,
  removeKey,
  removeUser,
  setKeyStatus,
  type UserRecord,
} from "./records.ts";
import { UserStore, type FirstAdmin } from "./user-store.ts";

export const USER_HELP = [
  "usage: filegate user add NAME [--role admin|user] [--uid N --gid N] [--display-name S] [--access-key AK --secret-key SK]",
  "       filegate user list",
  "       filegate user remove NAME",
  "       filegate user key add NAME [--access-key AK --secret-key SK]",
  "       filegate user key disable|enable|remove ACCESS_KEY",
  "       filegate user policy put NAME POLICY_NAME FILE|-   (the JSON document; - reads stdin)",
  "       filegate user policy get|remove NAME POLICY_NAME",
  "each takes --root DIR (env FILEGATE_ROOT, default ./data)",
].join("\n");

export class UsageError extends Error {}

export interface CliResult {
  code: number;
  out: string;
}

/** The root's own credentials, when this process can know them: they are the first admin. */
function firstAdminOf(root: string, env: Record<string, string | undefined>): FirstAdmin | undefined {
  let pair: { accessKey: string; secretKey: string } | undefined;
  if (env.FILEGATE_ACCESS_KEY && env.FILEGATE_SECRET_KEY) {
    pair = { accessKey: env.FILEGATE_ACCESS_KEY, secretKey: env.FILEGATE_SECRET_KEY };
  } else {
    const file = join(root, GATEWAY_DIR, "credentials");
    if (existsSync(file)) {
      try {
        const data = JSON.parse(readFileSync(file, "utf8")) as { accessKeyId: string; secretAccessKey: string };
        pair = { accessKey: data.accessKeyId, secretKey: data.secretAccessKey };
      } catch {
        pair = undefined;
      }
    }
  }
  if (!pair) return undefined;
  return { ...pair, canonicalId: env.FILEGATE_OWNER_ID || defaultOwnerId(pair.accessKey), displayName: env.FILEGATE_OWNER_NAME || "filegate" };
}

/** A user without secrets, as `list` prints it. */
function describe(u: UserRecord & { builtin?: boolean }) {
  return {
    user: u.name,
    userId: u.userId,
    canonicalId: u.canonicalId,
    role: u.role,
    ...(u.uid !== undefined ? { uid: u.uid } : {}),
    ...(u.gid !== undefined ? { gid: u.gid } : {}),
    created: u.created,
    keys: u.keys.map((k) => ({ accessKeyId: k.accessKeyId, status: k.status, created: k.created })),
    policies: Object.keys(u.policies),
    ...(u.builtin ? { builtin: true } : {}),
  };
}

function intOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(v);
}

export async function runUserCommand(argv: string[], env: Record<string, string | undefined>, stdin: () => string): Promise<CliResult> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        root: { type: "string" },
        role: { type: "string" },
        uid: { type: "string" },
        gid: { type: "string" },
        "display-name": { type: "string" },
        "access-key": { type: "string" },
        "secret-key": { type: "string" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(String((e as Error).message).split("\n")[0]);
  }
  const v = parsed.values;
  const [verb, ...rest] = parsed.positionals;
  const root = resolve(v.root ?? env.FILEGATE_ROOT ?? "./data");
  const store = new UserStore(root, { firstAdmin: firstAdminOf(root, env) });
  const arity = (n: number) => {
    if (rest.length !== n) throw new UsageError(`'user ${parsed.positionals.slice(0, 2).join(" ")}' takes ${n} argument${n === 1 ? "" : "s"}\n${USER_HELP}`);
    return rest;
  };
  const given = { accessKeyId: v["access-key"], secretAccessKey: v["secret-key"] };
  const json = (o: unknown): CliResult => ({ code: 0, out: JSON.stringify(o) + "\n" });

  switch (verb) {
    case "add": {
      const [name] = arity(1);
      const role = v.role ?? "user";
      if (role !== "admin" && role !== "user") throw new UsageError("--role is admin or user");
      const uid = intOption(v.uid, "uid");
      const gid = intOption(v.gid, "gid");
      const made = await store.update((file, reserved) => {
        const user = addUser(file, { name, role, uid, gid, displayName: v["display-name"] }, reserved.names);
        return { user, key: addKey(file, name, given, reserved.keys) };
      });
      return json({
        user: made.user.name,
        accessKeyId: made.key.accessKeyId,
        secretAccessKey: made.key.secretAccessKey,
        userId: made.user.userId,
        canonicalId: made.user.canonicalId,
        role: made.user.role,
        ...(uid !== undefined ? { uid } : {}),
        ...(gid !== undefined ? { gid } : {}),
      });
    }
    case "list":
      arity(0);
      return json(store.users().map(describe));
    case "remove": {
      const [name] = arity(1);
      store.refuseBuiltin(name);
      await store.update((file) => removeUser(file, name, { force: true }));
      return { code: 0, out: "" };
    }
    case "key": {
      const [action, arg] = rest;
      if (action === "add") {
        if (rest.length !== 2) throw new UsageError(USER_HELP);
        store.refuseBuiltin(arg);
        const key = await store.update((file, reserved) => addKey(file, arg, given, reserved.keys));
        return json({ user: arg, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
      }
      if (action !== "disable" && action !== "enable" && action !== "remove") throw new UsageError(USER_HELP);
      if (rest.length !== 2) throw new UsageError(USER_HELP);
      const admin = store.user(FIRST_ADMIN);
      const adminsKey = admin?.builtin === true && admin.keys.some((k) => k.accessKeyId === arg);
      await store.update((file) => {
        // A stored user holding the first admin's key (a dead duplicate) may have it removed.
        const stored = file.users.some((u) => u.keys.some((k) => k.accessKeyId === arg));
        if (adminsKey && !(stored && action === "remove")) store.refuseBuiltin(FIRST_ADMIN);
        const user = ownerOfKey(file, arg);
        if (action === "remove") removeKey(file, user.name, arg);
        else setKeyStatus(file, user.name, arg, action === "disable" ? "Inactive" : "Active");
      });
      return { code: 0, out: "" };
    }
    case "policy": {
      const [action, name, policyName, source] = rest;
      if (action === "put" && rest.length === 4) {
        store.refuseBuiltin(name);
        const doc = source === "-" ? stdin() : readFileSync(source, "utf8");
        await store.update((file) => putPolicy(file, name, policyName, doc));
        return { code: 0, out: "" };
      }
      if (action === "get" && rest.length === 3) {
        const user = store.user(name);
        if (!user) throw new IdentityError("NoSuchEntity", `The user with name ${name} cannot be found.`);
        return { code: 0, out: getPolicy({ version: 1, users: [user] }, name, policyName) + "\n" };
      }
      if (action === "remove" && rest.length === 3) {
        await store.update((file) => deletePolicy(file, name, policyName));
        return { code: 0, out: "" };
      }
      throw new UsageError(USER_HELP);
    }
    default:
      throw new UsageError(USER_HELP);
  }
}
