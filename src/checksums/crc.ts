// Table-driven CRCs for the algorithms neither runtime ships natively (CRC32C, CRC64NVME), plus a
// CRC32 fallback for Node builds older than zlib.crc32. Uploads are hashed while they stream to
// disk, so these loops are written for the JIT: slicing-by-16 over 32-bit little-endian words read
// through an aligned Uint32Array view, and 64-bit state kept as two uint32 halves because BigInt
// arithmetic in the inner loop is two orders of magnitude slower.

/** Reflected CRC-32/ISO-HDLC polynomial (zlib, S3 "CRC32"). */
export const POLY_CRC32 = 0xedb88320;
/** Reflected CRC-32C (Castagnoli) polynomial. */
export const POLY_CRC32C = 0x82f63b78;
/** Reflected CRC-64/NVME polynomial, split because JS bit operations are 32-bit. */
export const POLY_CRC64NVME_HI = 0x9a6c9329;
export const POLY_CRC64NVME_LO = 0xac4bc9b5;

const SLICES = 16;

// Uint32Array views read in platform byte order; the word paths assume little-endian and fall
// back to bytewise processing elsewhere rather than byte-swapping every word.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Tables for a reflected 32-bit CRC: table k (at offset k*256) advances a byte through k more zero bytes. */
export function makeTables32(poly: number): Uint32Array {
  const t = new Uint32Array(SLICES * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i];
    for (let s = 1; s < SLICES; s++) {
      c = (c >>> 8) ^ t[c & 0xff];
      t[s * 256 + i] = c >>> 0;
    }
  }
  return t;
}

/**
 * Advances a reflected 32-bit CRC register (already pre-inverted by the caller) over `data`.
 * Returns the new register value as an unsigned 32-bit number.
 */
export function update32(t: Uint32Array, crc: number, data: Uint8Array): number {
  const len = data.length;
  let i = 0;
  if (LITTLE_ENDIAN && len >= 64) {
    // Bytewise until the absolute address is 4-aligned, since a Uint32Array view must be.
    const mis = (4 - (data.byteOffset & 3)) & 3;
    for (; i < mis; i++) crc = (crc >>> 8) ^ t[(crc ^ data[i]) & 0xff];
    const blocks = (len - i) >>> 4;
    const w = new Uint32Array(data.buffer, data.byteOffset + i, blocks << 2);
    for (let j = 0, n = blocks << 2; j < n; j += 4) {
      const a = crc ^ w[j];
      const b = w[j + 1];
      const c = w[j + 2];
      const d = w[j + 3];
      crc =
        t[3840 + (a & 0xff)] ^
        t[3584 + ((a >>> 8) & 0xff)] ^
        t[3328 + ((a >>> 16) & 0xff)] ^
        t[3072 + (a >>> 24)] ^
        t[2816 + (b & 0xff)] ^
        t[2560 + ((b >>> 8) & 0xff)] ^
        t[2304 + ((b >>> 16) & 0xff)] ^
        t[2048 + (b >>> 24)] ^
        t[1792 + (c & 0xff)] ^
        t[1536 + ((c >>> 8) & 0xff)] ^
        t[1280 + ((c >>> 16) & 0xff)] ^
        t[1024 + (c >>> 24)] ^
        t[768 + (d & 0xff)] ^
        t[512 + ((d >>> 8) & 0xff)] ^
        t[256 + ((d >>> 16) & 0xff)] ^
        t[d >>> 24];
    }
    i += blocks << 4;
  }
  for (; i < len; i++) crc = (crc >>> 8) ^ t[(crc ^ data[i]) & 0xff];
  return crc >>> 0;
}

/** Low and high halves of the 64-bit tables, laid out like makeTables32's. */
export interface Tables64 {
  lo: Uint32Array;
  hi: Uint32Array;
}

export function makeTables64(polyHi: number, polyLo: number): Tables64 {
  const lo = new Uint32Array(SLICES * 256);
  const hi = new Uint32Array(SLICES * 256);
  for (let i = 0; i < 256; i++) {
    let l = i;
    let h = 0;
    for (let k = 0; k < 8; k++) {
      const carry = l & 1;
      l = (l >>> 1) | ((h & 1) << 31);
      h = h >>> 1;
      if (carry) {
        l ^= polyLo;
        h ^= polyHi;
      }
    }
    lo[i] = l >>> 0;
    hi[i] = h >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    let l = lo[i];
    let h = hi[i];
    for (let s = 1; s < SLICES; s++) {
      const idx = l & 0xff;
      l = ((l >>> 8) | (h << 24)) ^ lo[idx];
      h = (h >>> 8) ^ hi[idx];
      lo[s * 256 + i] = l >>> 0;
      hi[s * 256 + i] = h >>> 0;
    }
  }
  return { lo, hi };
}

/** Mutable 64-bit register as uint32 halves; update64 writes the result back into it. */
export interface Reg64 {
  lo: number;
  hi: number;
}

export function update64(t: Tables64, reg: Reg64, data: Uint8Array): void {
  const TL = t.lo;
  const TH = t.hi;
  let lo = reg.lo;
  let hi = reg.hi;
  const len = data.length;
  let i = 0;
  if (LITTLE_ENDIAN && len >= 64) {
    const mis = (4 - (data.byteOffset & 3)) & 3;
    for (; i < mis; i++) {
      const idx = (lo ^ data[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TL[idx];
      hi = (hi >>> 8) ^ TH[idx];
    }
    const blocks = (len - i) >>> 4;
    const w = new Uint32Array(data.buffer, data.byteOffset + i, blocks << 2);
    for (let j = 0, n = blocks << 2; j < n; j += 4) {
      // The first 8 bytes are folded into the register; the next 8 are fresh input.
      const a = lo ^ w[j];
      const b = hi ^ w[j + 1];
      const c = w[j + 2];
      const d = w[j + 3];
      const i0 = 3840 + (a & 0xff);
      const i1 = 3584 + ((a >>> 8) & 0xff);
      const i2 = 3328 + ((a >>> 16) & 0xff);
      const i3 = 3072 + (a >>> 24);
      const i4 = 2816 + (b & 0xff);
      const i5 = 2560 + ((b >>> 8) & 0xff);
      const i6 = 2304 + ((b >>> 16) & 0xff);
      const i7 = 2048 + (b >>> 24);
      const i8 = 1792 + (c & 0xff);
      const i9 = 1536 + ((c >>> 8) & 0xff);
      const i10 = 1280 + ((c >>> 16) & 0xff);
      const i11 = 1024 + (c >>> 24);
      const i12 = 768 + (d & 0xff);
      const i13 = 512 + ((d >>> 8) & 0xff);
      const i14 = 256 + ((d >>> 16) & 0xff);
      const i15 = d >>> 24;
      lo =
        TL[i0] ^ TL[i1] ^ TL[i2] ^ TL[i3] ^ TL[i4] ^ TL[i5] ^ TL[i6] ^ TL[i7] ^
        TL[i8] ^ TL[i9] ^ TL[i10] ^ TL[i11] ^ TL[i12] ^ TL[i13] ^ TL[i14] ^ TL[i15];
      hi =
        TH[i0] ^ TH[i1] ^ TH[i2] ^ TH[i3] ^ TH[i4] ^ TH[i5] ^ TH[i6] ^ TH[i7] ^
        TH[i8] ^ TH[i9] ^ TH[i10] ^ TH[i11] ^ TH[i12] ^ TH[i13] ^ TH[i14] ^ TH[i15];
    }
    i += blocks << 4;
  }
  for (; i < len; i++) {
    const idx = (lo ^ data[i]) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ TL[idx];
    hi = (hi >>> 8) ^ TH[idx];
  }
  reg.lo = lo >>> 0;
  reg.hi = hi >>> 0;
}

let crc32Tables: Uint32Array | undefined;
let crc32cTables: Uint32Array | undefined;
let crc64Tables: Tables64 | undefined;

// Built on first use so importing the module for, say, SHA256 costs nothing.
export function crc32Table(): Uint32Array {
  return (crc32Tables ??= makeTables32(POLY_CRC32));
}
export function crc32cTable(): Uint32Array {
  return (crc32cTables ??= makeTables32(POLY_CRC32C));
}
export function crc64nvmeTable(): Tables64 {
  return (crc64Tables ??= makeTables64(POLY_CRC64NVME_HI, POLY_CRC64NVME_LO));
}
