// Version ids: 26 characters of Crockford base32 (no I, L, O, U), the first 10 the time in
// milliseconds, the last 16 random. Opaque to clients; to filegate they sort as text in the
// order they were made. Random bits keep processes and hosts sharing a root from ever minting
// the same id; within one process, ids of one millisecond count up from the last one so that a
// key's versions made in one millisecond still sort in the order they were written.
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
export const VERSION_ID_LENGTH = TIME_CHARS + RANDOM_CHARS;
const FORMAT = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** True for a string this gateway could have made as a version id (not "null"). */
export function isVersionId(s: string): boolean {
  return FORMAT.test(s);
}

function encodeTime(ms: number): string {
  let out = "";
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

/** The id's time, in milliseconds since the epoch. */
export function versionIdTime(id: string): number {
  let ms = 0;
  for (let i = 0; i < TIME_CHARS; i++) ms = ms * 32 + ALPHABET.indexOf(id[i]);
  return ms;
}

function randomPart(): string {
  const bytes = randomBytes(RANDOM_CHARS);
  let out = "";
  for (let i = 0; i < RANDOM_CHARS; i++) out += ALPHABET[bytes[i] & 31];
  return out;
}

/** `id` plus one in its last place: the smallest id that sorts after it. */
export function successorOf(id: string): string {
  const chars = id.split("");
  for (let i = chars.length - 1; i >= 0; i--) {
    const d = ALPHABET.indexOf(chars[i]);
    if (d < 31) {
      chars[i] = ALPHABET[d + 1];
      return chars.join("");
    }
    chars[i] = ALPHABET[0];
  }
  throw new RangeError("no version id sorts after " + id);
}

let last = "";

/**
 * A new id that sorts after every id this process made before and after `floor` (the newest id
 * the key already has, when the caller knows it): a clock that stepped back, or another host's
 * clock ahead of ours, cannot put a new version below an older one.
 */
export function newVersionId(now = Date.now(), floor?: string): string {
  let id = encodeTime(now) + randomPart();
  for (const below of [last, floor]) {
    // Above `below` by one in its 16th place, with a fresh random tail: still unique.
    if (below && id <= below) id = successorOf(below.slice(0, 16)) + randomPart().slice(0, VERSION_ID_LENGTH - 16);
  }
  last = id;
  return id;
}
