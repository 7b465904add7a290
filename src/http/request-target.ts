// The request target, parsed once per request: the raw path (still percent-encoded and not
// normalised: `..` and `//` are part of S3 keys and of what the client signed), and the query as
// parts that keep both the bytes sent (signatures are over those) and the decoded text (routing,
// handlers and auth parameters read that). Addressing, the operation table, the handlers' query and
// both signature versions read this one parse.
import { decodeQueryComponent } from "./percent-coding.ts";

export interface QueryPart {
  /** As sent, still percent-encoded. */
  readonly rawKey: string;
  readonly rawValue: string;
  /** Whether the part had an '=' (`?acl` vs `?acl=`; Signature V2 signs what was sent). */
  readonly hasEquals: boolean;
  /** Decoded text (`+` is a space). */
  readonly key: string;
  readonly value: string;
}

/** Splits a request URL (absolute or origin-form) into its raw path and raw query without normalising. */
export function splitRawUrl(url: string): { path: string; query: string } {
  let rest = url;
  const hash = rest.indexOf("#");
  if (hash !== -1) rest = rest.slice(0, hash);
  if (!rest.startsWith("/")) {
    // Absolute form: drop scheme and authority, keep the rest byte for byte.
    const scheme = rest.indexOf("://");
    if (scheme !== -1) {
      const authorityStart = scheme + 3;
      let end = rest.length;
      for (const sep of ["/", "?"]) {
        const i = rest.indexOf(sep, authorityStart);
        if (i !== -1 && i < end) end = i;
      }
      rest = rest.slice(end);
    }
  }
  const q = rest.indexOf("?");
  const path = q === -1 ? rest : rest.slice(0, q);
  const query = q === -1 ? "" : rest.slice(q + 1);
  return { path: path === "" ? "/" : path, query };
}

/** The raw query's parts in the order sent; empty parts (`a&&b`) are dropped. */
export function splitQuery(rawQuery: string): QueryPart[] {
  const out: QueryPart[] = [];
  // One leading '?' is not part of the query (`??a` names `?a`), as URLSearchParams has it.
  if (rawQuery.startsWith("?")) rawQuery = rawQuery.slice(1);
  if (rawQuery === "") return out;
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawKey = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? "" : part.slice(eq + 1);
    out.push({ rawKey, rawValue, hasEquals: eq !== -1, key: decodeQueryComponent(rawKey), value: decodeQueryComponent(rawValue) });
  }
  return out;
}

/**
 * What routing and handlers read of the decoded query: the part of URLSearchParams they use
 * (a URLSearchParams is one), answered by RequestTarget from its parts without building one.
 */
export interface QueryParams {
  get(name: string): string | null;
  has(name: string): boolean;
  keys(): Iterable<string>;
}

export class RequestTarget implements QueryParams {
  /** Raw path; "/" when the target had none. */
  readonly path: string;
  /** Raw query without its '?'. */
  readonly rawQuery: string;
  readonly parts: readonly QueryPart[];
  #query: URLSearchParams | undefined;

  constructor(url: string) {
    const { path, query } = splitRawUrl(url);
    this.path = path;
    this.rawQuery = query;
    this.parts = splitQuery(query);
  }

  /** The decoded query as handlers and the operation table read it, built from the parts. */
  get query(): URLSearchParams {
    if (this.#query === undefined) {
      const q = new URLSearchParams();
      for (const p of this.parts) q.append(p.key, p.value);
      this.#query = q;
    }
    return this.#query;
  }

  /** The first decoded value of `key`, compared exactly (or ignoring case). */
  param(key: string, anyCase = false): string | undefined {
    const lower = anyCase ? key.toLowerCase() : key;
    for (const p of this.parts) if (p.key === key || (anyCase && p.key.toLowerCase() === lower)) return p.value;
    return undefined;
  }

  has(key: string): boolean {
    for (const p of this.parts) if (p.key === key) return true;
    return false;
  }

  /** The first decoded value of `key`, or null (URLSearchParams.get). */
  get(key: string): string | null {
    for (const p of this.parts) if (p.key === key) return p.value;
    return null;
  }

  /** Decoded keys in the order sent, repeats included (URLSearchParams.keys). */
  *keys(): IterableIterator<string> {
    for (const p of this.parts) yield p.key;
  }
}

/**
 * The same URL is often requested again and again (a presigned link, a hot object); its parse is
 * a pure function of the string and the result is never changed, so recent ones are reused.
 */
const RECENT_MAX = 256;
const recent = new Map<string, RequestTarget>();

export function parseRequestTarget(url: string): RequestTarget {
  let t = recent.get(url);
  if (t === undefined) {
    t = new RequestTarget(url);
    if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value as string);
    recent.set(url, t);
  }
  return t;
}
