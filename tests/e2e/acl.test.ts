// ACLs end to end with two users: a bucket with ObjectWriter ownership, canned ACLs and grants
// (headers and documents) deciding who may list, read and write, anonymous reads with plain curl,
// BucketOwnerPreferred taking objects over, and Block Public Access against public ACLs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { addUser, clientAs, expectS3Error, s3Client, startGateway, uniqueBucket, untilAccepted, type Gateway, type MadeUser } from "../support/index.ts";

const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";

let gw: Gateway;
let alice: MadeUser;
let bob: MadeUser;
let asAlice: S3Client;
let asBob: S3Client;
let admin: S3Client;
const W = uniqueBucket("writer");
const P = uniqueBucket("preferred");

function curl(url: string): { status: number; body: string } {
  const r = spawnSync("curl", ["-s", "-o", "-", "-w", "\n%{http_code}", url], { encoding: "utf8" });
  const at = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) };
}

beforeAll(async () => {
  gw = await startGateway();
  admin = s3Client(gw);
  alice = addUser(gw.root, "alice");
  bob = addUser(gw.root, "bob");
  asAlice = clientAs(gw, alice);
  asBob = clientAs(gw, bob);
  await untilAccepted(asAlice);
  await untilAccepted(asBob);
  await asAlice.send(new CreateBucketCommand({ Bucket: W, ObjectOwnership: "ObjectWriter" }));
  await asAlice.send(new CreateBucketCommand({ Bucket: P, ObjectOwnership: "BucketOwnerPreferred" }));
});

afterAll(async () => {
  for (const c of [admin, asAlice, asBob]) c?.destroy();
  await gw?.stop();
});

describe("ObjectWriter: canned ACLs and grants", () => {
  test("a public-read object is readable with plain curl; a private one is not", async () => {
    await asAlice.send(new PutObjectCommand({ Bucket: W, Key: "pub.txt", Body: "for everyone", ACL: "public-read" }));
    await asAlice.send(new PutObjectCommand({ Bucket: W, Key: "priv.txt", Body: "mine" }));
    expect(curl(`${gw.endpoint}/${W}/pub.txt`)).toEqual({ status: 200, body: "for everyone" });
    expect(curl(`${gw.endpoint}/${W}/priv.txt`).status).toBe(403);
    // Reading an object grants nothing on the bucket: no anonymous listing.
    expect(curl(`${gw.endpoint}/${W}`).status).toBe(403);
    const acl = await asAlice.send(new GetObjectAclCommand({ Bucket: W, Key: "pub.txt" }));
    expect(acl.Owner?.ID).toBe(alice.canonicalId);
    expect(acl.Grants?.map((g) => [g.Grantee?.URI ?? g.Grantee?.ID, g.Permission])).toEqual([
      [alice.canonicalId, "FULL_CONTROL"],
      [ALL_USERS, "READ"],
    ]);
  });

  test("another user: nothing until the bucket ACL grants READ (list), then WRITE (put)", async () => {
    await expectS3Error(asBob.send(new ListObjectsV2Command({ Bucket: W })), 403, "AccessDenied");
    await asAlice.send(new PutBucketAclCommand({ Bucket: W, GrantRead: `id="${bob.canonicalId}"`, GrantFullControl: `id="${alice.canonicalId}"` }));
    const listed = await asBob.send(new ListObjectsV2Command({ Bucket: W }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(["priv.txt", "pub.txt"]);
    // READ on the bucket is not READ on its objects.
    await expectS3Error(asBob.send(new GetObjectCommand({ Bucket: W, Key: "priv.txt" })), 403, "AccessDenied");
    await expectS3Error(asBob.send(new PutObjectCommand({ Bucket: W, Key: "bob.txt", Body: "b" })), 403, "AccessDenied");
    // The same grants and WRITE, as an AccessControlPolicy document.
    const current = await asAlice.send(new GetBucketAclCommand({ Bucket: W }));
    await asAlice.send(
      new PutBucketAclCommand({
        Bucket: W,
        AccessControlPolicy: { Owner: current.Owner, Grants: [...(current.Grants ?? []), { Grantee: { Type: "CanonicalUser", ID: bob.canonicalId }, Permission: "WRITE" }] },
      }),
    );
    await asBob.send(new PutObjectCommand({ Bucket: W, Key: "bob.txt", Body: "by bob" }));
    // ObjectWriter: Bob owns what he wrote, and reads it back.
    const acl = await asBob.send(new GetObjectAclCommand({ Bucket: W, Key: "bob.txt" }));
    expect(acl.Owner?.ID).toBe(bob.canonicalId);
    expect(await (await asBob.send(new GetObjectCommand({ Bucket: W, Key: "bob.txt" }))).Body!.transformToString()).toBe("by bob");
  });

  test("ListParts names the object's future owner: the initiator under ObjectWriter, the bucket owner under BucketOwnerEnforced", async () => {
    const up = await asBob.send(new CreateMultipartUploadCommand({ Bucket: W, Key: "bob-mp.bin" }));
    const parts = await asBob.send(new ListPartsCommand({ Bucket: W, Key: "bob-mp.bin", UploadId: up.UploadId }));
    expect([parts.Initiator?.ID, parts.Owner?.ID]).toEqual([bob.canonicalId, bob.canonicalId]);
    await asBob.send(new AbortMultipartUploadCommand({ Bucket: W, Key: "bob-mp.bin", UploadId: up.UploadId }));
    const enforced = uniqueBucket("enforced");
    await asAlice.send(new CreateBucketCommand({ Bucket: enforced }));
    const own = await asAlice.send(new CreateMultipartUploadCommand({ Bucket: enforced, Key: "k" }));
    expect((await admin.send(new ListPartsCommand({ Bucket: enforced, Key: "k", UploadId: own.UploadId }))).Owner?.ID).toBe(alice.canonicalId);
  });

  test("object grants: READ to one user by header; authenticated-read for every signed user", async () => {
    await asAlice.send(new PutObjectCommand({ Bucket: W, Key: "for-bob.txt", Body: "hi bob", GrantRead: `id="${bob.canonicalId}"`, GrantFullControl: `id="${alice.canonicalId}"` }));
    expect(await (await asBob.send(new GetObjectCommand({ Bucket: W, Key: "for-bob.txt" }))).Body!.transformToString()).toBe("hi bob");
    // READ does not let Bob read or change the ACL.
    await expectS3Error(asBob.send(new GetObjectAclCommand({ Bucket: W, Key: "for-bob.txt" })), 403, "AccessDenied");
    await expectS3Error(asBob.send(new PutObjectAclCommand({ Bucket: W, Key: "for-bob.txt", ACL: "public-read" })), 403, "AccessDenied");
    await asAlice.send(new PutObjectAclCommand({ Bucket: W, Key: "priv.txt", ACL: "authenticated-read" }));
    expect(await (await asBob.send(new GetObjectCommand({ Bucket: W, Key: "priv.txt" }))).Body!.transformToString()).toBe("mine");
    expect(curl(`${gw.endpoint}/${W}/priv.txt`).status).toBe(403);
  });

  test("AWS's errors for grants it cannot resolve", async () => {
    await expectS3Error(asAlice.send(new PutObjectCommand({ Bucket: W, Key: "e.txt", Body: "e", GrantRead: 'emailAddress="someone@example.com"' })), 400, "UnresolvableGrantByEmailAddress");
    await expectS3Error(asAlice.send(new PutObjectCommand({ Bucket: W, Key: "e.txt", Body: "e", GrantRead: `id="${"0".repeat(64)}"` })), 400, "InvalidArgument");
    await expectS3Error(asAlice.send(new PutObjectCommand({ Bucket: W, Key: "e.txt", Body: "e", ACL: "public-read", GrantRead: `uri="${ALL_USERS}"` })), 400, "InvalidRequest");
  });
});

describe("a public-read bucket", () => {
  test("anonymous listing with plain curl; its objects stay private unless their ACL says otherwise", async () => {
    const b = uniqueBucket("listable");
    await asAlice.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: "ObjectWriter", ACL: "public-read" }));
    await asAlice.send(new PutObjectCommand({ Bucket: b, Key: "a.txt", Body: "a" }));
    const list = curl(`${gw.endpoint}/${b}?list-type=2`);
    expect(list.status).toBe(200);
    expect(list.body).toContain("<Key>a.txt</Key>");
    expect(curl(`${gw.endpoint}/${b}/a.txt`).status).toBe(403);
  });
});

describe("BucketOwnerPreferred", () => {
  test("an object written with bucket-owner-full-control becomes the bucket owner's", async () => {
    await asAlice.send(new PutBucketAclCommand({ Bucket: P, GrantWrite: `id="${bob.canonicalId}"`, GrantFullControl: `id="${alice.canonicalId}"` }));
    await asBob.send(new PutObjectCommand({ Bucket: P, Key: "given.txt", Body: "g", ACL: "bucket-owner-full-control" }));
    await asBob.send(new PutObjectCommand({ Bucket: P, Key: "kept.txt", Body: "k" }));
    expect((await asAlice.send(new GetObjectAclCommand({ Bucket: P, Key: "given.txt" }))).Owner?.ID).toBe(alice.canonicalId);
    expect((await asAlice.send(new GetObjectAclCommand({ Bucket: P, Key: "kept.txt" }))).Owner?.ID).toBe(bob.canonicalId);
  });
});

describe("Block Public Access against ACLs", () => {
  test("BlockPublicAcls refuses public ACLs; IgnorePublicAcls makes existing ones grant nothing", async () => {
    await asAlice.send(new PutPublicAccessBlockCommand({ Bucket: W, PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
    await expectS3Error(asAlice.send(new PutObjectCommand({ Bucket: W, Key: "pub2.txt", Body: "p", ACL: "public-read" })), 403, "AccessDenied");
    await expectS3Error(asAlice.send(new PutBucketAclCommand({ Bucket: W, GrantRead: `uri="${ALL_USERS}"` })), 403, "AccessDenied");
    // Existing grants still work until IgnorePublicAcls.
    expect(curl(`${gw.endpoint}/${W}/pub.txt`).status).toBe(200);
    await asAlice.send(new PutPublicAccessBlockCommand({ Bucket: W, PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
    await Bun.sleep(1100); // settings are cached per process for a second
    expect(curl(`${gw.endpoint}/${W}/pub.txt`).status).toBe(403);
    // Authenticated-read is public too, in AWS's sense: ignored for Bob as well.
    await expectS3Error(asBob.send(new GetObjectCommand({ Bucket: W, Key: "priv.txt" })), 403, "AccessDenied");
    // Grants to a named user are not public.
    expect(await (await asBob.send(new GetObjectCommand({ Bucket: W, Key: "for-bob.txt" }))).Body!.transformToString()).toBe("hi bob");
    await asAlice.send(new DeletePublicAccessBlockCommand({ Bucket: W }));
    await Bun.sleep(1100);
    expect(curl(`${gw.endpoint}/${W}/pub.txt`).status).toBe(200);
  });
});
