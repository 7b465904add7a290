// The access table beside the operation table: every operation has its action, and the
// request-dependent extras (version variants, copy sources, tagging and ACL headers) are asked for.
import { describe, expect, test } from "bun:test";
import { requiredChecks } from "../../src/access/authorize.ts";
import { OPERATION_ACTIONS, S3_ACTIONS, resourceArn } from "../../src/s3/actions.ts";
import { ALL_OPERATIONS, type OperationName } from "../../src/s3/operations.ts";

const checks = (op: OperationName, opts: { key?: string | null; query?: string; headers?: Record<string, string> } = {}) =>
  requiredChecks({ op, bucket: "b", key: opts.key === undefined ? "k" : opts.key, query: new URLSearchParams(opts.query ?? ""), headers: new Headers(opts.headers ?? {}) }).map(
    (c) => `${c.action} ${resourceArn(c.on, c.bucket, c.key)}`,
  );

describe("the action table", () => {
  test("every operation has a row, and every S3 action in it is one a policy may name", () => {
    for (const op of ALL_OPERATIONS) {
      const row = OPERATION_ACTIONS[op];
      expect(row).toBeDefined();
      if (row.action?.startsWith("s3:")) expect(S3_ACTIONS.has(row.action.toLowerCase())).toBe(true);
    }
  });
  test("objects act on bucket/key ARNs, buckets on the bucket's, ListBuckets on *", () => {
    expect(checks("GetObject")).toEqual(["s3:GetObject arn:aws:s3:::b/k"]);
    expect(checks("HeadObject")).toEqual(["s3:GetObject arn:aws:s3:::b/k"]);
    expect(checks("ListObjectsV2", { key: null })).toEqual(["s3:ListBucket arn:aws:s3:::b"]);
    expect(checks("HeadBucket", { key: null })).toEqual(["s3:ListBucket arn:aws:s3:::b"]);
    expect(checks("ListBuckets", { key: null })).toEqual(["s3:ListAllMyBuckets *"]);
    expect(checks("DeleteBucketCors", { key: null })).toEqual(["s3:PutBucketCORS arn:aws:s3:::b"]);
    expect(checks("UploadPart")).toEqual(["s3:PutObject arn:aws:s3:::b/k"]);
    expect(checks("ListParts")).toEqual(["s3:ListMultipartUploadParts arn:aws:s3:::b/k"]);
  });
  test("a versionId asks for the version action", () => {
    expect(checks("GetObject", { query: "versionId=3" })).toEqual(["s3:GetObjectVersion arn:aws:s3:::b/k"]);
    expect(checks("DeleteObject", { query: "versionId=3" })).toEqual(["s3:DeleteObjectVersion arn:aws:s3:::b/k"]);
    expect(checks("PutObjectTagging", { query: "tagging&versionId=3" })).toEqual(["s3:PutObjectVersionTagging arn:aws:s3:::b/k"]);
  });
  test("headers that write more than the object ask for those permissions too", () => {
    expect(checks("PutObject", { headers: { "x-amz-tagging": "a=b", "x-amz-acl": "private" } })).toEqual([
      "s3:PutObject arn:aws:s3:::b/k",
      "s3:PutObjectTagging arn:aws:s3:::b/k",
      "s3:PutObjectAcl arn:aws:s3:::b/k",
    ]);
    expect(checks("DeleteObject", { headers: { "x-amz-bypass-governance-retention": "true" } })).toEqual(["s3:DeleteObject arn:aws:s3:::b/k", "s3:BypassGovernanceRetention arn:aws:s3:::b/k"]);
  });
  test("a copy reads its source", () => {
    expect(checks("CopyObject", { headers: { "x-amz-copy-source": "/src/a%20b" } })).toEqual(["s3:PutObject arn:aws:s3:::b/k", "s3:GetObject arn:aws:s3:::src/a b"]);
    expect(checks("UploadPartCopy", { headers: { "x-amz-copy-source": "src/a?versionId=null" } })).toEqual(["s3:PutObject arn:aws:s3:::b/k", "s3:GetObjectVersion arn:aws:s3:::src/a"]);
  });
  test("operations that check in their handler, and the CORS preflight, ask nothing here", () => {
    expect(checks("PostObject", { key: null })).toEqual([]);
    expect(checks("DeleteObjects", { key: null })).toEqual([]);
    expect(checks("OptionsObject")).toEqual([]);
  });
});
