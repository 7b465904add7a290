// Condition keys whose values are in the request body: s3:RequestObjectTagKeys and
// s3:RequestObjectTag/<k> for PutObjectTagging (PutObject's come from x-amz-tagging), and the
// s3:object-lock-* keys for PutObjectRetention and PutObjectLegalHold. A bucket policy's Deny
// reaches the admin as well, so the admin's own requests show the decisions.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { expectS3Error, s3Client, signedRequest, startGateway, uniqueBucket, type Gateway } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;
const B = uniqueBucket("bodykeys");
const L = uniqueBucket("bodylock");

const deny = (Action: string, Condition: Record<string, unknown>, bucket: string) => ({ Effect: "Deny", Principal: "*", Action, Resource: `arn:aws:s3:::${bucket}/*`, Condition });

beforeAll(async () => {
  gw = await startGateway();
  s3 = s3Client(gw);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new CreateBucketCommand({ Bucket: L, ObjectLockEnabledForBucket: true }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: "k", Body: "x" }));
  await s3.send(new PutObjectCommand({ Bucket: L, Key: "k", Body: "x" }));
  const tagRules = [
    deny("s3:PutObjectTagging", { "ForAnyValue:StringNotEquals": { "s3:RequestObjectTagKeys": ["project", "team"] } }, B),
    deny("s3:PutObjectTagging", { StringEquals: { "s3:RequestObjectTag/project": "red" } }, B),
  ];
  await s3.send(new PutBucketPolicyCommand({ Bucket: B, Policy: JSON.stringify({ Version: "2012-10-17", Statement: tagRules }) }));
  const lockRules = [
    deny("s3:PutObjectRetention", { StringEquals: { "s3:object-lock-mode": "COMPLIANCE" } }, L),
    deny("s3:PutObjectRetention", { NumericGreaterThan: { "s3:object-lock-remaining-retention-days": "30" } }, L),
    deny("s3:PutObjectLegalHold", { StringEquals: { "s3:object-lock-legal-hold": "OFF" } }, L),
  ];
  await s3.send(new PutBucketPolicyCommand({ Bucket: L, Policy: JSON.stringify({ Version: "2012-10-17", Statement: lockRules }) }));
});
afterAll(async () => {
  s3?.destroy();
  await gw?.stop();
});

const tagging = (tags: Record<string, string>) => ({ TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) });
const days = (n: number) => new Date(Date.now() + n * 86_400_000);

test("PutObjectTagging: the body's tag keys and values meet the policy's conditions", async () => {
  await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: "k", Tagging: tagging({ project: "blue", team: "a" }) }));
  expect((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "k" }))).TagSet).toEqual([{ Key: "project", Value: "blue" }, { Key: "team", Value: "a" }]);
  await expectS3Error(s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: "k", Tagging: tagging({ secret: "1" }) })), 403, "AccessDenied");
  await expectS3Error(s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: "k", Tagging: tagging({ project: "red" }) })), 403, "AccessDenied");
  await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: "k", Tagging: tagging({ team: "b" }) }));
  // Refused requests changed nothing; the last allowed one is what is stored.
  expect((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: "k" }))).TagSet).toEqual([{ Key: "team", Value: "b" }]);
});

test("PutObject's tags still come from x-amz-tagging (its s3:PutObjectTagging check)", async () => {
  await expectS3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: "h", Body: "x", Tagging: "secret=1" })), 403, "AccessDenied");
  await s3.send(new PutObjectCommand({ Bucket: B, Key: "h", Body: "x", Tagging: "project=blue" }));
});

test("a body that is not a tag set: no key for the conditions, then the handler's MalformedXML", async () => {
  const r = await signedRequest(gw, { method: "PUT", path: `/${B}/k`, query: { tagging: "" }, body: "<Tagging><TagSet><Tag><Key>a</Key></Tag>" });
  expect([r.status, r.code]).toEqual([400, "MalformedXML"]);
});

test("PutObjectRetention and PutObjectLegalHold: mode, remaining days and hold status from the body", async () => {
  await s3.send(new PutObjectRetentionCommand({ Bucket: L, Key: "k", Retention: { Mode: "GOVERNANCE", RetainUntilDate: days(1) } }));
  await expectS3Error(s3.send(new PutObjectRetentionCommand({ Bucket: L, Key: "k", Retention: { Mode: "COMPLIANCE", RetainUntilDate: days(2) } })), 403, "AccessDenied");
  await expectS3Error(s3.send(new PutObjectRetentionCommand({ Bucket: L, Key: "k", Retention: { Mode: "GOVERNANCE", RetainUntilDate: days(60) } })), 403, "AccessDenied");
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: L, Key: "k", LegalHold: { Status: "ON" } }));
  await expectS3Error(s3.send(new PutObjectLegalHoldCommand({ Bucket: L, Key: "k", LegalHold: { Status: "OFF" } })), 403, "AccessDenied");
});
