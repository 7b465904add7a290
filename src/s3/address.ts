// Where a request points: bucket and key from the path (path style) or from the Host header
// (virtual-hosted style, when a domain is configured).
import { S3Error } from "../errors.ts";

export interface Address {
  bucket: string | null;
  key: string | null;
  /** The path exactly as sent, still percent-encoded: what the client signed. */
  rawPath: string;
  rawQuery: string;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error("InvalidURI");
  }
}

/** Splits a request URL without normalising it: `..` and `//` must reach the key checks intact. */
export function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const schemeEnd = url.indexOf("://");
  const pathStart = schemeEnd >= 0 ? url.indexOf("/", schemeEnd + 3) : 0;
  const rest = pathStart < 0 ? "/" : url.slice(pathStart);
  const q = rest.indexOf("?");
  const hash = rest.indexOf("#");
  const end = hash >= 0 ? hash : rest.length;
  return q >= 0 && q < end ? { rawPath: rest.slice(0, q), rawQuery: rest.slice(q + 1, end) } : { rawPath: rest.slice(0, end), rawQuery: "" };
}

export function resolveAddress(url: string, host: string | null, virtualDomain: string | null): Address {
  const { rawPath, rawQuery } = splitUrl(url);
  if (virtualDomain && host) {
    const hostname = host.toLowerCase().replace(/:\d+$/, "");
    const suffix = "." + virtualDomain.replace(/:\d+$/, "");
    if (hostname.endsWith(suffix) && hostname.length > suffix.length) {
      const bucket = hostname.slice(0, -suffix.length);
      const key = rawPath.length > 1 ? decode(rawPath.slice(1)) : null;
      return { bucket, key, rawPath, rawQuery };
    }
  }
  const slash = rawPath.indexOf("/", 1);
  if (rawPath === "/" || rawPath === "") return { bucket: null, key: null, rawPath, rawQuery };
  if (slash < 0) return { bucket: decode(rawPath.slice(1)), key: null, rawPath, rawQuery };
  const bucket = decode(rawPath.slice(1, slash));
  const keyPart = rawPath.slice(slash + 1);
  return { bucket, key: keyPart === "" ? null : decode(keyPart), rawPath, rawQuery };
}
