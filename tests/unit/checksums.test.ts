import { describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
// The AWS SDK's own pure-JS CRCs serve as an independent oracle: they are what clients use to
// compute the x-amz-checksum-* values this gateway must agree with.
import { Crc32Js, Crc32cJs, Crc64NvmeJs } from "@aws-sdk/checksums/crc";
import {
  CHECKSUM_ALGORITHMS,
  DIGEST_LENGTH,
  checksumHeader,
  combineCrc,
  computeChecksum,
  crcFromDigest,
  crcToDigest,
  createHasher,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from "../../src/checksums/index.ts";
import { crc32Table, update32 } from "../../src/checksums/crc.ts";
import { S3Error } from "../../src/errors.ts";

const CHECK = Buffer.from("123456789");
type Crc = "CRC32" | "CRC32C" | "CRC64NVME";
const CRCS: Crc[] = ["CRC32", "CRC32C", "CRC64NVME"];

async function oracle(alg: Crc, data: Uint8Array): Promise<Buffer> {
  const h = alg === "CRC32" ? new Crc32Js() : alg === "CRC32C" ? new Crc32cJs() : new Crc64NvmeJs();
  h.update(data);
  return Buffer.from(await h.digest());
}

// Feeds data in irregular pieces so every alignment of the word-at-a-time loops gets exercised.
function hashChunked(alg: ChecksumAlgorithm | "MD5", data: Uint8Array, seed: number): Buffer {
  const h = createHasher(alg);
  let off = 0;
  let s = seed;
  while (off < data.length) {
    s = (s * 1103515245 + 12345) >>> 0;
    const n = Math.min(data.length - off, s % 300);
    h.update(data.subarray(off, off + n));
    off += n;
  }
  return h.digest();
}

function crcOf(alg: Crc, data: Uint8Array): number | bigint {
  return crcFromDigest(computeChecksum(alg, data));
}

describe("check values", () => {
  test("CRC32 of 123456789 is 0xcbf43926", () => {
    expect(computeChecksum("CRC32", CHECK).toString("hex")).toBe("cbf43926");
  });
  test("CRC32C of 123456789 is 0xe3069283", () => {
    expect(computeChecksum("CRC32C", CHECK).toString("hex")).toBe("e3069283");
  });
  test("CRC64NVME of 123456789 is 0xae8b14860a799888", () => {
    expect(computeChecksum("CRC64NVME", CHECK).toString("hex")).toBe("ae8b14860a799888");
  });
  test("table CRC32 fallback matches the check value", () => {
    const v = ~update32(crc32Table(), 0xffffffff, CHECK) >>> 0;
    expect(v).toBe(0xcbf43926);
  });
  test("empty input digests are all zero bytes of the right width", () => {
    for (const alg of CRCS) {
      const d = createHasher(alg).digest();
      expect(d.length).toBe(DIGEST_LENGTH[alg]);
      expect(d.every((b) => b === 0)).toBe(true);
    }
  });
  test("matches the CRC32 Amazon S3 returned for the body 0123456789", () => {
    // Recorded from real S3 (ChecksumCRC32 in a GetObject response).
    expect(computeChecksum("CRC32", Buffer.from("0123456789")).toString("base64")).toBe("poTHxg==");
  });
  test("SHA1/SHA256/MD5 known vectors", () => {
    const abc = Buffer.from("abc");
    expect(computeChecksum("SHA1", abc).toString("hex")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(computeChecksum("SHA256", abc).toString("hex")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(computeChecksum("MD5", abc).toString("hex")).toBe("900150983cd24fb0d6963f7d28e17f72");
  });
});

describe("agreement with the AWS SDK on random data", () => {
  const sizes = [1, 3, 7, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1000, 4096 + 5, 65_537, 1_048_576 + 3];
  for (const alg of CRCS) {
    test(`${alg} one-shot and chunked, all sizes and alignments`, async () => {
      for (const size of sizes) {
        // Slice at an odd offset so the data does not start on a word boundary.
        const backing = randomBytes(size + 3);
        for (const start of [0, 1, 2, 3]) {
          const data = backing.subarray(start, start + size);
          if (data.length !== size) continue;
          const want = await oracle(alg, data);
          const one = computeChecksum(alg, data);
          expect(one.toString("base64")).toBe(want.toString("base64"));
          expect(hashChunked(alg, data, size + start).toString("base64")).toBe(want.toString("base64"));
        }
      }
    });
  }

  test("table CRC32 fallback agrees with the SDK", async () => {
    for (const size of sizes) {
      const data = randomBytes(size + 1).subarray(1);
      const v = ~update32(crc32Table(), 0xffffffff, data) >>> 0;
      expect(crcToDigest("CRC32", v).toString("base64")).toBe((await oracle("CRC32", data)).toString("base64"));
    }
  });

  test("SHA1/SHA256/MD5 chunked agree with one-shot node:crypto", () => {
    const data = randomBytes(200_003);
    for (const [alg, name] of [
      ["SHA1", "sha1"],
      ["SHA256", "sha256"],
      ["MD5", "md5"],
    ] as const) {
      const want = createHash(name).update(data).digest("base64");
      expect(hashChunked(alg, data, 7).toString("base64")).toBe(want);
    }
  });

  test("accepts a plain Uint8Array, not only Buffer", async () => {
    const data = new Uint8Array(randomBytes(1000));
    for (const alg of CRCS) {
      expect(computeChecksum(alg, data).equals(await oracle(alg, data))).toBe(true);
    }
  });
});

describe("combineCrc", () => {
  for (const alg of CRCS) {
    test(`${alg}: combine(crc A, crc B, len B) equals crc(A‖B)`, () => {
      const cases: Array<[number, number]> = [
        [0, 0],
        [0, 10],
        [10, 0],
        [1, 1],
        [5, 123],
        [4096, 4097],
        [100_000, 65_536],
        [1, 1_048_576 + 7],
      ];
      for (const [la, lb] of cases) {
        const a = randomBytes(la);
        const b = randomBytes(lb);
        const whole = crcOf(alg, Buffer.concat([a, b]));
        expect(combineCrc(alg, crcOf(alg, a), crcOf(alg, b), lb)).toBe(whole);
      }
    });

    test(`${alg}: folding many parts gives the full-object CRC`, () => {
      const parts = [17, 5000, 1, 70_000, 333].map((n) => randomBytes(n));
      let acc = crcOf(alg, parts[0]);
      for (const p of parts.slice(1)) acc = combineCrc(alg, acc, crcOf(alg, p), p.length);
      expect(acc).toBe(crcOf(alg, Buffer.concat(parts)));
    });

    test(`${alg}: lengths beyond 2^32 are handled (associativity)`, () => {
      // combine is M^n·a ⊕ b, so both groupings agree for any values when the lengths add up;
      // this exercises the high bits of the length without hashing gigabytes.
      const a = crcOf(alg, randomBytes(9));
      const b = crcOf(alg, randomBytes(9));
      const c = crcOf(alg, randomBytes(9));
      const n1 = 2 ** 32 + 12_345;
      const n2 = 3 * 2 ** 40 + 7;
      const left = combineCrc(alg, combineCrc(alg, a, b, n1), c, n2);
      const right = combineCrc(alg, a, combineCrc(alg, b, c, n2), n1 + n2);
      expect(left).toBe(right);
    });
  }

  test("works on digests from the wire via crcFromDigest/crcToDigest", async () => {
    const a = randomBytes(1234);
    const b = randomBytes(4321);
    for (const alg of CRCS) {
      const da = await oracle(alg, a);
      const db = await oracle(alg, b);
      const combined = crcToDigest(alg, combineCrc(alg, crcFromDigest(da), crcFromDigest(db), b.length));
      expect(combined.toString("base64")).toBe((await oracle(alg, Buffer.concat([a, b]))).toString("base64"));
    }
  });

  test("CRC64NVME accepts exact numbers and returns a bigint", () => {
    const r = combineCrc("CRC64NVME", 0, 0, 5);
    expect(typeof r).toBe("bigint");
    expect(r).toBe(0n);
  });

  test("rejects bad lengths and out-of-range values", () => {
    expect(() => combineCrc("CRC32", 1, 2, -1)).toThrow(RangeError);
    expect(() => combineCrc("CRC32", 1, 2, 1.5)).toThrow(RangeError);
    expect(() => combineCrc("CRC64NVME", -1n, 0n, 1)).toThrow(RangeError);
    expect(() => combineCrc("CRC64NVME", 1n << 64n, 0n, 1)).toThrow(RangeError);
    expect(() => combineCrc("CRC32", 2 ** 32, 0, 1)).toThrow(RangeError);
  });
});

describe("parseChecksumAlgorithm", () => {
  test("absent or empty means none", () => {
    expect(parseChecksumAlgorithm(undefined)).toBeUndefined();
    expect(parseChecksumAlgorithm(null)).toBeUndefined();
    expect(parseChecksumAlgorithm("")).toBeUndefined();
  });

  test("case-insensitive", () => {
    expect(parseChecksumAlgorithm("crc32")).toBe("CRC32");
    expect(parseChecksumAlgorithm("Crc32C")).toBe("CRC32C");
    expect(parseChecksumAlgorithm("crc64nvme")).toBe("CRC64NVME");
    expect(parseChecksumAlgorithm("sha1")).toBe("SHA1");
    expect(parseChecksumAlgorithm("SHA256")).toBe("SHA256");
    for (const a of CHECKSUM_ALGORITHMS) expect(parseChecksumAlgorithm(a)).toBe(a);
  });

  test("unknown values are InvalidRequest with S3's message", () => {
    for (const bad of ["MD5", "crc64", "sha512", "x"]) {
      let err: unknown;
      try {
        parseChecksumAlgorithm(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(S3Error);
      const s3 = err as S3Error;
      expect(s3.code).toBe("InvalidRequest");
      expect(s3.status).toBe(400);
      expect(s3.message).toBe(
        "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
      );
    }
  });
});

describe("helpers", () => {
  test("checksumHeader", () => {
    expect(checksumHeader("CRC32")).toBe("x-amz-checksum-crc32");
    expect(checksumHeader("CRC32C")).toBe("x-amz-checksum-crc32c");
    expect(checksumHeader("CRC64NVME")).toBe("x-amz-checksum-crc64nvme");
    expect(checksumHeader("SHA1")).toBe("x-amz-checksum-sha1");
    expect(checksumHeader("SHA256")).toBe("x-amz-checksum-sha256");
  });

  test("digest lengths", () => {
    for (const alg of [...CHECKSUM_ALGORITHMS, "MD5"] as const) {
      expect(computeChecksum(alg, CHECK).length).toBe(DIGEST_LENGTH[alg]);
    }
  });

  test("crcFromDigest / crcToDigest round-trip", () => {
    expect(crcFromDigest(Buffer.from("cbf43926", "hex"))).toBe(0xcbf43926);
    expect(crcFromDigest(Buffer.from("ae8b14860a799888", "hex"))).toBe(0xae8b14860a799888n);
    expect(crcToDigest("CRC32C", 0xe3069283).toString("hex")).toBe("e3069283");
    expect(crcToDigest("CRC64NVME", 0xae8b14860a799888n).toString("hex")).toBe("ae8b14860a799888");
    expect(() => crcFromDigest(new Uint8Array(5))).toThrow(RangeError);
  });
});
