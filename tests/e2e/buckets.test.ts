// Bucket operations with both clients, and how the directory tree and the bucket list agree.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutBucketAclCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  S3Client,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketEncryptionCommand,
  GetObjectLockConfigurationCommand,
  GetBucketVersioningCommand,
  PutBucketPolicyCommand,
  DeleteBucketPolicyCommand,
  GetBucketTaggingCommand,
  PutBucketTaggingCommand,
  DeleteBucketTaggingCommand,
} from "@aws-sdk/client-s3";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EMPTY_SHA256, errorCode, type Gateway, minioClient, rawRequest, s3Client, sha256Hex, sign, startGateway, uniqueBucket } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;

beforeAll(async () => {
  gw = await startGateway();
  s3 = s3Client(gw);
});
afterAll(async () => {
  await gw?.stop();
});

const fail = (p: Promise<unknown>) => p.then(() => { throw new Error("expected a failure"); }, (e) => e);

describe("lifecycle", () => {
  test("create, head, list, locate, delete (SDK)", async () => {
    const b = uniqueBucket();
    const created = await s3.send(new CreateBucketCommand({ Bucket: b }));
    expect(created.Location).toBe(`/${b}`);
    expect(statSync(join(gw.root, b)).isDirectory()).toBe(true);
    const head = await s3.send(new HeadBucketCommand({ Bucket: b }));
    expect(head.$metadata.httpStatusCode).toBe(200);
    expect(head.BucketRegion).toBe("us-east-1");
    expect(head.AccessPointAlias).toBe(false);
    const list = await s3.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((x) => x.Name)).toContain(b);
    expect((await s3.send(new ListBucketsCommand({ BucketRegion: "us-east-1" }))).Buckets?.map((x) => x.Name)).toContain(b);
    expect((await s3.send(new ListBucketsCommand({ BucketRegion: "eu-west-1" }))).Buckets ?? []).toEqual([]);
    expect(list.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    expect(list.Owner?.DisplayName).toBe("filegate");
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: b }));
    expect(loc.LocationConstraint ?? "").toBe("");
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
    expect(existsSync(join(gw.root, b))).toBe(false);
    const err = await fail(s3.send(new HeadBucketCommand({ Bucket: b })));
    expect(err.$metadata.httpStatusCode).toBe(404);
  });

  test("create, exists, list, remove (minio)", async () => {
    const m = minioClient(gw);
    const b = uniqueBucket("m");
    await m.makeBucket(b, "us-east-1");
    expect(await m.bucketExists(b)).toBe(true);
    expect((await m.listBuckets()).map((x) => x.name)).toContain(b);
    await m.removeBucket(b);
    expect(await m.bucketExists(b)).toBe(false);
  });

  test("LocationConstraint: another region is refused; us-east-1 spelled out is invalid, as on AWS", async () => {
    // (Our own region, when it is not us-east-1, is accepted: see the GetBucketLocation test.)
    const b = uniqueBucket();
    const us = await fail(s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: "us-east-1" as never } })));
    expect([us.$metadata.httpStatusCode, us.name]).toEqual([400, "InvalidLocationConstraint"]);
    const err = await fail(s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } })));
    expect([err.$metadata.httpStatusCode, err.name]).toEqual([400, "IllegalLocationConstraintException"]);
    const bogus = await fail(s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: "bogus-region-9" as never } })));
    expect([bogus.$metadata.httpStatusCode, bogus.name]).toEqual([400, "InvalidLocationConstraint"]);
    expect(existsSync(join(gw.root, b))).toBe(false);
  });

  test("malformed CreateBucketConfiguration: MalformedXML, no bucket made", async () => {
    const b = uniqueBucket();
    const body = "<CreateBucketConfiguration><LocationConstraint>";
    const sha = sha256Hex(body);
    const r = sign({ method: "PUT", path: `/${b}`, headers: { host: `127.0.0.1:${gw.port}`, "content-length": String(body.length) }, payloadHash: sha });
    const res = await rawRequest(gw.port, "PUT", `/${b}`, r.headers, body);
    expect(res.status).toBe(400);
    expect(errorCode(res.body)).toBe("MalformedXML");
    expect(existsSync(join(gw.root, b))).toBe(false);
  });
});

describe("refusals", () => {
  test.each(["Bad_Name", "ab", "-abc", "abc-", "a..b", "a.-b", "a-.b", "192.168.1.1", "xn--abc", "UPPER", "a".repeat(64), "abc-s3alias"])(
    "invalid name %p: InvalidBucketName",
    async (name) => {
      const r = sign({ method: "PUT", path: `/${name}`, headers: { host: `127.0.0.1:${gw.port}` }, payloadHash: EMPTY_SHA256 });
      const res = await rawRequest(gw.port, "PUT", `/${name}`, r.headers);
      expect(res.status).toBe(400);
      expect(errorCode(res.body)).toBe("InvalidBucketName");
      expect(existsSync(join(gw.root, name))).toBe(false);
    },
  );

  test("a bucket with Object Lock is refused with 501, and none is made", async () => {
    const b = uniqueBucket();
    const err = await fail(s3.send(new CreateBucketCommand({ Bucket: b, ObjectLockEnabledForBucket: true })));
    expect(err.$metadata.httpStatusCode).toBe(501);
    expect(existsSync(join(gw.root, b))).toBe(false);
  });

  test("creating a bucket you own again: 200 in us-east-1, as AWS's legacy region answers", async () => {
    const b = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const again = await s3.send(new CreateBucketCommand({ Bucket: b }));
    expect(again.$metadata.httpStatusCode).toBe(200);
  });

  test("deleting a bucket with an object: BucketNotEmpty; after the delete it goes", async () => {
    const b = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "deep/k", Body: "x" }));
    const err = await fail(s3.send(new DeleteBucketCommand({ Bucket: b })));
    expect(err.name).toBe("BucketNotEmpty");
    expect(err.$metadata.httpStatusCode).toBe(409);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "deep/k" }));
    // The gateway's own temp area does not count as content.
    expect(existsSync(join(gw.root, b, ".filegate"))).toBe(true);
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
    expect(existsSync(join(gw.root, b))).toBe(false);
  });

  test("GetBucketLocation outside us-east-1 names the region as the element's text", async () => {
    const other = await startGateway({ args: ["--region", "eu-west-1"] });
    try {
      const c = s3Client(other, { region: "eu-west-1" });
      const b = uniqueBucket();
      await c.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }));
      expect((await c.send(new GetBucketLocationCommand({ Bucket: b }))).LocationConstraint).toBe("eu-west-1");
      // Outside us-east-1, creating a bucket you own again is BucketAlreadyOwnedByYou.
      const err = await fail(c.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } })));
      expect([err.name, err.$metadata.httpStatusCode]).toEqual(["BucketAlreadyOwnedByYou", 409]);
      // The SDK's parser is lenient; the document itself must be well-formed.
      const { headers } = sign({ method: "GET", path: `/${b}`, query: { location: "" }, headers: { host: `127.0.0.1:${other.port}` }, payloadHash: EMPTY_SHA256, region: "eu-west-1" });
      const raw = await rawRequest(other.port, "GET", `/${b}?location`, headers);
      expect(raw.body).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>');
    } finally {
      await other.stop();
    }
  });

  test("missing bucket: NoSuchBucket on delete, location and ACL", async () => {
    for (const cmd of [new DeleteBucketCommand({ Bucket: "no-such-bucket-x" }), new GetBucketLocationCommand({ Bucket: "no-such-bucket-x" }), new GetBucketAclCommand({ Bucket: "no-such-bucket-x" })]) {
      const err = await fail(s3.send(cmd as never));
      expect(err.name).toBe("NoSuchBucket");
      expect(err.$metadata.httpStatusCode).toBe(404);
      expect((err as unknown as { BucketName?: string }).BucketName).toBe("no-such-bucket-x");
    }
  });
});

describe("the tree is the truth", () => {
  test("a directory made by hand is a bucket; hidden and reserved names are not", async () => {
    mkdirSync(join(gw.root, "hand-made"));
    writeFileSync(join(gw.root, "hand-made", "file.txt"), "hi");
    mkdirSync(join(gw.root, "_private"), { recursive: true });
    writeFileSync(join(gw.root, "not-a-dir"), "x");
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name);
    expect(names).toContain("hand-made");
    expect(names).not.toContain(".filegate");
    expect(names).not.toContain("_private");
    expect(names).not.toContain("not-a-dir");
    await s3.send(new HeadBucketCommand({ Bucket: "hand-made" }));
  });

  test("ListBuckets pagination with max-buckets and continuation token; prefix", async () => {
    const prefix = `pg${Date.now().toString(36)}`;
    for (let i = 0; i < 5; i++) await s3.send(new CreateBucketCommand({ Bucket: `${prefix}-${i}` }));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListBucketsCommand({ MaxBuckets: 2, Prefix: prefix, ContinuationToken: token }));
      seen.push(...page.Buckets!.map((b) => b.Name!));
      token = page.ContinuationToken;
    } while (token);
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `${prefix}-${i}`));
  });
});

describe("ownership (BucketOwnerEnforced)", () => {
  test("GetBucketAcl: the owner with FULL_CONTROL", async () => {
    const b = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: b }));
    expect(acl.Grants).toHaveLength(1);
    expect(acl.Grants![0].Permission).toBe("FULL_CONTROL");
    expect(acl.Grants![0].Grantee?.ID).toBe(acl.Owner?.ID);
    expect(acl.Grants![0].Grantee?.Type).toBe("CanonicalUser");
  });

  test("x-amz-acl private accepted; public-read refused (AccessControlListNotSupported, InvalidBucketAclWithObjectOwnership)", async () => {
    const b = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b, ACL: "private" }));
    await s3.send(new PutBucketAclCommand({ Bucket: b, ACL: "private" }));
    const err = await fail(s3.send(new PutBucketAclCommand({ Bucket: b, ACL: "public-read" })));
    expect(err.name).toBe("AccessControlListNotSupported");
    expect(err.$metadata.httpStatusCode).toBe(400);
    // Creating a bucket with an ACL its (default) ownership forbids is AWS's own code for that.
    const err2 = await fail(s3.send(new CreateBucketCommand({ Bucket: uniqueBucket(), ACL: "public-read" })));
    expect(err2.name).toBe("InvalidBucketAclWithObjectOwnership");
  });
});

describe("bucket settings a directory cannot carry out", () => {
  test("reads answer 'not configured' as AWS does; deletes of nothing succeed", async () => {
    const b = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const cases: [unknown, string][] = [
      [new GetBucketPolicyCommand({ Bucket: b }), "NoSuchBucketPolicy"],
      [new GetBucketPolicyStatusCommand({ Bucket: b }), "NoSuchBucketPolicy"],
      [new GetBucketCorsCommand({ Bucket: b }), "NoSuchCORSConfiguration"],
      [new GetBucketLifecycleConfigurationCommand({ Bucket: b }), "NoSuchLifecycleConfiguration"],
      [new GetBucketEncryptionCommand({ Bucket: b }), "ServerSideEncryptionConfigurationNotFoundError"],
      [new GetObjectLockConfigurationCommand({ Bucket: b }), "ObjectLockConfigurationNotFoundError"],
    ];
    for (const [cmd, code] of cases) {
      const err = await fail(s3.send(cmd as never));
      expect(err.name).toBe(code);
      expect(err.$metadata.httpStatusCode).toBe(404);
    }
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: b }));
    expect(versioning.Status).toBeUndefined();
    // Bucket policies are implemented (tests/e2e/policy.test.ts): an empty one is malformed.
    const put = await fail(s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Version: "2012-10-17", Statement: [] }) })));
    expect(put.$metadata.httpStatusCode).toBe(400);
    expect(put.name).toBe("MalformedPolicy");
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: b }));
  });

  test("bucket tagging round-trips", async () => {
    const b = uniqueBucket();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const none = await fail(s3.send(new GetBucketTaggingCommand({ Bucket: b })));
    expect(none.name).toBe("NoSuchTagSet");
    await s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: "team", Value: "lab 7" }, { Key: "cost", Value: "x+y" }] } }));
    const got = await s3.send(new GetBucketTaggingCommand({ Bucket: b }));
    expect(got.TagSet).toEqual([{ Key: "team", Value: "lab 7" }, { Key: "cost", Value: "x+y" }]);
    await s3.send(new DeleteBucketTaggingCommand({ Bucket: b }));
    expect((await fail(s3.send(new GetBucketTaggingCommand({ Bucket: b })))).name).toBe("NoSuchTagSet");
    // Bucket tags live in the private area: the bucket is still empty and deletable.
    await s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: "k", Value: "v" }] } }));
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
  });
});

test("virtual-hosted style when --virtual-domain is set", async () => {
  const vgw = await startGateway({ args: ["--virtual-domain", "s3.filegate.test"] });
  try {
    const client = s3Client(vgw);
    await client.send(new CreateBucketCommand({ Bucket: "vhost-bucket" }));
    await client.send(new PutObjectCommand({ Bucket: "vhost-bucket", Key: "dir/obj.txt", Body: "virtual" }));
    const host = `vhost-bucket.s3.filegate.test:${vgw.port}`;
    const r = sign({ method: "GET", path: "/dir/obj.txt", headers: { host }, payloadHash: EMPTY_SHA256 });
    const res = await rawRequest(vgw.port, "GET", "/dir/obj.txt", r.headers);
    expect(res.status).toBe(200);
    expect(res.body).toBe("virtual");
  } finally {
    await vgw.stop();
  }
});
