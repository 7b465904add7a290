// Bucket policies between two users (made with `filegate user add`): alice grants bob read-only
// access to a prefix of her bucket, listing included only under it; a Deny in her policy
// overrides both her grant and bob's own inline Allow; DeleteObjects answers per key; a copy needs
// read access to its source; RestrictPublicBuckets still lets users of the gateway in.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { addUser, clientAs, expectS3Error, gatewayCommand, s3Client, startGateway, uniqueBucket, userCli, statusBecomes, untilAccepted, type Gateway, type MadeUser } from "../support/index.ts";

let gw: Gateway;
let admin: S3Client;
let alice: MadeUser;
let bob: MadeUser;
let asAlice: S3Client;
let asBob: S3Client;
const A = uniqueBucket("alice");
const B = uniqueBucket("bob");
const BOB_ARN = "arn:aws:iam::000000000000:user/bob";

beforeAll(async () => {
  gw = await startGateway();
  admin = s3Client(gw);
  alice = addUser(gw.root, "alice");
  bob = addUser(gw.root, "bob");
  asAlice = clientAs(gw, alice);
  asBob = clientAs(gw, bob);
  await untilAccepted(asAlice);
  await untilAccepted(asBob);
  await asAlice.send(new CreateBucketCommand({ Bucket: A }));
  await asBob.send(new CreateBucketCommand({ Bucket: B }));
  for (const [Key, Body] of [["shared/a.txt", "shared a"], ["shared/secret.txt", "secret"], ["private/p.txt", "private"]]) {
    await asAlice.send(new PutObjectCommand({ Bucket: A, Key, Body }));
  }
});
afterAll(async () => {
  for (const c of [admin, asAlice, asBob]) c?.destroy();
  await gw?.stop();
});

const readOnlyShared = {
  Version: "2012-10-17",
  Statement: [
    { Sid: "ReadShared", Effect: "Allow", Principal: { AWS: BOB_ARN }, Action: "s3:GetObject", Resource: `arn:aws:s3:::${A}/shared/*` },
    { Sid: "ListShared", Effect: "Allow", Principal: { AWS: BOB_ARN }, Action: "s3:ListBucket", Resource: `arn:aws:s3:::${A}`, Condition: { StringLike: { "s3:prefix": "shared/*" } } },
  ],
};
const withDeny = {
  ...readOnlyShared,
  Statement: [...readOnlyShared.Statement, { Sid: "NotTheSecret", Effect: "Deny", Principal: { AWS: BOB_ARN }, Action: "s3:*", Resource: `arn:aws:s3:::${A}/shared/secret*` }],
};

test("without a grant, bob reaches nothing of alice's", async () => {
  await expectS3Error(asBob.send(new GetObjectCommand({ Bucket: A, Key: "shared/a.txt" })), 403, "AccessDenied");
  await expectS3Error(asBob.send(new ListObjectsV2Command({ Bucket: A })), 403, "AccessDenied");
});

test("a bucket that does not exist is 404 NoSuchBucket to a signed-in user, whoever would own it; anonymous callers get 403", async () => {
  const gone = uniqueBucket("gone");
  await expectS3Error(asBob.send(new ListObjectsV2Command({ Bucket: gone })), 404, "NoSuchBucket");
  await expectS3Error(asBob.send(new PutObjectCommand({ Bucket: gone, Key: "k", Body: "x" })), 404, "NoSuchBucket");
  await expectS3Error(asBob.send(new CopyObjectCommand({ Bucket: B, Key: "c", CopySource: `${gone}/k` })), 404, "NoSuchBucket");
  expect((await fetch(`${gw.endpoint}/${gone}/k`)).status).toBe(403);
});

test("alice grants bob read-only on shared/: reads and listings under it, nothing else", async () => {
  await asAlice.send(new PutBucketPolicyCommand({ Bucket: A, Policy: JSON.stringify(readOnlyShared) }));
  const got = await asBob.send(new GetObjectCommand({ Bucket: A, Key: "shared/a.txt" }));
  expect(await got.Body?.transformToString()).toBe("shared a");
  const listed = await asBob.send(new ListObjectsV2Command({ Bucket: A, Prefix: "shared/" }));
  expect(listed.Contents?.map((o) => o.Key)).toEqual(["shared/a.txt", "shared/secret.txt"]);
  await expectS3Error(asBob.send(new ListObjectsV2Command({ Bucket: A })), 403, "AccessDenied");
  await expectS3Error(asBob.send(new ListObjectsV2Command({ Bucket: A, Prefix: "private/" })), 403, "AccessDenied");
  await expectS3Error(asBob.send(new GetObjectCommand({ Bucket: A, Key: "private/p.txt" })), 403, "AccessDenied");
  await expectS3Error(asBob.send(new PutObjectCommand({ Bucket: A, Key: "shared/new.txt", Body: "x" })), 403, "AccessDenied");
  await expectS3Error(asBob.send(new DeleteObjectCommand({ Bucket: A, Key: "shared/a.txt" })), 403, "AccessDenied");
  // Copying out of the shared prefix into his own bucket needs only what he has.
  await asBob.send(new CopyObjectCommand({ Bucket: B, Key: "copy.txt", CopySource: `${A}/shared/a.txt` }));
  await expectS3Error(asBob.send(new CopyObjectCommand({ Bucket: B, Key: "copy2.txt", CopySource: `${A}/private/p.txt` })), 403, "AccessDenied");
  // DeleteObjects answers each key: refused ones are per-key errors.
  const del = await asBob.send(new DeleteObjectsCommand({ Bucket: A, Delete: { Objects: [{ Key: "shared/a.txt" }] } }));
  expect(del.Errors?.map((e) => [e.Key, e.Code])).toEqual([["shared/a.txt", "AccessDenied"]]);
});

test("a Deny in alice's policy overrides her grant, and bob's own inline Allow", async () => {
  await asAlice.send(new PutBucketPolicyCommand({ Bucket: A, Policy: JSON.stringify(withDeny) }));
  await expectS3Error(asBob.send(new GetObjectCommand({ Bucket: A, Key: "shared/secret.txt" })), 403, "AccessDenied");
  expect((await asBob.send(new GetObjectCommand({ Bucket: A, Key: "shared/a.txt" }))).ContentLength).toBe(8);
  const allowAll = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: [`arn:aws:s3:::${A}`, `arn:aws:s3:::${A}/*`] }] });
  const [cmd, ...base] = gatewayCommand();
  expect(spawnSync(cmd, [...base, "user", "policy", "put", "bob", "all-of-alice", "-", "--root", gw.root], { input: allowAll, encoding: "utf8" }).status).toBe(0);
  // His inline policy now lets him read private/ …
  expect(await statusBecomes(() => asBob.send(new GetObjectCommand({ Bucket: A, Key: "private/p.txt" })), 200)).toBe(200);
  // … but never what alice's policy denies him.
  await expectS3Error(asBob.send(new GetObjectCommand({ Bucket: A, Key: "shared/secret.txt" })), 403, "AccessDenied");
  expect(userCli(gw.root, ["policy", "remove", "bob", "all-of-alice"]).code).toBe(0);
  expect(await statusBecomes(() => asBob.send(new GetObjectCommand({ Bucket: A, Key: "private/p.txt" })), 403)).toBe(403);
});

test("an owner's own Deny applies to the owner; the admin can always repair the policy", async () => {
  const lock = { Version: "2012-10-17", Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [`arn:aws:s3:::${A}`, `arn:aws:s3:::${A}/*`] }] };
  await asAlice.send(new PutBucketPolicyCommand({ Bucket: A, Policy: JSON.stringify(lock) }));
  await expectS3Error(asAlice.send(new GetObjectCommand({ Bucket: A, Key: "private/p.txt" })), 403, "AccessDenied");
  await expectS3Error(asAlice.send(new PutBucketPolicyCommand({ Bucket: A, Policy: JSON.stringify(withDeny) })), 403, "AccessDenied");
  await admin.send(new PutBucketPolicyCommand({ Bucket: A, Policy: JSON.stringify(withDeny) }));
  expect((await asAlice.send(new GetObjectCommand({ Bucket: A, Key: "private/p.txt" }))).ContentLength).toBe(7);
});

test("RestrictPublicBuckets cuts anonymous callers off a public policy, not the gateway's users", async () => {
  const publicRead = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${B}/*` }] };
  await asBob.send(new PutObjectCommand({ Bucket: B, Key: "pub.txt", Body: "pub" }));
  await asBob.send(new PutBucketPolicyCommand({ Bucket: B, Policy: JSON.stringify(publicRead) }));
  await asBob.send(new PutPublicAccessBlockCommand({ Bucket: B, PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
  expect((await fetch(`${gw.endpoint}/${B}/pub.txt`)).status).toBe(403);
  expect((await asAlice.send(new GetObjectCommand({ Bucket: B, Key: "pub.txt" }))).ContentLength).toBe(3);
});
