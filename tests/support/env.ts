// What every test and script that drives a gateway agrees on: where the repository is, which
// runtime the gateway runs on (FILEGATE_TEST_RUNTIME=bun|node), and the one set of credentials.
import { resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");
export const RUNTIME = (process.env.FILEGATE_TEST_RUNTIME ?? "bun") as "bun" | "node";
export const ACCESS_KEY = "TESTACCESSKEY0000001";
export const SECRET_KEY = "test/secret+key0000000000000000000000000";
export const REGION = "us-east-1";

let counter = 0;
/** A bucket name no other test file (or earlier run) uses. */
export function uniqueBucket(prefix = "b"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}
