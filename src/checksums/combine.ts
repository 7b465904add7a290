// CRC combination: crc(A‖B) from crc(A), crc(B) and len(B), so a multipart object's full-object
// CRC comes from the stored part CRCs without re-reading the data. This is zlib's crc32_combine
// idea: appending n zero bytes to a message is a linear map on the CRC register over GF(2), and
// with init = xorout = all-ones (true of CRC32, CRC32C and CRC64NVME) the constants cancel, so
// crc(A‖B) = zeros(len B)·crc(A) ⊕ crc(B). zlib rebuilds the matrices by repeated squaring on
// every call; here the operator for 2^k zero bytes is built once per k and cached, since a
// 10,000-part completion calls this 10,000 times with mostly the same bits set.

import { POLY_CRC32, POLY_CRC32C, POLY_CRC64NVME_HI, POLY_CRC64NVME_LO } from "./crc.ts";

export type CrcAlgorithm = "CRC32" | "CRC32C" | "CRC64NVME";

// A matrix is `width` rows of (lo, hi) uint32 pairs; row r is the image of register bit r.
type Matrix = Uint32Array;

interface Operators {
  width: number;
  /** powers[k] appends 2^k zero bytes. */
  powers: Matrix[];
}

function apply(m: Matrix, width: number, lo: number, hi: number, out: Uint32Array): void {
  let rl = 0;
  let rh = 0;
  for (let r = 0; r < width; r++) {
    const bit = r < 32 ? (lo >>> r) & 1 : (hi >>> (r - 32)) & 1;
    if (bit) {
      rl ^= m[2 * r];
      rh ^= m[2 * r + 1];
    }
  }
  out[0] = rl >>> 0;
  out[1] = rh >>> 0;
}

function square(m: Matrix, width: number): Matrix {
  const out = new Uint32Array(2 * width);
  const tmp = new Uint32Array(2);
  for (let r = 0; r < width; r++) {
    apply(m, width, m[2 * r], m[2 * r + 1], tmp);
    out[2 * r] = tmp[0];
    out[2 * r + 1] = tmp[1];
  }
  return out;
}

function makeOperators(width: number, polyHi: number, polyLo: number): Operators {
  // One zero bit shifts the reflected register right and folds the polynomial in when bit 0 was set.
  let m: Matrix = new Uint32Array(2 * width);
  m[0] = polyLo;
  m[1] = polyHi;
  for (let r = 1; r < width; r++) {
    const t = r - 1;
    if (t < 32) m[2 * r] = (1 << t) >>> 0;
    else m[2 * r + 1] = (1 << (t - 32)) >>> 0;
  }
  for (let i = 0; i < 3; i++) m = square(m, width); // 1 bit -> 8 bits
  return { width, powers: [m] };
}

const cache = new Map<CrcAlgorithm, Operators>();

function operators(alg: CrcAlgorithm): Operators {
  let ops = cache.get(alg);
  if (!ops) {
    if (alg === "CRC32") ops = makeOperators(32, 0, POLY_CRC32);
    else if (alg === "CRC32C") ops = makeOperators(32, 0, POLY_CRC32C);
    else ops = makeOperators(64, POLY_CRC64NVME_HI, POLY_CRC64NVME_LO);
    cache.set(alg, ops);
  }
  return ops;
}

function power(ops: Operators, k: number): Matrix {
  while (ops.powers.length <= k) {
    ops.powers.push(square(ops.powers[ops.powers.length - 1], ops.width));
  }
  return ops.powers[k];
}

/**
 * CRC of the concatenation A‖B given crc(A), crc(B) and the byte length of B.
 * CRC32/CRC32C values are unsigned 32-bit numbers; CRC64NVME values are unsigned 64-bit bigints
 * (a number is accepted for convenience when it is exact).
 */
export function combineCrc(alg: "CRC32" | "CRC32C", crcA: number, crcB: number, lenB: number): number;
export function combineCrc(alg: "CRC64NVME", crcA: bigint | number, crcB: bigint | number, lenB: number): bigint;
export function combineCrc(alg: CrcAlgorithm, crcA: bigint | number, crcB: bigint | number, lenB: number): bigint | number;
export function combineCrc(alg: CrcAlgorithm, crcA: bigint | number, crcB: bigint | number, lenB: number): bigint | number {
  if (!Number.isSafeInteger(lenB) || lenB < 0) throw new RangeError(`invalid length ${lenB}`);
  const ops = operators(alg);
  const a = split(crcA);
  const b = split(crcB);
  if (ops.width === 32 && (a[1] !== 0 || b[1] !== 0)) throw new RangeError("CRC value out of range");
  const v = new Uint32Array([a[0], a[1]]);
  // Walk the bits of lenB with division, since lengths above 2^32 are legitimate (5 TiB objects).
  let rest = lenB;
  for (let k = 0; rest > 0; k++) {
    if (rest % 2 === 1) apply(power(ops, k), ops.width, v[0], v[1], v);
    rest = Math.floor(rest / 2);
  }
  const lo = (v[0] ^ b[0]) >>> 0;
  const hi = (v[1] ^ b[1]) >>> 0;
  if (ops.width === 32) return lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function split(x: bigint | number): [number, number] {
  if (typeof x === "bigint") {
    if (x < 0n || x > 0xffff_ffff_ffff_ffffn) throw new RangeError("CRC value out of range");
    return [Number(x & 0xffff_ffffn), Number(x >> 32n)];
  }
  if (!Number.isSafeInteger(x) || x < 0) throw new RangeError("CRC value out of range");
  return [x % 0x1_0000_0000, Math.floor(x / 0x1_0000_0000)];
}
