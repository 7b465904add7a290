// Range header handling for GetObject/HeadObject, matching what Amazon S3 does rather than
// everything RFC 9110 permits. Observed S3 behaviour (GetObject on a 10-byte object, recorded
// against real S3 in LocalStack's validated snapshot tests):
//   bytes=0-8 → 206 0-8     bytes=0-100 → 206 0-9      bytes=-2 → 206 8-9
//   bytes=-15 → 206 0-9     bytes=1-0   → 200 full     bytes=0--1 → 200 full
//   bytes=-1- → 200 full    bytes=-     → 200 full     0-1 (no unit) → 200 full
//   bytes=0-1,3-4,7-9 → 200 full (S3 serves no multipart/byteranges)
//   bytes=-0 → 416          bytes=100-200 → 416
// So anything S3 cannot parse as exactly one byte range is ignored and the whole object is sent,
// and only a well-formed range that misses the object gets 416 InvalidRange.
//
// Zero-length objects: a first-byte range (bytes=0-, bytes=0-0) is 416, since there is no byte 0
// (RFC 9110 §14.1.1; S3 and MinIO both answer 416, per MinIO's traces of S3 in minio/minio#17713
// and minio-java#638). A suffix range bytes=-N with N > 0 is satisfiable per the RFC but has no
// expressible Content-Range, and S3 answers it 200 with the empty body (apache/arrow-rs-object-store
// #846), so it maps to 'full' here.

export type RangeResult =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number /* inclusive */ }
  | { kind: "unsatisfiable" };

const FULL: RangeResult = Object.freeze({ kind: "full" });
const UNSATISFIABLE: RangeResult = Object.freeze({ kind: "unsatisfiable" });

// bytes=first-last | bytes=first- | bytes=-suffix. The unit is case-insensitive (RFC 9110 §14.1);
// optional whitespace is tolerated only where HTTP list syntax allows it, around the range-set.
const SINGLE = /^bytes=[ \t]*(?:(\d+)-(\d*)|-(\d+))[ \t]*$/i;

/**
 * Interprets a Range header against an object of `size` bytes.
 * 'partial' carries an inclusive byte span already clamped to the object.
 */
export function parseRange(header: string | null | undefined, size: number): RangeResult {
  if (header == null) return FULL;
  const m = SINGLE.exec(header.trim());
  if (!m) return FULL;

  // Digits are compared as BigInt so that values past 2^53 keep their order exactly; every
  // real object size is a safe integer, so anything larger is simply "beyond the end".
  const total = BigInt(size);

  if (m[3] !== undefined) {
    const suffix = BigInt(m[3]);
    if (suffix === 0n) return UNSATISFIABLE;
    if (size === 0) return FULL;
    const start = suffix >= total ? 0 : size - Number(suffix);
    return { kind: "partial", start, end: size - 1 };
  }

  const first = BigInt(m[1]);
  if (m[2] !== "") {
    const last = BigInt(m[2]);
    // last < first is an invalid range-spec, which S3 ignores rather than rejects.
    if (last < first) return FULL;
    if (first >= total) return UNSATISFIABLE;
    const end = last >= total ? size - 1 : Number(last);
    return { kind: "partial", start: Number(first), end };
  }
  if (first >= total) return UNSATISFIABLE;
  return { kind: "partial", start: Number(first), end: size - 1 };
}

/** Content-Range value for a 206: `bytes start-end/size`. */
export function contentRange(start: number, end: number, size: number): string {
  return `bytes ${start}-${end}/${size}`;
}

// Content-Range value that accompanies a 416 (RFC 9110 §15.5.17): bytes */size
export function unsatisfiedContentRange(size: number): string {
  return `bytes */${size}`;
}
