// Bucket policies end to end: the policy API through the SDK, a public-read bucket fetched with
// plain curl, a prefix granted read-only to anonymous callers (and a Deny overriding it),
// conditions (aws:SourceIp, s3:prefix, s3:ExistingObjectTag), Block Public Access refusing a
// public policy, and the gateway-wide --block-public.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { closeGateway, expectS3Error, openGateway, s3Client, startGateway, type Gateway } from "../support/index.ts";

const PUB = "policy-public";
const PFX = "policy-prefix";
const CND = "policy-cond";
const PAB = "policy-pab";
const ADMIN_ARN = "arn:aws:iam::000000000000:user/admin";
let gw: Gateway;
let s3: S3Client;

beforeAll(async () => {
  ({ gw, s3 } = await openGateway(PUB, PFX, CND, PAB));
  for (const [Bucket, Key, Body] of [
    [PUB, "index.html", "<h1>hello</h1>"],
    [PUB, "dir/data.csv", "a,b\n1,2\n"],
    [PFX, "public/a.txt", "public a"],
    [PFX, "public/secret.txt", "not for you"],
    [PFX, "private/b.txt", "private b"],
    [CND, "plain.txt", "untagged"],
    [PAB, "k", "v"],
  ]) {
    await s3.send(new PutObjectCommand({ Bucket, Key, Body }));
  }
  await s3.send(new PutObjectCommand({ Bucket: CND, Key: "tagged.txt", Body: "tagged", Tagging: "visibility=public" }));
});
afterAll(() => closeGateway(gw, s3));

/** Plain curl, no credentials: status and body. */
function curl(url: string, ...args: string[]): { status: number; body: string } {
  const r = spawnSync("curl", ["-s", "-o", "-", "-w", "\n%{http_code}", ...args, url], { encoding: "utf8" });
  const at = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) };
}

const put = (Bucket: string, policy: unknown) => s3.send(new PutBucketPolicyCommand({ Bucket, Policy: typeof policy === "string" ? policy : JSON.stringify(policy) }));
const stmt = (s: Record<string, unknown>) => ({ Effect: "Allow", Principal: "*", ...s });
const doc = (...Statement: unknown[]) => ({ Version: "2012-10-17", Statement });

describe("policy API", () => {
  test("Put, Get (the same bytes), status, Delete; none is NoSuchBucketPolicy", async () => {
    await expectS3Error(s3.send(new GetBucketPolicyCommand({ Bucket: PAB })), 404, "NoSuchBucketPolicy");
    await expectS3Error(s3.send(new GetBucketPolicyStatusCommand({ Bucket: PAB })), 404, "NoSuchBucketPolicy");
    const text = JSON.stringify(doc(stmt({ Principal: { AWS: ADMIN_ARN }, Action: "s3:GetObject", Resource: `arn:aws:s3:::${PAB}/*` })), null, 2);
    await put(PAB, text);
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: PAB }))).Policy).toBe(text);
    expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: PAB }))).PolicyStatus?.IsPublic).toBe(false);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: PAB }));
    await expectS3Error(s3.send(new GetBucketPolicyCommand({ Bucket: PAB })), 404, "NoSuchBucketPolicy");
  });

  test("MalformedPolicy with S3's messages", async () => {
    const message = async (policy: unknown) => {
      try {
        await put(PAB, policy);
      } catch (e) {
        const err = e as { Code?: string; message: string; $metadata: { httpStatusCode: number } };
        return `${err.$metadata.httpStatusCode} ${err.Code} ${err.message}`;
      }
      return "accepted";
    };
    expect(await message("not json")).toBe("400 MalformedPolicy Policies must be valid JSON and the first byte must be '{'");
    expect(await message(doc(stmt({ Action: "s3:GetObject", Resource: "arn:aws:s3:::another-bucket/*" })))).toBe("400 MalformedPolicy Policy has invalid resource");
    expect(await message(doc(stmt({ Action: "s3:Fly", Resource: `arn:aws:s3:::${PAB}/*` })))).toBe("400 MalformedPolicy Policy has invalid action");
    expect(await message(doc(stmt({ Principal: { AWS: "nobody" }, Action: "s3:GetObject", Resource: `arn:aws:s3:::${PAB}/*` })))).toBe("400 MalformedPolicy Invalid principal in policy");
  });
});

describe("public read, fetched with plain curl", () => {
  test("nothing is public until a policy says so", () => {
    expect(curl(`${gw.endpoint}/${PUB}/index.html`).status).toBe(403);
    expect(curl(`${gw.endpoint}/${PUB}/index.html`).body).toContain("<Code>AccessDenied</Code>");
    expect(curl(`${gw.endpoint}/${PUB}`).status).toBe(403);
    expect(curl(`${gw.endpoint}/`).status).toBe(403);
    expect(curl(`${gw.endpoint}/no-such-bucket/x`).status).toBe(403);
  });

  test("s3:GetObject to *: GET and HEAD work; listing, writing and deleting do not", async () => {
    await put(PUB, doc(stmt({ Sid: "PublicRead", Action: "s3:GetObject", Resource: `arn:aws:s3:::${PUB}/*` })));
    expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: PUB }))).PolicyStatus?.IsPublic).toBe(true);
    expect(curl(`${gw.endpoint}/${PUB}/index.html`)).toEqual({ status: 200, body: "<h1>hello</h1>" });
    expect(curl(`${gw.endpoint}/${PUB}/dir/data.csv`).body).toBe("a,b\n1,2\n");
    const head = spawnSync("curl", ["-s", "-I", `${gw.endpoint}/${PUB}/index.html`], { encoding: "utf8" }).stdout;
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head.toLowerCase()).toContain("content-length: 14");
    expect(curl(`${gw.endpoint}/${PUB}/missing`).status).toBe(404);
    expect(curl(`${gw.endpoint}/${PUB}`).status).toBe(403);
    expect(curl(`${gw.endpoint}/${PUB}/new.txt`, "-X", "PUT", "--data-binary", "x").status).toBe(403);
    expect(curl(`${gw.endpoint}/${PUB}/index.html`, "-X", "DELETE").status).toBe(403);
    expect(curl(`${gw.endpoint}/${PUB}?policy`).status).toBe(403);
  });

  test("with s3:ListBucket granted too, curl lists the bucket", async () => {
    await put(
      PUB,
      doc(stmt({ Action: "s3:GetObject", Resource: `arn:aws:s3:::${PUB}/*` }), stmt({ Action: "s3:ListBucket", Resource: `arn:aws:s3:::${PUB}` })),
    );
    const v1 = curl(`${gw.endpoint}/${PUB}`);
    expect(v1.status).toBe(200);
    expect(v1.body).toContain("<Key>dir/data.csv</Key>");
    expect(v1.body).toContain("<Key>index.html</Key>");
    const v2 = curl(`${gw.endpoint}/${PUB}?list-type=2&prefix=dir/`);
    expect(v2.status).toBe(200);
    expect(v2.body).toContain("<KeyCount>1</KeyCount>");
    expect(spawnSync("curl", ["-s", "-I", `${gw.endpoint}/${PUB}`], { encoding: "utf8" }).stdout).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe("anonymous writes where a policy allows them", () => {
  test("s3:PutObject to * on uploads/: curl PUT and a form POST without a policy work there only", async () => {
    await put(PFX, doc(stmt({ Action: "s3:PutObject", Resource: `arn:aws:s3:::${PFX}/uploads/*` })));
    expect(curl(`${gw.endpoint}/${PFX}/uploads/by-curl.txt`, "-X", "PUT", "--data-binary", "dropped").status).toBe(200);
    expect(curl(`${gw.endpoint}/${PFX}/elsewhere.txt`, "-X", "PUT", "--data-binary", "x").status).toBe(403);
    const form = (key: string) => {
      const f = new FormData();
      f.append("key", key);
      f.append("file", new Blob(["from a form"]), "f.txt");
      return fetch(`${gw.endpoint}/${PFX}`, { method: "POST", body: f });
    };
    expect((await form("uploads/by-form.txt")).status).toBe(204);
    expect((await form("elsewhere.txt")).status).toBe(403);
    const got = await s3.send(new GetObjectCommand({ Bucket: PFX, Key: "uploads/by-form.txt" }));
    expect(await got.Body?.transformToString()).toBe("from a form");
    expect(await (await s3.send(new GetObjectCommand({ Bucket: PFX, Key: "uploads/by-curl.txt" }))).Body?.transformToString()).toBe("dropped");
    // Reading back is another permission.
    expect(curl(`${gw.endpoint}/${PFX}/uploads/by-curl.txt`).status).toBe(403);
  });
});

describe("a prefix granted read-only to anonymous callers", () => {
  test("GET under the prefix; nothing else; a Deny overrides the Allow", async () => {
    await put(PFX, doc(stmt({ Action: ["s3:GetObject"], Resource: `arn:aws:s3:::${PFX}/public/*` })));
    expect(curl(`${gw.endpoint}/${PFX}/public/a.txt`)).toEqual({ status: 200, body: "public a" });
    expect(curl(`${gw.endpoint}/${PFX}/public/secret.txt`).status).toBe(200);
    expect(curl(`${gw.endpoint}/${PFX}/private/b.txt`).status).toBe(403);
    expect(curl(`${gw.endpoint}/${PFX}/public/new.txt`, "-X", "PUT", "--data-binary", "x").status).toBe(403);

    await put(
      PFX,
      doc(
        stmt({ Action: ["s3:GetObject"], Resource: `arn:aws:s3:::${PFX}/public/*` }),
        { Effect: "Deny", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${PFX}/public/secret*` },
      ),
    );
    expect(curl(`${gw.endpoint}/${PFX}/public/a.txt`).status).toBe(200);
    expect(curl(`${gw.endpoint}/${PFX}/public/secret.txt`).status).toBe(403);
    // An explicit Deny applies to the admin too.
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: PFX, Key: "public/secret.txt" })), 403, "AccessDenied");
    expect((await s3.send(new GetObjectCommand({ Bucket: PFX, Key: "private/b.txt" }))).ContentLength).toBe(9);
  });

  test("a Deny naming the admin cannot lock the admin out of the policy itself", async () => {
    const bucket = "policy-lockout";
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await put(bucket, doc({ Effect: "Deny", Principal: { AWS: ADMIN_ARN }, Action: "s3:*", Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }));
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: bucket, Key: "k", Body: "v" })), 403, "AccessDenied");
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy).toContain("Deny");
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "k", Body: "v" }));
  });
});

describe("conditions", () => {
  test("aws:SourceIp: inside the block allowed, outside refused", async () => {
    await put(CND, doc(stmt({ Action: "s3:GetObject", Resource: `arn:aws:s3:::${CND}/*`, Condition: { IpAddress: { "aws:SourceIp": ["127.0.0.0/8", "::1/128"] } } })));
    expect(curl(`${gw.endpoint}/${CND}/plain.txt`).status).toBe(200);
    await put(CND, doc(stmt({ Action: "s3:GetObject", Resource: `arn:aws:s3:::${CND}/*`, Condition: { IpAddress: { "aws:SourceIp": "192.0.2.0/24" } } })));
    expect(curl(`${gw.endpoint}/${CND}/plain.txt`).status).toBe(403);
    // And a Deny for everyone outside a block applies to signed requests as well.
    await put(CND, doc({ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: `arn:aws:s3:::${CND}/*`, Condition: { NotIpAddress: { "aws:SourceIp": "192.0.2.0/24" } } }));
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: CND, Key: "plain.txt" })), 403, "AccessDenied");
  });

  test("s3:prefix: listing allowed only under the granted prefix", async () => {
    await put(CND, doc(stmt({ Action: "s3:ListBucket", Resource: `arn:aws:s3:::${CND}`, Condition: { StringEquals: { "s3:prefix": "tagged" } } })));
    const ok = curl(`${gw.endpoint}/${CND}?list-type=2&prefix=tagged`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain("<Key>tagged.txt</Key>");
    expect(curl(`${gw.endpoint}/${CND}?list-type=2&prefix=plain`).status).toBe(403);
    expect(curl(`${gw.endpoint}/${CND}?list-type=2`).status).toBe(403);
  });

  test("s3:ExistingObjectTag: only objects tagged visibility=public", async () => {
    await put(CND, doc(stmt({ Action: "s3:GetObject", Resource: `arn:aws:s3:::${CND}/*`, Condition: { StringEquals: { "s3:ExistingObjectTag/visibility": "public" } } })));
    expect(curl(`${gw.endpoint}/${CND}/tagged.txt`)).toEqual({ status: 200, body: "tagged" });
    expect(curl(`${gw.endpoint}/${CND}/plain.txt`).status).toBe(403);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: CND }));
    expect(curl(`${gw.endpoint}/${CND}/tagged.txt`).status).toBe(403);
  });
});

describe("Block Public Access", () => {
  const publicRead = doc(stmt({ Action: "s3:GetObject", Resource: `arn:aws:s3:::${PAB}/*` }));

  test("BlockPublicPolicy refuses a public policy, accepts a non-public one", async () => {
    await expectS3Error(s3.send(new GetPublicAccessBlockCommand({ Bucket: PAB })), 404, "NoSuchPublicAccessBlockConfiguration");
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: PAB, PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
    expect((await s3.send(new GetPublicAccessBlockCommand({ Bucket: PAB }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: false,
      IgnorePublicAcls: false,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    });
    await expectS3Error(put(PAB, publicRead), 403, "AccessDenied");
    await put(PAB, doc(stmt({ Action: "s3:GetObject", Resource: `arn:aws:s3:::${PAB}/*`, Condition: { IpAddress: { "aws:SourceIp": "127.0.0.0/8" } } })));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: PAB }));
    await expectS3Error(s3.send(new GetPublicAccessBlockCommand({ Bucket: PAB })), 404, "NoSuchPublicAccessBlockConfiguration");
  });

  test("RestrictPublicBuckets: a public policy grants anonymous callers nothing", async () => {
    await put(PAB, publicRead);
    expect(curl(`${gw.endpoint}/${PAB}/k`).status).toBe(200);
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: PAB, PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    expect(curl(`${gw.endpoint}/${PAB}/k`).status).toBe(403);
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: PAB }));
    expect(curl(`${gw.endpoint}/${PAB}/k`).status).toBe(200);
  });

  test("--block-public: no public policy is accepted and none serves anonymous callers", async () => {
    const blocked = await startGateway({ args: ["--block-public"] });
    const c = s3Client(blocked);
    try {
      await c.send(new CreateBucketCommand({ Bucket: "bpb" }));
      await c.send(new PutObjectCommand({ Bucket: "bpb", Key: "k", Body: "v" }));
      await expectS3Error(c.send(new PutBucketPolicyCommand({ Bucket: "bpb", Policy: JSON.stringify(doc(stmt({ Action: "s3:GetObject", Resource: "arn:aws:s3:::bpb/*" }))) })), 403, "AccessDenied");
      expect(curl(`${blocked.endpoint}/bpb/k`).status).toBe(403);
    } finally {
      c.destroy();
      await blocked.stop();
    }
  });
});
