// Objects, end to end (part 2): PutObject integrity checks (Content-MD5, x-amz-checksum-*,
// x-amz-content-sha256, truncated bodies) and conditional writes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type ChecksumAlgorithm, type S3Client } from "@aws-sdk/client-s3";
import type * as Minio from "minio";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { closeGateway, eventually, expectS3Error, type Gateway, md5B64, md5Hex, openGateway, presign, sha256Hex, signedRequest } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;
let mc: Minio.Client;
const B = "puts";

beforeAll(async () => {
  ({ gw, s3, mc } = await openGateway(B));
});
afterAll(() => closeGateway(gw, s3));

const tmpDir = () => join(gw.root, B, ".filegate", "tmp");
const tmpFiles = () => (existsSync(tmpDir()) ? readdirSync(tmpDir()) : []);
const onDisk = (key: string) => join(gw.root, B, key);

// Independent bitwise CRCs (reflected), to check the values the server stores and returns.
function crc32Generic(data: Uint8Array, poly: number): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
function crc64nvme(data: Uint8Array): bigint {
  const poly = 0x9a6c9329ac4bc9b5n;
  const mask = 0xffffffffffffffffn;
  let c = mask;
  for (const b of data) {
    c ^= BigInt(b);
    for (let i = 0; i < 8; i++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
  }
  return (c ^ mask) & mask;
}
function expectedChecksum(alg: ChecksumAlgorithm, body: Buffer): string {
  switch (alg) {
    case "CRC32":
    case "CRC32C": {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32Generic(body, alg === "CRC32" ? 0xedb88320 : 0x82f63b78));
      return b.toString("base64");
    }
    case "CRC64NVME": {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(crc64nvme(body));
      return b.toString("base64");
    }
    case "SHA1":
      return createHash("sha1").update(body).digest("base64");
    case "SHA256":
      return createHash("sha256").update(body).digest("base64");
  }
  throw new Error(alg);
}
const ALGS: ChecksumAlgorithm[] = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"];
const field = (alg: ChecksumAlgorithm) => `Checksum${alg}` as const;

describe("Content-MD5", () => {
  const body = "content md5 body";
  test("correct → 200 and stored", async () => {
    const r = await s3.send(new PutObjectCommand({ Bucket: B, Key: "md5/ok", Body: body, ContentMD5: md5B64(body) }));
    expect(r.ETag).toBe(`"${md5Hex(body)}"`);
    expect(readFileSync(onDisk("md5/ok"), "utf8")).toBe(body);
    // minio sends Content-MD5 for small objects too.
    const m = await mc.putObject(B, "md5/minio", Buffer.from(body));
    expect(m.etag).toBe(md5Hex(body));
  });
  test("wrong → 400 BadDigest, nothing stored", async () => {
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: "md5/bad", Body: body, ContentMD5: md5B64("other") })), 400, "BadDigest");
    expect(existsSync(onDisk("md5/bad"))).toBe(false);
    const raw = await signedRequest(gw, { method: "PUT", path: `/${B}/md5/bad`, body, headers: { "content-md5": md5B64("other") } });
    expect([raw.status, raw.code]).toEqual([400, "BadDigest"]);
    expect(existsSync(onDisk("md5/bad"))).toBe(false);
  });
  test("malformed → 400 InvalidDigest", async () => {
    for (const v of ["not-base64!", "AAAA", md5Hex(body)]) {
      const raw = await signedRequest(gw, { method: "PUT", path: `/${B}/md5/malformed`, body, headers: { "content-md5": v } });
      expect([v, raw.status, raw.code]).toEqual([v, 400, "InvalidDigest"]);
    }
    expect(existsSync(onDisk("md5/malformed"))).toBe(false);
    expect(tmpFiles()).toEqual([]);
  });
});

describe("x-amz-checksum-*", () => {
  const body = Buffer.from("The quick brown fox jumps over the lazy dog, checksummed.");
  for (const alg of ALGS) {
    test(`${alg}: SDK-computed value accepted, stored and returned`, async () => {
      const key = `ck/${alg}`;
      const r = await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: body, ChecksumAlgorithm: alg }));
      const want = expectedChecksum(alg, body);
      expect(r[field(alg)]).toBe(want);
      expect(readFileSync(onDisk(key))).toEqual(body);
      const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: key, ChecksumMode: "ENABLED" }));
      expect(g[field(alg)]).toBe(want);
      expect(Buffer.from(await g.Body!.transformToByteArray())).toEqual(body);
    });
    test(`${alg}: correct raw header → 200; wrong value → 400 BadDigest and previous object untouched`, async () => {
      const key = `ckraw/${alg}`;
      const hdr = `x-amz-checksum-${alg.toLowerCase()}`;
      const ok = await signedRequest(gw, { method: "PUT", path: `/${B}/${key}`, body, headers: { [hdr]: expectedChecksum(alg, body) } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get(hdr)).toBe(expectedChecksum(alg, body));
      const other = Buffer.from("a different body of some length");
      const bad = await signedRequest(gw, { method: "PUT", path: `/${B}/${key}`, body: other, headers: { [hdr]: expectedChecksum(alg, body) } });
      expect([bad.status, bad.code]).toEqual([400, "BadDigest"]);
      expect(readFileSync(onDisk(key))).toEqual(body);
      const fresh = await signedRequest(gw, { method: "PUT", path: `/${B}/${key}-new`, body: other, headers: { [hdr]: expectedChecksum(alg, body) } });
      expect([fresh.status, fresh.code]).toEqual([400, "BadDigest"]);
      expect(existsSync(onDisk(`${key}-new`))).toBe(false);
      expect(tmpFiles()).toEqual([]);
    });
  }
  test("default SDK upload (CRC32 trailer over aws-chunked) of a stream stores the CRC32", async () => {
    const { Readable } = await import("node:stream");
    const big = Buffer.alloc(300 * 1024, 7);
    const r = await s3.send(new PutObjectCommand({ Bucket: B, Key: "ck/stream", Body: Readable.from([big.subarray(0, 100000), big.subarray(100000)]), ContentLength: big.length }));
    expect(r.ChecksumCRC32).toBe(expectedChecksum("CRC32", big));
    expect(r.ETag).toBe(`"${md5Hex(big)}"`);
    expect(readFileSync(onDisk("ck/stream"))).toEqual(big);
    // aws-chunked framed the request; it is not the object's Content-Encoding.
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "ck/stream" }));
    expect(h.ContentEncoding).toBeUndefined();
  });
  test("a malformed value is InvalidRequest, not BadDigest; nothing is stored", async () => {
    for (const [hdr, v] of [["x-amz-checksum-crc32", "!!!"], ["x-amz-checksum-crc32", "short==="], ["x-amz-checksum-sha256", expectedChecksum("CRC32", body)]]) {
      const r = await signedRequest(gw, { method: "PUT", path: `/${B}/ck/malformed`, body, headers: { [hdr]: v } });
      expect({ hdr, v, status: r.status, code: r.code }).toEqual({ hdr, v, status: 400, code: "InvalidRequest" });
      expect(r.body).toContain(`Value for ${hdr} header is invalid.`);
    }
    expect(existsSync(onDisk("ck/malformed"))).toBe(false);
    expect(tmpFiles()).toEqual([]);
  });
  test("x-amz-sdk-checksum-algorithm with no checksum header or trailer is InvalidRequest", async () => {
    const r = await signedRequest(gw, { method: "PUT", path: `/${B}/ck/sdk-only`, body, headers: { "x-amz-sdk-checksum-algorithm": "CRC32" } });
    expect([r.status, r.code]).toEqual([400, "InvalidRequest"]);
    expect(r.body).toContain("no corresponding x-amz-checksum-* or x-amz-trailer");
    expect(existsSync(onDisk("ck/sdk-only"))).toBe(false);
  });
});

describe("body integrity", () => {
  test("x-amz-content-sha256 mismatch → 400 XAmzContentSHA256Mismatch, nothing stored", async () => {
    const raw = await signedRequest(gw, { method: "PUT", path: `/${B}/sha/x`, body: "actual body", headers: { "x-amz-content-sha256": sha256Hex("signed body") } });
    expect([raw.status, raw.code]).toEqual([400, "XAmzContentSHA256Mismatch"]);
    expect(existsSync(onDisk("sha/x"))).toBe(false);
    expect(existsSync(onDisk("sha"))).toBe(false);
    expect(tmpFiles()).toEqual([]);
  });

  for (const how of ["end", "destroy"] as const) {
    test(`truncated body (Content-Length 1000, 500 sent, socket ${how}) leaves no temp file and the old object`, async () => {
      const key = `trunc/${how}`;
      await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: "previous version" }));
      const url = new URL(await presign(gw, "PUT", B, key));
      let inFlight = -1;
      await new Promise<void>((resolve) => {
        const sock = connect(Number(url.port), url.hostname, () => {
          sock.write(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 1000\r\n\r\n`);
          sock.write(Buffer.alloc(500, 0x41), () => {
            setTimeout(() => {
              // The server is receiving the body: its temp file exists now.
              inFlight = tmpFiles().length;
              if (how === "end") sock.end();
              else sock.destroy();
            }, 150);
          });
        });
        sock.on("data", () => {});
        sock.on("error", () => resolve());
        sock.on("close", () => resolve());
      });
      expect(inFlight).toBe(1);
      expect(await eventually(() => tmpFiles().length === 0)).toBe(true);
      // Give the server a moment to give up on the body, then check again.
      await Bun.sleep(200);
      expect(tmpFiles()).toEqual([]);
      expect(readFileSync(onDisk(key), "utf8")).toBe("previous version");
      const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: key }));
      expect(h.ETag).toBe(`"${md5Hex("previous version")}"`);
    });
  }

  test("presigned PUT with a whole body works (control for the truncation test)", async () => {
    const url = await presign(gw, "PUT", B, "trunc/control");
    const r = await fetch(url, { method: "PUT", body: Buffer.alloc(1000, 0x42) });
    expect(r.status).toBe(200);
    expect(readFileSync(onDisk("trunc/control"))).toEqual(Buffer.alloc(1000, 0x42));
  });
});

describe("declared length", () => {
  /** One request written byte for byte on a fresh connection; the whole response text. */
  const exchange = (text: string) =>
    new Promise<string>((resolve, reject) => {
      let response = "";
      const sock = connect(gw.port, "127.0.0.1", () => sock.write(text));
      sock.on("data", (d) => (response += d));
      sock.on("error", reject);
      sock.on("close", () => resolve(response));
    });
  test("no Content-Length and no Transfer-Encoding → 411 MissingContentLength, nothing stored", async () => {
    const url = new URL(await presign(gw, "PUT", B, "len/none"));
    const res = await exchange(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
    expect(res).toMatch(/^HTTP\/1\.1 411/);
    expect(res).toContain("<Code>MissingContentLength</Code>");
    expect(existsSync(onDisk("len/none"))).toBe(false);
  });
  test("a refused upload sent whole before reading the answer still gets its S3 error", async () => {
    // Clients without Expect: 100-continue send everything first; the error must not be a reset.
    const url = new URL(await presign(gw, "PUT", "no-such-bucket-early", "k"));
    const size = 20 * 1024 * 1024;
    const res = await new Promise<string>((resolve) => {
      let out = "";
      let sent = false;
      const finish = () => {
        if (sent && out.includes("</Error>")) {
          sock.destroy();
          resolve(out);
        }
      };
      const sock = connect(gw.port, "127.0.0.1", () => {
        sock.write(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: ${size}\r\n\r\n`);
        sock.write(Buffer.alloc(size, 1), () => {
          sent = true;
          finish();
        });
      });
      sock.on("data", (d) => {
        out += d;
        finish();
      });
      sock.on("error", (e) => resolve(`${out}\n[${e.message}]`));
      sock.on("close", () => resolve(`${out}\n[closed early]`));
    });
    expect(res).toMatch(/^HTTP\/1\.1 404/);
    expect(res).toContain("<Code>NoSuchBucket</Code>");
    expect(res).not.toContain("[");
  });

  test("a plain chunked body (no length up front) is stored", async () => {
    const url = new URL(await presign(gw, "PUT", B, "len/chunked"));
    const res = await exchange(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n chunk\r\n0\r\n\r\n`);
    expect(res).toMatch(/^HTTP\/1\.1 200/);
    expect(readFileSync(onDisk("len/chunked"), "utf8")).toBe("hello chunk");
  });
});

describe("conditional writes", () => {
  test("If-None-Match: * → 412 when the key exists, 200 when not", async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "cond/inm", Body: "first", IfNoneMatch: "*" }));
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: "cond/inm", Body: "second", IfNoneMatch: "*" })), 412, "PreconditionFailed");
    expect(readFileSync(onDisk("cond/inm"), "utf8")).toBe("first");
    expect(tmpFiles()).toEqual([]);
  });

  test("8 concurrent If-None-Match: * PUTs to one new key → exactly one 200", async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => `writer ${i} `.repeat(2000));
    const results = await Promise.allSettled(
      bodies.map((Body) => s3.send(new PutObjectCommand({ Bucket: B, Key: "cond/race", Body, IfNoneMatch: "*" }))),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    expect(ok.length).toBe(1);
    for (const r of results) {
      if (r.status === "rejected") {
        const e = r.reason as { name: string; $metadata: { httpStatusCode: number } };
        expect([412, 409]).toContain(e.$metadata.httpStatusCode);
        expect(["PreconditionFailed", "ConditionalRequestConflict"]).toContain(e.name);
      }
    }
    const winner = (ok[0] as PromiseFulfilledResult<{ ETag?: string }>).value.ETag;
    const content = readFileSync(onDisk("cond/race"), "utf8");
    expect(`"${md5Hex(content)}"`).toBe(winner!);
    expect(bodies).toContain(content);
    expect(tmpFiles()).toEqual([]);
  });

  test("If-Match: 404 when missing, 412 on mismatch, 200 when matching", async () => {
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: "cond/im", Body: "x", IfMatch: `"${md5Hex("x")}"` })), 404, "NoSuchKey");
    expect(existsSync(onDisk("cond/im"))).toBe(false);
    const first = await s3.send(new PutObjectCommand({ Bucket: B, Key: "cond/im", Body: "v1" }));
    await expectS3Error(s3.send(new PutObjectCommand({ Bucket: B, Key: "cond/im", Body: "v2", IfMatch: `"${md5Hex("nope")}"` })), 412, "PreconditionFailed");
    expect(readFileSync(onDisk("cond/im"), "utf8")).toBe("v1");
    const second = await s3.send(new PutObjectCommand({ Bucket: B, Key: "cond/im", Body: "v2", IfMatch: first.ETag }));
    expect(second.ETag).toBe(`"${md5Hex("v2")}"`);
    expect(readFileSync(onDisk("cond/im"), "utf8")).toBe("v2");
    expect(tmpFiles()).toEqual([]);
  });
});

test("a declared length over 5 GiB is refused with EntityTooLarge before any body is read", async () => {
  const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  const url = new URL(await getSignedUrl(s3, new PutObjectCommand({ Bucket: B, Key: "too-large" }), { expiresIn: 60 }));
  const net = await import("node:net");
  const sock = net.connect(gw.port, "127.0.0.1");
  await new Promise((r) => sock.once("connect", r));
  let response = "";
  sock.on("data", (d) => (response += d));
  sock.write(`PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nContent-Length: ${5 * 1024 ** 3 + 1}\r\n\r\nabc`);
  for (let i = 0; i < 50 && !response.includes("</Error>"); i++) await new Promise((r) => setTimeout(r, 50));
  sock.destroy();
  expect(response).toMatch(/^HTTP\/1\.1 400/);
  expect(response).toContain("<Code>EntityTooLarge</Code>");
});
