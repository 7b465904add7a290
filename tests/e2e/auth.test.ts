// Every SigV4 mode against a live gateway, with the client that exercises it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, ListBucketsCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import { ACCESS_KEY, closeGateway, EMPTY_SHA256, errorCode, type Gateway, md5Hex, minioClient, openGateway, rawRequest, REGION, s3Client, SECRET_KEY, sha256Hex, sign, signedChunkedBody, uniqueBucket } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;
const bucket = uniqueBucket("auth");

beforeAll(async () => {
  ({ gw, s3 } = await openGateway(bucket));
});
afterAll(() => closeGateway(gw, s3));

const onDisk = (key: string) => join(gw.root, bucket, key);
const tmpFiles = () => {
  const dir = join(gw.root, bucket, ".filegate", "tmp");
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe("refusals", () => {
  test("anonymous request gets AccessDenied XML with request ids", async () => {
    const res = await fetch(`${gw.endpoint}/${bucket}/x`);
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/xml");
    expect(res.headers.get("x-amz-request-id")).toBeTruthy();
    expect(res.headers.get("x-amz-id-2")).toBeTruthy();
    const body = await res.text();
    expect(errorCode(body)).toBe("AccessDenied");
    expect(body).toContain("<RequestId>");
  });

  test("wrong secret: SignatureDoesNotMatch (SDK and minio)", async () => {
    const bad = s3Client(gw, { credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: "wrong-secret-0000000000" } });
    const err = await bad.send(new ListBucketsCommand({})).catch((e) => e);
    expect(err.name).toBe("SignatureDoesNotMatch");
    expect(err.$metadata.httpStatusCode).toBe(403);
    const m = minioClient(gw, "wrong-secret-0000000000");
    const merr = await m.listBuckets().catch((e) => e);
    expect(merr.code).toBe("SignatureDoesNotMatch");
  });

  test("unknown access key: InvalidAccessKeyId", async () => {
    const bad = s3Client(gw, { credentials: { accessKeyId: "NOSUCHKEY0000000000", secretAccessKey: SECRET_KEY } });
    const err = await bad.send(new ListBucketsCommand({})).catch((e) => e);
    expect(err.name).toBe("InvalidAccessKeyId");
    expect(err.$metadata.httpStatusCode).toBe(403);
  });

  test("clock skew over 15 minutes: RequestTimeTooSkewed", async () => {
    const r = sign({ method: "GET", path: "/", headers: { host: `127.0.0.1:${gw.port}` }, payloadHash: EMPTY_SHA256, date: new Date(Date.now() - 20 * 60 * 1000) });
    const res = await rawRequest(gw.port, "GET", "/", r.headers);
    expect(res.status).toBe(403);
    expect(errorCode(res.body)).toBe("RequestTimeTooSkewed");
  });

  test("unimplemented operation: 501 NotImplemented XML", async () => {
    const r = sign({ method: "GET", path: `/${bucket}`, query: { analytics: "" }, headers: { host: `127.0.0.1:${gw.port}` }, payloadHash: EMPTY_SHA256 });
    const res = await rawRequest(gw.port, "GET", `/${bucket}?analytics=`, r.headers);
    expect(res.status).toBe(501);
    expect(errorCode(res.body)).toBe("NotImplemented");
  });

  test("a symlink loop is no object, and the answer carries no paths or stack traces", async () => {
    // open() fails with ELOOP: the key names nothing S3 can serve.
    const { symlinkSync } = await import("node:fs");
    symlinkSync("loop", onDisk("loop"));
    const r = sign({ method: "GET", path: `/${bucket}/loop`, headers: { host: `127.0.0.1:${gw.port}` }, payloadHash: EMPTY_SHA256 });
    const res = await rawRequest(gw.port, "GET", `/${bucket}/loop`, r.headers);
    expect(res.status).toBe(404);
    expect(errorCode(res.body)).toBe("NoSuchKey");
    expect(res.body).not.toContain(gw.root);
    expect(res.body).not.toContain(" at ");
  });
});

describe("payload modes", () => {
  test("signed payload (minio client signs the SHA-256 over plain HTTP)", async () => {
    const m = minioClient(gw);
    await m.putObject(bucket, "minio-signed", Buffer.from("signed by minio"));
    expect(readFileSync(onDisk("minio-signed"), "utf8")).toBe("signed by minio");
    const stream = await m.getObject(bucket, "minio-signed");
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("signed by minio");
  });

  test("signed payload with a wrong hash: XAmzContentSHA256Mismatch, nothing stored", async () => {
    const body = "the real body";
    const r = sign({ method: "PUT", path: `/${bucket}/sha-mismatch`, headers: { host: `127.0.0.1:${gw.port}`, "content-length": String(body.length) }, payloadHash: sha256Hex("another body") });
    const res = await rawRequest(gw.port, "PUT", `/${bucket}/sha-mismatch`, r.headers, body);
    expect(res.status).toBe(400);
    expect(errorCode(res.body)).toBe("XAmzContentSHA256Mismatch");
    expect(existsSync(onDisk("sha-mismatch"))).toBe(false);
    expect(tmpFiles()).toEqual([]);
  });

  test("UNSIGNED-PAYLOAD through presigned PUT and GET URLs", async () => {
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: "presigned key+1" }), { expiresIn: 300 });
    const put = await fetch(putUrl, { method: "PUT", body: "via presigned url" });
    expect(put.status).toBe(200);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "presigned key+1" }), { expiresIn: 300 });
    const get = await fetch(getUrl);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe("via presigned url");
    expect(readFileSync(onDisk("presigned key+1"), "utf8")).toBe("via presigned url");
  });

  test("expired presigned URL: AccessDenied; X-Amz-Expires over 7 days refused", async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "presigned key+1" }), { expiresIn: 1, signingDate: new Date(Date.now() - 60_000) });
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(errorCode(await res.text())).toBe("AccessDenied");
    const tooLong = url.replace(/X-Amz-Expires=\d+/, "X-Amz-Expires=604801");
    const res2 = await fetch(tooLong);
    expect(res2.status).toBeGreaterThanOrEqual(400);
    expect(res2.status).toBeLessThan(500);
  });

  test("STREAMING-UNSIGNED-PAYLOAD-TRAILER with CRC32 trailer (SDK default)", async () => {
    const body = Buffer.alloc(300_000, 7);
    const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "sdk-trailer", Body: body }));
    expect(out.ETag).toBe(`"${md5Hex(body)}"`);
    expect(readFileSync(onDisk("sdk-trailer")).equals(body)).toBe(true);
  });

  test("STREAMING-AWS4-HMAC-SHA256-PAYLOAD: chunk signatures verified", async () => {
    const data = Buffer.alloc(70_000, 1);
    const path = `/${bucket}/chunked-signed`;
    const headers = { host: `127.0.0.1:${gw.port}`, "content-encoding": "aws-chunked", "x-amz-decoded-content-length": String(data.length) };
    const probe = signedChunkedBody(data, 65536, "0".repeat(64), "20000101T000000Z", "x");
    const r = sign({ method: "PUT", path, headers: { ...headers, "content-length": String(probe.length) }, payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" });
    const body = signedChunkedBody(data, 65536, r.signature, r.amzDate, r.scope);
    const res = await rawRequest(gw.port, "PUT", path, r.headers, body);
    expect(res.status).toBe(200);
    expect(readFileSync(onDisk("chunked-signed")).equals(data)).toBe(true);
  });

  test("STREAMING-AWS4-HMAC-SHA256-PAYLOAD with a tampered chunk: SignatureDoesNotMatch, nothing stored", async () => {
    const data = Buffer.alloc(70_000, 2);
    const path = `/${bucket}/chunked-tampered`;
    const headers = { host: `127.0.0.1:${gw.port}`, "content-encoding": "aws-chunked", "x-amz-decoded-content-length": String(data.length) };
    const length = signedChunkedBody(data, 65536, "0".repeat(64), "20000101T000000Z", "x").length;
    const r = sign({ method: "PUT", path, headers: { ...headers, "content-length": String(length) }, payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" });
    const body = signedChunkedBody(data, 65536, r.signature, r.amzDate, r.scope, undefined, true);
    const res = await rawRequest(gw.port, "PUT", path, r.headers, body);
    expect(res.status).toBe(403);
    expect(errorCode(res.body)).toBe("SignatureDoesNotMatch");
    expect(existsSync(onDisk("chunked-tampered"))).toBe(false);
    expect(tmpFiles()).toEqual([]);
  });

  test("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: signed trailer with checksum verified", async () => {
    const data = Buffer.from("x".repeat(10_000));
    const { computeChecksum } = await import("../../src/checksums/index.ts");
    const crc = computeChecksum("CRC32", data).toString("base64");
    const cases = [["trailer-ok", crc, 200, null], ["trailer-bad", "AAAAAA==", 400, "BadDigest"], ["trailer-malformed", "!!!", 400, "InvalidRequest"]] as const;
    for (const [key, value, status, code] of cases) {
      const path = `/${bucket}/${key}`;
      const headers = {
        host: `127.0.0.1:${gw.port}`,
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": String(data.length),
        "x-amz-trailer": "x-amz-checksum-crc32",
      };
      const length = signedChunkedBody(data, 8192, "0".repeat(64), "20000101T000000Z", "x", ["x-amz-checksum-crc32", value]).length;
      const r = sign({ method: "PUT", path, headers: { ...headers, "content-length": String(length) }, payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" });
      const body = signedChunkedBody(data, 8192, r.signature, r.amzDate, r.scope, ["x-amz-checksum-crc32", value]);
      const res = await rawRequest(gw.port, "PUT", path, r.headers, body);
      expect(res.status).toBe(status);
      expect(existsSync(onDisk(key))).toBe(status === 200);
      if (code) expect(errorCode(res.body)).toBe(code);
    }
  });

  // Past 8 MiB the body goes through the MD5 worker, and on Node it is read from the IncomingMessage.
  describe("SDK-default aws-chunked body of 12 MiB (unsigned, CRC32 trailer)", () => {
    const data = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    const frame = (crc: string) => {
      const parts: Buffer[] = [];
      for (let i = 0; i < data.length; i += 65536) {
        const piece = data.subarray(i, i + 65536);
        parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n"));
      }
      parts.push(Buffer.from(`0\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`));
      return Buffer.concat(parts);
    };
    const request = (key: string, body: Buffer) => {
      const path = `/${bucket}/${key}`;
      const headers = {
        host: `127.0.0.1:${gw.port}`,
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": String(data.length),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "content-length": String(body.length),
      };
      return { path, headers: sign({ method: "PUT", path, headers, payloadHash: "STREAMING-UNSIGNED-PAYLOAD-TRAILER" }).headers };
    };
    const crcOf = async () => (await import("../../src/checksums/index.ts")).computeChecksum("CRC32", data).toString("base64");

    test("stored whole with the right ETag; a wrong trailer is BadDigest with nothing stored", async () => {
      const good = frame(await crcOf());
      const ok = request("big-trailer", good);
      const res = await rawRequest(gw.port, "PUT", ok.path, ok.headers, good);
      expect(res.status).toBe(200);
      expect(res.headers.get("etag")).toBe(`"${md5Hex(data)}"`);
      expect(readFileSync(onDisk("big-trailer")).equals(data)).toBe(true);
      const bad = frame("AAAAAA==");
      const no = request("big-trailer-bad", bad);
      const r2 = await rawRequest(gw.port, "PUT", no.path, no.headers, bad);
      expect([r2.status, errorCode(r2.body)]).toEqual([400, "BadDigest"]);
      expect(existsSync(onDisk("big-trailer-bad"))).toBe(false);
      expect(tmpFiles()).toEqual([]);
    });

    test("broken off midway: nothing stored, no temp file, and the next upload works", async () => {
      const body = frame(await crcOf());
      const r = request("big-broken", body);
      await new Promise<void>((resolve) => {
        const sock = connect(gw.port, "127.0.0.1", () => {
          const head = Object.entries(r.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
          sock.write(`PUT ${r.path} HTTP/1.1\r\n${head}\r\n`);
          sock.write(body.subarray(0, body.length >> 1), () => setTimeout(() => sock.destroy(), 200));
        });
        sock.on("data", () => {});
        sock.on("error", () => resolve());
        sock.on("close", () => resolve());
      });
      for (let i = 0; i < 50 && tmpFiles().length > 0; i++) await Bun.sleep(100);
      expect(tmpFiles()).toEqual([]);
      expect(existsSync(onDisk("big-broken"))).toBe(false);
      const again = await rawRequest(gw.port, "PUT", r.path, request("big-broken", body).headers, body);
      expect(again.status).toBe(200);
      expect(again.headers.get("etag")).toBe(`"${md5Hex(data)}"`);
    });
  });

  test("request time from the Date header when X-Amz-Date is absent", async () => {
    const r = sign({ method: "GET", path: "/", headers: { host: `127.0.0.1:${gw.port}` }, payloadHash: EMPTY_SHA256, useDateHeader: true });
    expect(r.headers["x-amz-date"]).toBeUndefined();
    const res = await rawRequest(gw.port, "GET", "/", r.headers);
    expect(res.status).toBe(200);
    expect(res.body).toContain(bucket);
  });
});

test("region in the credential scope must match", async () => {
  const other = s3Client(gw, { region: "eu-west-3" });
  const err = await other.send(new ListBucketsCommand({})).catch((e) => e);
  expect(err.$metadata.httpStatusCode).toBe(400);
  expect(err.name).toBe("AuthorizationHeaderMalformed");
  expect(REGION).toBe("us-east-1");
});
