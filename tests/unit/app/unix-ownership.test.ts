// In-process, as root: files written for a user with a Unix uid/gid belong to that account, and
// with --posix-permissions the mode bits bound what such a user may do (access/unix.ts,
// storage/posix/permission-check.ts). The users are numeric uids with no passwd entry.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { parseGroup, parsePasswd } from "../../../src/storage/posix/unix-accounts.ts";
import { join } from "node:path";
import { openApp, type AppGateway } from "../../support/app.ts";
import { ACCESS_KEY } from "../../support/env.ts";

const isRoot = process.getuid?.() === 0;
const ALICE = { uid: 41001, gid: 41001 };
const BOB = { uid: 41002, gid: 41002 };

/** Makes every request act for the admin with this Unix account (faster than a user store). */
const admins = new WeakMap<AppGateway, ReturnType<AppGateway["services"]["identify"]>>();
function actAs(gw: AppGateway, who: { uid: number; gid: number } | null): void {
  if (!admins.has(gw)) admins.set(gw, gw.services.identify(ACCESS_KEY));
  const admin = admins.get(gw)!;
  gw.services.identify = () => (who ? { ...admin, name: `u${who.uid}`, uid: who.uid, gid: who.gid } : admin);
}

/** A login of /etc/passwd that /etc/group lists in a group other than its primary one. */
function findGroupMember(): { uid: number; gid: number; group: number } | null {
  const passwd = parsePasswd(readFileSync("/etc/passwd", "utf8"));
  for (const g of parseGroup(readFileSync("/etc/group", "utf8"))) {
    for (const m of g.members) {
      const p = passwd.find((e) => e.name === m);
      if (p && p.uid !== 0 && p.gid !== g.gid) return { uid: p.uid, gid: p.gid, group: g.gid };
    }
  }
  return null;
}

const owner = (path: string) => {
  const st = statSync(path);
  return { uid: st.uid, gid: st.gid };
};

describe.skipIf(!isRoot)("ownership", () => {
  let gw: AppGateway;
  beforeAll(() => {
    gw = openApp();
  });
  afterAll(() => gw.close());

  test("a bucket, objects, the directories they make and copies belong to their writer", async () => {
    actAs(gw, ALICE);
    expect((await gw.signed("PUT", "/own")).status).toBe(200);
    expect(owner(join(gw.root, "own"))).toEqual(ALICE);
    expect((await gw.signed("PUT", "/own/a/b/one.txt", { body: "one" })).status).toBe(200);
    expect(owner(join(gw.root, "own/a/b/one.txt"))).toEqual(ALICE);
    expect(owner(join(gw.root, "own/a"))).toEqual(ALICE);
    expect(owner(join(gw.root, "own/a/b"))).toEqual(ALICE);
    actAs(gw, BOB);
    expect((await gw.signed("PUT", "/own/a/b/two.txt", { body: "two" })).status).toBe(200);
    expect(owner(join(gw.root, "own/a/b/two.txt"))).toEqual(BOB);
    // Existing directories keep their owner.
    expect(owner(join(gw.root, "own/a/b"))).toEqual(ALICE);
    expect((await gw.signed("PUT", "/own/copy.txt", { headers: { "x-amz-copy-source": "/own/a/b/one.txt" } })).status).toBe(200);
    expect(owner(join(gw.root, "own/copy.txt"))).toEqual(BOB);
    expect((await gw.signed("PUT", "/own/dir/", { body: "" })).status).toBe(200);
    expect(owner(join(gw.root, "own/dir"))).toEqual(BOB);
    // The gateway's own area stays the gateway's.
    expect(owner(join(gw.root, "own/.filegate")).uid).toBe(0);
    // A user without an account writes as the gateway.
    actAs(gw, null);
    expect((await gw.signed("PUT", "/own/root.txt", { body: "r" })).status).toBe(200);
    expect(owner(join(gw.root, "own/root.txt"))).toEqual({ uid: 0, gid: 0 });
  });

  test("multipart: parts are their writer's while staged; the object is the completer's", async () => {
    actAs(gw, ALICE);
    const init = await gw.signed("POST", "/own/mp.bin", { query: { uploads: "" } });
    const uploadId = /<UploadId>([^<]+)</.exec(init.body)![1];
    const part = await gw.signed("PUT", "/own/mp.bin", { query: { partNumber: "1", uploadId }, body: "part one" });
    expect(part.status).toBe(200);
    const staged = join(gw.root, "own/.filegate/uploads", uploadId);
    const partFile = readdirSync(staged).find((n: string) => /^part-00001\.[0-9a-f]+$/.test(n));
    expect(owner(join(staged, partFile!))).toEqual(ALICE);
    actAs(gw, BOB);
    const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.headers.get("etag")}</ETag></Part></CompleteMultipartUpload>`;
    const done = await gw.signed("POST", "/own/mp.bin", { query: { uploadId }, body: xml });
    expect(done.status).toBe(200);
    expect(owner(join(gw.root, "own/mp.bin"))).toEqual(BOB);
  });
});

describe.skipIf(!isRoot)("--posix-permissions", () => {
  let gw: AppGateway;
  beforeAll(async () => {
    gw = openApp(["--posix-permissions"]);
    actAs(gw, null);
    await gw.signed("PUT", "/perm");
    // The bucket is a shared directory, as a lab's would be: everyone may enter and add.
    chmodSync(join(gw.root, "perm"), 0o1777);
    // The gateway's root is 0755 root's: searchable by all.
    chmodSync(gw.root, 0o755);
  });
  afterAll(() => gw.close());

  test("a read the mode bits refuse is AccessDenied; the owner reads", async () => {
    actAs(gw, ALICE);
    expect((await gw.signed("PUT", "/perm/secret.txt", { body: "s" })).status).toBe(200);
    chmodSync(join(gw.root, "perm/secret.txt"), 0o600);
    expect((await gw.signed("GET", "/perm/secret.txt")).status).toBe(200);
    actAs(gw, BOB);
    const r = await gw.signed("GET", "/perm/secret.txt");
    expect([r.status, r.code]).toEqual([403, "AccessDenied"]);
    expect((await gw.signed("HEAD", "/perm/secret.txt")).status).toBe(403);
    // Copying it elsewhere reads it too.
    const c = await gw.signed("PUT", "/perm/stolen.txt", { headers: { "x-amz-copy-source": "/perm/secret.txt" } });
    expect([c.status, c.code]).toEqual([403, "AccessDenied"]);
    chmodSync(join(gw.root, "perm/secret.txt"), 0o644);
    expect((await gw.signed("GET", "/perm/secret.txt")).status).toBe(200);
    // A missing key is still NoSuchKey: nothing refuses a name that is not there.
    expect((await gw.signed("GET", "/perm/nothing")).status).toBe(404);
  });

  test("group classes: the primary gid reads a 0640 file; others do not", async () => {
    const path = join(gw.root, "perm/team.txt");
    writeFileSync(path, "t");
    chownSync(path, 0, BOB.gid);
    chmodSync(path, 0o640);
    actAs(gw, BOB);
    expect((await gw.signed("GET", "/perm/team.txt")).status).toBe(200);
    actAs(gw, ALICE);
    expect((await gw.signed("GET", "/perm/team.txt")).status).toBe(403);
  });

  test("supplementary groups come from the system's group database", async () => {
    // Needs a login that /etc/group lists as a member of a group other than its own; none is made.
    const member = findGroupMember();
    if (!member) return;
    const path = join(gw.root, "perm/lab.txt");
    writeFileSync(path, "l");
    chownSync(path, 0, member.group);
    chmodSync(path, 0o640);
    actAs(gw, { uid: member.uid, gid: member.gid });
    expect((await gw.signed("GET", "/perm/lab.txt")).status).toBe(200);
    // The same uid with no passwd match (another number) would not be in the group.
    actAs(gw, { uid: member.uid + 100000, gid: member.gid });
    expect((await gw.signed("GET", "/perm/lab.txt")).status).toBe(403);
  });

  test("directories: x to reach, w+x to write or delete in, r+x to list; the sticky bit protects others' files", async () => {
    actAs(gw, ALICE);
    expect((await gw.signed("PUT", "/perm/private/a.txt", { body: "a" })).status).toBe(200);
    chmodSync(join(gw.root, "perm/private"), 0o700);
    actAs(gw, BOB);
    expect((await gw.signed("GET", "/perm/private/a.txt")).status).toBe(403);
    expect((await gw.signed("PUT", "/perm/private/b.txt", { body: "b" })).status).toBe(403);
    expect((await gw.signed("DELETE", "/perm/private/a.txt")).status).toBe(403);
    expect((await gw.signed("GET", "/perm", { query: { "list-type": "2", prefix: "private/" } })).status).toBe(403);
    // A listing of the bucket leaves out what Bob cannot read.
    const all = await gw.signed("GET", "/perm", { query: { "list-type": "2" } });
    expect(all.status).toBe(200);
    expect(all.body).not.toContain("private/a.txt");
    expect(all.body).toContain("secret.txt");
    // In the sticky bucket Bob may not delete or replace Alice's file, but may his own.
    expect((await gw.signed("DELETE", "/perm/secret.txt")).status).toBe(403);
    expect((await gw.signed("PUT", "/perm/secret.txt", { body: "mine now" })).status).toBe(403);
    expect((await gw.signed("PUT", "/perm/bob.txt", { body: "b" })).status).toBe(200);
    expect((await gw.signed("DELETE", "/perm/bob.txt")).status).toBe(204);
    // Alice's own directory is hers again.
    actAs(gw, ALICE);
    expect((await gw.signed("GET", "/perm/private/a.txt")).status).toBe(200);
    expect((await gw.signed("GET", "/perm", { query: { "list-type": "2", prefix: "private/" } })).body).toContain("private/a.txt");
  });

  test("tags need w on the file; bucket settings need the bucket directory's ownership", async () => {
    actAs(gw, BOB);
    const tagging = "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>";
    expect((await gw.signed("PUT", "/perm/secret.txt", { query: { tagging: "" }, body: tagging })).status).toBe(403);
    expect((await gw.signed("PUT", "/perm", { query: { tagging: "" }, body: tagging })).status).toBe(403);
    expect((await gw.signed("GET", "/perm", { query: { tagging: "" } })).status).not.toBe(403);
    // Creating a bucket needs w on the root, which is root's 0755.
    expect((await gw.signed("PUT", "/bobs")).status).toBe(403);
  });

  test("a user without a Unix account is not bound by the mode bits", async () => {
    actAs(gw, null);
    chmodSync(join(gw.root, "perm/secret.txt"), 0o600);
    expect((await gw.signed("GET", "/perm/private/a.txt")).status).toBe(200);
    expect((await gw.signed("GET", "/perm/secret.txt")).status).toBe(200);
  });
});
