// The IAM API subset on the gateway's endpoint, through @aws-sdk/client-iam and the aws cli (`aws
// iam --endpoint-url`; those tests are skipped when no `aws` is installed): users, access keys and
// inline policies, IAM's XML errors, admins only, and what it changes reaching S3 and the CLI.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import { ListBucketsCommand } from "@aws-sdk/client-s3";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCESS_KEY, REGION, SECRET_KEY, clientAs, rawRequest, startGateway, userCli, type Gateway } from "../support/index.ts";

const AWS = process.env.FILEGATE_TEST_AWS || Bun.which("aws");

let gw: Gateway;
let iam: IAMClient;
let work: string;

const iamAs = (credentials: { accessKeyId: string; secretAccessKey: string }) => new IAMClient({ endpoint: gw.endpoint, region: REGION, credentials });

beforeAll(async () => {
  gw = await startGateway();
  iam = iamAs({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
  work = mkdtempSync(join(tmpdir(), "filegate-iam-"));
  writeFileSync(join(work, "config"), `[default]\nregion = ${REGION}\n`);
});

afterAll(async () => {
  iam?.destroy();
  await gw?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The IAM error code and HTTP status a call failed with. */
async function iamError(p: Promise<unknown>): Promise<{ code: string; status: number | undefined }> {
  try {
    await p;
  } catch (e) {
    // The SDK names modelled errors by their exception class (NoSuchEntityException); the code
    // as IAM sent it is in Error.Code.
    const err = e as { name: string; Error?: { Code?: string }; Code?: string; $metadata?: { httpStatusCode?: number } };
    return { code: err.Error?.Code ?? err.Code ?? err.name, status: err.$metadata?.httpStatusCode };
  }
  throw new Error("the call succeeded");
}

/** The status an S3 call gets once a change has spread (polls up to two seconds). */
async function s3StatusBecomes(key: { accessKeyId: string; secretAccessKey: string }, status: number): Promise<number> {
  const s3 = clientAs(gw, key);
  const end = Date.now() + 2000;
  try {
    for (;;) {
      let got: number;
      try {
        await s3.send(new ListBucketsCommand({}));
        got = 200;
      } catch (e) {
        got = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
      }
      if (got === status || Date.now() > end) return got;
      await Bun.sleep(50);
    }
  } finally {
    s3.destroy();
  }
}

test("users: create, get, list, refuse a duplicate and an unknown name", async () => {
  const made = await iam.send(new CreateUserCommand({ UserName: "eve" }));
  expect(made.User).toMatchObject({ UserName: "eve", Path: "/", Arn: "arn:aws:iam::000000000000:user/eve" });
  expect(made.User?.UserId).toMatch(/^AIDA/);
  expect(made.User?.CreateDate).toBeInstanceOf(Date);
  expect(await iamError(iam.send(new CreateUserCommand({ UserName: "eve" })))).toEqual({ code: "EntityAlreadyExists", status: 409 });
  expect(await iamError(iam.send(new CreateUserCommand({ UserName: "bad/name" })))).toEqual({ code: "ValidationError", status: 400 });
  expect((await iam.send(new GetUserCommand({ UserName: "eve" }))).User?.UserId).toBe(made.User?.UserId);
  // Without a name: the caller, here the first admin.
  expect((await iam.send(new GetUserCommand({}))).User?.UserName).toBe("admin");
  expect(await iamError(iam.send(new GetUserCommand({ UserName: "nobody" })))).toEqual({ code: "NoSuchEntity", status: 404 });
  const names = (await iam.send(new ListUsersCommand({}))).Users?.map((u) => u.UserName);
  expect(names).toEqual(["admin", "eve"]);
  const page = await iam.send(new ListUsersCommand({ MaxItems: 1 }));
  expect([page.Users?.length, page.IsTruncated, page.Marker]).toEqual([1, true, "admin"]);
  const rest = await iam.send(new ListUsersCommand({ Marker: page.Marker }));
  expect(rest.Users?.map((u) => u.UserName)).toEqual(["eve"]);
  // The CLI reads the same store.
  expect(JSON.parse(userCli(gw.root, ["list"]).out).map((u: { user: string }) => u.user)).toContain("eve");
});

test("access keys: a new key signs S3 requests; Inactive stops it within seconds; two at most; a user with keys is not deleted", async () => {
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: "eve" }));
  expect(AccessKey).toMatchObject({ UserName: "eve", Status: "Active" });
  const key = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
  expect(await s3StatusBecomes(key, 200)).toBe(200);
  const listed = await iam.send(new ListAccessKeysCommand({ UserName: "eve" }));
  expect(listed.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status])).toEqual([[key.accessKeyId, "Active"]]);
  expect(JSON.stringify(listed)).not.toContain(key.secretAccessKey);

  await iam.send(new UpdateAccessKeyCommand({ UserName: "eve", AccessKeyId: key.accessKeyId, Status: "Inactive" }));
  expect(await s3StatusBecomes(key, 403)).toBe(403);
  expect((await iam.send(new ListAccessKeysCommand({ UserName: "eve" }))).AccessKeyMetadata?.[0].Status).toBe("Inactive");
  await iam.send(new UpdateAccessKeyCommand({ UserName: "eve", AccessKeyId: key.accessKeyId, Status: "Active" }));
  expect(await s3StatusBecomes(key, 200)).toBe(200);
  expect(await iamError(iam.send(new UpdateAccessKeyCommand({ UserName: "eve", AccessKeyId: key.accessKeyId, Status: "Sleeping" as "Active" })))).toEqual({ code: "ValidationError", status: 400 });
  expect(await iamError(iam.send(new UpdateAccessKeyCommand({ UserName: "eve", AccessKeyId: "NOSUCHKEY0000000", Status: "Active" })))).toEqual({ code: "NoSuchEntity", status: 404 });

  const second = (await iam.send(new CreateAccessKeyCommand({ UserName: "eve" }))).AccessKey!;
  expect(await iamError(iam.send(new CreateAccessKeyCommand({ UserName: "eve" })))).toEqual({ code: "LimitExceeded", status: 409 });
  expect(await iamError(iam.send(new DeleteUserCommand({ UserName: "eve" })))).toEqual({ code: "DeleteConflict", status: 409 });
  await iam.send(new DeleteAccessKeyCommand({ UserName: "eve", AccessKeyId: second.AccessKeyId! }));
  expect((await iam.send(new ListAccessKeysCommand({ UserName: "eve" }))).AccessKeyMetadata).toHaveLength(1);
});

test("inline policies: put, get (URL-encoded, as IAM sends it), list, delete; malformed documents refused", async () => {
  const doc = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::shared/*" }] });
  await iam.send(new PutUserPolicyCommand({ UserName: "eve", PolicyName: "read-shared", PolicyDocument: doc }));
  const got = await iam.send(new GetUserPolicyCommand({ UserName: "eve", PolicyName: "read-shared" }));
  expect(decodeURIComponent(got.PolicyDocument!)).toBe(doc);
  expect((await iam.send(new ListUserPoliciesCommand({ UserName: "eve" }))).PolicyNames).toEqual(["read-shared"]);
  expect(await iamError(iam.send(new PutUserPolicyCommand({ UserName: "eve", PolicyName: "bad", PolicyDocument: "{not json" })))).toEqual({ code: "MalformedPolicyDocument", status: 400 });
  expect(await iamError(iam.send(new PutUserPolicyCommand({ UserName: "nobody", PolicyName: "p", PolicyDocument: doc })))).toEqual({ code: "NoSuchEntity", status: 404 });
  await iam.send(new DeleteUserPolicyCommand({ UserName: "eve", PolicyName: "read-shared" }));
  expect(await iamError(iam.send(new GetUserPolicyCommand({ UserName: "eve", PolicyName: "read-shared" })))).toEqual({ code: "NoSuchEntity", status: 404 });
  expect((await iam.send(new ListUserPoliciesCommand({ UserName: "eve" }))).PolicyNames).toEqual([]);
});

test("only admins manage users; bad keys and signatures get IAM's errors; the first admin is not changed through IAM", async () => {
  const key = (await iam.send(new ListAccessKeysCommand({ UserName: "eve" }))).AccessKeyMetadata![0].AccessKeyId!;
  // eve's secret is not listable: make a user with a known key through the CLI instead.
  const made = JSON.parse(userCli(gw.root, ["add", "mallory"]).out) as { accessKeyId: string; secretAccessKey: string };
  expect(await s3StatusBecomes(made, 200)).toBe(200);
  const asMallory = iamAs(made);
  try {
    expect(await iamError(asMallory.send(new ListUsersCommand({})))).toEqual({ code: "AccessDenied", status: 403 });
    expect(await iamError(asMallory.send(new UpdateAccessKeyCommand({ UserName: "eve", AccessKeyId: key, Status: "Inactive" })))).toEqual({ code: "AccessDenied", status: 403 });
  } finally {
    asMallory.destroy();
  }
  const forged = iamAs({ accessKeyId: ACCESS_KEY, secretAccessKey: "not-the-secret-0000000000" });
  const unknown = iamAs({ accessKeyId: "NOSUCHACCESSKEY00000", secretAccessKey: SECRET_KEY });
  try {
    expect(await iamError(forged.send(new ListUsersCommand({})))).toEqual({ code: "SignatureDoesNotMatch", status: 403 });
    expect(await iamError(unknown.send(new ListUsersCommand({})))).toEqual({ code: "InvalidClientTokenId", status: 403 });
  } finally {
    forged.destroy();
    unknown.destroy();
  }
  expect(await iamError(iam.send(new DeleteUserCommand({ UserName: "admin" })))).toEqual({ code: "UnmodifiableEntity", status: 400 });
  expect(await iamError(iam.send(new CreateAccessKeyCommand({})))).toEqual({ code: "UnmodifiableEntity", status: 400 });
  // An unsigned form is an S3 request, and S3 takes no anonymous POST at the root.
  const anon = await rawRequest(gw.port, "POST", "/", { "content-type": "application/x-www-form-urlencoded" }, "Action=ListUsers&Version=2010-05-08");
  expect(anon.status).toBe(403);
});

test("a user's last key deleted, the user goes; the key stops working", async () => {
  const keys = (await iam.send(new ListAccessKeysCommand({ UserName: "mallory" }))).AccessKeyMetadata!;
  for (const k of keys) await iam.send(new DeleteAccessKeyCommand({ UserName: "mallory", AccessKeyId: k.AccessKeyId! }));
  await iam.send(new DeleteUserCommand({ UserName: "mallory" }));
  expect(await iamError(iam.send(new GetUserCommand({ UserName: "mallory" })))).toEqual({ code: "NoSuchEntity", status: 404 });
});

function aws(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(AWS!, ["--endpoint-url", gw.endpoint, "--output", "json", ...args], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY: SECRET_KEY,
        AWS_CONFIG_FILE: join(work, "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(work, "none"),
        AWS_PAGER: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => resolve({ code, out, err }));
  });
}

test.skipIf(!AWS)("aws iam --endpoint-url: create-user, create-access-key, put/get-user-policy, list-users, an error", async () => {
  const made = await aws(["iam", "create-user", "--user-name", "frank"]);
  expect(made.code).toBe(0);
  expect(JSON.parse(made.out).User.UserName).toBe("frank");
  const key = await aws(["iam", "create-access-key", "--user-name", "frank"]);
  expect(key.code).toBe(0);
  const ak = JSON.parse(key.out).AccessKey;
  expect(ak.Status).toBe("Active");
  expect(await s3StatusBecomes({ accessKeyId: ak.AccessKeyId, secretAccessKey: ak.SecretAccessKey }, 200)).toBe(200);
  const doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}';
  expect((await aws(["iam", "put-user-policy", "--user-name", "frank", "--policy-name", "deny-all", "--policy-document", doc])).code).toBe(0);
  // botocore decodes the URL-encoded document back into JSON.
  const got = await aws(["iam", "get-user-policy", "--user-name", "frank", "--policy-name", "deny-all"]);
  expect(JSON.parse(got.out).PolicyDocument).toEqual(JSON.parse(doc));
  const users = await aws(["iam", "list-users"]);
  expect(JSON.parse(users.out).Users.map((u: { UserName: string }) => u.UserName)).toContain("frank");
  const missing = await aws(["iam", "get-user", "--user-name", "nobody"]);
  expect(missing.code).not.toBe(0);
  expect(missing.err).toContain("NoSuchEntity");
});
