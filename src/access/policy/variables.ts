// Policy variables (IAM User Guide, "Policy variables"): ${aws:username} and any other request
// context key, with an optional default (${aws:username, 'nobody'}), and the escapes ${*}, ${?}
// and ${$} for the literal characters. Expanded values match only themselves.
import type { ConditionContext } from "./types.ts";
import { literal, LITERAL_QUESTION, LITERAL_STAR } from "./wildcard.ts";

const VARIABLE = /\$\{([^}]*)\}/g;

/** `text` with its variables replaced; null when one names an absent key with no default. */
export function expandVariables(text: string, ctx: ConditionContext): string | null {
  if (!text.includes("${")) return text;
  let missing = false;
  const out = text.replace(VARIABLE, (_, inner: string) => {
    const body = inner.trim();
    if (body === "*") return LITERAL_STAR;
    if (body === "?") return LITERAL_QUESTION;
    if (body === "$") return "$";
    const m = /^([^,\s]+)\s*(?:,\s*'([^']*)')?$/.exec(body);
    if (!m) {
      missing = true;
      return "";
    }
    const values = ctx.get(m[1]);
    // A multivalued key cannot stand in a string; IAM treats it as absent.
    if (values && values.length === 1) return literal(values[0]);
    if (m[2] !== undefined) return literal(m[2]);
    missing = true;
    return "";
  });
  return missing ? null : out;
}
