// The policy evaluator against AWS's documented examples: the evaluation logic (explicit Deny
// wins, then Allow, else implicit deny), each condition operator family with the example its
// page gives, policy variables, NotPrincipal/NotAction/NotResource, S3's MalformedPolicy
// messages, and the public-policy judgement of Block Public Access.
import { describe, expect, test } from "bun:test";
import { combine, evaluatePolicy, parsePolicy, policyIsPublic, PolicyError, wildcardMatch, type PolicyPrincipal, type PolicyRequest } from "../../src/access/policy/index.ts";
import { S3_ACTIONS } from "../../src/s3/actions.ts";

const ACCOUNT = "000000000000";
const alice: PolicyPrincipal = { anonymous: false, arn: `arn:aws:iam::${ACCOUNT}:user/alice`, canonicalId: "a".repeat(64), account: ACCOUNT };
const bob: PolicyPrincipal = { anonymous: false, arn: `arn:aws:iam::${ACCOUNT}:user/bob`, canonicalId: "b".repeat(64), account: ACCOUNT };
const anon: PolicyPrincipal = { anonymous: true };

function bucketPolicy(doc: unknown, bucket = "examplebucket") {
  return parsePolicy(typeof doc === "string" ? doc : JSON.stringify(doc), { kind: "bucket", bucket, s3Actions: S3_ACTIONS, maxBytes: 20 * 1024 });
}
function userPolicy(doc: unknown) {
  return parsePolicy(JSON.stringify(doc), { kind: "identity", s3Actions: S3_ACTIONS });
}

function req(principal: PolicyPrincipal, action: string, resource: string, keys: Record<string, string | string[]> = {}): PolicyRequest {
  const ctx = new Map<string, string[]>();
  if (!principal.anonymous) {
    ctx.set("aws:username", [principal.arn!.split("/").pop()!]);
    ctx.set("aws:principalarn", [principal.arn!]);
  }
  for (const [k, v] of Object.entries(keys)) ctx.set(k.toLowerCase(), Array.isArray(v) ? v : [v]);
  return { principal, action, resource, context: { get: (k) => ctx.get(k.toLowerCase()) } };
}

const allow = (extra: Record<string, unknown>) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::examplebucket/*", ...extra }] });
const OBJ = "arn:aws:s3:::examplebucket/photo.jpg";

describe("evaluation logic", () => {
  test("public read: Principal * allows anyone, anonymous included", () => {
    const p = bucketPolicy(allow({}));
    expect(evaluatePolicy(p, req(anon, "s3:GetObject", OBJ))).toBe("Allow");
    expect(evaluatePolicy(p, req(alice, "s3:GetObject", OBJ))).toBe("Allow");
  });
  test("what no statement allows is an implicit deny (None)", () => {
    const p = bucketPolicy(allow({}));
    expect(evaluatePolicy(p, req(anon, "s3:PutObject", OBJ))).toBe("None");
    expect(evaluatePolicy(p, req(anon, "s3:GetObject", "arn:aws:s3:::examplebucket"))).toBe("None");
  });
  test("an explicit Deny overrides any Allow, in the same policy or another", () => {
    const p = bucketPolicy({
      Version: "2012-10-17",
      Statement: [
        { Sid: "read", Effect: "Allow", Principal: { AWS: alice.arn }, Action: "s3:GetObject", Resource: "arn:aws:s3:::examplebucket/*" },
        { Sid: "secret", Effect: "Deny", Principal: { AWS: alice.arn }, Action: "s3:*", Resource: "arn:aws:s3:::examplebucket/secret/*" },
      ],
    });
    expect(evaluatePolicy(p, req(alice, "s3:GetObject", OBJ))).toBe("Allow");
    expect(evaluatePolicy(p, req(alice, "s3:GetObject", "arn:aws:s3:::examplebucket/secret/x"))).toBe("Deny");
    expect(evaluatePolicy(p, req(bob, "s3:GetObject", OBJ))).toBe("None");
    expect(combine(["Allow", "Deny", "None"])).toBe("Deny");
    expect(combine(["None", "Allow"])).toBe("Allow");
    expect(combine(["None", "None"])).toBe("None");
  });
  test("principals: user ARN, canonical ID, account (for Deny only), AWS *", () => {
    const grant = (principal: unknown) => bucketPolicy({ Statement: [{ Effect: "Allow", Principal: principal, Action: "s3:GetObject", Resource: "arn:aws:s3:::examplebucket/*" }] });
    expect(evaluatePolicy(grant({ AWS: [bob.arn, alice.arn] }), req(alice, "s3:GetObject", OBJ))).toBe("Allow");
    expect(evaluatePolicy(grant({ CanonicalUser: alice.canonicalId }), req(alice, "s3:GetObject", OBJ))).toBe("Allow");
    expect(evaluatePolicy(grant({ CanonicalUser: alice.canonicalId }), req(bob, "s3:GetObject", OBJ))).toBe("None");
    expect(evaluatePolicy(grant({ AWS: "*" }), req(anon, "s3:GetObject", OBJ))).toBe("Allow");
    // An Allow to the account delegates to the account's identity policies: no grant by itself.
    expect(evaluatePolicy(grant({ AWS: `arn:aws:iam::${ACCOUNT}:root` }), req(alice, "s3:GetObject", OBJ))).toBe("None");
    const deny = bucketPolicy({ Statement: [{ Effect: "Deny", Principal: { AWS: ACCOUNT }, Action: "s3:GetObject", Resource: "arn:aws:s3:::examplebucket/*" }] });
    expect(evaluatePolicy(deny, req(alice, "s3:GetObject", OBJ))).toBe("Deny");
    expect(evaluatePolicy(deny, req(anon, "s3:GetObject", OBJ))).toBe("None");
  });
  test("NotPrincipal with Deny: everyone but the named user (listed with its account, as IAM requires) is denied", () => {
    const p = bucketPolicy({ Statement: [{ Effect: "Deny", NotPrincipal: { AWS: [alice.arn, `arn:aws:iam::${ACCOUNT}:root`] }, Action: "s3:*", Resource: ["arn:aws:s3:::examplebucket", "arn:aws:s3:::examplebucket/*"] }] });
    expect(evaluatePolicy(p, req(alice, "s3:GetObject", OBJ))).toBe("None");
    expect(evaluatePolicy(p, req(bob, "s3:GetObject", OBJ))).toBe("Deny");
    expect(evaluatePolicy(p, req(anon, "s3:ListBucket", "arn:aws:s3:::examplebucket"))).toBe("Deny");
  });
  test("NotPrincipal with Deny: a user named without its account, or an account alone, is not left out", () => {
    const userOnly = bucketPolicy({ Statement: [{ Effect: "Deny", NotPrincipal: { AWS: alice.arn }, Action: "s3:*", Resource: "arn:aws:s3:::examplebucket/*" }] });
    expect(evaluatePolicy(userOnly, req(alice, "s3:GetObject", OBJ))).toBe("Deny");
    const accountOnly = bucketPolicy({ Statement: [{ Effect: "Deny", NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "s3:*", Resource: "arn:aws:s3:::examplebucket/*" }] });
    expect(evaluatePolicy(accountOnly, req(bob, "s3:GetObject", OBJ))).toBe("Deny");
  });
  test("a condition operator named like an Object member is malformed, not a crash later", () => {
    for (const op of ["constructor", "toString", "hasOwnProperty", "ForAnyValue:constructor", "constructorIfExists"]) {
      expect(() => bucketPolicy({ Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::examplebucket/*", Condition: { [op]: { "aws:userid": "x" } } }] })).toThrow();
    }
  });
  test("NotAction and NotResource", () => {
    const p = userPolicy({ Version: "2012-10-17", Statement: [{ Effect: "Deny", NotAction: "s3:Get*", Resource: "*" }, { Effect: "Allow", Action: "s3:*", NotResource: "arn:aws:s3:::private/*" }] });
    expect(evaluatePolicy(p, req(alice, "s3:GetObject", OBJ))).toBe("Allow");
    expect(evaluatePolicy(p, req(alice, "s3:PutObject", OBJ))).toBe("Deny");
    expect(evaluatePolicy(p, req(alice, "s3:GetObject", "arn:aws:s3:::private/x"))).toBe("None");
  });
  test("actions compare without regard to case, resources with it; wildcards * and ?", () => {
    const p = userPolicy({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "S3:get*", Resource: "arn:aws:s3:::examplebucket/photo?.jpg" }] });
    expect(evaluatePolicy(p, req(alice, "s3:GetObject", "arn:aws:s3:::examplebucket/photo1.jpg"))).toBe("Allow");
    expect(evaluatePolicy(p, req(alice, "s3:GetObject", "arn:aws:s3:::examplebucket/photo12.jpg"))).toBe("None");
    expect(evaluatePolicy(p, req(alice, "s3:GetObject", "arn:aws:s3:::examplebucket/Photo1.jpg"))).toBe("None");
    expect(wildcardMatch("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b:c")).toBe(true);
    expect(wildcardMatch("a*b*c", "axxbyyc")).toBe(true);
    expect(wildcardMatch("a*b*c", "axxbyy")).toBe(false);
    // `?` is one character, also outside the Basic Multilingual Plane.
    expect(wildcardMatch("b/secret?", "b/secret😀")).toBe(true);
    expect(wildcardMatch("b/s?x", "b/s😀😀x")).toBe(false);
    expect(wildcardMatch("b/s??x", "b/s😀😀x")).toBe(true);
  });
});

describe("policy variables", () => {
  // The User Guide's example: each user reaches only home/<their name>/.
  const home = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: "arn:aws:s3:::examplebucket/home/${aws:username}/*" }] };
  test("${aws:username} in a resource", () => {
    const p = userPolicy(home);
    expect(evaluatePolicy(p, req(alice, "s3:PutObject", "arn:aws:s3:::examplebucket/home/alice/a.txt"))).toBe("Allow");
    expect(evaluatePolicy(p, req(bob, "s3:PutObject", "arn:aws:s3:::examplebucket/home/alice/a.txt"))).toBe("None");
  });
  test("a 2008-10-17 policy takes ${…} literally", () => {
    const p = userPolicy({ ...home, Version: "2008-10-17" });
    expect(evaluatePolicy(p, req(alice, "s3:PutObject", "arn:aws:s3:::examplebucket/home/alice/a.txt"))).toBe("None");
  });
  test("an absent key matches nothing unless given a default; ${*} is a literal star", () => {
    const p = bucketPolicy({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: ["arn:aws:s3:::examplebucket/home/${aws:username}/*", "arn:aws:s3:::examplebucket/${aws:username, 'public'}/*", "arn:aws:s3:::examplebucket/star${*}"] }] });
    expect(evaluatePolicy(p, req(anon, "s3:GetObject", "arn:aws:s3:::examplebucket/home/x/y"))).toBe("None");
    expect(evaluatePolicy(p, req(anon, "s3:GetObject", "arn:aws:s3:::examplebucket/public/y"))).toBe("Allow");
    expect(evaluatePolicy(p, req(anon, "s3:GetObject", "arn:aws:s3:::examplebucket/star*"))).toBe("Allow");
    expect(evaluatePolicy(p, req(anon, "s3:GetObject", "arn:aws:s3:::examplebucket/starx"))).toBe("None");
  });
  test("in condition values: s3:prefix home/${aws:username}/ (the ListBucket example)", () => {
    const p = userPolicy({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::examplebucket", Condition: { StringLike: { "s3:prefix": ["", "home/", "home/${aws:username}/*"] } } }] });
    const list = (who: PolicyPrincipal, prefix: string) => evaluatePolicy(p, req(who, "s3:ListBucket", "arn:aws:s3:::examplebucket", { "s3:prefix": prefix }));
    expect(list(alice, "home/alice/docs/")).toBe("Allow");
    expect(list(alice, "home/")).toBe("Allow");
    expect(list(alice, "home/bob/")).toBe("None");
    expect(evaluatePolicy(p, req(alice, "s3:ListBucket", "arn:aws:s3:::examplebucket"))).toBe("None");
  });
});

describe("condition operators", () => {
  const cond = (Condition: unknown) => bucketPolicy(allow({ Condition }));
  const get = (p: ReturnType<typeof bucketPolicy>, keys: Record<string, string | string[]>, who = alice) => evaluatePolicy(p, req(who, "s3:GetObject", OBJ, keys));

  test("String: Equals, NotEquals, EqualsIgnoreCase, Like, NotLike", () => {
    expect(get(cond({ StringEquals: { "aws:Referer": "https://example.com/" } }), { "aws:Referer": "https://example.com/" })).toBe("Allow");
    expect(get(cond({ StringEquals: { "aws:Referer": "https://example.com/" } }), { "aws:Referer": "https://EXAMPLE.com/" })).toBe("None");
    expect(get(cond({ StringEqualsIgnoreCase: { "aws:Referer": "https://example.com/" } }), { "aws:Referer": "https://EXAMPLE.com/" })).toBe("Allow");
    expect(get(cond({ StringLike: { "aws:Referer": ["https://www.example.com/*", "https://example.com/*"] } }), { "aws:Referer": "https://example.com/page" })).toBe("Allow");
    expect(get(cond({ StringNotLike: { "aws:UserAgent": "*curl*" } }), { "aws:UserAgent": "curl/8.0" })).toBe("None");
    expect(get(cond({ StringNotEquals: { "aws:Referer": ["a", "b"] } }), { "aws:Referer": "c" })).toBe("Allow");
    expect(get(cond({ StringNotEquals: { "aws:Referer": ["a", "b"] } }), { "aws:Referer": "b" })).toBe("None");
  });
  test("an absent key: false, but true for a negated operator (the IAM guide's rule)", () => {
    expect(get(cond({ StringEquals: { "aws:Referer": "x" } }), {})).toBe("None");
    expect(get(cond({ StringNotLike: { "aws:Referer": "x*" } }), {})).toBe("Allow");
    expect(get(cond({ NotIpAddress: { "aws:SourceIp": "192.0.2.0/24" } }), {})).toBe("Allow");
  });
  test("Numeric: s3:max-keys at most 10 (the S3 guide's example)", () => {
    const p = bucketPolicy({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:ListBucket", Resource: "arn:aws:s3:::examplebucket", Condition: { NumericLessThanEquals: { "s3:max-keys": "10" } } }] });
    const list = (n?: string) => evaluatePolicy(p, req(alice, "s3:ListBucket", "arn:aws:s3:::examplebucket", n === undefined ? {} : { "s3:max-keys": n }));
    expect(list("10")).toBe("Allow");
    expect(list("7")).toBe("Allow");
    expect(list("11")).toBe("None");
    expect(list()).toBe("None");
    expect(get(cond({ NumericGreaterThan: { "s3:max-keys": 5 } }), { "s3:max-keys": "6" })).toBe("Allow");
    expect(get(cond({ NumericNotEquals: { "s3:max-keys": 5 } }), { "s3:max-keys": "5" })).toBe("None");
  });
  test("Date: aws:CurrentTime between two instants; epoch seconds too", () => {
    const window = cond({ DateGreaterThan: { "aws:CurrentTime": "2020-04-01T00:00:00Z" }, DateLessThan: { "aws:CurrentTime": "2020-06-30T23:59:59Z" } });
    expect(get(window, { "aws:CurrentTime": "2020-05-01T12:00:00Z" })).toBe("Allow");
    expect(get(window, { "aws:CurrentTime": "2020-07-01T00:00:00Z" })).toBe("None");
    expect(get(cond({ DateLessThan: { "aws:EpochTime": "1600000000" } }), { "aws:EpochTime": "1500000000" })).toBe("Allow");
  });
  test("Bool: deny requests without TLS (aws:SecureTransport false)", () => {
    const p = bucketPolicy({ Statement: [allow({}).Statement[0], { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::examplebucket/*", Condition: { Bool: { "aws:SecureTransport": "false" } } }] });
    expect(get(p, { "aws:SecureTransport": "false" })).toBe("Deny");
    expect(get(p, { "aws:SecureTransport": "true" })).toBe("Allow");
  });
  test("IpAddress / NotIpAddress with IPv4 and IPv6 blocks (the S3 guide's mixed example)", () => {
    const p = cond({ IpAddress: { "aws:SourceIp": ["192.0.2.0/24", "2001:DB8:1234:5678::/64"] }, NotIpAddress: { "aws:SourceIp": ["192.0.2.188/32", "2001:DB8:1234:5678:ABCD::1"] } });
    expect(get(p, { "aws:SourceIp": "192.0.2.7" })).toBe("Allow");
    expect(get(p, { "aws:SourceIp": "192.0.2.188" })).toBe("None");
    expect(get(p, { "aws:SourceIp": "198.51.100.1" })).toBe("None");
    expect(get(p, { "aws:SourceIp": "2001:db8:1234:5678::9" })).toBe("Allow");
    expect(get(p, { "aws:SourceIp": "2001:db8:1234:5678:abcd::1" })).toBe("None");
    expect(get(p, { "aws:SourceIp": "2001:db8:1234:5679::1" })).toBe("None");
    // Dual-stack sockets report IPv4 peers as mapped IPv6 addresses.
    expect(get(p, { "aws:SourceIp": "::ffff:192.0.2.7" })).toBe("Allow");
    expect(get(cond({ IpAddress: { "aws:SourceIp": "127.0.0.1" } }), { "aws:SourceIp": "127.0.0.1" })).toBe("Allow");
  });
  test("ArnLike / ArnEquals / ArnNotLike on aws:PrincipalArn", () => {
    expect(get(cond({ ArnLike: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:user/al*` } }), {})).toBe("Allow");
    expect(get(cond({ ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:user/alice` } }), {}, bob)).toBe("None");
    expect(get(cond({ ArnNotLike: { "aws:PrincipalArn": `arn:aws:iam::*:user/bob` } }), {}, bob)).toBe("None");
  });
  test("Null: deny uploads that state no encryption header; key absent or present", () => {
    const p = cond({ Null: { "s3:x-amz-server-side-encryption": "true" } });
    expect(get(p, {})).toBe("Allow");
    expect(get(p, { "s3:x-amz-server-side-encryption": "AES256" })).toBe("None");
    expect(get(cond({ Null: { "aws:username": "false" } }), {}, anon)).toBe("None");
  });
  test("…IfExists: checked only when the key is present", () => {
    const p = cond({ StringEqualsIfExists: { "s3:x-amz-acl": "bucket-owner-full-control" } });
    expect(get(p, {})).toBe("Allow");
    expect(get(p, { "s3:x-amz-acl": "bucket-owner-full-control" })).toBe("Allow");
    expect(get(p, { "s3:x-amz-acl": "public-read" })).toBe("None");
  });
  test("ForAllValues / ForAnyValue over a multivalued key (s3:RequestObjectTagKeys)", () => {
    const all = cond({ "ForAllValues:StringEquals": { "s3:RequestObjectTagKeys": ["Project", "Owner"] } });
    expect(get(all, { "s3:RequestObjectTagKeys": ["Project"] })).toBe("Allow");
    expect(get(all, { "s3:RequestObjectTagKeys": ["Project", "Cost"] })).toBe("None");
    // ForAllValues over an absent (empty) key is true: the guide's warning.
    expect(get(all, {})).toBe("Allow");
    const any = cond({ "ForAnyValue:StringEquals": { "s3:RequestObjectTagKeys": ["Project"] } });
    expect(get(any, { "s3:RequestObjectTagKeys": ["Cost", "Project"] })).toBe("Allow");
    expect(get(any, { "s3:RequestObjectTagKeys": ["Cost"] })).toBe("None");
    expect(get(any, {})).toBe("None");
  });
  test("several operators and keys are ANDed, several values ORed", () => {
    const p = cond({ StringEquals: { "s3:ExistingObjectTag/classification": ["public", "open"], "aws:Referer": "r" } });
    expect(get(p, { "s3:ExistingObjectTag/classification": "open", "aws:Referer": "r" })).toBe("Allow");
    expect(get(p, { "s3:ExistingObjectTag/classification": "open" })).toBe("None");
  });
});

describe("MalformedPolicy", () => {
  const message = (doc: unknown, bucket?: string) => {
    try {
      bucketPolicy(doc, bucket);
    } catch (e) {
      expect(e).toBeInstanceOf(PolicyError);
      return (e as Error).message;
    }
    return "accepted";
  };
  const stmt = (s: Record<string, unknown>) => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::examplebucket/*", ...s }] });
  test.each([
    ["not an object", "[1]", "Policies must be valid JSON and the first byte must be '{'"],
    ["bad JSON", "{ nope", "This policy contains invalid Json"],
    ["no Statement", { Version: "2012-10-17" }, "Missing required field Statement"],
    ["empty Statement", { Version: "2012-10-17", Statement: [] }, "Could not parse the policy: Statement is empty!"],
    ["bad Version", { Version: "2020-01-01", Statement: stmt({}).Statement }, "The policy must contain a valid version string"],
    ["bad Effect", stmt({ Effect: "Maybe" }), "Invalid effect: Maybe"],
    ["no Principal", stmt({ Principal: undefined }), "Missing required field Principal"],
    ["bad principal", stmt({ Principal: { AWS: "alice" } }), "Invalid principal in policy"],
    ["unknown action", stmt({ Action: "s3:GetObjekt" }), "Policy has invalid action"],
    ["non-S3 action", stmt({ Action: "ec2:RunInstances" }), "Policy has invalid action"],
    ["another bucket", stmt({ Resource: "arn:aws:s3:::otherbucket/*" }), "Policy has invalid resource"],
    ["Resource *", stmt({ Resource: "*" }), "Policy has invalid resource"],
    ["object action on the bucket", stmt({ Resource: "arn:aws:s3:::examplebucket" }), "Action does not apply to any resource(s) in statement"],
    ["unknown operator", stmt({ Condition: { StringEqualz: { "aws:Referer": "x" } } }), "Invalid Condition type : StringEqualz"],
    ["unknown key", stmt({ Condition: { StringEquals: { "s3:nope": "x" } } }), "Policy has an invalid condition key"],
    ["bad CIDR", stmt({ Condition: { IpAddress: { "aws:SourceIp": "300.1.1.1/8" } } }), "Invalid value for condition IpAddress: 300.1.1.1/8"],
    ["unknown field", stmt({ Actions: "s3:GetObject" }), "Unknown field Actions"],
    ["duplicate Sid", { Statement: [{ ...stmt({ Sid: "a" }).Statement[0] }, { ...stmt({ Sid: "a" }).Statement[0] }] }, "Statement IDs (SID) in a single policy must be unique."],
  ])("%s", (_, doc, expected) => {
    expect(message(doc)).toBe(expected);
  });
  test("accepted: s3:* on bucket and objects, wildcard actions, both Version strings", () => {
    expect(message(stmt({ Action: ["s3:*"], Resource: ["arn:aws:s3:::examplebucket", "arn:aws:s3:::examplebucket/*"] }))).toBe("accepted");
    expect(message(stmt({ Action: "s3:Get*" }))).toBe("accepted");
    expect(message({ Version: "2008-10-17", Statement: stmt({}).Statement[0] })).toBe("accepted");
  });
  test("a user's policy has no Principal and may name other services", () => {
    expect(() => userPolicy({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "*" }] })).toThrow("Policy document should not specify a principal.");
    expect(() => userPolicy({ Statement: [{ Effect: "Allow", Action: ["s3:*", "iam:GetUser"], Resource: "*" }] })).not.toThrow();
  });
  test("more than 20 KiB", () => {
    expect(message({ Statement: stmt({}).Statement, Id: "x".repeat(21000) })).toBe("Policy exceeds the maximum allowed document size.");
  });
});

describe("public policies (Block Public Access's meaning of public)", () => {
  test.each([
    ["Principal * without conditions", allow({}), true],
    ["AWS * without conditions", allow({ Principal: { AWS: "*" } }), true],
    ["a named user", allow({ Principal: { AWS: alice.arn } }), false],
    ["* within a /24", allow({ Condition: { IpAddress: { "aws:SourceIp": "192.0.2.0/24" } } }), false],
    ["* within 0.0.0.0/0", allow({ Condition: { IpAddress: { "aws:SourceIp": "0.0.0.0/0" } } }), true],
    ["* with a fixed aws:SourceAccount", allow({ Condition: { StringEquals: { "aws:SourceAccount": "111122223333" } } }), false],
    ["* with a wildcard aws:SourceArn", allow({ Condition: { ArnLike: { "aws:SourceArn": "arn:aws:*" } } }), true],
    ["* with an unrelated condition", allow({ Condition: { StringLike: { "aws:Referer": "https://example.com/*" } } }), true],
    ["a Deny to *", { Statement: [{ ...allow({}).Statement[0], Effect: "Deny" }] }, false],
    ["* pinned to aws:userid anonymous (what anonymous callers carry)", allow({ Condition: { StringEquals: { "aws:userid": "anonymous" } } }), true],
  ])("%s", (_, doc, expected) => {
    expect(policyIsPublic(bucketPolicy(doc))).toBe(expected);
  });
});
