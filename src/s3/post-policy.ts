// The policy of a browser POST upload: a base64 JSON document, signed with SigV4, that says until
// when and with which form fields an upload may be made. Pure functions; routes/post-object.ts
// verifies the signature and applies the result.
import { S3Error } from "../errors.ts";

export type PolicyCondition =
  | { op: "eq" | "starts-with"; field: string; value: string; text: string }
  | { op: "content-length-range"; min: number; max: number; text: string };

export interface PostPolicy {
  expiration: Date;
  conditions: PolicyCondition[];
}

const invalid = (why: string) => new S3Error("InvalidPolicyDocument", `Invalid Policy: ${why}`);
const failed = (why: string) => new S3Error("AccessDenied", `Invalid according to Policy: ${why}`);

function fieldName(v: unknown): string {
  if (typeof v !== "string" || !v.startsWith("$")) throw invalid("Invalid Simple-Condition: field name must start with '$'.");
  return v.slice(1).toLowerCase();
}

function length(v: unknown): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw invalid("Invalid content-length-range bounds.");
  return n;
}

// "ISO8601 GMT", as AWS documents it: 2013-08-01T12:00:00.000Z (fraction optional).
const EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Decodes and checks the shape of the `policy` form field. */
export function decodePolicy(base64: string): PostPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, "base64").toString("utf8"));
  } catch {
    throw invalid("Invalid JSON.");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw invalid("Invalid JSON.");
  const { expiration, conditions, ...rest } = doc as { expiration?: unknown; conditions?: unknown };
  const unexpected = Object.keys(rest)[0];
  if (unexpected !== undefined) throw invalid(`Unexpected: '${unexpected}'`);
  if (typeof expiration !== "string") throw invalid("Policy missing expiration.");
  const when = new Date(expiration);
  if (!EXPIRATION.test(expiration) || Number.isNaN(when.getTime())) throw invalid(`Invalid 'expiration' value: '${expiration}'`);
  if (!Array.isArray(conditions)) throw invalid("Policy missing conditions.");
  const out: PolicyCondition[] = [];
  for (const c of conditions) {
    const text = JSON.stringify(c);
    if (Array.isArray(c)) {
      const op = typeof c[0] === "string" ? c[0].toLowerCase() : "";
      if (c.length !== 3) throw invalid(`Invalid Condition: ${text}`);
      if (op === "content-length-range") {
        const [min, max] = [length(c[1]), length(c[2])];
        out.push({ op, min, max, text });
      } else if (op === "eq" || op === "starts-with") {
        if (typeof c[2] !== "string") throw invalid(`Invalid Condition: ${text}`);
        out.push({ op, field: fieldName(c[1]), value: c[2], text });
      } else throw invalid(`Invalid Condition: ${text}`);
    } else if (typeof c === "object" && c !== null) {
      const entries = Object.entries(c);
      if (entries.length !== 1 || typeof entries[0][1] !== "string") throw invalid(`Invalid Simple-Condition: ${text}`);
      out.push({ op: "eq", field: entries[0][0].toLowerCase(), value: entries[0][1], text });
    } else throw invalid(`Invalid Condition: ${text}`);
  }
  return { expiration: when, conditions: out };
}

/** Form fields that are never named in a policy (V4's x-amz-signature; V2's AWSAccessKeyId and signature). */
function exempt(name: string): boolean {
  return name === "file" || name === "policy" || name === "x-amz-signature" || name === "awsaccesskeyid" || name === "signature" || name.startsWith("x-ignore-");
}

function meets(c: Extract<PolicyCondition, { field: string }>, got: string): boolean {
  if (c.op === "eq") return got === c.value;
  // A Content-Type may list several types; each must start with the value.
  if (c.field === "content-type") return got.split(",").every((t) => t.trim().startsWith(c.value));
  return got.startsWith(c.value);
}

/**
 * Checks the form (field names lower-cased, variables such as ${filename} already expanded, and
 * `bucket` from the URL) against the policy at `now`. Returns the allowed size range: every
 * content-length-range condition must hold, so it is their intersection.
 */
export function checkPolicy(policy: PostPolicy, form: Map<string, string>, now: Date): { min: number; max: number } | undefined {
  if (policy.expiration.getTime() <= now.getTime()) throw failed("Policy expired.");
  const named = new Set<string>();
  let range: { min: number; max: number } | undefined;
  for (const c of policy.conditions) {
    if (c.op === "content-length-range") {
      range = { min: Math.max(range?.min ?? 0, c.min), max: Math.min(range?.max ?? Infinity, c.max) };
      continue;
    }
    named.add(c.field);
    if (!meets(c, form.get(c.field) ?? "")) throw failed(`Policy Condition failed: ${c.text}`);
  }
  // The bucket is a field of every upload, so the policy must name it too.
  const extra = [...form.keys()].filter((k) => !exempt(k) && !named.has(k));
  if (extra.length) throw failed(`Extra input fields: ${extra.join(", ")}`);
  return range;
}
