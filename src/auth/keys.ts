// Secrets, hashes and signing keys: the only place auth touches a secret or a key.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { S3Error } from "../errors.ts";
import { isBun } from "../runtime.ts";

// Bun's own one-shot hashers cost a third of node:crypto's objects there (SHA-256 of a canonical
// request 0.5 µs against 1.1 µs, an HMAC 0.5 µs against 1.4 µs); both hash strings as UTF-8.
const BunHasher = isBun ? Bun.CryptoHasher : null;

export function sha256Hex(data: string | Uint8Array): string {
  if (BunHasher) return BunHasher.hash("sha256", data, "hex");
  return createHash("sha256").update(data).digest("hex");
}

export function hmac(key: string | Uint8Array, data: string | Uint8Array): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

export function hmacHex(key: string | Uint8Array, data: string | Uint8Array): string {
  if (BunHasher) return new BunHasher("sha256", key).update(data).digest("hex");
  return createHmac("sha256", key).update(data).digest("hex");
}

// Deriving a key costs four HMACs; a handful of active (secret, day) pairs covers real traffic.
const KEY_CACHE_MAX = 64;
const keyCache = new Map<string, Buffer>();

// The key of the last request: most requests in a row share it, and comparing four strings
// beats hashing a key built from them.
let last: { secret: string; date: string; region: string; service: string; key: Buffer } | undefined;

export function deriveSigningKey(secret: string, yyyymmdd: string, region: string, service: string): Buffer {
  if (last !== undefined && last.secret === secret && last.date === yyyymmdd && last.region === region && last.service === service) return last.key;
  const key = deriveSigningKeyCached(secret, yyyymmdd, region, service);
  last = { secret, date: yyyymmdd, region, service, key };
  return key;
}

function deriveSigningKeyCached(secret: string, yyyymmdd: string, region: string, service: string): Buffer {
  const cacheKey = `${yyyymmdd}\0${region}\0${service}\0${secret}`;
  const hit = keyCache.get(cacheKey);
  if (hit) return hit;
  const kDate = hmac("AWS4" + secret, yyyymmdd);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  const key = hmac(kService, "aws4_request");
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value as string);
  keyCache.set(cacheKey, key);
  return key;
}

/** Constant-time comparison of two hex signatures (case-insensitive on the client side). */
export function signaturesEqual(expectedHex: string, givenHex: string): boolean {
  const a = Buffer.from(expectedHex, "latin1");
  const b = Buffer.from(givenHex.toLowerCase(), "latin1");
  // timingSafeEqual needs equal lengths; compare against itself to keep the timing flat.
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** The secret of `accessKey`; InvalidAccessKeyId when there is none. */
export function secretOf(lookupSecret: (accessKey: string) => string | undefined, accessKey: string): string {
  const secret = lookupSecret(accessKey);
  if (secret === undefined) throw new S3Error("InvalidAccessKeyId", undefined, { AWSAccessKeyId: accessKey });
  return secret;
}
