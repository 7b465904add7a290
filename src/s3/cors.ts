// Bucket CORS: the <CORSConfiguration> document (checked against S3's rules), and how a browser's
// request is matched against it. Pure functions; the routes store the rules with the bucket and
// turn a match into response headers.
import { S3Error } from "../errors.ts";
import { asArray, parseXml } from "../xml/index.ts";

export interface CorsRule {
  id?: string;
  methods: string[];
  origins: string[];
  headers: string[];
  expose: string[];
  maxAge?: number;
}

/** The methods a CORS rule may allow (and a preflight may ask about). */
export const CORS_METHODS: ReadonlySet<string> = new Set(["GET", "PUT", "HEAD", "POST", "DELETE"]);
const RULE_ELEMENTS = new Set(["ID", "AllowedMethod", "AllowedOrigin", "AllowedHeader", "ExposeHeader", "MaxAgeSeconds"]);
const MAX_RULES = 100;

function strings(v: unknown): string[] {
  return asArray(v as string | string[] | undefined).map((s) => {
    if (typeof s !== "string") throw new S3Error("MalformedXML");
    return s.trim();
  });
}

function oneWildcard(kind: string, values: string[]): void {
  for (const v of values) {
    if (v.split("*").length > 2) throw new S3Error("InvalidRequest", `${kind} "${v}" can not have more than one wildcard.`);
  }
}

/** The rules of a PutBucketCors document, in order. */
export function parseCorsXml(text: string): CorsRule[] {
  const doc = parseXml(text, "CORSConfiguration");
  const items = asArray(doc.CORSRule as Record<string, unknown> | Record<string, unknown>[] | undefined);
  if (items.length === 0 || items.length > MAX_RULES) throw new S3Error("MalformedXML");
  return items.map((r) => {
    if (typeof r !== "object" || r === null) throw new S3Error("MalformedXML");
    if (Object.keys(r).some((k) => !RULE_ELEMENTS.has(k))) throw new S3Error("MalformedXML");
    const methods = strings(r.AllowedMethod);
    const origins = strings(r.AllowedOrigin);
    if (methods.length === 0 || origins.length === 0) throw new S3Error("MalformedXML");
    for (const m of methods) {
      if (!CORS_METHODS.has(m)) throw new S3Error("InvalidRequest", `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    const headers = strings(r.AllowedHeader);
    oneWildcard("AllowedOrigin", origins);
    oneWildcard("AllowedHeader", headers);
    const expose = strings(r.ExposeHeader);
    for (const e of expose) {
      if (e.includes("*")) throw new S3Error("InvalidRequest", `ExposeHeader "${e}" contains wildcard. We currently do not support wildcard for ExposeHeader.`);
    }
    const rule: CorsRule = { methods, origins, headers, expose };
    if (r.ID !== undefined) {
      if (typeof r.ID !== "string" || r.ID.length > 255) throw new S3Error("MalformedXML");
      rule.id = r.ID;
    }
    if (r.MaxAgeSeconds !== undefined) {
      const s = typeof r.MaxAgeSeconds === "string" ? r.MaxAgeSeconds.trim() : "";
      if (!/^\d{1,9}$/.test(s)) throw new S3Error("MalformedXML");
      rule.maxAge = Number(s);
    }
    return rule;
  });
}

/** The GetBucketCors document body. */
export function corsXml(rules: CorsRule[]): Record<string, unknown> {
  return {
    CORSRule: rules.map((r) => ({
      ID: r.id,
      AllowedHeader: r.headers,
      AllowedMethod: r.methods,
      AllowedOrigin: r.origins,
      ExposeHeader: r.expose,
      MaxAgeSeconds: r.maxAge,
    })),
  };
}

/** `pattern` with at most one `*` standing for any run of characters. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf("*");
  if (star < 0) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

/**
 * The first rule that allows `origin` to make a `method` request carrying `requestHeaders`, as S3
 * evaluates them: origins match exactly (with one wildcard), headers without regard to case.
 */
export function matchCors(rules: CorsRule[], origin: string, method: string, requestHeaders: string[] = []): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.methods.includes(method) &&
      r.origins.some((o) => wildcardMatch(o, origin)) &&
      requestHeaders.every((h) => r.headers.some((a) => wildcardMatch(a.toLowerCase(), h.toLowerCase()))),
  );
}

/** Headers of a response to `origin` allowed by `rule`; `requestHeaders` only for a preflight. */
export function corsResponseHeaders(rule: CorsRule, origin: string, requestHeaders?: string[]): Record<string, string> {
  const any = rule.origins.includes("*");
  const h: Record<string, string> = {
    "access-control-allow-origin": any ? "*" : origin,
    "access-control-allow-methods": rule.methods.join(", "),
    vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
  };
  if (!any) h["access-control-allow-credentials"] = "true";
  if (rule.expose.length) h["access-control-expose-headers"] = rule.expose.join(", ");
  if (rule.maxAge !== undefined) h["access-control-max-age"] = String(rule.maxAge);
  if (requestHeaders?.length) h["access-control-allow-headers"] = requestHeaders.join(", ");
  return h;
}

/** Access-Control-Request-Headers as a list (comma-separated, blanks dropped). */
export function requestedHeaders(value: string | null): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}
