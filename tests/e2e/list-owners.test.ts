// Owner in listings (ListObjects, ListObjectsV2 with fetch-owner, ListObjectVersions) is each
// object's owner as S3 decides it: its writer under ObjectWriter, the writer or (with
// bucket-owner-full-control) the bucket owner under BucketOwnerPreferred, and always the bucket
// owner under BucketOwnerEnforced. Alice owns the buckets; bob writes into them by her policy.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type ObjectCannedACL,
  type S3Client,
} from "@aws-sdk/client-s3";
import { addUser, clientAs, startGateway, uniqueBucket, untilAccepted, type Gateway, type MadeUser } from "../support/index.ts";

let gw: Gateway;
let alice: MadeUser;
let bob: MadeUser;
let asAlice: S3Client;
let asBob: S3Client;
const W = uniqueBucket("writer");
const P = uniqueBucket("preferred");
const E = uniqueBucket("enforced");
const V = uniqueBucket("versioned");

beforeAll(async () => {
  gw = await startGateway();
  alice = addUser(gw.root, "alice");
  bob = addUser(gw.root, "bob");
  asAlice = clientAs(gw, alice);
  asBob = clientAs(gw, bob);
  await untilAccepted(asAlice);
  await untilAccepted(asBob);
  for (const [Bucket, ObjectOwnership] of [[W, "ObjectWriter"], [P, "BucketOwnerPreferred"], [E, "BucketOwnerEnforced"], [V, "ObjectWriter"]] as const) {
    await asAlice.send(new CreateBucketCommand({ Bucket, ObjectOwnership }));
    const Policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:user/bob" }, Action: ["s3:PutObject", "s3:PutObjectAcl", "s3:DeleteObject"], Resource: `arn:aws:s3:::${Bucket}/*` }],
    });
    await asAlice.send(new PutBucketPolicyCommand({ Bucket, Policy }));
  }
  await asAlice.send(new PutBucketVersioningCommand({ Bucket: V, VersioningConfiguration: { Status: "Enabled" } }));
});
afterAll(async () => {
  asAlice?.destroy();
  asBob?.destroy();
  await gw?.stop();
});

const put = (c: S3Client, Bucket: string, Key: string, ACL?: ObjectCannedACL) => c.send(new PutObjectCommand({ Bucket, Key, Body: Key, ...(ACL ? { ACL } : {}) }));

async function owners(Bucket: string): Promise<Record<string, string | undefined>[]> {
  const v2 = await asAlice.send(new ListObjectsV2Command({ Bucket, FetchOwner: true }));
  const v1 = await asAlice.send(new ListObjectsCommand({ Bucket }));
  const versions = await asAlice.send(new ListObjectVersionsCommand({ Bucket }));
  const without = await asAlice.send(new ListObjectsV2Command({ Bucket }));
  expect(without.Contents?.every((o) => o.Owner === undefined)).toBe(true);
  return [v2.Contents ?? [], v1.Contents ?? [], versions.Versions ?? []].map((list) => Object.fromEntries(list.map((o) => [o.Key!, o.Owner?.ID])));
}

test("ObjectWriter: each object shows its writer", async () => {
  await put(asAlice, W, "by-alice");
  await put(asBob, W, "by-bob");
  for (const seen of await owners(W)) expect(seen).toEqual({ "by-alice": alice.canonicalId, "by-bob": bob.canonicalId });
  const v1 = await asAlice.send(new ListObjectsCommand({ Bucket: W, Prefix: "by-bob" }));
  expect(v1.Contents?.[0].Owner?.DisplayName).toBe("bob");
});

test("BucketOwnerPreferred: the writer, unless the write gave the object to the bucket owner", async () => {
  await put(asBob, P, "kept", undefined);
  await put(asBob, P, "given", "bucket-owner-full-control");
  for (const seen of await owners(P)) expect(seen).toEqual({ kept: bob.canonicalId, given: alice.canonicalId });
});

test("BucketOwnerEnforced: the bucket owner owns everything", async () => {
  await put(asBob, E, "by-bob");
  for (const seen of await owners(E)) expect(seen).toEqual({ "by-bob": alice.canonicalId });
});

test("ListObjectVersions: each version its writer's; a delete marker shows the bucket owner", async () => {
  await put(asBob, V, "k");
  await put(asAlice, V, "k");
  await asBob.send(new DeleteObjectCommand({ Bucket: V, Key: "k" }));
  const listed = await asAlice.send(new ListObjectVersionsCommand({ Bucket: V }));
  expect(listed.Versions?.map((v) => v.Owner?.ID)).toEqual([alice.canonicalId, bob.canonicalId]);
  expect(listed.DeleteMarkers?.map((m) => m.Owner?.ID)).toEqual([alice.canonicalId]);
});
