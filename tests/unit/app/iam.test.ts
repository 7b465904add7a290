// In-process: the IAM API's wire format (src/iam/): the Query protocol's form in, IAM's XML out,
// exactly as AWS shapes it (the SDKs parse leniently, so the e2e tests would not notice a slip).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openApp, type AppGateway } from "../../support/app.ts";
import { sha256Hex, sign } from "../../support/sign.ts";

const NS = 'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"';
let gw: AppGateway;
beforeAll(() => {
  gw = openApp();
});
afterAll(() => gw.close());

async function iam(params: Record<string, string>, opts: { service?: string; region?: string } = {}) {
  const body = new URLSearchParams({ ...params, Version: "2010-05-08" }).toString();
  const headers = { host: new URL(gw.endpoint).host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" };
  const signed = sign({ method: "POST", path: "/", headers, payloadHash: sha256Hex(body), service: opts.service ?? "iam", region: opts.region }).headers;
  const res = await gw.fetch("/", { method: "POST", headers: signed, body });
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

test("CreateUser: <CreateUserResponse><CreateUserResult><User>…</User></CreateUserResult><ResponseMetadata>", async () => {
  const r = await iam({ Action: "CreateUser", UserName: "wire" });
  expect([r.status, r.type]).toEqual([200, "text/xml"]);
  expect(r.body).toMatch(
    new RegExp(
      `^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<CreateUserResponse ${NS}><CreateUserResult><User><Path>/</Path><UserName>wire</UserName><UserId>AIDA[A-Z2-7]{17}</UserId><Arn>arn:aws:iam::000000000000:user/wire</Arn><CreateDate>\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z</CreateDate></User></CreateUserResult><ResponseMetadata><RequestId>[^<]+</RequestId></ResponseMetadata></CreateUserResponse>$`,
    ),
  );
});

test("lists are <member> elements with IsTruncated; an action without a result has only ResponseMetadata", async () => {
  const doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::x"}]}';
  const put = await iam({ Action: "PutUserPolicy", UserName: "wire", PolicyName: "p1", PolicyDocument: doc });
  expect(put.body).toMatch(new RegExp(`<PutUserPolicyResponse ${NS}><ResponseMetadata><RequestId>[^<]+</RequestId></ResponseMetadata></PutUserPolicyResponse>$`));
  const list = await iam({ Action: "ListUserPolicies", UserName: "wire" });
  expect(list.body).toContain("<ListUserPoliciesResult><PolicyNames><member>p1</member></PolicyNames><IsTruncated>false</IsTruncated></ListUserPoliciesResult>");
  const get = await iam({ Action: "GetUserPolicy", UserName: "wire", PolicyName: "p1" });
  expect(get.body).toContain(`<GetUserPolicyResult><UserName>wire</UserName><PolicyName>p1</PolicyName><PolicyDocument>${encodeURIComponent(doc)}</PolicyDocument></GetUserPolicyResult>`);
  const keys = await iam({ Action: "ListAccessKeys", UserName: "wire" });
  expect(keys.body).toContain("<ListAccessKeysResult><AccessKeyMetadata></AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult>");
});

test("errors: <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/> with IAM's statuses", async () => {
  const missing = await iam({ Action: "GetUser", UserName: "nobody" });
  expect(missing.status).toBe(404);
  expect(missing.body).toMatch(
    new RegExp(`<ErrorResponse ${NS}><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name nobody cannot be found.</Message></Error><RequestId>[^<]+</RequestId></ErrorResponse>$`),
  );
  expect((await iam({ Action: "CreateUser", UserName: "wire" })).status).toBe(409);
  const noName = await iam({ Action: "CreateUser" });
  expect([noName.status, noName.body.includes("<Code>ValidationError</Code>")]).toEqual([400, true]);
  const bad = await iam({ Action: "PutUserPolicy", UserName: "wire", PolicyName: "p2", PolicyDocument: '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}' });
  expect([bad.status, bad.body.includes("<Code>MalformedPolicyDocument</Code>")]).toEqual([400, true]);
  const other = await iam({ Action: "ListRoles" });
  expect([other.status, other.body.includes("<Code>NotImplemented</Code>")]).toEqual([501, true]);
  const none = await iam({});
  expect([none.status, none.body.includes("<Code>MissingAction</Code>")]).toEqual([400, true]);
});

test("only a scope naming iam reaches IAM: the same form signed for s3 is an S3 request", async () => {
  const asS3 = await iam({ Action: "ListUsers" }, { service: "s3" });
  expect(asS3.body).not.toContain("ListUsersResponse");
  expect(asS3.body).toContain("<Error><Code>");
  // IAM clients sign for us-east-1 whatever their region (this gateway's is us-east-1 too; another is refused).
  expect((await iam({ Action: "ListUsers" }, { region: "us-east-1" })).status).toBe(200);
  const elsewhere = await iam({ Action: "ListUsers" }, { region: "eu-west-3" });
  expect(elsewhere.status).toBe(400);
});
