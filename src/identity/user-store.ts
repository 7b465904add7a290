// The users of one root, shared by every process (and host) serving it: ROOT/.filegate/users.json,
// mode 0600, replaced whole by rename under a cross-process lock, so concurrent changes from the
// CLI and the IAM API of several gateways never lose one another's update. Each process keeps the
// file as Maps (an access key lookup is one Map get) and checks the file's identity at most every
// CHECK_MS on lookups, so a change (a disabled key too) reaches every process within that time.
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, type Stats } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { ACCOUNT_ID, type UserPrincipal } from "../access/principal.ts";
import { lock } from "../storage/posix/locks.ts";
import { fsyncPath } from "../storage/posix/durability.ts";
import { GATEWAY_DIR } from "../storage/posix/layout.ts";
import { FIRST_ADMIN, IdentityError, derivedUserId, emptyFile, parseUserFile, sharedKeys, type ReservedKeys, type UserFile, type UserRecord } from "./records.ts";

/** How stale a process's view of the user file may get. */
export const CHECK_MS = 500;

export const USERS_FILE = "users.json";
const LOCK_FILE = "users.lock";
/**
 * The SHA-256 of the access key a gateway serving this root was started with: the CLI, which may
 * not see the gateway's environment, refuses that key to other users too.
 */
export const ADMIN_KEY_FILE = "admin-key.sha256";

const keyDigest = (accessKey: string) => createHash("sha256").update(accessKey).digest("hex");

/** The root's own credentials: the first admin, not stored in the user file. */
export interface FirstAdmin {
  canonicalId: string;
  displayName: string;
  accessKey: string;
  secretKey: string;
}

/** A user as the store shows it; `builtin` marks the first admin, which is changed where it comes from. */
export type UserView = UserRecord & { builtin?: boolean };

interface KeyEntry {
  secret: string;
  principal: UserPrincipal;
}

const NO_DOCS: readonly string[] = Object.freeze([]);

interface Index {
  keys: Map<string, KeyEntry>;
  /** Each user's inline policy documents, one array per view of the file (callers cache by it). */
  policies: Map<string, readonly string[]>;
  byName: Map<string, UserView>;
  byCanonicalId: Map<string, UserView>;
}

const arnOf = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:user/${name}`;

function principalOf(u: UserView, accessKey: string): UserPrincipal {
  return Object.freeze({
    kind: "user",
    name: u.name,
    canonicalId: u.canonicalId,
    displayName: u.displayName,
    userId: u.userId,
    arn: arnOf(u.name),
    role: u.role,
    accessKey,
    ...(u.uid !== undefined ? { uid: u.uid } : {}),
    ...(u.gid !== undefined ? { gid: u.gid } : {}),
  });
}

function fileIdentity(st: Stats): string {
  // Not ctime: the rename that publishes a file changes it.
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

export class UserStore {
  readonly dir: string;
  readonly file: string;
  private readonly admin: UserView | null;
  private index: Index;
  private seen = "";
  private nextCheck = 0;
  private readonly checkMs: number;

  constructor(
    root: string,
    private readonly opts: {
      firstAdmin?: FirstAdmin;
      fsync?: boolean;
      log?: (line: string) => void;
      checkMs?: number;
      /** A gateway's start: a key two users hold (the first admin's above all) is an error, not a dead key. */
      refuseSharedKeys?: boolean;
    } = {},
  ) {
    this.dir = join(root, GATEWAY_DIR);
    this.file = join(this.dir, USERS_FILE);
    this.checkMs = opts.checkMs ?? CHECK_MS;
    const a = opts.firstAdmin;
    this.admin = a
      ? {
          name: FIRST_ADMIN,
          canonicalId: a.canonicalId,
          userId: derivedUserId(a.canonicalId),
          displayName: a.displayName,
          role: "admin",
          created: new Date(0).toISOString(),
          keys: [{ accessKeyId: a.accessKey, secretAccessKey: a.secretKey, status: "Active", created: new Date(0).toISOString() }],
          policies: {},
          builtin: true,
        }
      : null;
    // A user file that cannot be read is a setup error, not an empty store: its users would lose access.
    const loaded = this.readFile();
    const ok = loaded === "unchanged" ? null : loaded;
    const shared = this.sharedKeysOf(ok?.file ?? emptyFile());
    if (shared.length > 0 && opts.refuseSharedKeys) throw new Error(shared.join("; "));
    this.index = this.build(ok?.file ?? emptyFile());
    this.seen = ok?.identity ?? "";
    this.nextCheck = Date.now() + this.checkMs;
  }

  // ---- lookups (the request path) ----

  /** The secret of an Active key; undefined for unknown and Inactive keys. */
  lookupSecret(accessKey: string): string | undefined {
    return this.current().keys.get(accessKey)?.secret;
  }

  /** The user an Active key belongs to. */
  identify(accessKey: string): UserPrincipal | undefined {
    return this.current().keys.get(accessKey)?.principal;
  }

  user(name: string): UserView | undefined {
    return this.current().byName.get(name);
  }

  byCanonicalId(id: string): UserView | undefined {
    return this.current().byCanonicalId.get(id);
  }

  /** Every user, the first admin first. */
  users(): UserView[] {
    return [...this.current().byName.values()];
  }

  /**
   * The inline policy documents of `name` (none for an unknown user). The same array until the
   * user file changes, so callers may cache what they derive from it by its identity.
   */
  userPolicies(name: string): readonly string[] {
    return this.current().policies.get(name) ?? NO_DOCS;
  }

  /** The view as of at most `checkMs` ago: one clock read per call, a stat only when that is due. */
  private current(): Index {
    const now = Date.now();
    if (now >= this.nextCheck) {
      this.nextCheck = now + this.checkMs;
      this.refresh();
    }
    return this.index;
  }

  /** Re-reads the file when it is not the one last read. */
  refresh(): void {
    let loaded;
    try {
      loaded = this.readFile(this.seen);
    } catch (e) {
      // A broken file (edited by hand) keeps the last good view rather than locking everyone out.
      this.opts.log?.(`filegate: ${this.file}: ${(e as Error).message}; keeping the users read before`);
      return;
    }
    if (loaded === "unchanged") return;
    // Running already: the first holder keeps the key; the dead duplicate is told once per file version.
    for (const line of this.sharedKeysOf(loaded?.file ?? emptyFile())) this.opts.log?.(`filegate: ${this.file}: ${line}`);
    this.index = this.build(loaded?.file ?? emptyFile());
    this.seen = loaded?.identity ?? "";
  }

  /** The file and its identity; null when absent; "unchanged" when its identity is `known`. */
  private readFile(known?: string): { file: UserFile; identity: string } | null | "unchanged" {
    let fd: number;
    try {
      fd = openSync(this.file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return known === "" ? "unchanged" : null;
      throw e;
    }
    try {
      // Identity and content from one descriptor: a rename meanwhile shows at the next check.
      const identity = fileIdentity(fstatSync(fd));
      if (identity === known) return "unchanged";
      return { file: parseUserFile(readFileSync(fd, "utf8")), identity };
    } finally {
      closeSync(fd);
    }
  }

  /** What is wrong with each key more than one user holds, with what to do about it. */
  private sharedKeysOf(file: UserFile): string[] {
    return sharedKeys(this.admin ? [this.admin, ...file.users] : file.users).map(({ accessKeyId, users }) =>
      users[0] === FIRST_ADMIN && this.admin
        ? `the access key ${accessKeyId} of user ${users.slice(1).join(", ")} is the first admin's (FILEGATE_ACCESS_KEY or ROOT/.filegate/credentials); remove it (filegate user key remove ${accessKeyId}) or give the gateway another key`
        : `the access key ${accessKeyId} is held by users ${users.join(", ")}: only ${users[0]} can sign with it; remove the others' (filegate user key remove ${accessKeyId} removes the first stored holder's)`,
    );
  }

  /** Notes the first admin's key for the CLI (ADMIN_KEY_FILE); a root that cannot be written is left as it is. */
  recordFirstAdminKey(): void {
    if (!this.admin) return;
    const digest = keyDigest(this.admin.keys[0].accessKeyId) + "\n";
    const file = join(this.dir, ADMIN_KEY_FILE);
    try {
      if (readFileSync(file, "utf8") === digest) return;
    } catch {
      // Not there yet.
    }
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
      const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        writeSync(fd, digest);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    } catch (e) {
      this.opts.log?.(`filegate: cannot note the first admin's key in ${file} (${(e as Error).message}); \`filegate user\` will not know it`);
    }
  }

  /** Keys outside the file: this process's first admin's, and the one a gateway noted (recordFirstAdminKey). */
  private reservedKeys(): ReservedKeys {
    let noted: string | undefined;
    try {
      noted = readFileSync(join(this.dir, ADMIN_KEY_FILE), "utf8").trim();
    } catch {
      noted = undefined;
    }
    const own = this.admin?.keys[0].accessKeyId;
    return { has: (k) => k === own || (noted !== undefined && keyDigest(k) === noted) };
  }

  private build(file: UserFile): Index {
    const index: Index = { keys: new Map(), policies: new Map(), byName: new Map(), byCanonicalId: new Map() };
    const add = (u: UserView) => {
      index.byName.set(u.name, u);
      const docs = Object.values(u.policies);
      if (docs.length > 0) index.policies.set(u.name, Object.freeze(docs));
      if (!index.byCanonicalId.has(u.canonicalId)) index.byCanonicalId.set(u.canonicalId, u);
      for (const k of u.keys) {
        // The root's own key wins over a stored one of the same name.
        if (k.status === "Active" && !index.keys.has(k.accessKeyId)) index.keys.set(k.accessKeyId, { secret: k.secretAccessKey, principal: principalOf(u, k.accessKeyId) });
      }
    };
    if (this.admin) add(this.admin);
    for (const u of file.users) if (!index.byName.has(u.name)) add(u);
    return index;
  }

  // ---- changes (CLI, IAM API) ----

  /**
   * Runs `change` on the file as it is now, under the lock every process takes, and writes the
   * result in its place; the caller's view is current when this returns. The first admin is
   * passed as reserved: `change` must not create a user or key of that name.
   */
  async update<T>(change: (file: UserFile, reserved: { names: ReadonlySet<string>; keys: ReservedKeys }) => T): Promise<T> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const held = await lock(join(this.dir, LOCK_FILE));
    try {
      const loaded = this.readFile();
      const file = loaded && loaded !== "unchanged" ? loaded.file : emptyFile();
      const reserved = {
        names: new Set(this.admin ? [this.admin.name] : [FIRST_ADMIN]),
        keys: this.reservedKeys(),
      };
      const result = change(file, reserved);
      this.seen = this.write(file);
      this.index = this.build(file);
      this.nextCheck = Date.now() + this.checkMs;
      return result;
    } finally {
      held.release();
    }
  }

  /** Replaces the file whole (temp file, fsync, rename); returns the new file's identity. */
  private write(file: UserFile): string {
    const tmp = `${this.file}.${randomBytes(6).toString("hex")}.tmp`;
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    let identity: string;
    try {
      writeSync(fd, JSON.stringify(file, null, 1) + "\n");
      if (this.opts.fsync !== false) fsyncSync(fd);
      identity = fileIdentity(fstatSync(fd));
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    try {
      renameSync(tmp, this.file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    if (this.opts.fsync !== false) fsyncPath(this.dir);
    return identity;
  }

  /** Refuses changes to the first admin, whose record comes from the root's credentials. */
  refuseBuiltin(name: string): void {
    if (this.admin && name === this.admin.name) {
      throw new IdentityError("UnmodifiableEntity", `The user ${name} is the root's own credentials (FILEGATE_ACCESS_KEY/FILEGATE_SECRET_KEY or ROOT/.filegate/credentials); change them there.`);
    }
  }
}
