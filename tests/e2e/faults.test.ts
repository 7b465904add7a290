// Filesystem faults get S3 answers, never a 500: a full disk (a 1 MiB tmpfs), a read-only
// filesystem (a tmpfs remounted ro), files and directories the gateway may not touch (the gateway
// runs as uid 65534: root ignores permission bits), symbolic-link loops and over-long names.
// Mounting needs root and CAP_SYS_ADMIN; where the machine refuses, those tests are skipped and
// the reason printed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeKey, type Gateway, s3Client, signedRequest, startGateway } from "../support/index.ts";

const isRoot = process.getuid?.() === 0;

function run(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error) return `${cmd}: ${r.error.message}`;
  return r.status === 0 ? null : `${cmd} ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}`;
}

const mounted = new Set<string>();

/** Mounts a fresh tmpfs of `size` on a new directory; the directory, or why it could not. */
function tmpfs(size: string): { dir: string; skip: null } | { dir: null; skip: string } {
  if (!isRoot) return { dir: null, skip: "not root: cannot mount a tmpfs" };
  const dir = mkdtempSync(join(tmpdir(), "filegate-fault-"));
  const err = run("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir]);
  if (err) {
    rmSync(dir, { recursive: true, force: true });
    return { dir: null, skip: err };
  }
  mounted.add(dir);
  return { dir, skip: null };
}

function unmount(dir: string | null | undefined): void {
  if (!dir || !mounted.delete(dir)) return;
  run("umount", ["-l", dir]);
  rmSync(dir, { recursive: true, force: true });
}

/** Why tmpfs tests cannot run here (checked once with a throwaway mount), or null. */
const mountProblem = (() => {
  const probe = tmpfs("64k");
  unmount(probe.dir);
  return probe.skip;
})();

// Whatever a failed or filtered run left mounted.
afterAll(() => {
  for (const dir of [...mounted]) unmount(dir);
});

const remount = (dir: string, mode: "ro" | "rw") => expect(run("mount", ["-o", `remount,${mode}`, dir])).toBeNull();

function skipNote(what: string, reason: string | null): boolean {
  if (reason) console.log(`faults: skipping ${what}: ${reason}`);
  return reason !== null;
}

/** An SDK call's failure as status, code and attempt count (the SDK's own retries included). */
async function failure(p: Promise<unknown>): Promise<{ status?: number; code?: string; attempts?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
    return { status: err.$metadata?.httpStatusCode, code: err.name, attempts: err.$metadata?.attempts };
  }
  return {};
}

const tmpFilesOf = (bucketDir: string) => (existsSync(join(bucketDir, ".filegate", "tmp")) ? readdirSync(join(bucketDir, ".filegate", "tmp")) : []);

describe("disk full: 507 InsufficientStorage, which SDKs do not retry", () => {
  const skip = skipNote("disk-full tests", mountProblem);
  let fs: ReturnType<typeof tmpfs>;
  let gw: Gateway;
  let s3: S3Client;
  beforeAll(async () => {
    if (skip) return;
    fs = tmpfs("1m");
    gw = await startGateway({ root: fs.dir! });
    s3 = s3Client(gw);
    await s3.send(new CreateBucketCommand({ Bucket: "full" }));
  });
  afterAll(async () => {
    s3?.destroy();
    await gw?.stop();
    unmount(fs?.dir);
  });

  test.skipIf(skip)("a PUT larger than the free space: 507 after one attempt, nothing left behind", async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 7);
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: "full", Key: "big", Body: body })))).toEqual({ status: 507, code: "InsufficientStorage", attempts: 1 });
    expect(tmpFilesOf(join(gw.root, "full"))).toEqual([]);
    expect(existsSync(join(gw.root, "full", "big"))).toBe(false);
    // The space came back with the temp file: a small object fits.
    await s3.send(new PutObjectCommand({ Bucket: "full", Key: "small", Body: "fits" }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket: "full", Key: "small" }))).Body!.transformToString()).toBe("fits");
  });

  test.skipIf(skip)("an UploadPart larger than the free space: 507", async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: "full", Key: "mp" }));
    const part = UploadPartCommand;
    expect(await failure(s3.send(new part({ Bucket: "full", Key: "mp", UploadId, PartNumber: 1, Body: Buffer.alloc(2 * 1024 * 1024, 1) })))).toMatchObject({
      status: 507,
      code: "InsufficientStorage",
    });
  });

  test.skipIf(skip)("the error document is XML and the log names the cause", async () => {
    const r = await signedRequest(gw, { method: "PUT", path: "/full/raw", body: Buffer.alloc(1536 * 1024) });
    expect([r.status, r.code, r.headers.get("content-type")]).toEqual([507, "InsufficientStorage", "application/xml"]);
    expect(gw.output()).toMatch(/507 InsufficientStorage: .*\| cause: .*ENOSPC/);
    expect(gw.output()).not.toContain("internal error");
  });
});

describe("read-only filesystem", () => {
  const skip = skipNote("read-only filesystem tests", mountProblem);
  let fs: ReturnType<typeof tmpfs>;
  beforeAll(() => {
    if (skip) return;
    fs = tmpfs("4m");
    mkdirSync(join(fs.dir!, "ro"));
    writeFileSync(join(fs.dir!, "ro", "kept.txt"), "kept");
  });
  afterAll(() => unmount(fs?.dir));

  test.skipIf(skip)("a gateway starts on it: reads work, writes are 403, /ready says not writable", async () => {
    remount(fs.dir!, "ro");
    try {
      const gw = await startGateway({ root: fs.dir! });
      const s3 = s3Client(gw);
      try {
        expect(gw.output()).toContain("read-only filesystem");
        expect(await (await s3.send(new GetObjectCommand({ Bucket: "ro", Key: "kept.txt" }))).Body!.transformToString()).toBe("kept");
        const put = await signedRequest(gw, { method: "PUT", path: "/ro/new.txt", body: "x" });
        expect([put.status, put.code]).toEqual([403, "AccessDenied"]);
        expect(put.body).toContain("read-only");
        const del = await signedRequest(gw, { method: "DELETE", path: "/ro/kept.txt" });
        expect([del.status, del.code]).toEqual([403, "AccessDenied"]);
        const mk = await signedRequest(gw, { method: "PUT", path: "/newbucket" });
        expect([mk.status, mk.code]).toEqual([403, "AccessDenied"]);
        const ready = await fetch(`${gw.endpoint}/_filegate/ready`);
        expect([ready.status, await ready.text()]).toEqual([503, "root not readable and writable\n"]);
        expect(gw.output()).not.toContain("internal error");
      } finally {
        s3.destroy();
        await gw.stop();
      }
      // With --readonly, read-only is the intent: ready.
      const ro = await startGateway({ root: fs.dir!, args: ["--readonly"] });
      try {
        const ready = await fetch(`${ro.endpoint}/_filegate/ready`);
        expect(ready.status).toBe(200);
        const get = await signedRequest(ro, { method: "GET", path: "/ro/kept.txt" });
        expect([get.status, get.body]).toEqual([200, "kept"]);
      } finally {
        await ro.stop();
      }
    } finally {
      remount(fs.dir!, "rw");
    }
  });

  test.skipIf(skip)("remounted read-only under a running gateway: writes get 403, not 500", async () => {
    const gw = await startGateway({ root: fs.dir! });
    const s3 = s3Client(gw);
    try {
      await s3.send(new PutObjectCommand({ Bucket: "ro", Key: "before.txt", Body: "before" }));
      remount(fs.dir!, "ro");
      for (const [method, path] of [["PUT", "/ro/after.txt"], ["PUT", "/ro/dir/after.txt"], ["DELETE", "/ro/before.txt"], ["POST", "/ro/mp"]] as const) {
        const r = await signedRequest(gw, { method, path, body: method === "PUT" ? "x" : undefined, query: method === "POST" ? { uploads: "" } : undefined });
        expect({ method, path, status: r.status, code: r.code, log: r.status === 500 ? gw.output() : "" }).toEqual({ method, path, status: 403, code: "AccessDenied", log: "" });
      }
      const tagging = await signedRequest(gw, {
        method: "PUT",
        path: "/ro/before.txt",
        query: { tagging: "" },
        body: "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>",
      });
      expect([tagging.status, tagging.code]).toEqual([403, "AccessDenied"]);
      const get = await signedRequest(gw, { method: "GET", path: "/ro/before.txt" });
      expect([get.status, get.body]).toEqual([200, "before"]);
      expect(gw.output()).not.toContain("internal error");
    } finally {
      remount(fs.dir!, "rw");
      s3.destroy();
      await gw.stop();
    }
  });
});

describe("permissions: the gateway runs as uid 65534", () => {
  const setpriv = isRoot ? run("setpriv", ["--version"]) : "not root: cannot start the gateway as another user";
  const skip = skipNote("permission tests", setpriv);
  const NOBODY = 65534;
  let root: string;
  let gw: Gateway;
  let s3: S3Client;
  beforeAll(async () => {
    if (skip) return;
    root = mkdtempSync(join(tmpdir(), "filegate-perm-"));
    chownSync(root, NOBODY, NOBODY);
    gw = await startGateway({ root, wrap: ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"] });
    s3 = s3Client(gw);
    await s3.send(new CreateBucketCommand({ Bucket: "perm" }));
    // Root's files in the gateway's bucket: one unreadable, one directory it may not write into.
    writeFileSync(join(root, "perm", "secret.txt"), "top secret");
    chmodSync(join(root, "perm", "secret.txt"), 0o600);
    mkdirSync(join(root, "perm", "locked"));
    writeFileSync(join(root, "perm", "locked", "inside.txt"), "inside");
  });
  afterAll(async () => {
    s3?.destroy();
    await gw?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test.skipIf(skip)("GET and HEAD of an unreadable file agree: 403 AccessDenied (XML on GET)", async () => {
    const get = await signedRequest(gw, { method: "GET", path: "/perm/secret.txt" });
    expect([get.status, get.code, get.headers.get("content-type")]).toEqual([403, "AccessDenied", "application/xml"]);
    expect(get.body).not.toContain("top secret");
    const ranged = await signedRequest(gw, { method: "GET", path: "/perm/secret.txt", headers: { range: "bytes=0-3" } });
    expect([ranged.status, ranged.code]).toEqual([403, "AccessDenied"]);
    const head = await signedRequest(gw, { method: "HEAD", path: "/perm/secret.txt" });
    expect(head.status).toBe(403);
  });

  test.skipIf(skip)("writes into and deletes from a directory the gateway may not write: 403, nothing changed", async () => {
    const put = await signedRequest(gw, { method: "PUT", path: "/perm/locked/new.txt", body: "x" });
    expect([put.status, put.code]).toEqual([403, "AccessDenied"]);
    const del = await signedRequest(gw, { method: "DELETE", path: "/perm/locked/inside.txt" });
    expect([del.status, del.code]).toEqual([403, "AccessDenied"]);
    expect(readdirSync(join(root, "perm", "locked"))).toEqual(["inside.txt"]);
    expect(tmpFilesOf(join(root, "perm"))).toEqual([]);
    expect(gw.output()).not.toContain("internal error");
  });
});

describe("names the filesystem refuses", () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway();
    mkdirSync(join(gw.root, "names"));
    // A link that points at itself: every path through it is ELOOP.
    symlinkSync("loop", join(gw.root, "names", "loop"));
  });
  afterAll(() => gw?.stop());

  test("a symbolic-link loop in the key's path: 4xx, never 500", async () => {
    // A link that leads nowhere is no object, as one leading out of the bucket is not: reads are
    // 404. A write refuses to go through the link (403).
    for (const [method, key] of [["GET", "loop/x"], ["HEAD", "loop/x"], ["GET", "loop"], ["PUT", "loop/x"], ["PUT", "loop/deeper/x"]] as const) {
      const r = await signedRequest(gw, { method, path: `/names/${key}`, body: method === "PUT" ? "x" : undefined });
      if (method === "PUT") {
        expect({ method, key, clientError: r.status >= 400 && r.status < 500, code: r.code !== null }).toEqual({ method, key, clientError: true, code: true });
      } else {
        expect({ method, key, status: r.status }).toEqual({ method, key, status: 404 });
        if (method === "GET") expect(r.code).toBe("NoSuchKey");
      }
    }
    expect(gw.output()).not.toContain("internal error");
  });

  test("a key segment longer than the filesystem's names: 400 KeyTooLongError", async () => {
    const key = "d/" + "n".repeat(300);
    for (const method of ["PUT", "GET"]) {
      const r = await signedRequest(gw, { method, path: `/names/${encodeKey(key)}`, body: method === "PUT" ? "x" : undefined });
      expect({ method, status: r.status, code: r.code }).toEqual({ method, status: 400, code: "KeyTooLongError" });
    }
    expect(gw.output()).not.toContain("internal error");
  });
});
