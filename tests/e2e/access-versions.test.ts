// Permissions are per version, as on S3: an object ACL or tag of one version says nothing about
// another, so a reader granted the latest version cannot reach an older one through it; and a
// DeleteObjects that bypasses GOVERNANCE retention needs s3:BypassGovernanceRetention for each
// key, as DeleteObject does. (Found by a hostile review of the access and versioning work.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { addUser, clientAs, expectS3Error, startGateway, uniqueBucket, untilAccepted, type Gateway, type MadeUser } from "../support/index.ts";

let gw: Gateway;
let alice: MadeUser;
let bob: MadeUser;
let asAlice: S3Client;
let asBob: S3Client;
const BOB_ARN = "arn:aws:iam::000000000000:user/bob";

beforeAll(async () => {
  gw = await startGateway();
  alice = addUser(gw.root, "alice");
  bob = addUser(gw.root, "bob");
  asAlice = clientAs(gw, alice);
  asBob = clientAs(gw, bob);
  await untilAccepted(asAlice);
  await untilAccepted(asBob);
});
afterAll(() => gw?.stop());

test("an object ACL is the version's own: a public-read latest version does not open an older private one", async () => {
  const b = uniqueBucket("aclv");
  await asAlice.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: "ObjectWriter" }));
  await asAlice.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Enabled" } }));
  const v1 = (await asAlice.send(new PutObjectCommand({ Bucket: b, Key: "doc", Body: "private v1", ACL: "private" }))).VersionId!;
  const v2 = (await asAlice.send(new PutObjectCommand({ Bucket: b, Key: "doc", Body: "public v2", ACL: "public-read" }))).VersionId!;
  const anon = (versionId: string) => fetch(`${gw.endpoint}/${b}/doc?versionId=${versionId}`);
  expect((await anon(v2)).status).toBe(200);
  expect((await anon(v1)).status).toBe(403);
  expect((await fetch(`${gw.endpoint}/${b}/doc`)).status).toBe(200);
});

test("s3:ExistingObjectTag is the addressed version's tag", async () => {
  const b = uniqueBucket("tagv");
  await asAlice.send(new CreateBucketCommand({ Bucket: b }));
  await asAlice.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: "Enabled" } }));
  const v1 = (await asAlice.send(new PutObjectCommand({ Bucket: b, Key: "doc", Body: "secret", Tagging: "secret=yes" }))).VersionId!;
  const v2 = (await asAlice.send(new PutObjectCommand({ Bucket: b, Key: "doc", Body: "open" }))).VersionId!;
  const resource = `arn:aws:s3:::${b}/*`;
  const actions = ["s3:GetObject", "s3:GetObjectVersion"];
  await asAlice.send(
    new PutBucketPolicyCommand({
      Bucket: b,
      Policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: BOB_ARN }, Action: actions, Resource: resource },
          { Effect: "Deny", Principal: { AWS: BOB_ARN }, Action: actions, Resource: resource, Condition: { StringEquals: { "s3:ExistingObjectTag/secret": "yes" } } },
        ],
      }),
    }),
  );
  expect(await (await asBob.send(new GetObjectCommand({ Bucket: b, Key: "doc", VersionId: v2 }))).Body!.transformToString()).toBe("open");
  await expectS3Error(asBob.send(new GetObjectCommand({ Bucket: b, Key: "doc", VersionId: v1 })), 403, "AccessDenied");
  // Tagging the latest now denies it, and only it.
  await asAlice.send(new PutObjectTaggingCommand({ Bucket: b, Key: "doc", Tagging: { TagSet: [{ Key: "secret", Value: "yes" }] } }));
  await expectS3Error(asBob.send(new GetObjectCommand({ Bucket: b, Key: "doc" })), 403, "AccessDenied");
});

test("DeleteObjects bypassing GOVERNANCE needs s3:BypassGovernanceRetention per key", async () => {
  const b = uniqueBucket("lockb");
  await asAlice.send(new CreateBucketCommand({ Bucket: b, ObjectLockEnabledForBucket: true }));
  const until = new Date(Date.now() + 3600_000);
  const v = (await asAlice.send(new PutObjectCommand({ Bucket: b, Key: "g", Body: "kept", ObjectLockMode: "GOVERNANCE", ObjectLockRetainUntilDate: until, ChecksumAlgorithm: "CRC32" }))).VersionId!;
  await asAlice.send(
    new PutBucketPolicyCommand({
      Bucket: b,
      Policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: BOB_ARN }, Action: ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectVersion"], Resource: `arn:aws:s3:::${b}/*` }] }),
    }),
  );
  const r = await asBob.send(new DeleteObjectsCommand({ Bucket: b, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: "g", VersionId: v }] } }));
  expect(r.Deleted ?? []).toEqual([]);
  expect(r.Errors?.map((e) => [e.Key, e.Code])).toEqual([["g", "AccessDenied"]]);
  expect(await (await asAlice.send(new GetObjectCommand({ Bucket: b, Key: "g", VersionId: v }))).Body!.transformToString()).toBe("kept");
  // The owner may bypass: the version goes.
  const own = await asAlice.send(new DeleteObjectsCommand({ Bucket: b, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: "g", VersionId: v }] } }));
  expect(own.Deleted?.map((d) => d.VersionId)).toEqual([v]);
});
