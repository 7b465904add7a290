// The first admin's keys (other users live in the user store, src/identity/). Keys come from the
// environment, or are generated once per root and kept in ROOT/.filegate/credentials so every
// process serving that root agrees on them.
import { mkdirSync, openSync, readFileSync, writeSync, closeSync, fsyncSync } from "node:fs";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { GATEWAY_DIR } from "./storage/posix/layout.ts";

export interface Credentials {
  accessKey: string;
  secretKey: string;
  /** "environment" or the file they were read from / written to. */
  source: string;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function randomString(alphabet: string, length: number): string {
  // Rejection sampling keeps the characters uniform.
  let out = "";
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 256 - (256 % alphabet.length)) out += alphabet[b % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function generateKeyPair(): { accessKey: string; secretKey: string } {
  return {
    accessKey: "FG" + randomString(ALNUM, 18),
    secretKey: randomString(ALNUM + "abcdefghijklmnopqrstuvwxyz0123456789+/", 40),
  };
}

function parseFile(text: string, file: string): { accessKey: string; secretKey: string } {
  const data = JSON.parse(text) as { accessKeyId?: unknown; secretAccessKey?: unknown };
  if (typeof data.accessKeyId !== "string" || typeof data.secretAccessKey !== "string") {
    throw new Error(`${file} does not hold accessKeyId and secretAccessKey`);
  }
  return { accessKey: data.accessKeyId, secretKey: data.secretAccessKey };
}

function readExisting(file: string): { accessKey: string; secretKey: string } {
  // Another process may have created the file a moment ago and not written it yet.
  for (let attempt = 0; ; attempt++) {
    try {
      return parseFile(readFileSync(file, "utf8"), file);
    } catch (e) {
      if (attempt >= 50 || !(e instanceof SyntaxError)) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

export function loadCredentials(root: string, env: { accessKey?: string; secretKey?: string }): Credentials {
  if (env.accessKey && env.secretKey) {
    return { accessKey: env.accessKey, secretKey: env.secretKey, source: "environment" };
  }
  const dir = join(root, GATEWAY_DIR);
  const file = join(dir, "credentials");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = generateKeyPair();
  let fd: number;
  try {
    // O_EXCL: when two processes start on a fresh root at once, exactly one pair wins.
    fd = openSync(file, "wx", 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return { ...readExisting(file), source: file };
  }
  try {
    writeSync(fd, JSON.stringify({ accessKeyId: pair.accessKey, secretAccessKey: pair.secretKey }) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { ...pair, source: file };
}

/** S3 canonical user IDs are 64 hex digits; derive a stable one from the access key when unset. */
export function defaultOwnerId(accessKey: string): string {
  return createHash("sha256").update("filegate-owner:" + accessKey).digest("hex");
}
