// Continuation tokens: opaque to clients, stateless on the server. A token carries the last key
// returned and is MACed together with the listing's prefix and delimiter, so a forged token, or
// one from a different listing, is refused instead of silently listing the wrong thing.
import { createHmac, timingSafeEqual } from "node:crypto";
import { S3Error } from "../errors.ts";

function mac(key: Buffer, scope: string, last: string): Buffer {
  return createHmac("sha256", key).update(scope).update("\0").update(last).digest().subarray(0, 12);
}

export function makeToken(key: Buffer, scope: string, last: string): string {
  return Buffer.concat([mac(key, scope, last), Buffer.from(last, "utf8")]).toString("base64url");
}

export function readToken(key: Buffer, scope: string, token: string): string {
  const bad = () => new S3Error("InvalidArgument", "The continuation token provided is incorrect", { ArgumentName: "continuation-token" });
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const raw = Buffer.from(token, "base64url");
  if (raw.length <= 12) throw bad();
  const last = raw.subarray(12).toString("utf8");
  const expected = mac(key, scope, last);
  if (!timingSafeEqual(expected, raw.subarray(0, 12))) throw bad();
  return last;
}
