// Auth and request-shape edge cases where a client sees the difference from AWS, run on Bun and on
// Node alike: presigned lifetimes, empty continuation tokens, keys that cannot be parsed, bodiless
// CreateBucket without Content-Length, unknown Expect values, non-ASCII header bytes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { closeGateway, EMPTY_SHA256, errorCode, type Gateway, openGateway, rawRequest, rawSocket, sign, uniqueBucket } from "../support/index.ts";

let gw: Gateway;
let s3: S3Client;
const bucket = uniqueBucket("edges");

beforeAll(async () => {
  ({ gw, s3 } = await openGateway(bucket));
});
afterAll(() => closeGateway(gw, s3));

const host = () => `127.0.0.1:${gw.port}`;

/** The request line and headers of a signed request, for rawSocket. */
function signedLines(method: string, path: string, headers: Record<string, string>, payloadHash = EMPTY_SHA256): string[] {
  const r = sign({ method, path, headers: { host: host(), ...headers }, payloadHash });
  return [`${method} ${path} HTTP/1.1`, ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`)];
}

describe("both runtimes answer alike", () => {
  test("a bodiless PUT bucket without Content-Length (curl --aws-sigv4 -X PUT) creates the bucket", async () => {
    const name = uniqueBucket("curl");
    const res = await rawSocket(gw.port, signedLines("PUT", `/${name}`, {}));
    expect(res.status).toBe(200);
    expect(existsSync(join(gw.root, name))).toBe(true);
    await s3.send(new HeadBucketCommand({ Bucket: name }));
  });

  test("a PutObject without Content-Length is still 411 MissingContentLength", async () => {
    const res = await rawSocket(gw.port, signedLines("PUT", `/${bucket}/no-length`, {}));
    expect(res.status).toBe(411);
    expect(errorCode(res.body)).toBe("MissingContentLength");
  });

  test("Expect: 200 and an empty Expect are ignored on PutObject and CreateBucket", async () => {
    for (const expectValue of ["200", ""]) {
      const body = "expect " + expectValue;
      const put = await rawSocket(
        gw.port,
        [...signedLines("PUT", `/${bucket}/expect-${expectValue || "empty"}`, { "content-length": String(body.length) }, "UNSIGNED-PAYLOAD"), `expect: ${expectValue}`],
        body,
      );
      expect(put.status).toBe(200);
      expect(readFileSync(join(gw.root, bucket, `expect-${expectValue || "empty"}`), "utf8")).toBe(body);
      const name = uniqueBucket("expect");
      const create = await rawSocket(gw.port, [...signedLines("PUT", `/${name}`, { "content-length": "0" }), `expect: ${expectValue}`]);
      expect(create.status).toBe(200);
      expect(existsSync(join(gw.root, name))).toBe(true);
    }
  });

  test("Expect: 100-continue still works (the SDK's large uploads send it)", async () => {
    const body = "continued";
    const r = sign({ method: "PUT", path: `/${bucket}/continue`, headers: { host: host(), "content-length": String(body.length), expect: "100-continue" }, payloadHash: "UNSIGNED-PAYLOAD" });
    const res = await rawRequest(gw.port, "PUT", `/${bucket}/continue`, r.headers, body);
    expect(res.status).toBe(200);
  });
});

describe("presigned URL lifetime", () => {
  async function presigned(expires: string): Promise<Response> {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "expect-200" }), { expiresIn: 300 });
    return fetch(url.replace(/X-Amz-Expires=\d+/, `X-Amz-Expires=${expires}`));
  }

  test("over a week: 403 AccessDenied with AWS's message", async () => {
    const res = await presigned("604801");
    expect(res.status).toBe(403);
    const body = await res.text();
    expect(errorCode(body)).toBe("AccessDenied");
    expect(body).toContain("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds");
  });

  test("negative and zero: 403 AccessDenied", async () => {
    for (const v of ["-1", "0"]) {
      const res = await presigned(v);
      expect(res.status).toBe(403);
      expect(errorCode(await res.text())).toBe("AccessDenied");
    }
  });

  test("exactly a week is accepted", async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "expect-200" }), { expiresIn: 604800 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
  });
});

test("an empty continuation-token is no token: the first page, with start-after applied; it is echoed as sent", async () => {
  for (const k of ["list/a", "list/b", "list/c"]) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
  const r = sign({ method: "GET", path: `/${bucket}`, query: { "list-type": "2", prefix: "list/", "continuation-token": "", "start-after": "list/a" }, headers: { host: host() }, payloadHash: EMPTY_SHA256 });
  const res = await rawRequest(gw.port, "GET", `/${bucket}?list-type=2&prefix=list%2F&continuation-token=&start-after=list%2Fa`, r.headers);
  expect(res.status).toBe(200);
  expect([...res.body.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1])).toEqual(["list/b", "list/c"]);
  // "If ContinuationToken was sent with the request, it is included in the response" (and s3-tests checks it).
  expect(res.body).toContain("<ContinuationToken></ContinuationToken>");
  const sdk = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "list/", ContinuationToken: "" }));
  expect(sdk.KeyCount).toBe(3);
});

describe("request targets that cannot name a key: 400 InvalidURI", () => {
  for (const [label, path] of [
    ["invalid UTF-8", "/BUCKET/bad%FF%FEkey"],
    ["a truncated UTF-8 sequence", "/BUCKET/bad%C3"],
    ["an encoded surrogate", "/BUCKET/bad%ED%A0%80"],
    ["a C1 control character (s3-tests' '\\xae\\x8a-')", "/BUCKET/%C2%AE%C2%8A-"],
    ["NUL", "/BUCKET/nul%00key"],
  ] as const) {
    test(label, async () => {
      const p = path.replace("BUCKET", bucket);
      const r = sign({ method: "GET", path: p, headers: { host: host() }, payloadHash: EMPTY_SHA256 });
      const res = await rawRequest(gw.port, "GET", p, r.headers);
      expect(res.status).toBe(400);
      expect(errorCode(res.body)).toBe("InvalidURI");
      expect(res.body).toContain("Couldn&apos;t parse the specified URI.");
    });
  }

  test("the SDK's GET of key '\\xae\\x8a-' (as s3-tests sends it)", async () => {
    const err = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "\xae\x8a-" })).catch((e) => e);
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.name).toBe("InvalidURI");
  });

  test("C0 control characters other than NUL and non-ASCII text are keys, as on S3", async () => {
    for (const key of ["tab\tkey", "ctl\x01key", "café ®"]) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(head.ContentLength).toBe(Buffer.byteLength(key));
    }
  });
});

describe("non-ASCII header values", () => {
  /** A signed PUT whose x-amz-meta-x carries `value` as UTF-8 bytes on the wire, signed over them. */
  async function putWithMeta(key: string, value: string) {
    const body = "meta";
    const r = sign({ method: "PUT", path: `/${bucket}/${key}`, headers: { host: host(), "content-length": "4", "x-amz-meta-x": value }, payloadHash: "UNSIGNED-PAYLOAD" });
    // rawSocket writes each char as one byte: give it the UTF-8 bytes of the value.
    const lines = [`PUT /${bucket}/${key} HTTP/1.1`, ...Object.entries(r.headers).map(([k, v]) => `${k}: ${Buffer.from(v, "utf8").toString("latin1")}`)];
    return rawSocket(gw.port, lines, body);
  }

  test("a UTF-8 value is signed over its bytes as sent (botocore's `Hello Worldé`)", async () => {
    const res = await putWithMeta("meta-utf8", "Hello Worldé");
    expect(res.status).toBe(200);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "meta-utf8" }));
    // S3 returns non-ASCII metadata RFC 2047-encoded.
    expect(head.Metadata).toEqual({ x: "=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?=" });
    expect(Buffer.from("SGVsbG8gV29ybGTDqQ==", "base64").toString("utf8")).toBe("Hello Worldé");
  });

  test("characters past U+00FF (中文) too", async () => {
    expect((await putWithMeta("meta-cjk", "中文")).status).toBe(200);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "meta-cjk" }));
    expect(get.Metadata).toEqual({ x: "=?UTF-8?B?5Lit5paH?=" });
    await get.Body?.transformToString();
  });

  test("a tampered value still fails", async () => {
    const r = sign({ method: "PUT", path: `/${bucket}/meta-bad`, headers: { host: host(), "content-length": "4", "x-amz-meta-x": "Hello Worldé" }, payloadHash: "UNSIGNED-PAYLOAD" });
    const lines = [`PUT /${bucket}/meta-bad HTTP/1.1`, ...Object.entries(r.headers).map(([k, v]) => `${k}: ${k === "x-amz-meta-x" ? "Hello Worlde" : v}`)];
    const res = await rawSocket(gw.port, lines, "meta");
    expect(res.status).toBe(403);
    expect(errorCode(res.body)).toBe("SignatureDoesNotMatch");
  });

  test("an RFC 2047 value is stored decoded and returned encoded; ASCII as it is (SDK)", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "meta-2047", Body: "x", Metadata: { enc: "=?UTF-8?Q?caf=C3=A9?=", plain: "ascii only" } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "meta-2047" }));
    expect(head.Metadata).toEqual({ enc: "=?UTF-8?B?Y2Fmw6k=?=", plain: "ascii only" });
  });

  test("a POST form's UTF-8 metadata field is stored as text (was a 500: headers refuse chars past U+00FF)", async () => {
    const { url, fields } = await createPresignedPost(s3, { Bucket: bucket, Key: "meta-form", Expires: 600, Fields: { "x-amz-meta-x": "中文 é" } });
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append("file", new Blob(["form"]), "f.txt");
    const res = await fetch(url, { method: "POST", body: form });
    expect(res.status).toBe(204);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "meta-form" }));
    expect(head.Metadata).toEqual({ x: `=?UTF-8?B?${Buffer.from("中文 é").toString("base64")}?=` });
  });
});
