// Where a request points: bucket and key from the path (path style) or from the Host header
// (virtual-hosted style, when a domain is configured).
import { S3Error } from "../errors.ts";
import type { RequestTarget } from "../http/request-target.ts";

export interface Address {
  bucket: string | null;
  key: string | null;
  /** The bucket came from the Host header (virtual-hosted style). */
  virtualHosted?: boolean;
}

// NUL, and the C1 controls (U+0080-U+009F): S3 answers InvalidURI for a key holding one (Ceph's
// s3-tests, run against AWS: GET of key '\xae\x8a-' is 400 "Couldn't parse the specified URI.").
// C0 controls other than NUL are valid keys on S3 ("characters that might require special handling").
const UNPARSEABLE = /[\u0000\u0080-\u009f]/;

/** A percent-encoded path component as text; bytes that are not UTF-8 text are InvalidURI. */
function decode(s: string): string {
  let out: string;
  try {
    out = decodeURIComponent(s);
  } catch {
    throw new S3Error("InvalidURI");
  }
  if (UNPARSEABLE.test(out)) throw new S3Error("InvalidURI");
  return out;
}

export function resolveAddress(target: RequestTarget, host: string | null, virtualDomain: string | null): Address {
  // Not normalised: `..` and `//` must reach the key checks intact.
  const rawPath = target.path;
  if (virtualDomain && host) {
    const hostname = host.toLowerCase().replace(/:\d+$/, "");
    const suffix = "." + virtualDomain.replace(/:\d+$/, "");
    if (hostname.endsWith(suffix) && hostname.length > suffix.length) {
      const bucket = hostname.slice(0, -suffix.length);
      const key = rawPath.length > 1 ? decode(rawPath.slice(1)) : null;
      return { bucket, key, virtualHosted: true };
    }
  }
  const slash = rawPath.indexOf("/", 1);
  if (rawPath === "/" || rawPath === "") return { bucket: null, key: null };
  if (slash < 0) return { bucket: decode(rawPath.slice(1)), key: null };
  const bucket = decode(rawPath.slice(1, slash));
  const keyPart = rawPath.slice(slash + 1);
  return { bucket, key: keyPart === "" ? null : decode(keyPart) };
}
