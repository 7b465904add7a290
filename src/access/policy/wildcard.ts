// IAM's wildcard matching: `*` stands for any run of characters (`/` and `:` included) and `?`
// for exactly one. A policy variable's value, and the escapes ${*} ${?}, must match only
// themselves: they reach the matcher as the private-use stand-ins below.

/** Stand-ins for a literal `*` and `?` inside a pattern (from ${*}, ${?} or a variable's value). */
export const LITERAL_STAR = "\uE000";
export const LITERAL_QUESTION = "\uE001";

/** Makes `text` match only itself when placed inside a pattern. */
export function literal(text: string): string {
  return text.replaceAll("*", LITERAL_STAR).replaceAll("?", LITERAL_QUESTION);
}

function same(p: string, v: string): boolean {
  return p === v || (p === LITERAL_STAR && v === "*") || (p === LITERAL_QUESTION && v === "?");
}

function isPair(s: string, i: number): boolean {
  const hi = s.charCodeAt(i);
  const lo = s.charCodeAt(i + 1);
  return hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff;
}

/** Whether `value` matches `pattern`; linear in practice (one backtrack point, the last `*`). */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (ignoreCase) {
    pattern = pattern.toLowerCase();
    value = value.toLowerCase();
  }
  if (pattern === "*") return true;
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    const c = pattern[p];
    if (p < pattern.length && c === "*") {
      star = p++;
      mark = v;
    } else if (p < pattern.length && (c === "?" || same(c, value[v]))) {
      // `?` is one character: a surrogate pair (an emoji, say) is one, not two.
      v += c === "?" && isPair(value, v) ? 2 : 1;
      p++;
    } else if (star >= 0) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/** Whether `pattern` holds a wildcard (`*` or `?` not written as a literal). */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes("?");
}

/** Turns the stand-ins back into the characters they stand for, for exact comparisons. */
export function unliteral(text: string): string {
  return text.replaceAll(LITERAL_STAR, "*").replaceAll(LITERAL_QUESTION, "?");
}
