// A bucket policy names users by ARN, but AWS binds each such principal to the user's unique ID
// (AIDA…) when the policy is stored: a user deleted and created again under the same name is a
// different principal, not named by the old policy, and GetBucketPolicy then shows the old unique
// ID where the ARN was. Here the policy text is kept as sent and the binding beside it, as the
// bucket setting `bucket-policy-principals.json`: { for: sha256 of the text, ids: { arn: id|null } }.
// A policy without a binding for its text (stored by an older filegate) is bound to the users of
// the moment it is first read, so existing users keep matching.
import { createHash } from "node:crypto";
import { ACCOUNT_ID } from "./principal.ts";
import type { Policy, PrincipalSet } from "./policy/index.ts";

/** The user a name belongs to now; `builtin` for the first admin, whose name no other user can take. */
export type UserLookup = (name: string) => { userId: string; builtin?: boolean } | undefined;

/** ARN → the unique ID it named when the policy was stored; null: it named no user then. */
export type Binding = Readonly<Record<string, string | null>>;

const USER_ARN_PREFIX = `arn:aws:iam::${ACCOUNT_ID}:user/`;

/** The user name an ARN of this gateway's account names (no path: users here have none). */
function userNameOf(arn: string): string | null {
  return arn.startsWith(USER_ARN_PREFIX) ? arn.slice(USER_ARN_PREFIX.length) : null;
}

function principalSets(policy: Policy): PrincipalSet[] {
  return policy.statements.flatMap((s) => [s.principal, s.notPrincipal].filter((p): p is PrincipalSet => p !== undefined));
}

/** The ARNs of this account's users the policy names (Principal and NotPrincipal). */
export function userArnsOf(policy: Policy): string[] {
  return [...new Set(principalSets(policy).flatMap((p) => p.aws.filter((a) => userNameOf(a) !== null)))];
}

/** The ARNs that name no user now (PutBucketPolicy refuses them, as AWS does). */
export function unknownUserArns(policy: Policy, lookup: UserLookup): string[] {
  return userArnsOf(policy).filter((a) => lookup(userNameOf(a)!) === undefined);
}

/** Each user ARN bound to its user's unique ID now; the first admin's ARN stays an ARN. */
export function bindPrincipals(policy: Policy, lookup: UserLookup): Binding {
  const ids: Record<string, string | null> = {};
  for (const arn of userArnsOf(policy)) {
    const user = lookup(userNameOf(arn)!);
    if (user?.builtin) continue;
    ids[arn] = user?.userId ?? null;
  }
  return ids;
}

const digest = (text: string) => createHash("sha256").update(text).digest("hex");

export function encodeBinding(policyText: string, binding: Binding): string {
  return JSON.stringify({ for: digest(policyText), ids: binding }) + "\n";
}

/** The binding stored for exactly this policy text; undefined when there is none (or it is another text's). */
export function decodeBinding(policyText: string, stored: string | undefined): Binding | undefined {
  if (stored === undefined) return undefined;
  try {
    const data = JSON.parse(stored) as { for?: unknown; ids?: unknown };
    if (data.for !== digest(policyText) || typeof data.ids !== "object" || data.ids === null) return undefined;
    return data.ids as Binding;
  } catch {
    return undefined;
  }
}

/** The policy as evaluation reads it: each bound ARN replaced by its unique ID (or by nobody). */
export function applyBinding(policy: Policy, binding: Binding): Policy {
  const rebind = (set: PrincipalSet | undefined): PrincipalSet | undefined => {
    if (!set) return set;
    const aws: string[] = [];
    const ids = [...set.ids];
    for (const a of set.aws) {
      if (!Object.hasOwn(binding, a)) aws.push(a);
      else if (binding[a] !== null) ids.push(binding[a]!);
    }
    return { ...set, aws, ids };
  };
  return {
    ...policy,
    statements: policy.statements.map((s) => ({ ...s, principal: rebind(s.principal), notPrincipal: rebind(s.notPrincipal) })),
  };
}

/**
 * The policy text GetBucketPolicy answers: as sent while every bound user is still the one it
 * named; otherwise the JSON again with each such ARN replaced by the unique ID it was bound to.
 */
export function policyAsShown(text: string, binding: Binding, lookup: UserLookup): string {
  const gone = new Map<string, string>();
  for (const [arn, id] of Object.entries(binding)) {
    if (id !== null && lookup(userNameOf(arn) ?? "")?.userId !== id) gone.set(arn, id);
  }
  if (gone.size === 0) return text;
  const doc = JSON.parse(text) as { Statement: unknown };
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  for (const s of statements as Record<string, unknown>[]) {
    for (const field of ["Principal", "NotPrincipal"]) {
      const p = s[field] as Record<string, unknown> | string | undefined;
      if (!p || typeof p !== "object" || p.AWS === undefined) continue;
      p.AWS = Array.isArray(p.AWS) ? p.AWS.map((a) => gone.get(a as string) ?? a) : (gone.get(p.AWS as string) ?? p.AWS);
    }
  }
  return JSON.stringify(doc);
}
