// CompleteMultipartUpload without copying: parts written at their final offsets of the upload's
// shared file, Complete as truncate + rename, and every case where it must copy instead (re-uploaded
// parts, odd sizes, subsets, a part still being written, no addon, two processes writing one
// upload). Each case checks the object byte for byte and, through the upload's completion record,
// which way Complete took. A loop-mounted xfs image (when the tests run as root with mkfs.xfs)
// covers FICLONERANGE.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { type Gateway, md5Hex, s3Client, startGateway, uniqueBucket } from "../support/index.ts";

const MiB = 1024 * 1024;

interface Ctx {
  gw: Gateway;
  s3: S3Client;
  bucket: string;
}

async function setup(opts: Parameters<typeof startGateway>[0] = {}): Promise<Ctx> {
  const gw = await startGateway(opts);
  const s3 = s3Client(gw);
  const bucket = uniqueBucket("inplace");
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return { gw, s3, bucket };
}

async function teardown(c: Ctx | undefined) {
  c?.s3.destroy();
  await c?.gw.stop();
}

async function create(c: Ctx, Key: string): Promise<string> {
  return (await c.s3.send(new CreateMultipartUploadCommand({ Bucket: c.bucket, Key }))).UploadId!;
}

async function part(c: Ctx, Key: string, UploadId: string, PartNumber: number, Body: Uint8Array | Readable, extra: Record<string, unknown> = {}) {
  return (await c.s3.send(new UploadPartCommand({ Bucket: c.bucket, Key, UploadId, PartNumber, Body, ...extra }))).ETag!;
}

async function complete(c: Ctx, Key: string, UploadId: string, parts: [number, string][], extra: Record<string, unknown> = {}) {
  return c.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: c.bucket,
      Key,
      UploadId,
      MultipartUpload: { Parts: parts.map(([PartNumber, ETag]) => ({ PartNumber, ETag })) },
      ...extra,
    }),
  );
}

async function body(c: Ctx, Key: string): Promise<Buffer> {
  const r = await c.s3.send(new GetObjectCommand({ Bucket: c.bucket, Key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** How Complete built the object, from the upload's completion record. */
function how(c: Ctx, uploadId: string): { assembly: string; copyMethod: string } {
  const rec = JSON.parse(readFileSync(join(c.gw.root, c.bucket, ".filegate", "uploads", `${uploadId}.done`), "utf8"));
  return { assembly: rec.assembly, copyMethod: rec.copyMethod };
}

function uploadFiles(c: Ctx, uploadId: string): string[] {
  const dir = join(c.gw.root, c.bucket, ".filegate", "uploads", uploadId);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

const shuffled = <T>(xs: T[]) => xs.map((x) => [Math.random(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);

describe("one gateway", () => {
  let c: Ctx;
  beforeAll(async () => {
    c = await setup();
  });
  afterAll(() => teardown(c));

  test("SDK-shaped upload, parts out of order and concurrent: Complete moves no data", async () => {
    const key = "big/obj";
    const id = await create(c, key);
    const parts = [...Array.from({ length: 5 }, () => randomBytes(5 * MiB)), randomBytes(1234567)];
    // Parts 1..5 at once in random order (any of them sets the stride), then the short last part.
    await Promise.all(shuffled([1, 2, 3, 4, 5]).map((n) => part(c, key, id, n, parts[n - 1])));
    await part(c, key, id, 6, parts[5]);
    expect(uploadFiles(c, id).filter((n) => /^part-\d{5}\.[0-9a-f]+$/.test(n))).toEqual([]); // no part files of their own
    await complete(c, key, id, parts.map((b, i) => [i + 1, `"${md5Hex(b)}"`]));
    expect(how(c, id)).toEqual({ assembly: "in-place", copyMethod: "none" });
    expect((await body(c, key)).equals(Buffer.concat(parts))).toBe(true);
  });

  test("parts of 8 MiB and more (MD5 on a worker reading the shared file at the part's offset)", async () => {
    const key = "big/hashed-beside";
    const id = await create(c, key);
    const parts = [randomBytes(9 * MiB), randomBytes(9 * MiB), randomBytes(9 * MiB - 5)];
    // Part 1 first (it sets the stride), then the others at once.
    const etags = [await part(c, key, id, 1, parts[0]), ...(await Promise.all(parts.slice(1).map((b, i) => part(c, key, id, i + 2, b))))];
    expect(etags).toEqual(parts.map((b) => `"${md5Hex(b)}"`));
    await complete(c, key, id, etags.map((e, i) => [i + 1, e]));
    expect(how(c, id)).toEqual({ assembly: "in-place", copyMethod: "none" });
    expect((await body(c, key)).equals(Buffer.concat(parts))).toBe(true);
  });

  test("the short last part first: it cannot set the stride, so only it is copied at Complete", async () => {
    const key = "big/last-first";
    const id = await create(c, key);
    const parts = [...Array.from({ length: 4 }, () => randomBytes(5 * MiB)), randomBytes(MiB + 17)];
    await part(c, key, id, 5, parts[4]);
    await Promise.all(shuffled([1, 2, 3, 4]).map((n) => part(c, key, id, n, parts[n - 1])));
    expect(uploadFiles(c, id).filter((n) => /^part-\d{5}\.[0-9a-f]+$/.test(n)).map((n) => n.slice(0, 10))).toEqual(["part-00005"]);
    await complete(c, key, id, parts.map((b, i) => [i + 1, `"${md5Hex(b)}"`]));
    expect(how(c, id)).toEqual({ assembly: "in-place", copyMethod: "copy_file_range" });
    expect((await body(c, key)).equals(Buffer.concat(parts))).toBe(true);
  });

  test("a part uploaded again after it succeeded: last writer wins, only that part is copied", async () => {
    const key = "again/obj";
    const id = await create(c, key);
    const a = randomBytes(5 * MiB);
    const b = randomBytes(5 * MiB);
    const tail = randomBytes(3 * MiB);
    await part(c, key, id, 1, a);
    const e2 = await part(c, key, id, 2, tail);
    const e1 = await part(c, key, id, 1, b); // slot 1 still holds a's bytes, which its record names
    const listed = await c.s3.send(new ListPartsCommand({ Bucket: c.bucket, Key: key, UploadId: id }));
    expect(listed.Parts!.map((p) => [p.PartNumber, p.ETag, p.Size])).toEqual([
      [1, `"${md5Hex(b)}"`, 5 * MiB],
      [2, `"${md5Hex(tail)}"`, 3 * MiB],
    ]);
    await complete(c, key, id, [
      [1, e1],
      [2, e2],
    ]);
    expect(how(c, id).assembly).toBe("in-place");
    expect(how(c, id).copyMethod).not.toBe("none");
    expect((await body(c, key)).equals(Buffer.concat([b, tail]))).toBe(true);
  });

  test("a part that failed half-way leaves no trace; its retry lands in place", async () => {
    const key = "retry/obj";
    const id = await create(c, key);
    const a = randomBytes(5 * MiB);
    const z = randomBytes(2 * MiB);
    await part(c, key, id, 1, a);
    const bad = await part(c, key, id, 2, z, { ContentMD5: Buffer.alloc(16).toString("base64") }).catch((e) => e.name);
    expect(bad).toBe("BadDigest");
    const listed = await c.s3.send(new ListPartsCommand({ Bucket: c.bucket, Key: key, UploadId: id }));
    expect(listed.Parts!.map((p) => p.PartNumber)).toEqual([1]);
    const e2 = await part(c, key, id, 2, z);
    await complete(c, key, id, [
      [1, `"${md5Hex(a)}"`],
      [2, e2],
    ]);
    expect(how(c, id)).toEqual({ assembly: "in-place", copyMethod: "none" });
    expect((await body(c, key)).equals(Buffer.concat([a, z]))).toBe(true);
  });

  test("odd sizes: an unaligned stride stays in place; a part larger than the stride and a subset copy", async () => {
    // All parts 5 MiB + 1: the stride need not be block-aligned.
    const k1 = "odd/aligned-not";
    const id1 = await create(c, k1);
    // (In order: only part 1 sets a stride that is no multiple of 64 KiB.)
    const p = [randomBytes(5 * MiB + 1), randomBytes(5 * MiB + 1), randomBytes(77)];
    const e: string[] = [];
    for (const [i, b] of p.entries()) e.push(await part(c, k1, id1, i + 1, b));
    await complete(c, k1, id1, e.map((x, i) => [i + 1, x]));
    expect(how(c, id1)).toEqual({ assembly: "in-place", copyMethod: "none" });
    expect((await body(c, k1)).equals(Buffer.concat(p))).toBe(true);

    // Part 2 larger than part 1 (which set the stride): it has a file of its own, so parts 1..3 are
    // not all in their slots with the stride's size, and Complete copies into a new file.
    const k2 = "odd/mixed";
    const id2 = await create(c, k2);
    const q = [randomBytes(5 * MiB), randomBytes(6 * MiB + 3), randomBytes(5 * MiB)];
    const f: [number, string][] = [];
    for (const [i, b] of q.entries()) f.push([i + 1, await part(c, k2, id2, i + 1, b)]);
    await complete(c, k2, id2, f);
    expect(how(c, id2).assembly).toBe("new");
    expect((await body(c, k2)).equals(Buffer.concat(q))).toBe(true);

    // A subset of the parts (1 and 3): their offsets in the shared file are not the object's.
    const k3 = "odd/subset";
    const id3 = await create(c, k3);
    const r = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(4 * MiB)];
    const g: string[] = [];
    for (const [i, b] of r.entries()) g.push(await part(c, k3, id3, i + 1, b));
    await complete(c, k3, id3, [
      [1, g[0]],
      [3, g[2]],
    ]);
    expect(how(c, id3).assembly).toBe("new");
    expect((await body(c, k3)).equals(Buffer.concat([r[0], r[2]]))).toBe(true);

    // Parts 1..2 of 1..3: part 3's bytes lie past the object's end and must survive a failed
    // Complete, so the shared file is not cut; a Complete that is refused keeps the upload whole.
    const k4 = "odd/prefix";
    const id4 = await create(c, k4);
    const s = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(5 * MiB)];
    const h = await Promise.all(s.map((b, i) => part(c, k4, id4, i + 1, b)));
    await c.s3.send(new PutObjectCommand({ Bucket: c.bucket, Key: k4, Body: "existing" }));
    const refused = await complete(c, k4, id4, h.map((x, i) => [i + 1, x]), { IfNoneMatch: "*" }).catch((err) => err.name);
    expect(refused).toBe("PreconditionFailed");
    await complete(c, k4, id4, [
      [1, h[0]],
      [2, h[1]],
    ]);
    expect(how(c, id4).assembly).toBe("new");
    expect((await body(c, k4)).equals(Buffer.concat([s[0], s[1]]))).toBe(true);
  });

  test("an in-place Complete that is refused keeps the upload; the retry succeeds", async () => {
    const key = "cond/obj";
    await c.s3.send(new PutObjectCommand({ Bucket: c.bucket, Key: key, Body: "existing" }));
    const id = await create(c, key);
    const p = [randomBytes(5 * MiB), randomBytes(MiB + 5)];
    const parts: [number, string][] = [];
    for (const [i, b] of p.entries()) parts.push([i + 1, await part(c, key, id, i + 1, b)]);
    expect(await complete(c, key, id, parts, { IfNoneMatch: "*" }).catch((err) => err.name)).toBe("PreconditionFailed");
    expect((await body(c, key)).toString()).toBe("existing");
    await complete(c, key, id, parts);
    expect(how(c, id)).toEqual({ assembly: "in-place", copyMethod: "none" });
    expect((await body(c, key)).equals(Buffer.concat(p))).toBe(true);
  });

  test("Complete while another part is still being written copies, and that part then fails", async () => {
    const key = "inflight/obj";
    const id = await create(c, key);
    const p = [randomBytes(5 * MiB), randomBytes(5 * MiB)];
    const e = await Promise.all(p.map((b, i) => part(c, key, id, i + 1, b)));
    // Part 3 sends its first MiB, then waits: it holds its slot in the shared file meanwhile.
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    const slow = Readable.from(
      (async function* () {
        yield randomBytes(MiB);
        await paused;
        yield randomBytes(4 * MiB);
      })(),
    );
    const third = part(c, key, id, 3, slow, { ContentLength: 5 * MiB }).then(
      () => "no error",
      (err) => err.name,
    );
    await new Promise((r) => setTimeout(r, 500));
    await complete(c, key, id, e.map((x, i) => [i + 1, x]));
    resume();
    expect(how(c, id).assembly).toBe("new");
    expect((await body(c, key)).equals(Buffer.concat(p))).toBe(true);
    expect(await third).toBe("NoSuchUpload");
    expect((await body(c, key)).equals(Buffer.concat(p))).toBe(true);
  });
});

describe("two gateway processes on one root", () => {
  let a: Ctx;
  let b: Ctx;
  beforeAll(async () => {
    a = await setup();
    const gw = await startGateway({ root: a.gw.root });
    b = { gw, s3: s3Client(gw), bucket: a.bucket };
  });
  afterAll(async () => {
    await teardown(b);
    await teardown(a);
  });

  test("every part uploaded twice at once, through both: the object is exactly the parts ListParts names", async () => {
    for (let round = 0; round < 3; round++) {
      const key = `both/obj-${round}`;
      const id = await create(a, key);
      const n = 5;
      const size = (i: number) => (i === n ? 2 * MiB + round : 5 * MiB);
      const fromA = Array.from({ length: n }, (_, i) => randomBytes(size(i + 1)));
      const fromB = Array.from({ length: n }, (_, i) => randomBytes(size(i + 1)));
      const jobs = shuffled([
        ...fromA.map((buf, i) => () => part(a, key, id, i + 1, buf)),
        ...fromB.map((buf, i) => () => part(b, key, id, i + 1, buf)),
      ]);
      await Promise.all(jobs.map((j) => j()));
      const listed = await b.s3.send(new ListPartsCommand({ Bucket: a.bucket, Key: key, UploadId: id }));
      const want = listed.Parts!.map((p, i) => {
        expect(p.PartNumber).toBe(i + 1);
        if (p.ETag === `"${md5Hex(fromA[i])}"`) return fromA[i];
        expect(p.ETag).toBe(`"${md5Hex(fromB[i])}"`);
        return fromB[i];
      });
      await (round % 2 ? a : b).s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: a.bucket,
          Key: key,
          UploadId: id,
          MultipartUpload: { Parts: listed.Parts!.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })) },
        }),
      );
      expect((await body(a, key)).equals(Buffer.concat(want))).toBe(true);
      expect(["in-place", "append", "new"]).toContain(how(a, id).assembly);
    }
  }, 60000);
});

describe("without the addon (no range locks)", () => {
  let c: Ctx;
  beforeAll(async () => {
    c = await setup({ env: { FILEGATE_NO_ADDON: "1" } });
  });
  afterAll(() => teardown(c));

  test("parts get files of their own and Complete appends, as before", async () => {
    const key = "noaddon/obj";
    const id = await create(c, key);
    const p = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(10)];
    const e = await Promise.all(p.map((b, i) => part(c, key, id, i + 1, b)));
    await complete(c, key, id, e.map((x, i) => [i + 1, x]));
    expect(how(c, id)).toEqual({ assembly: "append", copyMethod: "userspace" });
    expect((await body(c, key)).equals(Buffer.concat(p))).toBe(true);
  });
});

// FICLONERANGE needs a filesystem that shares extents: a 1 GiB xfs image, loop-mounted.
// Needs root, mkfs.xfs and loop devices; where mounting is refused anyway (a container), the test
// says so and checks nothing.
const canMount = process.getuid?.() === 0 && existsSync("/dev/loop-control") && spawnSync("sh", ["-c", "command -v mkfs.xfs"]).status === 0;
describe.skipIf(!canMount)("on xfs (reflinks)", () => {
  let c: Ctx | undefined;
  let mnt = "";
  let img = "";
  let mounted = false;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "filegate-xfs-"));
    img = join(dir, "xfs.img");
    mnt = join(dir, "mnt");
    mkdirSync(mnt);
    const run = (cmd: string, ...args: string[]) => {
      const r = spawnSync(cmd, args);
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
    };
    try {
      run("truncate", "-s", "1G", img);
      run("mkfs.xfs", "-q", "-m", "reflink=1", img);
      run("mount", "-o", "loop", img, mnt);
    } catch (e) {
      console.warn(`xfs reflink test skipped: ${(e as Error).message}`);
      return;
    }
    mounted = true;
    mkdirSync(join(mnt, "root"));
    c = await setup({ root: join(mnt, "root") });
  });
  afterAll(async () => {
    await teardown(c);
    if (mounted) spawnSync("umount", [mnt]);
    rmSync(join(mnt, ".."), { recursive: true, force: true });
  });

  test("parts copied into their slots or into a new file share extents instead", async () => {
    if (!mounted) return;
    const key = "xfs/again";
    const id = await create(c!, key);
    const a = randomBytes(5 * MiB);
    const b = randomBytes(5 * MiB);
    const tail = randomBytes(12345);
    await part(c!, key, id, 1, a);
    const e2 = await part(c!, key, id, 2, tail);
    const e1 = await part(c!, key, id, 1, b);
    await complete(c!, key, id, [
      [1, e1],
      [2, e2],
    ]);
    expect(how(c!, id)).toEqual({ assembly: "in-place", copyMethod: "reflink" });
    expect((await body(c!, key)).equals(Buffer.concat([b, tail]))).toBe(true);

    const k2 = "xfs/subset";
    const id2 = await create(c!, k2);
    const r = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(5 * MiB + 7)];
    const g = await Promise.all(r.map((x, i) => part(c!, k2, id2, i + 1, x)));
    await complete(c!, k2, id2, [
      [1, g[0]],
      [3, g[2]],
    ]);
    expect(how(c!, id2)).toEqual({ assembly: "new", copyMethod: "reflink" });
    expect((await body(c!, k2)).equals(Buffer.concat([r[0], r[2]]))).toBe(true);
  }, 60000);
});
