// Users end to end: `filegate user` on the root of running gateways, each user's own buckets and
// their owner in every place S3 shows one, keys disabled and rotated as a second gateway process
// on the same root sees it, presigned URLs and POST forms acting for their signer, the access log.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketAclCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { getAttributeSync } from "@napi-rs/xattr";
import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { REGION, addUser, gatewayCommand, amzDate, signingKey, clientAs, expectS3Error, s3Client, startGateway, treeOf, uniqueBucket, userCli, statusBecomes, untilAccepted, type Gateway, type MadeUser } from "../support/index.ts";

let gw: Gateway;
let second: Gateway;
let admin: S3Client;
let alice: MadeUser;
let bob: MadeUser;
let asAlice: S3Client;
let asBob: S3Client;
const aliceBucket = uniqueBucket("alice");
const bobBucket = uniqueBucket("bob");
const adminBucket = uniqueBucket("admin");

beforeAll(async () => {
  gw = await startGateway();
  // A second process serving the same root: users and keys reach it through the shared store.
  second = await startGateway({ root: gw.root });
  admin = s3Client(gw);
  // Added while the gateways run: no restart.
  alice = addUser(gw.root, "alice");
  bob = addUser(gw.root, "bob", ["--uid", "1500", "--gid", "1500"]);
  asAlice = clientAs(gw, alice);
  asBob = clientAs(gw, bob);
  await untilAccepted(asAlice, 2000);
  await untilAccepted(asBob, 2000);
  await asAlice.send(new CreateBucketCommand({ Bucket: aliceBucket }));
  await asBob.send(new CreateBucketCommand({ Bucket: bobBucket }));
  await admin.send(new CreateBucketCommand({ Bucket: adminBucket }));
});

afterAll(async () => {
  for (const c of [admin, asAlice, asBob]) c?.destroy();
  await second?.stop();
  await gw?.stop();
});

test("user add prints the user and its key as one JSON object; the store is 0600; list shows no secret", () => {
  expect(alice).toMatchObject({ user: "alice", role: "user" });
  expect(alice.accessKeyId).toMatch(/^FG[A-Z0-9]{18}$/);
  expect(alice.secretAccessKey).toHaveLength(40);
  expect(alice.canonicalId).toMatch(/^[0-9a-f]{64}$/);
  expect(statSync(join(gw.root, ".filegate/users.json")).mode & 0o777).toBe(0o600);
  const list = userCli(gw.root, ["list"]);
  expect(list.code).toBe(0);
  const users = JSON.parse(list.out) as { user: string; uid?: number; keys: { accessKeyId: string; status: string }[] }[];
  expect(users.map((u) => u.user)).toEqual(["alice", "bob"]);
  expect(users[1].uid).toBe(1500);
  expect(list.out).not.toContain(alice.secretAccessKey);
  const again = userCli(gw.root, ["add", "alice"]);
  expect(again.code).toBe(1);
  expect(again.err).toContain("EntityAlreadyExists");
});

test("ListBuckets: a user sees its own buckets with itself as Owner; the admin sees all", async () => {
  const mine = await asAlice.send(new ListBucketsCommand({}));
  expect(mine.Buckets?.map((b) => b.Name)).toEqual([aliceBucket]);
  expect(mine.Owner?.ID).toBe(alice.canonicalId);
  const bobs = await asBob.send(new ListBucketsCommand({}));
  expect(bobs.Buckets?.map((b) => b.Name)).toEqual([bobBucket]);
  const all = (await admin.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name) ?? [];
  for (const b of [aliceBucket, bobBucket, adminBucket]) expect(all).toContain(b);
});

test("a bucket's owner is its creator: GetBucketAcl, listings' Owner, multipart Initiator; the name is taken for others", async () => {
  const acl = await admin.send(new GetBucketAclCommand({ Bucket: aliceBucket }));
  expect(acl.Owner?.ID).toBe(alice.canonicalId);
  expect(acl.Grants?.[0].Grantee?.ID).toBe(alice.canonicalId);
  // Buckets without a record (the admin's, or directories that were there) are the first admin's.
  const adminAcl = await admin.send(new GetBucketAclCommand({ Bucket: adminBucket }));
  expect(adminAcl.Owner?.ID).not.toBe(alice.canonicalId);
  expect(adminAcl.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);

  await asAlice.send(new PutObjectCommand({ Bucket: aliceBucket, Key: "a.txt", Body: "alice's" }));
  const listed = await asAlice.send(new ListObjectsV2Command({ Bucket: aliceBucket, FetchOwner: true }));
  expect(listed.Contents?.[0].Owner?.ID).toBe(alice.canonicalId);

  await asAlice.send(new CreateMultipartUploadCommand({ Bucket: aliceBucket, Key: "big" }));
  const uploads = await admin.send(new ListMultipartUploadsCommand({ Bucket: aliceBucket }));
  expect(uploads.Uploads?.[0].Initiator?.ID).toBe(alice.canonicalId);
  expect(uploads.Uploads?.[0].Owner?.ID).toBe(alice.canonicalId);

  await expectS3Error(asBob.send(new CreateBucketCommand({ Bucket: aliceBucket })), 409, "BucketAlreadyExists");
  // Its owner asking again: us-east-1 answers 200, as AWS does there.
  await asAlice.send(new CreateBucketCommand({ Bucket: aliceBucket }));
});

test("objects record their writer", async () => {
  await asAlice.send(new PutObjectCommand({ Bucket: aliceBucket, Key: "written", Body: "x" }));
  // The record is in the xattr, or in a sidecar file when the root's filesystem has none.
  const raw = getAttributeSync(join(gw.root, aliceBucket, "written"), "user.filegate")?.toString() ?? treeOf(join(gw.root, aliceBucket, ".filegate"), false).map((f) => readFileSync(join(gw.root, aliceBucket, ".filegate", f), "utf8")).join("\n");
  expect(raw).toContain(`"owner":"${alice.canonicalId}"`);
});

test("a presigned URL and a POST form act for the user who signed them; the access log names the user", async () => {
  await asBob.send(new PutObjectCommand({ Bucket: bobBucket, Key: "shared.txt", Body: "bob's" }));
  const url = await getSignedUrl(clientAs(gw, bob), new GetObjectCommand({ Bucket: bobBucket, Key: "shared.txt" }), { expiresIn: 300 });
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("bob's");
  // A browser form signed with bob's key: the object records bob as its writer.
  const t = amzDate();
  const credential = `${bob.accessKeyId}/${t.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const policy = Buffer.from(
    JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions: [{ bucket: bobBucket }, ["starts-with", "$key", ""], { "x-amz-algorithm": "AWS4-HMAC-SHA256" }, { "x-amz-credential": credential }, { "x-amz-date": t }] }),
  ).toString("base64");
  const form = new FormData();
  const fields = { key: "posted.txt", "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": credential, "x-amz-date": t, policy, "x-amz-signature": createHmac("sha256", signingKey(t, bob.secretAccessKey)).update(policy).digest("hex") };
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob(["posted"]), "f.txt");
  const posted = await fetch(`${gw.endpoint}/${bobBucket}`, { method: "POST", body: form });
  expect(posted.status).toBe(204);
  const raw = getAttributeSync(join(gw.root, bobBucket, "posted.txt"), "user.filegate")?.toString();
  if (raw !== undefined) expect(raw).toContain(`"owner":"${bob.canonicalId}"`);
  await Bun.sleep(50);
  const postLine = gw.output().split("\n").filter((l) => l.startsWith("{") && l.includes('"operation":"PostObject"') && l.includes(bobBucket)).pop();
  expect(JSON.parse(postLine!)).toMatchObject({ user: "bob", status: 204 });
  const lines = gw.output().split("\n").filter((l) => l.startsWith("{") && l.includes('"operation":"GetObject"') && l.includes(bobBucket));
  expect(lines.length).toBeGreaterThan(0);
  expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ user: "bob", accessKey: bob.accessKeyId });
});

test("a disabled key stops working on both gateway processes within seconds; enabled, it works again", async () => {
  const carol = addUser(gw.root, "carol");
  const here = clientAs(gw, carol);
  const there = clientAs(second, carol);
  try {
    await untilAccepted(here, 2000);
    await untilAccepted(there, 2000);
    expect(userCli(gw.root, ["key", "disable", carol.accessKeyId]).code).toBe(0);
    const t0 = Date.now();
    expect(await statusBecomes(() => here.send(new ListBucketsCommand({})), 403, 2000)).toBe(403);
    expect(await statusBecomes(() => there.send(new ListBucketsCommand({})), 403, 2000)).toBe(403);
    expect(Date.now() - t0).toBeLessThan(2000);
    await expectS3Error(there.send(new ListBucketsCommand({})), 403, "InvalidAccessKeyId");
    expect(userCli(gw.root, ["key", "enable", carol.accessKeyId]).code).toBe(0);
    expect(await statusBecomes(() => there.send(new ListBucketsCommand({})), 200, 2000)).toBe(200);
  } finally {
    here.destroy();
    there.destroy();
  }
});

test("key rotation: a second key works, the first is removed, the second process follows", async () => {
  const dave = addUser(gw.root, "dave");
  const added = userCli(gw.root, ["key", "add", "dave"]);
  expect(added.code).toBe(0);
  const second_key = JSON.parse(added.out) as { user: string; accessKeyId: string; secretAccessKey: string };
  expect(second_key.user).toBe("dave");
  const oldThere = clientAs(second, dave);
  const newThere = clientAs(second, second_key);
  try {
    await untilAccepted(oldThere, 2000);
    await untilAccepted(newThere, 2000);
    // A third key is over IAM's quota of two.
    expect(userCli(gw.root, ["key", "add", "dave"]).code).toBe(1);
    expect(userCli(gw.root, ["key", "remove", dave.accessKeyId]).code).toBe(0);
    expect(await statusBecomes(() => oldThere.send(new ListBucketsCommand({})), 403, 2000)).toBe(403);
    await newThere.send(new ListBucketsCommand({}));
    // Removing the user ends its last key too.
    expect(userCli(gw.root, ["remove", "dave"]).code).toBe(0);
    expect(await statusBecomes(() => newThere.send(new ListBucketsCommand({})), 403, 2000)).toBe(403);
  } finally {
    oldThere.destroy();
    newThere.destroy();
  }
});

test("two users cannot see or touch each other's buckets", async () => {
  await expectS3Error(asBob.send(new ListObjectsV2Command({ Bucket: aliceBucket })), 403, "AccessDenied");
  await expectS3Error(asBob.send(new GetObjectCommand({ Bucket: aliceBucket, Key: "a.txt" })), 403, "AccessDenied");
  await expectS3Error(asBob.send(new PutObjectCommand({ Bucket: aliceBucket, Key: "b.txt", Body: "no" })), 403, "AccessDenied");
  await expectS3Error(asAlice.send(new GetObjectCommand({ Bucket: bobBucket, Key: "shared.txt" })), 403, "AccessDenied");
  // The admin reaches every bucket.
  const got = await admin.send(new GetObjectCommand({ Bucket: aliceBucket, Key: "a.txt" }));
  expect(await got.Body?.transformToString()).toBe("alice's");
});

test("a grant reaches another user: alice's bucket policy names bob's ARN for a prefix, and a Deny in bob's own inline policy overrides it", async () => {
  await asAlice.send(new PutObjectCommand({ Bucket: aliceBucket, Key: "shared/report.txt", Body: "for bob" }));
  const policy = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:user/bob" }, Action: "s3:GetObject", Resource: `arn:aws:s3:::${aliceBucket}/shared/*` }],
  };
  await asAlice.send(new PutBucketPolicyCommand({ Bucket: aliceBucket, Policy: JSON.stringify(policy) }));
  const got = await asBob.send(new GetObjectCommand({ Bucket: aliceBucket, Key: "shared/report.txt" }));
  expect(await got.Body?.transformToString()).toBe("for bob");
  await expectS3Error(asBob.send(new GetObjectCommand({ Bucket: aliceBucket, Key: "a.txt" })), 403, "AccessDenied");
  await expectS3Error(asBob.send(new PutObjectCommand({ Bucket: aliceBucket, Key: "shared/x", Body: "no" })), 403, "AccessDenied");
  // bob's own inline policy (set with the CLI, seen by the gateway within a second) denies it again.
  const deny = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "s3:GetObject", Resource: `arn:aws:s3:::${aliceBucket}/*` }] });
  const put = spawnSync(gatewayCommand()[0], [...gatewayCommand().slice(1), "user", "policy", "put", "bob", "no-alice", "-", "--root", gw.root], { input: deny, encoding: "utf8" });
  expect(put.status).toBe(0);
  expect(await statusBecomes(() => asBob.send(new GetObjectCommand({ Bucket: aliceBucket, Key: "shared/report.txt" })), 403, 2000)).toBe(403);
  expect(userCli(gw.root, ["policy", "remove", "bob", "no-alice"]).code).toBe(0);
  expect(await statusBecomes(() => asBob.send(new GetObjectCommand({ Bucket: aliceBucket, Key: "shared/report.txt" })), 200, 2000)).toBe(200);
});

test("an inline policy alone grants: bob may list alice's bucket once his own policy allows it", async () => {
  await expectS3Error(asBob.send(new ListObjectsV2Command({ Bucket: aliceBucket })), 403, "AccessDenied");
  const allow = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${aliceBucket}` }] });
  const put = spawnSync(gatewayCommand()[0], [...gatewayCommand().slice(1), "user", "policy", "put", "bob", "list-alice", "-", "--root", gw.root], { input: allow, encoding: "utf8" });
  expect(put.status).toBe(0);
  expect(await statusBecomes(() => asBob.send(new ListObjectsV2Command({ Bucket: aliceBucket })), 200, 2000)).toBe(200);
  // Listing is not reading: objects stay refused.
  await expectS3Error(asBob.send(new GetObjectCommand({ Bucket: aliceBucket, Key: "a.txt" })), 403, "AccessDenied");
});
