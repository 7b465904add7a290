// Condition operators (IAM User Guide, "Condition operators"): how one clause is decided against
// the request context. The rules for an absent key: the clause is false, except that a negated
// operator (StringNotEquals, NotIpAddress, …) is true, an …IfExists clause is true, ForAllValues
// is true and ForAnyValue false; Null tests presence itself.
import { parseCidr, parseIp, cidrContains } from "./ip.ts";
import type { ConditionClause, ConditionContext } from "./types.ts";
import { unliteral, wildcardMatch } from "./wildcard.ts";

type Compare = (policyValue: string, requestValue: string) => boolean;

function numberOf(s: string): number | null {
  const t = s.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return null;
  return Number(t);
}

/** ISO 8601 or epoch seconds, as IAM accepts both. */
export function dateOf(s: string): number | null {
  const t = s.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms;
}

const numeric =
  (test: (p: number, r: number) => boolean): Compare =>
  (p, r) => {
    const a = numberOf(p);
    const b = numberOf(r);
    return a !== null && b !== null && test(a, b);
  };

const date =
  (test: (p: number, r: number) => boolean): Compare =>
  (p, r) => {
    const a = dateOf(p);
    const b = dateOf(r);
    return a !== null && b !== null && test(a, b);
  };

/** ARNs compare component by component (six, split at the first five colons). */
function arnParts(arn: string): string[] | null {
  const parts = arn.split(":");
  if (parts.length < 6) return null;
  return [...parts.slice(0, 5), parts.slice(5).join(":")];
}

const arnLike: Compare = (p, r) => {
  const a = arnParts(p);
  const b = arnParts(r);
  return a !== null && b !== null && a.every((part, i) => wildcardMatch(part, b[i]));
};

const ipMatch: Compare = (p, r) => {
  const cidr = parseCidr(p);
  const ip = parseIp(r);
  return cidr !== null && ip !== null && cidrContains(cidr, ip);
};

interface OperatorSpec {
  compare: Compare;
  /** Negated operators are true when no policy value matches (and when the key is absent). */
  negated: boolean;
  /** Whether policy variables are expanded in its values. */
  variables: boolean;
  /** Checks a policy value at parse time (a malformed policy is refused, not silently false). */
  valid?: (v: string) => boolean;
}

const str = (compare: Compare, negated = false): OperatorSpec => ({ compare, negated, variables: true });

export const OPERATORS: Readonly<Record<string, OperatorSpec>> = {
  StringEquals: str((p, r) => p === r),
  StringNotEquals: str((p, r) => p === r, true),
  StringEqualsIgnoreCase: str((p, r) => p.toLowerCase() === r.toLowerCase()),
  StringNotEqualsIgnoreCase: str((p, r) => p.toLowerCase() === r.toLowerCase(), true),
  StringLike: str((p, r) => wildcardMatch(p, r)),
  StringNotLike: str((p, r) => wildcardMatch(p, r), true),
  NumericEquals: { compare: numeric((p, r) => r === p), negated: false, variables: false, valid: (v) => numberOf(v) !== null },
  NumericNotEquals: { compare: numeric((p, r) => r === p), negated: true, variables: false, valid: (v) => numberOf(v) !== null },
  NumericLessThan: { compare: numeric((p, r) => r < p), negated: false, variables: false, valid: (v) => numberOf(v) !== null },
  NumericLessThanEquals: { compare: numeric((p, r) => r <= p), negated: false, variables: false, valid: (v) => numberOf(v) !== null },
  NumericGreaterThan: { compare: numeric((p, r) => r > p), negated: false, variables: false, valid: (v) => numberOf(v) !== null },
  NumericGreaterThanEquals: { compare: numeric((p, r) => r >= p), negated: false, variables: false, valid: (v) => numberOf(v) !== null },
  DateEquals: { compare: date((p, r) => r === p), negated: false, variables: false, valid: (v) => dateOf(v) !== null },
  DateNotEquals: { compare: date((p, r) => r === p), negated: true, variables: false, valid: (v) => dateOf(v) !== null },
  DateLessThan: { compare: date((p, r) => r < p), negated: false, variables: false, valid: (v) => dateOf(v) !== null },
  DateLessThanEquals: { compare: date((p, r) => r <= p), negated: false, variables: false, valid: (v) => dateOf(v) !== null },
  DateGreaterThan: { compare: date((p, r) => r > p), negated: false, variables: false, valid: (v) => dateOf(v) !== null },
  DateGreaterThanEquals: { compare: date((p, r) => r >= p), negated: false, variables: false, valid: (v) => dateOf(v) !== null },
  Bool: { compare: (p, r) => p.toLowerCase() === r.toLowerCase(), negated: false, variables: false, valid: (v) => /^(true|false)$/i.test(v) },
  BinaryEquals: { compare: (p, r) => p === r, negated: false, variables: false },
  IpAddress: { compare: ipMatch, negated: false, variables: false, valid: (v) => parseCidr(v) !== null },
  NotIpAddress: { compare: ipMatch, negated: true, variables: false, valid: (v) => parseCidr(v) !== null },
  ArnEquals: { compare: arnLike, negated: false, variables: true },
  ArnLike: { compare: arnLike, negated: false, variables: true },
  ArnNotEquals: { compare: arnLike, negated: true, variables: true },
  ArnNotLike: { compare: arnLike, negated: true, variables: true },
  Null: { compare: () => false, negated: false, variables: false, valid: (v) => /^(true|false)$/i.test(v) },
};

/** Splits `ForAnyValue:StringLikeIfExists` into its parts; null for an unknown operator. */
export function parseOperator(text: string): Pick<ConditionClause, "operator" | "set" | "ifExists"> | null {
  let rest = text;
  let set: ConditionClause["set"] = null;
  const colon = rest.indexOf(":");
  if (colon >= 0) {
    const q = rest.slice(0, colon);
    if (q !== "ForAnyValue" && q !== "ForAllValues") return null;
    set = q;
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.endsWith("IfExists") && rest !== "IfExists") {
    ifExists = true;
    rest = rest.slice(0, -"IfExists".length);
  }
  // Own names only: `constructor` or `toString` must not pass for operators.
  if (!Object.hasOwn(OPERATORS, rest)) return null;
  if (rest === "Null" && (ifExists || set)) return null;
  return { operator: rest, set, ifExists };
}

/**
 * Whether one clause holds. `expand` turns a policy value with ${…} variables into the value to
 * compare (null: a variable it names is absent, so that value matches nothing).
 */
export function clauseHolds(c: ConditionClause, ctx: ConditionContext, expand: (v: string) => string | null): boolean {
  const spec = OPERATORS[c.operator];
  const got = ctx.get(c.key);
  const absent = got === undefined || got.length === 0;
  if (c.operator === "Null") {
    return c.values.some((v) => (v.toLowerCase() === "true") === absent);
  }
  if (absent) {
    if (c.ifExists || c.set === "ForAllValues") return true;
    if (c.set === "ForAnyValue") return false;
    return spec.negated;
  }
  const glob = c.operator.includes("Like") || c.operator.startsWith("Arn");
  const wanted = spec.variables
    ? c.values.flatMap((v) => {
        const x = expand(v);
        return x === null ? [] : [glob ? x : unliteral(x)];
      })
    : c.values;
  const test = (r: string) => {
    const hit = wanted.some((p) => spec.compare(p, r));
    return spec.negated ? !hit : hit;
  };
  return c.set === "ForAllValues" ? got.every(test) : got.some(test);
}
