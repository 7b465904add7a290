// IAM policies: parse (with S3's MalformedPolicy messages), evaluate, and judge public. Pure:
// no I/O, no S3 errors; src/access/authorize.ts applies them to requests.
export * from "./types.ts";
export { parsePolicy, PolicyError, type ParseOptions } from "./parse.ts";
export { evaluatePolicy, combine, statementApplies } from "./evaluate.ts";
export { policyIsPublic, statementIsPublic } from "./public.ts";
export { wildcardMatch } from "./wildcard.ts";
