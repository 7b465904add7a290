// One policy's answer for one request (IAM User Guide, "Policy evaluation logic"): a statement
// applies when its principal, action, resource and every condition match; any applying Deny makes
// the answer Deny, else any applying Allow makes it Allow, else the policy says nothing (None).
// Combining policies (explicit Deny anywhere wins, then any Allow, else implicit deny) is the
// caller's job: see combine().
import { clauseHolds } from "./conditions.ts";
import type { Decision, Policy, PolicyPrincipal, PolicyRequest, PrincipalSet, Statement } from "./types.ts";
import { expandVariables } from "./variables.ts";
import { wildcardMatch } from "./wildcard.ts";

/**
 * Whether `set` names the caller. An account (123456789012 or its :root ARN) names every
 * identity of that account, but only for Deny: in AWS an Allow to an account delegates to that
 * account's own identity policies and grants nothing by itself.
 */
export function principalMatches(set: PrincipalSet, p: PolicyPrincipal, effect: Statement["effect"]): boolean {
  if (set.any) return true;
  if (p.anonymous) return false;
  if (p.canonicalId !== undefined && set.canonical.includes(p.canonicalId.toLowerCase())) return true;
  if (p.userId !== undefined && set.ids.includes(p.userId)) return true;
  for (const a of set.aws) {
    if (a === p.arn) return true;
    const account = a.startsWith("arn:") ? (a.endsWith(":root") ? a.split(":")[4] : null) : a;
    if (account !== null && effect === "Deny" && account === p.account) return true;
  }
  return false;
}

/**
 * Whether NotPrincipal leaves the caller out. IAM evaluates a user's request as that user and as
 * its account, so a user is left out only when both its ARN and its account are listed; an account
 * alone leaves out only the account's root, which no gateway user is ("NotPrincipal" in the IAM
 * User Guide).
 */
function exempted(set: PrincipalSet, p: PolicyPrincipal): boolean {
  if (set.any) return true;
  if (p.anonymous) return false;
  if (p.canonicalId !== undefined && set.canonical.includes(p.canonicalId.toLowerCase())) return true;
  const accountListed = set.aws.some((a) => (a.startsWith("arn:") ? a.endsWith(":root") && a.split(":")[4] === p.account : a === p.account));
  const userListed = (p.arn !== undefined && set.aws.includes(p.arn)) || (p.userId !== undefined && set.ids.includes(p.userId));
  return accountListed && userListed;
}

function anyMatches(patterns: readonly string[], value: string, policy: Policy, req: PolicyRequest, ignoreCase: boolean): boolean {
  for (const raw of patterns) {
    const pattern = policy.version === "2012-10-17" ? expandVariables(raw, req.context) : raw;
    if (pattern !== null && wildcardMatch(pattern, value, ignoreCase)) return true;
  }
  return false;
}

/** `action` is req.action lower-cased (statements hold their actions lower-cased). */
export function statementApplies(s: Statement, policy: Policy, req: PolicyRequest, action = req.action.toLowerCase()): boolean {
  if (s.principal && !principalMatches(s.principal, req.principal, s.effect)) return false;
  if (s.notPrincipal && exempted(s.notPrincipal, req.principal)) return false;
  // Actions compare without regard to case, resources with it.
  if (s.actions && !s.actions.some((a) => wildcardMatch(a, action))) return false;
  if (s.notActions && s.notActions.some((a) => wildcardMatch(a, action))) return false;
  if (s.resources && !anyMatches(s.resources, req.resource, policy, req, false)) return false;
  if (s.notResources && anyMatches(s.notResources, req.resource, policy, req, false)) return false;
  const expand = policy.version === "2012-10-17" ? (v: string) => expandVariables(v, req.context) : (v: string) => v;
  for (const c of s.conditions) if (!clauseHolds(c, req.context, expand)) return false;
  return true;
}

export function evaluatePolicy(policy: Policy, req: PolicyRequest): Decision {
  let allowed = false;
  const action = req.action.toLowerCase();
  for (const s of policy.statements) {
    if (s.effect === "Allow" && allowed) continue;
    if (!statementApplies(s, policy, req, action)) continue;
    if (s.effect === "Deny") return "Deny";
    allowed = true;
  }
  return allowed ? "Allow" : "None";
}

/** Several policies' answers together: an explicit Deny in any wins, then an Allow in any. */
export function combine(decisions: Iterable<Decision>): Decision {
  let allowed = false;
  for (const d of decisions) {
    if (d === "Deny") return "Deny";
    if (d === "Allow") allowed = true;
  }
  return allowed ? "Allow" : "None";
}
