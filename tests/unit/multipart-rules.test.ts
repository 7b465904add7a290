import { describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { computeChecksum } from "../../src/checksums/index.ts";
import { S3Error } from "../../src/errors.ts";
import {
  MIN_PART_SIZE,
  checkCompleteParts,
  isUploadId,
  multipartEtag,
  newUploadId,
  objectChecksum,
  pageParts,
  pageUploads,
  parseCompleteXml,
  parseCopySourceRange,
  parsePartNumber,
  parseUploadChecksum,
  sameObjectChecksum,
  type StoredPart,
} from "../../src/s3/multipart-rules.ts";

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof S3Error ? e.code : String(e);
  }
  return "ok";
}

describe("upload ids", () => {
  test("fresh ids validate, sort by creation time, and nothing path-like does", () => {
    const a = newUploadId(1000);
    const b = newUploadId(2000);
    expect(isUploadId(a)).toBe(true);
    expect(a < b).toBe(true);
    expect(newUploadId()).not.toBe(newUploadId());
    for (const bad of [null, "", "../../etc/passwd", a + ".done", a.slice(1), a.replace(/.$/, "/"), a.replace(/.$/, ".")]) expect(isUploadId(bad)).toBe(false);
  });
});

describe("request values", () => {
  test("part numbers 1..10000", () => {
    expect(parsePartNumber("1")).toBe(1);
    expect(parsePartNumber("10000")).toBe(10000);
    for (const bad of ["0", "10001", "-1", "1.5", "", "abc", null, "000001"]) expect(code(() => parsePartNumber(bad))).toBe("InvalidArgument");
  });

  test("copy source range: strict bytes=first-last within the source", () => {
    expect(parseCopySourceRange(null, 10)).toBeNull();
    expect(parseCopySourceRange("bytes=0-9", 10)).toEqual({ start: 0, end: 9 });
    expect(parseCopySourceRange("bytes=3-3", 10)).toEqual({ start: 3, end: 3 });
    for (const bad of ["bytes=0-", "bytes=-3", "bytes=5-2", "0-3", "bytes=0-1,2-3", "items=0-1"]) {
      let msg = "";
      try {
        parseCopySourceRange(bad, 10);
      } catch (e) {
        msg = (e as S3Error).message;
      }
      expect(msg).toContain("must be of the form bytes=first-last");
    }
    expect(() => parseCopySourceRange("bytes=0-10", 10)).toThrow("Range specified is not valid for source object of size: 10");
  });

  test("checksum algorithm and type at Create", () => {
    expect(parseUploadChecksum(null, null)).toBeUndefined();
    expect(parseUploadChecksum("crc32", null)).toEqual({ algorithm: "CRC32", type: "COMPOSITE" });
    expect(parseUploadChecksum("CRC64NVME", null)).toEqual({ algorithm: "CRC64NVME", type: "FULL_OBJECT" });
    expect(parseUploadChecksum("CRC32C", "FULL_OBJECT")).toEqual({ algorithm: "CRC32C", type: "FULL_OBJECT" });
    expect(code(() => parseUploadChecksum(null, "COMPOSITE"))).toBe("InvalidRequest");
    expect(code(() => parseUploadChecksum("SHA256", "FULL_OBJECT"))).toBe("InvalidRequest");
    expect(code(() => parseUploadChecksum("CRC64NVME", "COMPOSITE"))).toBe("InvalidRequest");
    expect(code(() => parseUploadChecksum("CRC32", "BOTH"))).toBe("InvalidRequest");
    expect(code(() => parseUploadChecksum("MD5", null))).toBe("InvalidRequest");
  });
});

describe("Complete document", () => {
  const doc = (inner: string) => `<?xml version="1.0"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</CompleteMultipartUpload>`;

  test("parts in request order, quotes removed, optional checksum", () => {
    expect(parseCompleteXml(doc(`<Part><PartNumber>1</PartNumber><ETag>"abc"</ETag></Part><Part><ETag>def</ETag><PartNumber>3</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>`))).toEqual([
      { partNumber: 1, etag: "abc" },
      { partNumber: 3, etag: "def", checksum: { algorithm: "CRC32", value: "AAAAAA==" } },
    ]);
  });

  test("shape errors are MalformedXML", () => {
    for (const bad of ["", "<CompleteMultipartUpload>", doc(""), doc("<Part><ETag>x</ETag></Part>"), doc("<Part><PartNumber>x</PartNumber><ETag>a</ETag></Part>"), doc("<Part><PartNumber>1</PartNumber></Part>"), `<Other><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Other>`]) {
      expect(code(() => parseCompleteXml(bad))).toBe("MalformedXML");
    }
  });
});

describe("checkCompleteParts", () => {
  const md5 = (s: string) => createHash("md5").update(s).digest("hex");
  const stored = new Map<number, StoredPart>([
    [1, { partNumber: 1, etag: md5("a"), size: MIN_PART_SIZE }],
    [2, { partNumber: 2, etag: md5("b"), size: 100 }],
    [3, { partNumber: 3, etag: md5("c"), size: 10 }],
  ]);

  test("returns the stored parts in order", () => {
    const out = checkCompleteParts([{ partNumber: 1, etag: md5("a") }, { partNumber: 3, etag: md5("c").toUpperCase() }], stored, undefined);
    expect(out.map((p) => p.partNumber)).toEqual([1, 3]);
  });

  test("order, existence, ETag and size", () => {
    expect(code(() => checkCompleteParts([{ partNumber: 2, etag: md5("b") }, { partNumber: 1, etag: md5("a") }], stored, undefined))).toBe("InvalidPartOrder");
    expect(code(() => checkCompleteParts([{ partNumber: 1, etag: md5("a") }, { partNumber: 1, etag: md5("a") }], stored, undefined))).toBe("InvalidPartOrder");
    expect(code(() => checkCompleteParts([{ partNumber: 4, etag: md5("a") }], stored, undefined))).toBe("InvalidPart");
    expect(code(() => checkCompleteParts([{ partNumber: 1, etag: md5("x") }], stored, undefined))).toBe("InvalidPart");
    expect(code(() => checkCompleteParts([{ partNumber: 2, etag: md5("b") }, { partNumber: 3, etag: md5("c") }], stored, undefined))).toBe("EntityTooSmall");
  });
});

describe("object ETag and checksums", () => {
  test("multipart ETag is the MD5 of the binary part MD5s with -N", () => {
    const parts = [randomBytes(100), randomBytes(50)];
    const md5s = parts.map((p) => createHash("md5").update(p).digest());
    expect(multipartEtag(md5s.map((m) => m.toString("hex")))).toBe(createHash("md5").update(Buffer.concat(md5s)).digest("hex") + "-2");
  });

  test("FULL_OBJECT CRC equals the CRC of the concatenation, for all three CRCs", () => {
    const a = randomBytes(1000);
    const b = randomBytes(333);
    const c = randomBytes(1);
    for (const alg of ["CRC32", "CRC32C", "CRC64NVME"] as const) {
      const parts = [a, b, c].map((d, i) => ({ partNumber: i + 1, etag: "", size: d.length, checksum: { algorithm: alg, value: computeChecksum(alg, d).toString("base64") } }));
      expect(objectChecksum({ algorithm: alg, type: "FULL_OBJECT" }, parts)).toBe(computeChecksum(alg, Buffer.concat([a, b, c])).toString("base64"));
    }
  });

  test("COMPOSITE hashes the part digests", () => {
    const a = randomBytes(10);
    const b = randomBytes(20);
    const da = computeChecksum("SHA1", a);
    const db = computeChecksum("SHA1", b);
    const parts = [
      { partNumber: 1, etag: "", size: 10, checksum: { algorithm: "SHA1" as const, value: da.toString("base64") } },
      { partNumber: 2, etag: "", size: 20, checksum: { algorithm: "SHA1" as const, value: db.toString("base64") } },
    ];
    expect(objectChecksum({ algorithm: "SHA1", type: "COMPOSITE" }, parts)).toBe(computeChecksum("SHA1", Buffer.concat([da, db])).toString("base64") + "-2");
    expect(code(() => objectChecksum({ algorithm: "CRC32", type: "COMPOSITE" }, parts))).toBe("InvalidPart");
    expect(sameObjectChecksum("abc=", "abc=-2")).toBe(true);
    expect(sameObjectChecksum("abd=-2", "abc=-2")).toBe(false);
  });
});

describe("paging", () => {
  const parts = [1, 2, 5, 9, 10].map((partNumber) => ({ partNumber }));
  test("ListParts", () => {
    const p1 = pageParts(parts, null, "2");
    expect([p1.parts.map((p) => p.partNumber), p1.isTruncated, p1.nextMarker]).toEqual([[1, 2], true, 2]);
    const p3 = pageParts(parts, "5", "2");
    expect([p3.parts.map((p) => p.partNumber), p3.isTruncated, p3.nextMarker]).toEqual([[9, 10], false, 10]);
    expect(pageParts(parts, null, "5000").maxParts).toBe(1000);
    expect(code(() => pageParts(parts, "x", null))).toBe("InvalidArgument");
    expect(code(() => pageParts(parts, null, "-1"))).toBe("InvalidArgument");
  });

  const ups = [
    { key: "b", uploadId: "2" },
    { key: "a/x", uploadId: "1" },
    { key: "a/y", uploadId: "3" },
    { key: "b", uploadId: "1" },
    { key: "c", uploadId: "9" },
  ];
  const q = { prefix: "", delimiter: "", keyMarker: "", uploadIdMarker: "", maxUploadsRaw: null as string | null };

  test("ListMultipartUploads order and markers", () => {
    const all = pageUploads(ups, q);
    expect(all.uploads.map((u) => `${u.key}:${u.uploadId}`)).toEqual(["a/x:1", "a/y:3", "b:1", "b:2", "c:9"]);
    const first = pageUploads(ups, { ...q, maxUploadsRaw: "3" });
    expect([first.isTruncated, first.nextKeyMarker, first.nextUploadIdMarker]).toEqual([true, "b", "1"]);
    const next = pageUploads(ups, { ...q, keyMarker: "b", uploadIdMarker: "1" });
    expect(next.uploads.map((u) => `${u.key}:${u.uploadId}`)).toEqual(["b:2", "c:9"]);
    // key-marker alone skips every upload of that key
    expect(pageUploads(ups, { ...q, keyMarker: "b" }).uploads.map((u) => u.key)).toEqual(["c"]);
    // upload-id-marker alone is ignored
    expect(pageUploads(ups, { ...q, uploadIdMarker: "5" }).uploads.length).toBe(5);
  });

  test("ListMultipartUploads delimiter and prefix", () => {
    const d = pageUploads(ups, { ...q, delimiter: "/" });
    expect(d.commonPrefixes).toEqual(["a/"]);
    expect(d.uploads.map((u) => u.key)).toEqual(["b", "b", "c"]);
    const paged = pageUploads(ups, { ...q, delimiter: "/", maxUploadsRaw: "1" });
    expect([paged.commonPrefixes, paged.nextKeyMarker, paged.nextUploadIdMarker]).toEqual([["a/"], "a/", undefined]);
    const after = pageUploads(ups, { ...q, delimiter: "/", keyMarker: "a/" });
    expect([after.commonPrefixes, after.uploads.length]).toEqual([[], 3]);
    expect(pageUploads(ups, { ...q, prefix: "a/" }).uploads.map((u) => u.key)).toEqual(["a/x", "a/y"]);
  });
});
