// A parsed IAM policy (a bucket policy or a user's inline policy) and what evaluating one takes.
// parse.ts builds these from JSON; evaluate.ts decides a request against them.

export type Effect = "Allow" | "Deny";

/** A Principal / NotPrincipal element. `any` is `"*"` or {"AWS": "*"}. */
export interface PrincipalSet {
  any: boolean;
  /** User ARNs, account ARNs (arn:aws:iam::N:root) and bare 12-digit account numbers. */
  aws: string[];
  /** S3 canonical user IDs. */
  canonical: string[];
  /**
   * IAM unique IDs (AIDA…): written so, or the user an ARN named when the policy was stored
   * (policy-principals.ts), so that a user deleted and created again is not the one named.
   */
  ids: string[];
  /** Service and Federated principals: valid in a policy, never one of this gateway's callers. */
  other: string[];
}

/** One key's test inside a Condition block: `Operator: { key: values }`. */
export interface ConditionClause {
  /** The operator without qualifiers: StringEquals, IpAddress, Null, … */
  operator: string;
  set: "ForAnyValue" | "ForAllValues" | null;
  ifExists: boolean;
  /** The key as written (keys compare without regard to case). */
  key: string;
  values: string[];
}

export interface Statement {
  sid?: string;
  effect: Effect;
  principal?: PrincipalSet;
  notPrincipal?: PrincipalSet;
  /** Lower-cased (actions compare without regard to case). */
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
  conditions: ConditionClause[];
}

export interface Policy {
  /** Policy variables (${aws:username}) are expanded only in 2012-10-17 policies. */
  version: "2012-10-17" | "2008-10-17";
  id?: string;
  statements: Statement[];
}

/** Who is asking, as a policy sees it. */
export interface PolicyPrincipal {
  anonymous: boolean;
  /** arn:aws:iam::<account>:user/<name>; absent for anonymous. */
  arn?: string;
  canonicalId?: string;
  /** IAM's unique ID of the user (AIDA…). */
  userId?: string;
  account?: string;
}

/**
 * Request context keys, asked for as the policy writes them: names compare without regard to
 * case, the tag key in s3:ExistingObjectTag/<key> with it. Absent keys answer undefined.
 */
export interface ConditionContext {
  get(key: string): readonly string[] | undefined;
}

export interface PolicyRequest {
  principal: PolicyPrincipal;
  /** service:Action, e.g. s3:GetObject. */
  action: string;
  /** The ARN acted on: arn:aws:s3:::bucket or arn:aws:s3:::bucket/key. */
  resource: string;
  context: ConditionContext;
}

/** What one policy says about one request. */
export type Decision = "Allow" | "Deny" | "None";
