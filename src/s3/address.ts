// Where a request points: bucket and key from the path (path style) or from the Host header
// (virtual-hosted style, when a domain is configured).
import { splitRawUrl } from "../auth/sigv4.ts";
import { S3Error } from "../errors.ts";

export interface Address {
  bucket: string | null;
  key: string | null;
  /** The query exactly as sent, still percent-encoded. */
  rawQuery: string;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error("InvalidURI");
  }
}

export function resolveAddress(url: string, host: string | null, virtualDomain: string | null): Address {
  // Not normalised: `..` and `//` must reach the key checks intact.
  const { path: rawPath, query: rawQuery } = splitRawUrl(url);
  if (virtualDomain && host) {
    const hostname = host.toLowerCase().replace(/:\d+$/, "");
    const suffix = "." + virtualDomain.replace(/:\d+$/, "");
    if (hostname.endsWith(suffix) && hostname.length > suffix.length) {
      const bucket = hostname.slice(0, -suffix.length);
      const key = rawPath.length > 1 ? decode(rawPath.slice(1)) : null;
      return { bucket, key, rawQuery };
    }
  }
  const slash = rawPath.indexOf("/", 1);
  if (rawPath === "/" || rawPath === "") return { bucket: null, key: null, rawQuery };
  if (slash < 0) return { bucket: decode(rawPath.slice(1)), key: null, rawQuery };
  const bucket = decode(rawPath.slice(1, slash));
  const keyPart = rawPath.slice(slash + 1);
  return { bucket, key: keyPart === "" ? null : decode(keyPart), rawQuery };
}
