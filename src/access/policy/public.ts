// Whether a bucket policy is public, as S3 Block Public Access judges it ("The meaning of
// public" in the S3 User Guide): some Allow statement grants to everyone ("*", or NotPrincipal)
// without a condition that pins the caller to fixed values: aws:SourceIp within a CIDR block, or
// a fixed aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount,
// aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalOrgID, aws:userid or
// s3:x-amz-server-side-encryption-aws-kms-key-id. A block wider than /8 (IPv4) or /32 (IPv6)
// does not pin anyone: that width is this gateway's reading, AWS does not publish its own.
import { parseCidr } from "./ip.ts";
import type { ConditionClause, Policy, Statement } from "./types.ts";
import { hasWildcard } from "./wildcard.ts";

const FIXING_KEYS = new Set(
  [
    "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceOwner", "aws:SourceAccount", "aws:PrincipalArn",
    "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:userid", "s3:x-amz-server-side-encryption-aws-kms-key-id",
  ].map((k) => k.toLowerCase()),
);
const FIXING_OPERATORS = new Set(["StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"]);

function fixes(c: ConditionClause): boolean {
  if (c.ifExists || c.set !== null) return false;
  const key = c.key.toLowerCase();
  if (key === "aws:sourceip") {
    return (
      c.operator === "IpAddress" &&
      c.values.every((v) => {
        const cidr = parseCidr(v);
        return cidr !== null && cidr.bits >= (cidr.v6 ? 32 : 8);
      })
    );
  }
  // A value an anonymous caller has (aws:userid is "anonymous" for them) pins nobody out.
  return FIXING_KEYS.has(key) && FIXING_OPERATORS.has(c.operator) && c.values.every((v) => !hasWildcard(v) && !v.includes("${") && v.toLowerCase() !== "anonymous");
}

export function statementIsPublic(s: Statement): boolean {
  if (s.effect !== "Allow") return false;
  const toEveryone = s.notPrincipal !== undefined || s.principal?.any === true;
  return toEveryone && !s.conditions.some(fixes);
}

export function policyIsPublic(policy: Policy): boolean {
  return policy.statements.some(statementIsPublic);
}
