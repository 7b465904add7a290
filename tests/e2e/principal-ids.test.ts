// A user deleted and created again under the same name is a new principal, as on AWS: a bucket
// policy that named the old one by ARN does not grant the new one (GetBucketPolicy shows the old
// unique ID where the ARN was) until the policy is stored again; an ACL grant to the old canonical
// ID does not reach the new user either. A policy may not name a user that does not exist.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { addUser, clientAs, expectS3Error, s3Client, startGateway, uniqueBucket, untilAccepted, userCli, type Gateway, type MadeUser } from "../support/index.ts";

let gw: Gateway;
let admin: S3Client;
let alice: MadeUser;
let asAlice: S3Client;
const A = uniqueBucket("ids");
const BOB_ARN = "arn:aws:iam::000000000000:user/bob";
const policy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Sid: "BobReads", Effect: "Allow", Principal: { AWS: [BOB_ARN] }, Action: "s3:GetObject", Resource: `arn:aws:s3:::${A}/p/*` }],
});

beforeAll(async () => {
  gw = await startGateway();
  admin = s3Client(gw);
  alice = addUser(gw.root, "alice");
  asAlice = clientAs(gw, alice);
  await untilAccepted(asAlice);
  await asAlice.send(new CreateBucketCommand({ Bucket: A, ObjectOwnership: "ObjectWriter" }));
  await asAlice.send(new PutObjectCommand({ Bucket: A, Key: "p/a.txt", Body: "by policy" }));
  await asAlice.send(new PutObjectCommand({ Bucket: A, Key: "acl.txt", Body: "by acl" }));
});
afterAll(async () => {
  admin?.destroy();
  asAlice?.destroy();
  await gw?.stop();
});

const read = async (c: S3Client, Key: string) => (await c.send(new GetObjectCommand({ Bucket: A, Key }))).Body!.transformToString();

test("a policy naming a user that does not exist is refused (MalformedPolicy)", async () => {
  await expectS3Error(asAlice.send(new PutBucketPolicyCommand({ Bucket: A, Policy: policy })), 400, "MalformedPolicy");
});

test("bob made again under the same name inherits neither the policy nor the ACL grant of the old bob", async () => {
  const bob1 = addUser(gw.root, "bob");
  expect(bob1.userId).toMatch(/^AIDA[A-Z0-9]{17}$/);
  const asBob1 = clientAs(gw, bob1);
  await untilAccepted(asBob1);
  await asAlice.send(new PutBucketPolicyCommand({ Bucket: A, Policy: policy }));
  await asAlice.send(new PutObjectAclCommand({ Bucket: A, Key: "acl.txt", GrantRead: `id=${bob1.canonicalId}`, GrantFullControl: `id=${alice.canonicalId}` }));
  expect(await read(asBob1, "p/a.txt")).toBe("by policy");
  expect(await read(asBob1, "acl.txt")).toBe("by acl");
  // While bob is the one named, the policy reads back as sent.
  expect((await asAlice.send(new GetBucketPolicyCommand({ Bucket: A }))).Policy).toBe(policy);
  asBob1.destroy();

  expect(userCli(gw.root, ["remove", "bob"]).code).toBe(0);
  const bob2 = addUser(gw.root, "bob");
  expect(bob2.userId).not.toBe(bob1.userId);
  expect(bob2.canonicalId).not.toBe(bob1.canonicalId);
  const asBob2 = clientAs(gw, bob2);
  try {
    await untilAccepted(asBob2);
    await expectS3Error(asBob2.send(new GetObjectCommand({ Bucket: A, Key: "p/a.txt" })), 403, "AccessDenied");
    await expectS3Error(asBob2.send(new GetObjectCommand({ Bucket: A, Key: "acl.txt" })), 403, "AccessDenied");
    // The policy now shows the unique ID it was bound to, in place of the ARN.
    const shown = JSON.parse((await asAlice.send(new GetBucketPolicyCommand({ Bucket: A }))).Policy!);
    expect(shown.Statement[0].Principal.AWS).toEqual([bob1.userId]);
    // That document may be stored back (a unique ID is a valid principal); it still names the old bob.
    await asAlice.send(new PutBucketPolicyCommand({ Bucket: A, Policy: JSON.stringify(shown) }));
    await expectS3Error(asBob2.send(new GetObjectCommand({ Bucket: A, Key: "p/a.txt" })), 403, "AccessDenied");
    // Stored again with the ARN, the policy names the bob of now.
    await asAlice.send(new PutBucketPolicyCommand({ Bucket: A, Policy: policy }));
    expect(await read(asBob2, "p/a.txt")).toBe("by policy");
  } finally {
    asBob2.destroy();
  }
});
