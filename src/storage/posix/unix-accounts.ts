// Supplementary groups of a Unix account, as getgrouplist(3) gives them: the primary gid, plus
// every group of /etc/group that names the account's login (from /etc/passwd by uid) as a member.
// Read from the files, not NSS: neither runtime exposes getgrouplist, and a gateway that consults
// LDAP through NSS should be given those groups in the files (or with the user's gid) instead.
// The files are read again when they change (checked at most once a second), so `usermod -aG`
// takes effect without a restart.
import { readFileSync, statSync } from "node:fs";

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** passwd(5) lines: name:password:uid:gid:gecos:home:shell. Malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 4 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) });
  }
  return out;
}

/** group(5) lines: name:password:gid:member,member. Malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 4 || !/^\d+$/.test(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: f[3].split(",").map((m) => m.trim()).filter((m) => m !== "") });
  }
  return out;
}

/**
 * getgrouplist(login of `uid`, `gid`): `gid` first, then each group naming the login, once. A uid
 * with no passwd entry has no login to be a member by: its groups are `gid` alone.
 */
export function groupList(uid: number, gid: number, passwd: PasswdEntry[], groups: GroupEntry[]): number[] {
  const out = [gid];
  const login = passwd.find((p) => p.uid === uid)?.name;
  if (login === undefined) return out;
  for (const g of groups) if (g.members.includes(login) && !out.includes(g.gid)) out.push(g.gid);
  return out;
}

/** The system's account files, re-read when they change. */
export class UnixAccounts {
  constructor(
    private readonly passwdFile = "/etc/passwd",
    private readonly groupFile = "/etc/group",
  ) {}

  private passwd: PasswdEntry[] = [];
  private groups: GroupEntry[] = [];
  private stamp = "";
  private checkedAt = -Infinity;

  groupsOf(uid: number, gid: number): number[] {
    this.refresh();
    return groupList(uid, gid, this.passwd, this.groups);
  }

  private refresh(): void {
    const now = Date.now();
    if (now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    const stamp = `${mtimeOf(this.passwdFile)}/${mtimeOf(this.groupFile)}`;
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    this.passwd = parsePasswd(readOr(this.passwdFile));
    this.groups = parseGroup(readOr(this.groupFile));
  }
}

function mtimeOf(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.mtimeMs}:${st.size}`;
  } catch {
    return "-";
  }
}

/** A missing file is no accounts (a container without /etc/group), not a failure. */
function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
