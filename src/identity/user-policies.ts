// Users' inline policies as the access decisions read them (AccessSources.userPolicies): parsed
// once per version of the user file, so a request pays a Map lookup, not a JSON parse.
import type { Policy } from "../access/policy/index.ts";
import type { UserPrincipal } from "../access/principal.ts";
import { parseUserPolicy } from "./records.ts";
import type { UserStore } from "./user-store.ts";

const NONE: readonly Policy[] = Object.freeze([]);

export function inlinePolicies(users: Pick<UserStore, "userPolicies">, log?: (line: string) => void): (user: UserPrincipal) => readonly Policy[] {
  const parsed = new WeakMap<readonly string[], readonly Policy[]>();
  return (user) => {
    const docs = users.userPolicies(user.name);
    if (docs.length === 0) return NONE;
    let policies = parsed.get(docs);
    if (!policies) {
      policies = docs.flatMap((doc) => {
        try {
          return [parseUserPolicy(doc)];
        } catch (e) {
          // Written past the checks (by hand): it grants and denies nothing, and says so once.
          log?.(`filegate: an inline policy of user ${user.name} cannot be read (${(e as Error).message}); it is ignored`);
          return [];
        }
      });
      parsed.set(docs, policies);
    }
    return policies;
  };
}
