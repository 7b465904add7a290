// Incremental hashers for the checksums S3 accepts in x-amz-checksum-* (and MD5 for ETags and
// Content-MD5). Each upload byte passes through one or two of these on its way to disk, so the
// fastest implementation on the running runtime is chosen once at load time; the measurements
// behind each choice sit next to it.

import { createHash, type Hash } from "node:crypto";
import * as zlib from "node:zlib";
import { S3Error } from "../errors.ts";
import { crc32Table, crc32cTable, crc64nvmeTable, update32, update64, type Reg64 } from "./crc.ts";

export { combineCrc, type CrcAlgorithm } from "./combine.ts";

export type ChecksumAlgorithm = "CRC32" | "CRC32C" | "CRC64NVME" | "SHA1" | "SHA256";

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = Object.freeze([
  "CRC32",
  "CRC32C",
  "CRC64NVME",
  "SHA1",
  "SHA256",
]);

/** Digest length in bytes, for validating a client-supplied base64 value before comparing. */
export const DIGEST_LENGTH: Readonly<Record<ChecksumAlgorithm | "MD5", number>> = Object.freeze({
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
  MD5: 16,
});

/** Whether `value` is the canonical base64 of a digest of `alg`'s length. */
export function isDigest(alg: ChecksumAlgorithm, value: string): boolean {
  const b = Buffer.from(value, "base64");
  return b.length === DIGEST_LENGTH[alg] && b.toString("base64") === value;
}

/**
 * Parses x-amz-checksum-algorithm / x-amz-sdk-checksum-algorithm. Absent or empty means "none";
 * anything unrecognised is rejected with the message S3 uses, listing what this gateway supports.
 */
export function parseChecksumAlgorithm(s: string | null | undefined): ChecksumAlgorithm | undefined {
  if (s == null) return undefined;
  const v = s.trim().toUpperCase();
  if (v === "") return undefined;
  if ((CHECKSUM_ALGORITHMS as readonly string[]).includes(v)) return v as ChecksumAlgorithm;
  throw new S3Error(
    "InvalidRequest",
    `Checksum algorithm provided is unsupported. Please try again with any of the valid types: [${CHECKSUM_ALGORITHMS.join(", ")}]`,
  );
}

/** XML element carrying the base64 digest, e.g. ChecksumCRC32. */
export const checksumField = (alg: ChecksumAlgorithm) => `Checksum${alg}`;

/** Response/request header carrying the base64 digest, e.g. x-amz-checksum-crc32. */
export function checksumHeader(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

export interface Hasher {
  update(data: Uint8Array): void;
  /** Big-endian digest bytes as S3 base64-encodes them. Call once; the SHA/MD5 hashers finalize. */
  digest(): Buffer;
}

export function createHasher(alg: ChecksumAlgorithm | "MD5"): Hasher {
  switch (alg) {
    case "CRC32":
      return new Crc32Hasher();
    case "CRC32C":
      return new Crc32cHasher();
    case "CRC64NVME":
      return new Crc64NvmeHasher();
    case "SHA1":
      return new CryptoHasher("sha1");
    case "SHA256":
      return new CryptoHasher("sha256");
    case "MD5":
      return new CryptoHasher("md5");
    default:
      throw new TypeError(`unknown checksum algorithm ${String(alg)}`);
  }
}

/** One-shot convenience over createHasher. */
export function computeChecksum(alg: ChecksumAlgorithm | "MD5", data: Uint8Array): Buffer {
  const h = createHasher(alg);
  h.update(data);
  return h.digest();
}

/** Reads a 4- or 8-byte CRC digest back into the value combineCrc works on. */
export function crcFromDigest(digest: Uint8Array): number | bigint {
  const b = Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength);
  if (b.length === 4) return b.readUInt32BE(0);
  if (b.length === 8) return b.readBigUInt64BE(0);
  throw new RangeError(`CRC digest must be 4 or 8 bytes, got ${b.length}`);
}

/** Inverse of crcFromDigest for the given algorithm's width. */
export function crcToDigest(alg: "CRC32" | "CRC32C" | "CRC64NVME", value: number | bigint): Buffer {
  if (alg === "CRC64NVME") {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(BigInt(value), 0);
    return b;
  }
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(Number(value) >>> 0, 0);
  return b;
}

// --- CRC32 -----------------------------------------------------------------------------------

type Crc32Fn = (data: Uint8Array, seed: number) => number;

// Measured on the 2-core dev box, 256 MiB in 1 MiB updates: on Bun 1.4.5 Bun.hash.crc32 and
// Bun's zlib.crc32 both run ~12.7 GB/s, on Node 20.20 zlib.crc32 ~3.5 GB/s,
// against ~1.5-1.8 GB/s for the table code, which therefore only serves Node builds before 20.15.
// Bun.hash is taken first because it does not depend on Bun's node:zlib shim keeping crc32.
const nativeCrc32: Crc32Fn | undefined = (() => {
  if (typeof Bun !== "undefined" && typeof Bun.hash?.crc32 === "function") {
    return (data: Uint8Array, seed: number) => Bun.hash.crc32(data, seed);
  }
  const z = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (typeof z === "function") return (data: Uint8Array, seed: number) => z(data, seed);
  return undefined;
})();

class Crc32Hasher implements Hasher {
  // Native APIs take and return the finished CRC (they invert internally), the table code works
  // on the raw register; `crc` holds whichever form the active path needs.
  private crc = nativeCrc32 ? 0 : 0xffffffff;

  update(data: Uint8Array): void {
    if (data.length === 0) return;
    this.crc = nativeCrc32 ? nativeCrc32(data, this.crc) >>> 0 : update32(crc32Table(), this.crc, data);
  }

  digest(): Buffer {
    const v = nativeCrc32 ? this.crc : ~this.crc >>> 0;
    return crcToDigest("CRC32", v);
  }
}

// --- CRC32C / CRC64NVME --------------------------------------------------------------------------

class Crc32cHasher implements Hasher {
  private crc = 0xffffffff;
  private readonly table = crc32cTable();

  update(data: Uint8Array): void {
    this.crc = update32(this.table, this.crc, data);
  }

  digest(): Buffer {
    return crcToDigest("CRC32C", ~this.crc >>> 0);
  }
}

class Crc64NvmeHasher implements Hasher {
  private readonly reg: Reg64 = { lo: 0xffffffff, hi: 0xffffffff };
  private readonly table = crc64nvmeTable();

  update(data: Uint8Array): void {
    update64(this.table, this.reg, data);
  }

  digest(): Buffer {
    const b = Buffer.allocUnsafe(8);
    b.writeUInt32BE(~this.reg.hi >>> 0, 0);
    b.writeUInt32BE(~this.reg.lo >>> 0, 4);
    return b;
  }
}

// --- SHA1 / SHA256 / MD5 ---------------------------------------------------------------------

// node:crypto's createHash serves both runtimes: on Bun 1.4.5 it measured within 3% of
// Bun.CryptoHasher (SHA1 ~1.6 GB/s, SHA256 ~1.45 GB/s, MD5 ~0.63 GB/s), so a Bun-only path
// would add code without adding speed.
class CryptoHasher implements Hasher {
  private readonly h: Hash;

  constructor(name: "sha1" | "sha256" | "md5") {
    this.h = createHash(name);
  }

  update(data: Uint8Array): void {
    this.h.update(data);
  }

  digest(): Buffer {
    return this.h.digest();
  }
}
