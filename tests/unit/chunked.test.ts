import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { Buffer } from "node:buffer";
import { S3Error } from "../../src/errors.ts";
import { createChunkedDecoder, chunkStringToSign, trailerStringToSign, type ChunkedDecoderOptions } from "../../src/auth/chunked.ts";
import { deriveSigningKey, sha256Hex } from "../../src/auth/keys.ts";
import { verifyRequest } from "../../src/auth/verify.ts";

// AWS's chunked upload example (S3 API reference, "Signature Calculations for the Authorization
// Header: Transferring Payload in Multiple Chunks"): 65536 + 1024 bytes of 'a'.
const SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const AMZ_DATE = "20130524T000000Z";
const SCOPE = "20130524/us-east-1/s3/aws4_request";
const KEY = deriveSigningKey(SK, "20130524", "us-east-1", "s3");
const SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const SIGS = [
  "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
  "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
  "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
];
const DATA = Buffer.alloc(66560, "a");

function exampleBody(sigs = SIGS, data: Buffer = DATA): Buffer {
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`),
    data.subarray(0, 65536),
    Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`),
    data.subarray(65536),
    Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n\r\n`),
  ]);
}

interface RunResult {
  output: Buffer;
  error: unknown;
  trailers: Map<string, string> | undefined;
  trailersError: unknown;
}

/** A source that hands over `pieces` one per read, then ends (or fails, when `fail` is given). */
function source(pieces: Uint8Array[], fail?: Error): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < pieces.length) c.enqueue(pieces[i++]);
      else if (fail) c.error(fail);
      else c.close();
    },
  });
}

async function run(pieces: Uint8Array[], opts: ChunkedDecoderOptions, fail?: Error): Promise<RunResult> {
  const { decode, trailers } = createChunkedDecoder(opts);
  const out: Buffer[] = [];
  const reader = decode(source(pieces, fail)).getReader();
  let error: unknown;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out.push(Buffer.from(value));
    }
  } catch (e) {
    error = e;
  }
  let t: Map<string, string> | undefined;
  let trailersError: unknown;
  try {
    t = await trailers;
  } catch (e) {
    trailersError = e;
  }
  return { output: Buffer.concat(out), error, trailers: t, trailersError };
}

function split(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

function randomSplit(buf: Buffer, seed: number): Buffer[] {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 7 : 9000));
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

const signedOpts = (over: Partial<ChunkedDecoderOptions> = {}): ChunkedDecoderOptions => ({
  mode: "streaming-signed",
  auth: { signingKey: KEY, seedSignature: SEED, scope: SCOPE, amzDate: AMZ_DATE },
  ...over,
});

function code(e: unknown): string {
  return e instanceof S3Error ? e.code : String(e);
}

describe("AWS chunked upload example", () => {
  test("seed signature verifies from the documented request", () => {
    const headers = new Headers({
      host: "s3.amazonaws.com",
      "x-amz-date": AMZ_DATE,
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": "66560",
      "content-length": "66824",
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class," +
        `Signature=${SEED}`,
    });
    const r = verifyRequest(
      { method: "PUT", url: "/examplebucket/chunkObject.txt", headers },
      { lookupSecret: () => SK, now: new Date("2013-05-24T00:00:00Z"), region: "us-east-1" },
    );
    expect(r.payload).toBe("streaming-signed");
    expect(r.seedSignature).toBe(SEED);
    expect(r.decodedContentLength).toBe(66560);
    expect(exampleBody().length).toBe(66824);
  });

  test("chunk signatures match the documented ones", () => {
    let prev = SEED;
    for (const [i, data] of [DATA.subarray(0, 65536), DATA.subarray(65536), Buffer.alloc(0)].entries()) {
      const sig = createHmac("sha256", KEY).update(chunkStringToSign(AMZ_DATE, SCOPE, prev, sha256Hex(data))).digest("hex");
      expect(sig).toBe(SIGS[i]);
      prev = sig;
    }
  });

  test("decodes in one piece", async () => {
    const r = await run([exampleBody()], signedOpts({ decodedContentLength: 66560 }));
    expect(r.error).toBeUndefined();
    expect(r.output.equals(DATA)).toBe(true);
    expect(r.trailers?.size).toBe(0);
  });

  test("decodes with 1-byte splits", async () => {
    const r = await run(split(exampleBody(), 1), signedOpts());
    expect(r.error).toBeUndefined();
    expect(r.output.equals(DATA)).toBe(true);
  });

  test("decodes with random splits", async () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const r = await run(randomSplit(exampleBody(), seed), signedOpts());
      expect(r.error).toBeUndefined();
      expect(r.output.equals(DATA)).toBe(true);
    }
  });

  test("tampered second chunk: SignatureDoesNotMatch and its data never emitted", async () => {
    const data = Buffer.from(DATA);
    data[65536 + 10] = 0x62;
    for (const pieces of [[exampleBody(SIGS, data)], split(exampleBody(SIGS, data), 1000)]) {
      const r = await run(pieces, signedOpts());
      expect(code(r.error)).toBe("SignatureDoesNotMatch");
      expect(code(r.trailersError)).toBe("SignatureDoesNotMatch");
      expect(r.output.length).toBe(65536);
      expect(r.output.includes(0x62)).toBe(false);
    }
  });

  test("tampered first chunk: nothing emitted", async () => {
    const data = Buffer.from(DATA);
    data[5] = 0x62;
    const r = await run(split(exampleBody(SIGS, data), 4096), signedOpts());
    expect(code(r.error)).toBe("SignatureDoesNotMatch");
    expect(r.output.length).toBe(0);
  });

  test("tampered final chunk signature", async () => {
    const r = await run([exampleBody([SIGS[0], SIGS[1], "0".repeat(64)])], signedOpts());
    expect(code(r.error)).toBe("SignatureDoesNotMatch");
  });

  test("reordered chunks fail (signatures chain)", async () => {
    const body = Buffer.concat([
      Buffer.from(`400;chunk-signature=${SIGS[1]}\r\n`),
      DATA.subarray(0, 1024),
      Buffer.from(`\r\n0;chunk-signature=${SIGS[2]}\r\n\r\n`),
    ]);
    const r = await run([body], signedOpts());
    expect(code(r.error)).toBe("SignatureDoesNotMatch");
  });

  test("truncated body: IncompleteBody", async () => {
    const body = exampleBody();
    for (const cut of [10, 100, 65536, 65536 + 50, body.length - 3]) {
      const r = await run([body.subarray(0, cut)], signedOpts());
      expect(code(r.error)).toBe("IncompleteBody");
      expect(code(r.trailersError)).toBe("IncompleteBody");
      expect(r.output.length).toBeLessThanOrEqual(65536 + 1024);
    }
    // Ending right after the verified 0-chunk line (no closing blank line) is tolerated.
    const r = await run([body.subarray(0, body.length - 2)], signedOpts());
    expect(r.error).toBeUndefined();
    expect(r.output.equals(DATA)).toBe(true);
  });

  test("decoded length must match", async () => {
    expect(code((await run([exampleBody()], signedOpts({ decodedContentLength: 66561 }))).error)).toBe("IncompleteBody");
    expect(code((await run([exampleBody()], signedOpts({ decodedContentLength: 1000 }))).error)).toBe("IncompleteBody");
  });

  test("malformed framing", async () => {
    const bad = [
      "zz;chunk-signature=" + SIGS[0] + "\r\n",
      "10000\r\n",
      "10000;chunk-signature=abc\r\n",
      "10000;chunk-signature=" + SIGS[0] + "\n",
    ];
    for (const b of bad) {
      const r = await run([Buffer.from(b)], signedOpts());
      expect(code(r.error)).toBe("InvalidRequest");
    }
    const noCrlf = Buffer.from(exampleBody());
    noCrlf[noCrlf.indexOf("\r\n400;")] = 0x58;
    expect(code((await run([noCrlf], signedOpts())).error)).toBe("InvalidRequest");
    // Trailers are refused unless the request declared a -TRAILER payload.
    const trailer = Buffer.concat([exampleBody(), Buffer.from("x-amz-checksum-crc32:AAAAAA==\r\n\r\n")]);
    expect(code((await run([trailer], signedOpts())).error)).toBe("InvalidRequest");
    const afterEnd = Buffer.from("0\r\n\r\n\r\nmore");
    expect(code((await run([afterEnd], { mode: "streaming-unsigned-trailer" })).error)).toBe("InvalidRequest");
  });

  test("a short chunk may only be the last data chunk", async () => {
    let prev = SEED;
    const sign = (d: Buffer) => {
      prev = createHmac("sha256", KEY).update(chunkStringToSign(AMZ_DATE, SCOPE, prev, sha256Hex(d))).digest("hex");
      return prev;
    };
    const a = Buffer.alloc(100, "x");
    const body = Buffer.concat([
      Buffer.from(`64;chunk-signature=${sign(a)}\r\n`), a, Buffer.from("\r\n"),
      Buffer.from(`64;chunk-signature=${sign(a)}\r\n`), a, Buffer.from("\r\n"),
      Buffer.from(`0;chunk-signature=${sign(Buffer.alloc(0))}\r\n\r\n`),
    ]);
    expect(code((await run([body], signedOpts())).error)).toBe("InvalidChunkSizeError");
  });
});

describe("signed trailer (AWS 'Including Trailing Headers' example)", () => {
  // Same data, a different seed because the request declares the trailer.
  const seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
  const sigs = [
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
  ];
  const trailerSig = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";
  const body = (trailer: string, blankFirst = false) =>
    Buffer.concat([
      Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`),
      DATA.subarray(0, 65536),
      Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`),
      DATA.subarray(65536),
      Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n${blankFirst ? "\r\n" : ""}${trailer}`),
    ]);
  const opts = (): ChunkedDecoderOptions => ({
    mode: "streaming-signed-trailer",
    auth: { signingKey: KEY, seedSignature: seed, scope: SCOPE, amzDate: AMZ_DATE },
    decodedContentLength: 66560,
  });
  const goodTrailer = `x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:${trailerSig}\r\n\r\n`;

  test("seed signature verifies from the documented request", () => {
    const headers = new Headers({
      host: "s3.amazonaws.com",
      "x-amz-date": AMZ_DATE,
      "x-amz-storage-class": "REDUCED_REDUNDANCY",
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": "66560",
      "x-amz-trailer": "x-amz-checksum-crc32c",
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
        "SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer," +
        `Signature=${seed}`,
    });
    const r = verifyRequest(
      { method: "PUT", url: "/examplebucket/chunkObject.txt", headers },
      { lookupSecret: () => SK, now: new Date("2013-05-24T00:00:00Z"), region: "us-east-1" },
    );
    expect(r.payload).toBe("streaming-signed-trailer");
    expect(r.seedSignature).toBe(seed);
  });

  test("the documented trailer signature is over `name:value\\n`", () => {
    const sts = trailerStringToSign(AMZ_DATE, SCOPE, sigs[2], "x-amz-checksum-crc32c:sOO8/Q==\n");
    expect(createHmac("sha256", KEY).update(sts).digest("hex")).toBe(trailerSig);
  });

  test("decodes and returns the trailer", async () => {
    for (const pieces of [[body(goodTrailer)], split(body(goodTrailer), 1), randomSplit(body(goodTrailer), 7)]) {
      const r = await run(pieces, opts());
      expect(r.error).toBeUndefined();
      expect(r.output.equals(DATA)).toBe(true);
      expect([...r.trailers!]).toEqual([["x-amz-checksum-crc32c", "sOO8/Q=="]]);
    }
  });

  test("tolerates a blank line before the trailers and a missing final CRLF", async () => {
    expect((await run([body(goodTrailer, true)], opts())).trailers?.get("x-amz-checksum-crc32c")).toBe("sOO8/Q==");
    expect((await run([body(goodTrailer.slice(0, -2))], opts())).trailers?.get("x-amz-checksum-crc32c")).toBe("sOO8/Q==");
  });

  test("tampered trailer value or missing trailer signature fails", async () => {
    const r1 = await run([body(goodTrailer.replace("sOO8/Q==", "sOO8/A=="))], opts());
    expect(code(r1.error)).toBe("SignatureDoesNotMatch");
    expect(code(r1.trailersError)).toBe("SignatureDoesNotMatch");
    const r2 = await run([body("x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n")], opts());
    expect(code(r2.error)).toBe("SignatureDoesNotMatch");
  });
});

describe("unsigned trailer (what @aws-sdk/client-s3 sends)", () => {
  const opts: ChunkedDecoderOptions = { mode: "streaming-unsigned-trailer" };
  // crc32("hello world") = 0x0d4a1185
  const body = Buffer.from("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n");

  test("decodes and parses x-amz-checksum-crc32", async () => {
    for (const pieces of [[body], split(body, 1), split(body, 3)]) {
      const r = await run(pieces, opts);
      expect(r.error).toBeUndefined();
      expect(r.output.toString()).toBe("hello world");
      expect(r.trailers?.get("x-amz-checksum-crc32")).toBe("DUoRhQ==");
    }
  });

  test("passes data through without waiting for the chunk to complete", async () => {
    const { decode } = createChunkedDecoder(opts);
    // The source never ends: the first read must still give the first bytes.
    const reader = decode(new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(Buffer.from("b\r\nhello")) })).getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe("hello");
  });

  test("a source that fails mid-body fails the read with its error, and the trailers too", async () => {
    const broken = new Error("connection reset");
    const r = await run([Buffer.from("5\r\nhello\r\n")], opts, broken);
    expect(r.output.toString()).toBe("hello");
    expect(r.error).toBe(broken);
    expect(r.trailersError).toBe(broken);
  });

  test("after a failure every further read fails the same way", async () => {
    const { decode } = createChunkedDecoder(opts);
    const reader = decode(source([Buffer.from("zz\r\n")])).getReader();
    const first = await reader.read().catch((e) => e);
    expect(code(first)).toBe("InvalidRequest");
    expect(await reader.read().catch((e) => e)).toBe(first);
  });

  test("chunk extensions are tolerated; no-checksum stream may end after 0\\r\\n", async () => {
    const r = await run([Buffer.from("5;foo=bar\r\nhello\r\n0\r\n")], opts);
    expect(r.error).toBeUndefined();
    expect(r.output.toString()).toBe("hello");
    expect(r.trailers?.size).toBe(0);
  });

  test("truncated", async () => {
    const r = await run([body.subarray(0, 12)], opts);
    expect(code(r.error)).toBe("IncompleteBody");
  });

  test("trailers promise rejection is not unhandled when nobody awaits it", async () => {
    const { decode } = createChunkedDecoder(opts);
    await decode(source([])).getReader().read().catch(() => {});
    await new Promise((r) => setTimeout(r, 10));
  });
});
