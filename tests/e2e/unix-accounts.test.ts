// As root: users with a Unix uid/gid (`filegate user add --uid --gid`) own what they write, and
// with --posix-permissions the mode bits refuse what the account could not do in a shell.
// The uids are numbers with no passwd entry: nothing on the machine is changed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from "@aws-sdk/client-s3";
import { chmodSync, statSync } from "node:fs";
import { join } from "node:path";
import { addUser, clientAs, expectS3Error, startGateway, uniqueBucket, type Gateway } from "../support/index.ts";

const isRoot = process.getuid?.() === 0;
/** Directory modes are re-read at most once a second (a file's on every request). */
const DIR_MODES_CACHED_MS = 1100;

describe.skipIf(!isRoot)("Unix accounts", () => {
  let gw: Gateway;
  let asAlice: S3Client;
  let asCarol: S3Client;
  const aliceBucket = uniqueBucket("alice");
  const carolBucket = uniqueBucket("carol");
  const owner = (rel: string) => {
    const st = statSync(join(gw.root, rel));
    return [st.uid, st.gid];
  };

  beforeAll(async () => {
    gw = await startGateway({ args: ["--posix-permissions"] });
    // A root where everyone may make buckets (CreateBucket is a mkdir there), sticky like /tmp.
    chmodSync(gw.root, 0o1777);
    const alice = addUser(gw.root, "alice", ["--uid", "42001", "--gid", "42001"]);
    // An admin reaches every bucket through S3; its Unix account still bounds it.
    const carol = addUser(gw.root, "carol", ["--role", "admin", "--uid", "42002", "--gid", "42002"]);
    asAlice = clientAs(gw, alice);
    asCarol = clientAs(gw, carol);
    for (let i = 0; ; i++) {
      try {
        await asAlice.send(new CreateBucketCommand({ Bucket: aliceBucket }));
        break;
      } catch (e) {
        if (i > 40) throw e;
        await Bun.sleep(50); // the user store is re-read within 500 ms
      }
    }
    await asCarol.send(new CreateBucketCommand({ Bucket: carolBucket }));
  });

  afterAll(async () => {
    asAlice?.destroy();
    asCarol?.destroy();
    await gw?.stop();
  });

  test("objects written by two users belong to their uids, and so do the buckets and directories they made", async () => {
    await asAlice.send(new PutObjectCommand({ Bucket: aliceBucket, Key: "reports/q1.txt", Body: "alice" }));
    await asCarol.send(new PutObjectCommand({ Bucket: carolBucket, Key: "notes/n.txt", Body: "carol" }));
    // Carol, an admin, may write into Alice's bucket as far as S3 goes, but not into a directory
    // only Alice may write; once Alice opens it, the file Carol writes there is Carol's.
    const carolWrites = () => asCarol.send(new PutObjectCommand({ Bucket: aliceBucket, Key: "reports/from-carol.txt", Body: "c" }));
    await expectS3Error(carolWrites(), 403, "AccessDenied");
    chmodSync(join(gw.root, aliceBucket, "reports"), 0o777);
    await Bun.sleep(DIR_MODES_CACHED_MS);
    await carolWrites();
    expect(owner(aliceBucket)).toEqual([42001, 42001]);
    expect(owner(`${aliceBucket}/reports`)).toEqual([42001, 42001]);
    expect(owner(`${aliceBucket}/reports/q1.txt`)).toEqual([42001, 42001]);
    expect(owner(`${aliceBucket}/reports/from-carol.txt`)).toEqual([42002, 42002]);
    expect(owner(`${carolBucket}/notes/n.txt`)).toEqual([42002, 42002]);
  });

  test("a multipart object belongs to the user who completed it", async () => {
    const { UploadId } = await asAlice.send(new CreateMultipartUploadCommand({ Bucket: aliceBucket, Key: "big.bin" }));
    const part = await asAlice.send(new UploadPartCommand({ Bucket: aliceBucket, Key: "big.bin", UploadId, PartNumber: 1, Body: "x".repeat(1024) }));
    await asAlice.send(new CompleteMultipartUploadCommand({ Bucket: aliceBucket, Key: "big.bin", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect(owner(`${aliceBucket}/big.bin`)).toEqual([42001, 42001]);
  });

  test("--posix-permissions: a read the mode bits refuse is AccessDenied, for an admin too", async () => {
    await asAlice.send(new PutObjectCommand({ Bucket: aliceBucket, Key: "private.txt", Body: "secret" }));
    const get = () => asCarol.send(new GetObjectCommand({ Bucket: aliceBucket, Key: "private.txt" }));
    expect(await (await get()).Body!.transformToString()).toBe("secret");
    chmodSync(join(gw.root, aliceBucket, "private.txt"), 0o600);
    await expectS3Error(get(), 403, "AccessDenied");
    // The owner still reads it, as `cat` would.
    const mine = await asAlice.send(new GetObjectCommand({ Bucket: aliceBucket, Key: "private.txt" }));
    expect(await mine.Body!.transformToString()).toBe("secret");
    // A directory without x for others hides everything in it.
    chmodSync(join(gw.root, aliceBucket, "reports"), 0o700);
    await Bun.sleep(DIR_MODES_CACHED_MS);
    await expectS3Error(asCarol.send(new GetObjectCommand({ Bucket: aliceBucket, Key: "reports/q1.txt" })), 403, "AccessDenied");
  });
});
