// The parts of multipart uploads that are pure S3 semantics, kept away from the filesystem so they
// can be tested on their own: request parsing (part numbers, copy ranges, the Complete document),
// the checks Complete makes against the stored parts, and how ETags and checksums of the whole
// object derive from the parts' own.
import { createHash, randomBytes } from "node:crypto";
import {
  CHECKSUM_ALGORITHMS,
  checksumField,
  combineCrc,
  createHasher,
  crcFromDigest,
  crcToDigest,
  isDigest,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from "../checksums/index.ts";
import { S3Error } from "../errors.ts";
import { parseQueryInt } from "./query-int.ts";
import { asArray, parseXml } from "../xml/index.ts";

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10000;
export const MAX_COPY_PART_SIZE = 5 * 1024 ** 3;

export type ChecksumType = "COMPOSITE" | "FULL_OBJECT";

export interface UploadChecksum {
  algorithm: ChecksumAlgorithm;
  type: ChecksumType;
}

export interface PartChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64 digest of the part's bytes. */
  value: string;
}

/** What Complete needs to know about a stored part. */
export interface StoredPart {
  partNumber: number;
  /** Hex MD5, no quotes. */
  etag: string;
  size: number;
  checksum?: PartChecksum;
}

export interface RequestedPart {
  partNumber: number;
  etag: string;
  checksum?: PartChecksum;
}

// A time prefix makes ids sort in creation order, which is the order S3 lists uploads of one key
// in, so upload-id-marker needs no lookup; the 24 random bytes make them unguessable.
const UPLOAD_ID = /^[0-9a-f]{12}[A-Za-z0-9_-]{32}$/;

export function newUploadId(now = Date.now()): string {
  return now.toString(16).padStart(12, "0") + randomBytes(24).toString("base64url");
}

/** Checked before an id touches a path, so it can never name anything but an upload directory. */
export function isUploadId(s: string | null): boolean {
  return s !== null && UPLOAD_ID.test(s);
}

export function parsePartNumber(raw: string | null): number {
  if (raw === null || !/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PART_NUMBER) {
    throw new S3Error("InvalidArgument", `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, {
      ArgumentName: "partNumber",
      ArgumentValue: raw ?? "",
    });
  }
  return Number(raw);
}

const RANGE_FORM =
  "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy";

/** x-amz-copy-source-range: only the strict `bytes=first-last` form S3 accepts. */
export function parseCopySourceRange(raw: string | null, size: number): { start: number; end: number } | null {
  if (raw === null) return null;
  const m = /^bytes=(\d{1,16})-(\d{1,16})$/.exec(raw.trim());
  if (!m) throw new S3Error("InvalidArgument", RANGE_FORM, { ArgumentName: "x-amz-copy-source-range", ArgumentValue: raw });
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start > end) throw new S3Error("InvalidArgument", RANGE_FORM, { ArgumentName: "x-amz-copy-source-range", ArgumentValue: raw });
  if (end >= size) {
    throw new S3Error("InvalidArgument", `Range specified is not valid for source object of size: ${size}`, {
      ArgumentName: "x-amz-copy-source-range",
      ArgumentValue: raw,
    });
  }
  return { start, end };
}

/** x-amz-checksum-algorithm and x-amz-checksum-type of CreateMultipartUpload. */
export function parseUploadChecksum(algorithmRaw: string | null, typeRaw: string | null): UploadChecksum | undefined {
  const algorithm = parseChecksumAlgorithm(algorithmRaw);
  const typeValue = typeRaw?.trim().toUpperCase() || undefined;
  if (typeValue !== undefined && typeValue !== "COMPOSITE" && typeValue !== "FULL_OBJECT") {
    throw new S3Error("InvalidRequest", `Value for x-amz-checksum-type header is invalid.`);
  }
  if (!algorithm) {
    if (typeValue) throw new S3Error("InvalidRequest", "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.");
    return undefined;
  }
  const isCrc = algorithm === "CRC32" || algorithm === "CRC32C" || algorithm === "CRC64NVME";
  const type: ChecksumType = (typeValue as ChecksumType | undefined) ?? (algorithm === "CRC64NVME" ? "FULL_OBJECT" : "COMPOSITE");
  if (type === "FULL_OBJECT" && !isCrc) throw new S3Error("InvalidRequest", `The ${algorithm} checksum algorithm does not support the FULL_OBJECT checksum type.`);
  if (type === "COMPOSITE" && algorithm === "CRC64NVME") throw new S3Error("InvalidRequest", "The CRC64NVME checksum algorithm does not support the COMPOSITE checksum type.");
  return { algorithm, type };
}

/** The CompleteMultipartUpload document, in request order; shape errors are MalformedXML. */
export function parseCompleteXml(text: string): RequestedPart[] {
  const doc = parseXml(text, "CompleteMultipartUpload");
  const parts = asArray(doc.Part as Record<string, unknown> | Record<string, unknown>[] | undefined);
  if (parts.length === 0 || parts.length > MAX_PART_NUMBER) throw new S3Error("MalformedXML");
  return parts.map((p) => {
    if (typeof p !== "object" || p === null) throw new S3Error("MalformedXML");
    // Unlike keys, these fields cannot have meaningful surrounding whitespace.
    const pn = typeof p.PartNumber === "string" ? p.PartNumber.trim() : p.PartNumber;
    const etag = typeof p.ETag === "string" ? p.ETag.trim() : p.ETag;
    if (typeof pn !== "string" || !/^\d{1,9}$/.test(pn) || typeof etag !== "string") throw new S3Error("MalformedXML");
    const out: RequestedPart = { partNumber: Number(pn), etag: etag.replace(/^"|"$/g, "").replace(/^&quot;|&quot;$/g, "") };
    for (const alg of CHECKSUM_ALGORITHMS) {
      const v = p[checksumField(alg)];
      if (v === undefined) continue;
      if (typeof v !== "string" || out.checksum) throw new S3Error("MalformedXML");
      out.checksum = { algorithm: alg, value: v.trim() };
    }
    return out;
  });
}

/**
 * Matches the requested list against the stored parts the way S3 does and returns the stored
 * parts to assemble, in order. Order first, then existence and ETag, then sizes, then checksums.
 */
export function checkCompleteParts(requested: RequestedPart[], stored: Map<number, StoredPart>, upload: UploadChecksum | undefined): StoredPart[] {
  for (let i = 1; i < requested.length; i++) {
    if (requested[i].partNumber <= requested[i - 1].partNumber) throw new S3Error("InvalidPartOrder");
  }
  const out: StoredPart[] = [];
  for (const r of requested) {
    const s = stored.get(r.partNumber);
    if (!s || s.etag !== r.etag.toLowerCase()) {
      throw new S3Error("InvalidPart", undefined, { PartNumber: String(r.partNumber), ETag: r.etag });
    }
    out.push(s);
  }
  for (let i = 0; i < out.length - 1; i++) {
    if (out[i].size < MIN_PART_SIZE) {
      throw new S3Error("EntityTooSmall", undefined, {
        ProposedSize: String(out[i].size),
        MinSizeAllowed: String(MIN_PART_SIZE),
        PartNumber: String(out[i].partNumber),
        ETag: out[i].etag,
      });
    }
  }
  requested.forEach((r, i) => {
    const s = out[i];
    if (upload && !r.checksum && upload.type === "COMPOSITE") {
      throw new S3Error(
        "InvalidRequest",
        `The upload was created using a ${upload.algorithm.toLowerCase()} checksum. The complete request referenced parts that did not include a checksum. Parts missing a checksum: ${r.partNumber}`,
      );
    }
    if (!r.checksum) return;
    if (upload && r.checksum.algorithm !== upload.algorithm) {
      throw new S3Error(
        "InvalidRequest",
        `The upload was created using a ${upload.algorithm.toLowerCase()} checksum. The complete request referenced parts with a ${r.checksum.algorithm.toLowerCase()} checksum.`,
      );
    }
    if (!isDigest(r.checksum.algorithm, r.checksum.value)) throw new S3Error("InvalidPart", `Invalid ${r.checksum.algorithm} checksum for part ${r.partNumber}.`);
    if (s.checksum && s.checksum.algorithm === r.checksum.algorithm && s.checksum.value !== r.checksum.value) {
      throw new S3Error("InvalidPart", undefined, { PartNumber: String(r.partNumber), ETag: r.etag });
    }
  });
  return out;
}

/** What a Complete request promised about the whole object (x-amz-checksum-*, -type, x-amz-mp-object-size). */
export interface CompleteExpectations {
  checksum?: PartChecksum;
  type?: string;
  size?: number;
}

export interface CompletePlanned<P extends StoredPart> {
  parts: P[];
  /** Without quotes. */
  etag: string;
  size: number;
  checksum?: { algorithm: ChecksumAlgorithm; type: ChecksumType; value: string };
}

/**
 * Every check of a Complete request against the stored parts, and what the object will be: the
 * parts in order, its ETag, size and checksum. The store runs it on the parts it lists (again once
 * the upload is locked), so the answer describes exactly what is assembled.
 */
export function planComplete<P extends StoredPart>(requested: RequestedPart[], stored: Map<number, P>, upload: UploadChecksum | undefined, expect: CompleteExpectations): CompletePlanned<P> {
  const parts = checkCompleteParts(requested, stored, upload) as P[];
  const etag = multipartEtag(parts.map((p) => p.etag));
  const size = parts.reduce((a, p) => a + p.size, 0);
  const checksum = upload ? { algorithm: upload.algorithm, type: upload.type, value: objectChecksum(upload, parts) } : undefined;
  if (expect.type !== undefined && expect.type.toUpperCase() !== (upload?.type ?? "")) {
    throw new S3Error("InvalidRequest", `The upload was created using the ${upload?.type ?? "null"} checksum mode. The complete request must use the same checksum mode.`);
  }
  if (expect.checksum) {
    if (!checksum || checksum.algorithm !== expect.checksum.algorithm) {
      throw new S3Error("InvalidRequest", `The upload was created using a ${upload?.algorithm.toLowerCase() ?? "null"} checksum. The complete request must use the same checksum algorithm.`);
    }
    if (!sameObjectChecksum(expect.checksum.value, checksum.value)) {
      throw new S3Error("BadDigest", `The ${checksum.algorithm} you specified for the object did not match what was computed from its parts.`);
    }
  }
  if (expect.size !== undefined && expect.size !== size) {
    throw new S3Error("InvalidRequest", `The provided 'x-amz-mp-object-size' header value ${expect.size} does not match what was computed: ${size}`);
  }
  return { parts, etag, size, checksum };
}

/**
 * A part's body must carry the upload's checksum algorithm; one the client did not send is
 * computed (Complete needs every part's). Returns the checksum to compute for the part.
 */
export function partChecksumFor<T extends { algorithm: ChecksumAlgorithm }>(upload: UploadChecksum | undefined, sent: T | null): T | { algorithm: ChecksumAlgorithm; expected: null; fromTrailer: null } | null {
  if (!upload) return sent;
  if (!sent) return { algorithm: upload.algorithm, expected: null, fromTrailer: null };
  if (sent.algorithm !== upload.algorithm) {
    throw new S3Error(
      "InvalidRequest",
      `Checksum Type mismatch occurred, expected checksum Type: ${upload.algorithm.toLowerCase()}, actual checksum Type: ${sent.algorithm.toLowerCase()}`,
    );
  }
  return sent;
}

/** S3's multipart ETag: MD5 over the parts' binary MD5s, then `-N`. */
export function multipartEtag(partMd5Hex: string[]): string {
  const h = createHash("md5");
  for (const m of partMd5Hex) h.update(Buffer.from(m, "hex"));
  return `${h.digest("hex")}-${partMd5Hex.length}`;
}

/**
 * The object checksum of a completed upload. COMPOSITE hashes the concatenated part digests and
 * appends `-N`; FULL_OBJECT combines the part CRCs arithmetically, so no byte is read again.
 */
export function objectChecksum(upload: UploadChecksum, parts: StoredPart[]): string {
  const digests = parts.map((p) => {
    if (!p.checksum || p.checksum.algorithm !== upload.algorithm) {
      throw new S3Error("InvalidPart", `Part ${p.partNumber} has no ${upload.algorithm} checksum.`);
    }
    return Buffer.from(p.checksum.value, "base64");
  });
  if (upload.type === "COMPOSITE") {
    const h = createHasher(upload.algorithm);
    for (const d of digests) h.update(d);
    return `${h.digest().toString("base64")}-${parts.length}`;
  }
  const alg = upload.algorithm;
  if (alg !== "CRC32" && alg !== "CRC32C" && alg !== "CRC64NVME") throw new S3Error("InvalidRequest", `FULL_OBJECT is not available for ${alg}.`);
  let crc = crcFromDigest(digests[0]);
  for (let i = 1; i < parts.length; i++) crc = combineCrc(alg, crc, crcFromDigest(digests[i]), parts[i].size);
  return crcToDigest(alg, crc).toString("base64");
}

/** A client's expected object checksum matches when equal, the `-N` suffix being optional. */
export function sameObjectChecksum(expected: string, actual: string): boolean {
  const strip = (s: string) => s.trim().replace(/-\d+$/, "");
  return strip(expected) === strip(actual);
}

// ---- listing ----

function nonNegativeInt(raw: string | null, name: string, fallback: number, cap: number): number {
  return raw === null ? fallback : Math.min(parseQueryInt(raw, name), cap);
}

export interface PartsPage<P extends { partNumber: number }> {
  parts: P[];
  marker: number;
  maxParts: number;
  isTruncated: boolean;
  nextMarker: number;
}

/** ListParts paging over parts sorted by number. */
export function pageParts<P extends { partNumber: number }>(sorted: P[], markerRaw: string | null, maxRaw: string | null): PartsPage<P> {
  const marker = nonNegativeInt(markerRaw, "part-number-marker", 0, Number.MAX_SAFE_INTEGER);
  const maxParts = nonNegativeInt(maxRaw, "max-parts", 1000, 1000);
  const after = sorted.filter((p) => p.partNumber > marker);
  const parts = after.slice(0, maxParts);
  const isTruncated = after.length > parts.length;
  return { parts, marker, maxParts, isTruncated, nextMarker: parts.length ? parts[parts.length - 1].partNumber : marker };
}

export interface UploadEntry {
  key: string;
  uploadId: string;
}

export interface UploadsPage<U extends UploadEntry> {
  uploads: U[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
  maxUploads: number;
}

export interface UploadsQuery {
  prefix: string;
  delimiter: string;
  keyMarker: string;
  uploadIdMarker: string;
  maxUploadsRaw: string | null;
}

const byKeyThenId = (a: UploadEntry, b: UploadEntry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0);

/** ListMultipartUploads paging: uploads by key then creation, common prefixes counting as one entry each. */
export function pageUploads<U extends UploadEntry>(all: U[], q: UploadsQuery): UploadsPage<U> {
  const maxUploads = nonNegativeInt(q.maxUploadsRaw, "max-uploads", 1000, 1000);
  const sorted = all.filter((u) => u.key.startsWith(q.prefix)).sort(byKeyThenId);
  const prefixOf = (key: string): string | null => {
    if (!q.delimiter) return null;
    const i = key.indexOf(q.delimiter, q.prefix.length);
    return i < 0 ? null : key.slice(0, i + q.delimiter.length);
  };
  const uploads: U[] = [];
  const commonPrefixes: string[] = [];
  let count = 0;
  let last: { key: string; uploadId?: string } | null = null;
  let isTruncated = false;
  for (const u of sorted) {
    if (q.keyMarker) {
      // S3 ignores upload-id-marker without key-marker.
      const past = u.key > q.keyMarker || (u.key === q.keyMarker && q.uploadIdMarker !== "" && u.uploadId > q.uploadIdMarker);
      if (!past) continue;
    }
    const cp = prefixOf(u.key);
    if (cp !== null && (cp === q.keyMarker || cp === commonPrefixes[commonPrefixes.length - 1])) continue;
    if (count >= maxUploads) {
      isTruncated = true;
      break;
    }
    count++;
    if (cp !== null) {
      commonPrefixes.push(cp);
      last = { key: cp };
    } else {
      uploads.push(u);
      last = { key: u.key, uploadId: u.uploadId };
    }
  }
  return {
    uploads,
    commonPrefixes,
    isTruncated,
    maxUploads,
    ...(isTruncated && last ? { nextKeyMarker: last.key, ...(last.uploadId ? { nextUploadIdMarker: last.uploadId } : {}) } : {}),
  };
}
