// The kernel's permission rules (path_resolution(7), inode_permission) on stat results, for
// --posix-permissions: the gateway runs as root and asks, for each request, what the user's Unix
// account could do. Pure: the caller stats, this decides.

export interface UnixCredential {
  uid: number;
  gid: number;
  /** Supplementary groups (getgrouplist): the primary gid may be among them. */
  groups: readonly number[];
}

export interface ModeOf {
  mode: number;
  uid: number;
  gid: number;
}

export const R = 4;
export const W = 2;
export const X = 1;

/**
 * Whether `who` has every bit of `want` (R|W|X) on a file or directory with `st`: the owner class
 * if the uid matches, else the group class if any of the account's groups matches, else other;
 * only one class is consulted, as the kernel does (an owner without r is refused even if other has r).
 * uid 0 may do anything but execute a file no one may execute.
 */
export function permits(st: ModeOf, who: UnixCredential, want: number): boolean {
  if (who.uid === 0) return (want & X) === 0 || (st.mode & 0o170000) === 0o040000 || (st.mode & 0o111) !== 0;
  let bits: number;
  if (st.uid === who.uid) bits = (st.mode >> 6) & 7;
  else if (st.gid === who.gid || who.groups.includes(st.gid)) bits = (st.mode >> 3) & 7;
  else bits = st.mode & 7;
  return (bits & want) === want;
}

/**
 * The sticky bit (/tmp's `t`): in such a directory only the owner of an entry, the owner of the
 * directory or root may remove or replace the entry, whatever the directory's w bit says.
 */
export function stickyPermits(dir: ModeOf, entry: ModeOf, who: UnixCredential): boolean {
  return (dir.mode & 0o1000) === 0 || who.uid === 0 || entry.uid === who.uid || dir.uid === who.uid;
}
