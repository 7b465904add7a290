// Streaming decoder for `Content-Encoding: aws-chunked` bodies.
//
// Wire format (AWS "Transferring Payload in Multiple Chunks" and "Including Trailing Headers"):
//
//   signed:    <hex-size>;chunk-signature=<64 hex>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n
//   unsigned:  <hex-size>[;ext]\r\n<data>\r\n ... 0\r\n
//   then       \r\n                                           (no trailer)
//   or         name:value\r\n ... [x-amz-trailer-signature:<sig>\r\n] \r\n
//
// Tolerated variants, all seen from real clients or in AWS's own examples:
//   - a blank line between the 0-chunk and the trailer lines;
//   - the stream ending right after `0\r\n` (the JS SDK does this when it sends no checksum);
//   - the stream ending right after the last trailer line without the closing blank line.
// None of these weakens verification: chunk signatures are checked as chunks complete and the
// trailer signature when the stream ends.
//
// Memory: unsigned data is passed straight through as subarrays of the input. Signed data is held
// back until its chunk's signature verifies (so forged bytes never reach the sink), which bounds
// the buffer at one chunk; `maxChunkSize` caps what a client can make us hold.
//
// Errors: a stream that ends early, or whose decoded length differs from
// x-amz-decoded-content-length, fails with IncompleteBody (S3's code for a short body); framing that
// cannot be parsed fails with InvalidRequest; a bad chunk or trailer signature with
// SignatureDoesNotMatch; a short non-final signed chunk with InvalidChunkSizeError.

import { createHash, type Hash } from "node:crypto";
import { Buffer } from "node:buffer";
import { S3Error } from "../errors.ts";
import { hmacHex, sha256Hex, signaturesEqual } from "./keys.ts";
import { EMPTY_SHA256 } from "./types.ts";
import type { BodyReader, BodySource } from "../storage/types.ts";

export type ChunkedMode = "streaming-signed" | "streaming-signed-trailer" | "streaming-unsigned-trailer";

export interface ChunkSigningContext {
  signingKey: Uint8Array;
  seedSignature: string;
  scope: string;
  amzDate: string;
}

export interface ChunkedDecoderOptions {
  mode: ChunkedMode;
  /** Required for the signed modes. */
  auth?: ChunkSigningContext;
  /** When known (x-amz-decoded-content-length), the decoded body must have exactly this length. */
  decodedContentLength?: number;
  /** Largest signed chunk we agree to buffer. SDKs use 64–128 KiB. */
  maxChunkSize?: number;
}

export interface ChunkedDecoder {
  /**
   * The decoded body of `source` (which the decoder takes over). Each read of it reads the source
   * and decodes in place, with no stream machinery in between: a 1 GiB upload is ~16k reads, and a
   * TransformStream's pipe cost more CPU than the decoding itself (docs/PERFORMANCE.md).
   */
  decode(source: BodySource): BodySource;
  /** Lowercased trailer names to values; settles when the body has been fully decoded. */
  trailers: Promise<Map<string, string>>;
}

const CR = 13;
const LF = 10;
const MAX_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
const DEFAULT_MAX_CHUNK = 16 * 1024 * 1024;
/** S3: "Only the last chunk is allowed to have a size less than 8192 bytes" (signed streaming). */
const MIN_SIGNED_CHUNK = 8192;

type State =
  | "size" // reading a chunk-size line
  | "data" // reading chunk data
  | "data-crlf" // expecting the CRLF after chunk data
  | "trailer-start" // after the 0-chunk line
  | "after-blank" // a blank line followed the 0-chunk: either the end or AWS's blank-then-trailers form
  | "trailer" // reading trailer lines
  | "done";

function malformed(detail: string): S3Error {
  return new S3Error("InvalidRequest", `Malformed aws-chunked body: ${detail}.`);
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export function chunkStringToSign(amzDate: string, scope: string, previousSignature: string, chunkSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256Hex}`;
}

export function trailerStringToSign(amzDate: string, scope: string, previousSignature: string, canonicalTrailers: string): string {
  const hash = sha256Hex(canonicalTrailers);
  return `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previousSignature}\n${hash}`;
}

export function createChunkedDecoder(opts: ChunkedDecoderOptions): ChunkedDecoder {
  const signed = opts.mode !== "streaming-unsigned-trailer";
  const auth = opts.auth;
  if (signed && !auth) throw new TypeError(`createChunkedDecoder: mode ${opts.mode} needs auth`);
  const maxChunk = opts.maxChunkSize ?? DEFAULT_MAX_CHUNK;
  const expectedTotal = opts.decodedContentLength;

  let resolveTrailers!: (m: Map<string, string>) => void;
  let rejectTrailers!: (e: unknown) => void;
  const trailers = new Promise<Map<string, string>>((res, rej) => {
    resolveTrailers = res;
    rejectTrailers = rej;
  });
  // Nobody is obliged to await the trailers; an unobserved rejection must not crash the process.
  trailers.catch(() => {});

  let state: State = "size";
  let previousSignature = auth?.seedSignature.toLowerCase() ?? "";

  // Partial line carried across reads; only header/trailer lines go through here, never data.
  let linePieces: Buffer[] = [];
  let lineLength = 0;

  // Current chunk.
  let remaining = 0;
  let chunkSize = 0;
  let chunkSignature = "";
  let hasher: Hash | null = null;
  let held: Buffer[] = [];
  let crlfSeen = 0;
  let shortChunkSeen = false;

  let total = 0;
  const trailerMap = new Map<string, string>();
  let canonicalTrailers = "";
  let trailerSignature: string | null = null;
  let trailerBytes = 0;

  /** Returns the next complete line (without CRLF) or null, consuming from buf at *pos. */
  function readLine(buf: Buffer, pos: { i: number }): string | null {
    const lf = buf.indexOf(LF, pos.i);
    if (lf === -1) {
      const piece = buf.subarray(pos.i);
      lineLength += piece.length;
      if (lineLength > MAX_LINE) throw malformed("line too long");
      // Copy the (tiny) piece so a partial line does not pin a whole input buffer.
      if (piece.length > 0) linePieces.push(Buffer.from(piece));
      pos.i = buf.length;
      return null;
    }
    const tail = buf.subarray(pos.i, lf);
    pos.i = lf + 1;
    let line: Buffer;
    if (linePieces.length === 0) line = tail;
    else {
      linePieces.push(tail);
      line = Buffer.concat(linePieces);
      linePieces = [];
    }
    lineLength = 0;
    if (line.length > MAX_LINE) throw malformed("line too long");
    if (line.length === 0 || line[line.length - 1] !== CR) throw malformed("line not terminated by CRLF");
    return line.toString("latin1", 0, line.length - 1);
  }

  function startChunk(line: string): void {
    const semi = line.indexOf(";");
    const sizeText = (semi === -1 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,13}$/.test(sizeText)) throw malformed("invalid chunk size");
    const size = parseInt(sizeText, 16);
    let signature = "";
    if (semi !== -1) {
      for (const ext of line.slice(semi + 1).split(";")) {
        const eq = ext.indexOf("=");
        const name = (eq === -1 ? ext : ext.slice(0, eq)).trim();
        if (name === "chunk-signature") signature = eq === -1 ? "" : ext.slice(eq + 1).trim();
      }
    }
    if (signed) {
      if (!/^[0-9a-fA-F]{64}$/.test(signature)) throw malformed("missing or invalid chunk-signature");
      if (size > maxChunk) throw new S3Error("InvalidRequest", `Chunk size ${size} exceeds the maximum of ${maxChunk} bytes.`);
      if (size > 0) {
        if (shortChunkSeen) throw new S3Error("InvalidChunkSizeError");
        if (size < MIN_SIGNED_CHUNK) shortChunkSeen = true;
      }
    }
    if (expectedTotal !== undefined && total + size > expectedTotal) {
      throw new S3Error("IncompleteBody", "The decoded body is longer than x-amz-decoded-content-length.");
    }
    chunkSize = size;
    remaining = size;
    chunkSignature = signature.toLowerCase();
    if (size === 0) {
      finishChunk(null);
      if (expectedTotal !== undefined && total !== expectedTotal) {
        throw new S3Error("IncompleteBody", "The decoded body is shorter than x-amz-decoded-content-length.");
      }
      state = "trailer-start";
      return;
    }
    if (signed) hasher = createHash("sha256");
    state = "data";
  }

  /** Verifies the completed chunk (signed modes) and releases its held data. */
  function finishChunk(emit: ((piece: Uint8Array) => void) | null): void {
    if (signed) {
      const digest = chunkSize === 0 ? EMPTY_SHA256 : hasher!.digest("hex");
      hasher = null;
      const sts = chunkStringToSign(auth!.amzDate, auth!.scope, previousSignature, digest);
      const expected = hmacHex(auth!.signingKey, sts);
      if (!signaturesEqual(expected, chunkSignature)) {
        held = [];
        throw new S3Error("SignatureDoesNotMatch", "The chunk signature we calculated does not match the signature you provided.");
      }
      previousSignature = expected;
      if (emit) for (const piece of held) emit(piece);
      held = [];
    }
    total += chunkSize;
  }

  function trailerLine(line: string): void {
    // Without a -TRAILER payload declaration the trailers would be unsigned and unannounced.
    if (opts.mode === "streaming-signed") throw malformed("trailing headers need a -TRAILER x-amz-content-sha256");
    trailerBytes += line.length + 2;
    if (trailerBytes > MAX_TRAILER_BYTES) throw malformed("trailer section too large");
    const colon = line.indexOf(":");
    if (colon <= 0) throw malformed("invalid trailer line");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "") throw malformed("invalid trailer line");
    if (name === "x-amz-trailer-signature") {
      trailerSignature = value.toLowerCase();
      return;
    }
    if (trailerSignature !== null) throw malformed("trailer after x-amz-trailer-signature");
    trailerMap.set(name, value);
    canonicalTrailers += `${name}:${value}\n`;
  }

  function finishTrailers(): void {
    if (opts.mode === "streaming-signed-trailer" && trailerMap.size > 0) {
      if (trailerSignature === null) {
        throw new S3Error("SignatureDoesNotMatch", "The trailing headers are not signed (x-amz-trailer-signature is missing).");
      }
      const sts = trailerStringToSign(auth!.amzDate, auth!.scope, previousSignature, canonicalTrailers);
      const expected = hmacHex(auth!.signingKey, sts);
      if (!signaturesEqual(expected, trailerSignature)) {
        throw new S3Error("SignatureDoesNotMatch", "The trailer signature we calculated does not match the signature you provided.");
      }
    }
    state = "done";
  }

  function process(input: Uint8Array, emit: (piece: Uint8Array) => void): void {
    const buf = toBuffer(input);
    const pos = { i: 0 };
    while (pos.i < buf.length) {
      switch (state) {
        case "size": {
          const line = readLine(buf, pos);
          if (line !== null) startChunk(line);
          break;
        }
        case "data": {
          const take = Math.min(remaining, buf.length - pos.i);
          const piece = buf.subarray(pos.i, pos.i + take);
          pos.i += take;
          remaining -= take;
          if (signed) {
            hasher!.update(piece);
            // Held by reference: stream producers hand over fresh buffers, so no copy is needed.
            held.push(piece);
          } else {
            emit(piece);
          }
          if (remaining === 0) {
            finishChunk(emit);
            state = "data-crlf";
            crlfSeen = 0;
          }
          break;
        }
        case "data-crlf": {
          const want = crlfSeen === 0 ? CR : LF;
          if (buf[pos.i] !== want) throw malformed("chunk data not followed by CRLF");
          pos.i++;
          if (++crlfSeen === 2) state = "size";
          break;
        }
        case "trailer-start":
        case "after-blank":
        case "trailer": {
          const line = readLine(buf, pos);
          if (line === null) break;
          if (line === "") {
            if (state === "trailer-start") state = "after-blank";
            else finishTrailers();
          } else {
            trailerLine(line);
            state = "trailer";
          }
          break;
        }
        case "done":
          throw malformed("data after the end of the body");
      }
    }
  }

  /** The source ended: the body must be complete. */
  function end(): void {
    const lineEmpty = lineLength === 0 && linePieces.length === 0;
    if (lineEmpty && (state === "trailer-start" || state === "after-blank" || state === "trailer")) {
      finishTrailers();
    }
    if (state !== "done") throw new S3Error("IncompleteBody");
    resolveTrailers(trailerMap);
  }

  function decode(source: BodySource): BodySource {
    const input = source.getReader();
    // Decoded pieces of the last source chunk not yet read (subarrays of it, no copies).
    let ready: Uint8Array[] = [];
    let next = 0;
    let ended = false;
    let failure: unknown = null;
    const emit = (piece: Uint8Array) => {
      ready.push(piece);
    };
    const reader: BodyReader = {
      async read() {
        for (;;) {
          if (next < ready.length) {
            const value = ready[next++];
            if (next === ready.length) {
              ready = [];
              next = 0;
            }
            return { done: false, value };
          }
          if (failure !== null) throw failure;
          if (ended) return { done: true, value: undefined };
          try {
            const got = await input.read();
            if (got.done) {
              ended = true;
              end();
            } else process(got.value, emit);
          } catch (e) {
            // Pieces decoded (and verified) before the failure are still read first, as a
            // stream would give them.
            failure = e;
            rejectTrailers(e);
          }
        }
      },
      releaseLock: () => input.releaseLock(),
      cancel: (reason) => input.cancel(reason),
    };
    return { getReader: () => reader };
  }

  return { decode, trailers };
}
