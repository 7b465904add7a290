// Percent-coding of request-target components (RFC 3986), byte-exact: what the client sent must
// survive decoding and re-encoding unchanged, invalid UTF-8 and stray '%' included, because
// signatures are computed over it.
import { Buffer } from "node:buffer";

const HEX_UPPER = "0123456789ABCDEF";
const UNRESERVED = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~") {
  UNRESERVED[c.charCodeAt(0)] = 1;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Percent-decodes to raw bytes rather than a JS string so that invalid UTF-8 and stray `%`
 * survive unchanged into the re-encoding (decodeURIComponent would throw on both).
 */
export function percentDecodeBytes(s: string, plusIsSpace: boolean): Buffer {
  // Fast path: nothing to decode.
  if (s.indexOf("%") === -1 && (!plusIsSpace || s.indexOf("+") === -1)) return Buffer.from(s, "utf8");
  const out: number[] = [];
  let pendingStart = 0;
  const flush = (end: number) => {
    if (end > pendingStart) for (const b of Buffer.from(s.slice(pendingStart, end), "utf8")) out.push(b);
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < s.length && hexVal(s.charCodeAt(i + 1)) >= 0 && hexVal(s.charCodeAt(i + 2)) >= 0) {
      flush(i);
      out.push(hexVal(s.charCodeAt(i + 1)) * 16 + hexVal(s.charCodeAt(i + 2)));
      i += 2;
      pendingStart = i + 1;
    } else if (c === 43 /* + */ && plusIsSpace) {
      flush(i);
      out.push(32);
      pendingStart = i + 1;
    }
  }
  flush(s.length);
  return Buffer.from(out);
}

/** RFC 3986 encoding of bytes: unreserved characters literal, everything else %XX (uppercase). */
export function encodeRfc3986Bytes(bytes: Uint8Array, keepSlash = false): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (UNRESERVED[b] === 1 || (keepSlash && b === 47)) out += String.fromCharCode(b);
    else out += "%" + HEX_UPPER[b >> 4] + HEX_UPPER[b & 15];
  }
  return out;
}

/**
 * A query component as text. `+` decodes to a space: SDKs never put a bare `+` in a query (they
 * send %2B and %20), form-style encoders (Go's url.Values, Python's urlencode) do mean space by
 * it, and S3 itself treats a query `+` as a space — so signatures from both kinds of client match
 * only if we do the same. Plain components (the usual case) are returned as they are.
 */
export function decodeQueryComponent(s: string): string {
  if (s.indexOf("%") === -1 && s.indexOf("+") === -1) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    // invalid UTF-8 or a stray '%': decode byte by byte, keeping what cannot be decoded
    return percentDecodeBytes(s, true).toString("utf8");
  }
}
