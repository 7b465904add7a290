// Signature Version 2 end to end: raw V2-signed requests from the test signer, V2 presigned URLs
// fetched with plain fetch, the V2 POST policy, s3cmd with --signature-v2 and `s3cmd signurl`,
// the aws cli v1's `s3 presign`; and `--no-sigv2` / FILEGATE_NO_SIGV2 refusing all of it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCESS_KEY, closeGateway, errorCode, type Gateway, md5Hex, openGateway, presignV2, rawRequest, REGION, s3Client, SECRET_KEY, signV2, startGateway, uniqueBucket, v2Signature } from "../support/index.ts";

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const V2_REFUSED = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.";

let gw: Gateway;
let s3: S3Client;
let work: string;
const bucket = uniqueBucket("sigv2");

beforeAll(async () => {
  ({ gw, s3 } = await openGateway(bucket));
  work = mkdtempSync(join(tmpdir(), "filegate-sigv2-"));
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await closeGateway(gw, s3);
});

const host = () => `127.0.0.1:${gw.port}`;
const onDisk = (key: string) => join(gw.root, bucket, key);

describe("Authorization: AWS AKID:signature", () => {
  test("PUT with metadata and Content-Type, GET, HEAD (Date header)", async () => {
    const body = "signed with v2";
    const target = `/${bucket}/v2/a%20b%2Bc.txt`;
    const put = await rawRequest(gw.port, "PUT", target, signV2("PUT", target, { host: host(), "content-type": "text/plain", "content-length": String(body.length), "x-amz-meta-who": "v2" }), body);
    expect(put.status).toBe(200);
    expect(readFileSync(onDisk("v2/a b+c.txt"), "utf8")).toBe(body);
    const get = await rawRequest(gw.port, "GET", target, signV2("GET", target, { host: host() }));
    expect([get.status, get.body, get.headers.get("x-amz-meta-who")]).toEqual([200, body, "v2"]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "v2/a b+c.txt" }));
    expect(head.ContentType).toBe("text/plain");
  });

  test("x-amz-date instead of Date; Content-MD5 signed and checked", async () => {
    const body = "dated by x-amz-date";
    const target = `/${bucket}/v2/amz-date`;
    const md5 = Buffer.from(md5Hex(body), "hex").toString("base64");
    const res = await rawRequest(gw.port, "PUT", target, signV2("PUT", target, { host: host(), "content-md5": md5, "content-length": String(body.length) }, { amzDate: true }), body);
    expect(res.status).toBe(200);
    expect(readFileSync(onDisk("v2/amz-date"), "utf8")).toBe(body);
  });

  test("sub-resources are signed: tagging, acl, versioning, a response-* override", async () => {
    const tagging = `/${bucket}/v2/amz-date?tagging`;
    const xml = '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>';
    const put = await rawRequest(gw.port, "PUT", tagging, signV2("PUT", tagging, { host: host(), "content-length": String(xml.length) }), xml);
    expect(put.status).toBe(200);
    const get = await rawRequest(gw.port, "GET", tagging, signV2("GET", tagging, { host: host() }));
    expect(get.body).toContain("<Key>k</Key>");
    for (const target of [`/${bucket}/v2/amz-date?acl`, `/${bucket}?versioning`, `/${bucket}?location`]) {
      const res = await rawRequest(gw.port, "GET", target, signV2("GET", target, { host: host() }));
      expect(res.status).toBe(200);
    }
    const override = `/${bucket}/v2/amz-date?response-content-type=application%2Fx-v2`;
    const res = await rawRequest(gw.port, "GET", override, signV2("GET", override, { host: host() }));
    expect([res.status, res.headers.get("content-type")]).toEqual([200, "application/x-v2"]);
  });

  test("a listing's query parameters are not signed, the bucket is", async () => {
    const target = `/${bucket}?prefix=v2%2F&max-keys=10`;
    const res = await rawRequest(gw.port, "GET", target, signV2("GET", target.split("?")[0], { host: host() }));
    expect(res.status).toBe(200);
    expect(res.body).toContain("<Key>v2/amz-date</Key>");
  });

  test("wrong secret: 403 SignatureDoesNotMatch with the string to sign; tampered path too", async () => {
    const target = `/${bucket}/v2/amz-date`;
    const bad = await rawRequest(gw.port, "GET", target, signV2("GET", target, { host: host() }, { secret: "wrong-secret-000000000" }));
    expect(bad.status).toBe(403);
    expect(errorCode(bad.body)).toBe("SignatureDoesNotMatch");
    expect(bad.body).toContain(`<StringToSign>GET\n\n\n`);
    const tampered = await rawRequest(gw.port, "GET", `/${bucket}/v2/a%20b%2Bc.txt`, signV2("GET", target, { host: host() }));
    expect(errorCode(tampered.body)).toBe("SignatureDoesNotMatch");
  });

  test("unknown key, clock skew", async () => {
    const target = `/${bucket}/v2/amz-date`;
    const h = signV2("GET", target, { host: host() });
    const unknown = await rawRequest(gw.port, "GET", target, { ...h, authorization: h.authorization.replace(ACCESS_KEY, "NOSUCHKEY0000000000") });
    expect([unknown.status, errorCode(unknown.body)]).toEqual([403, "InvalidAccessKeyId"]);
    const skewed = await rawRequest(gw.port, "GET", target, signV2("GET", target, { host: host() }, { date: new Date(Date.now() - 20 * 60_000) }));
    expect([skewed.status, errorCode(skewed.body)]).toEqual([403, "RequestTimeTooSkewed"]);
  });
});

describe("query-string authentication (V2 presigned URLs)", () => {
  test("GET and PUT with plain fetch", async () => {
    const put = await fetch(presignV2(gw.endpoint, "PUT", `/${bucket}/v2/presigned%20put`, new Date(Date.now() + 60_000)), { method: "PUT", body: "presigned v2" });
    expect(put.status).toBe(200);
    const get = await fetch(presignV2(gw.endpoint, "GET", `/${bucket}/v2/presigned%20put`, new Date(Date.now() + 60_000)));
    expect([get.status, await get.text()]).toEqual([200, "presigned v2"]);
  });

  test("a response-* override is part of the signature", async () => {
    const url = presignV2(gw.endpoint, "GET", `/${bucket}/v2/presigned%20put?response-content-disposition=attachment%3B%20filename%3Dx.txt`, new Date(Date.now() + 60_000));
    const res = await fetch(url);
    expect([res.status, res.headers.get("content-disposition")]).toEqual([200, "attachment; filename=x.txt"]);
    const changed = await fetch(url.replace("x.txt", "y.txt"));
    expect(changed.status).toBe(403);
  });

  test("expired: 403 AccessDenied 'Request has expired'", async () => {
    const res = await fetch(presignV2(gw.endpoint, "GET", `/${bucket}/v2/presigned%20put`, new Date(Date.now() - 1000)));
    expect(res.status).toBe(403);
    const body = await res.text();
    expect(errorCode(body)).toBe("AccessDenied");
    expect(body).toContain("Request has expired");
  });

  test.skipIf(!has("aws"))("aws cli v1's `s3 presign` (V2 by default) fetched with plain fetch", async () => {
    const r = spawnSync("aws", ["--endpoint-url", gw.endpoint, "s3", "presign", `s3://${bucket}/v2/presigned put`], {
      encoding: "utf8",
      env: { ...process.env, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_DEFAULT_REGION: REGION, AWS_CONFIG_FILE: join(work, "none"), AWS_SHARED_CREDENTIALS_FILE: join(work, "none") },
    });
    expect(r.status).toBe(0);
    const url = r.stdout.trim();
    const res = await fetch(url);
    expect([res.status, await res.text()]).toEqual([200, "presigned v2"]);
  });
});

test("V2 POST policy: AWSAccessKeyId, policy, signature form fields", async () => {
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(Date.now() + 600_000).toISOString(),
      conditions: [{ bucket }, ["starts-with", "$key", "v2/"], { "content-type": "text/plain" }, ["content-length-range", 1, 1024]],
    }),
  ).toString("base64");
  const post = async (signature: string) => {
    const form = new FormData();
    form.append("key", "v2/form.txt");
    form.append("AWSAccessKeyId", ACCESS_KEY);
    form.append("policy", policy);
    form.append("signature", signature);
    form.append("Content-Type", "text/plain");
    form.append("file", new Blob(["posted with v2"]), "form.txt");
    return fetch(`${gw.endpoint}/${bucket}`, { method: "POST", body: form });
  };
  const bad = await post(v2Signature(policy, "wrong-secret-000000000"));
  expect(bad.status).toBe(403);
  expect(errorCode(await bad.text())).toBe("SignatureDoesNotMatch");
  const ok = await post(v2Signature(policy));
  expect(ok.status).toBe(204);
  expect(readFileSync(onDisk("v2/form.txt"), "utf8")).toBe("posted with v2");
});

test.skipIf(!has("s3cmd"))("s3cmd --signature-v2: mb, put (single and multipart), ls, get, setacl, info, signurl, del, rb", async () => {
  const port = String(gw.port);
  const s3cmd = (...args: string[]) => {
    const r = spawnSync(
      "s3cmd",
      [`--access_key=${ACCESS_KEY}`, `--secret_key=${SECRET_KEY}`, `--host=127.0.0.1:${port}`, `--host-bucket=127.0.0.1:${port}`, "--no-ssl", "--region=us-east-1", "--signature-v2", "-c", "/dev/null", ...args],
      { encoding: "utf8", timeout: 120_000 },
    );
    if (r.status !== 0) throw new Error(`s3cmd ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const b = uniqueBucket("s3cmdv2");
  writeFileSync(join(work, "small.txt"), "s3cmd v2");
  const big = randomBytes(6 * 1024 * 1024 + 5);
  writeFileSync(join(work, "big.bin"), big);
  s3cmd("mb", `s3://${b}`);
  s3cmd("put", join(work, "small.txt"), `s3://${b}/dir/my key+é.txt`);
  s3cmd("put", "--multipart-chunk-size-mb=5", join(work, "big.bin"), `s3://${b}/big.bin`);
  expect(s3cmd("ls", "-r", `s3://${b}`)).toContain(`s3://${b}/dir/my key+é.txt`);
  s3cmd("get", "--force", `s3://${b}/big.bin`, join(work, "big.back"));
  expect(readFileSync(join(work, "big.back")).equals(big)).toBe(true);
  s3cmd("setacl", "--acl-private", `s3://${b}/big.bin`);
  expect(s3cmd("info", `s3://${b}/big.bin`)).toContain(`File size: ${big.length}`);
  const url = s3cmd("signurl", `s3://${b}/dir/my key+é.txt`, "+300").trim().split("\n").pop()!;
  expect(url).toContain("AWSAccessKeyId=");
  const res = await fetch(url);
  expect([res.status, await res.text()]).toEqual([200, "s3cmd v2"]);
  s3cmd("del", "--recursive", "--force", `s3://${b}`);
  s3cmd("rb", `s3://${b}`);
});

describe("refused with --no-sigv2 and FILEGATE_NO_SIGV2", () => {
  const cases: [string, { args?: string[]; env?: Record<string, string> }][] = [
    ["--no-sigv2", { args: ["--no-sigv2"] }],
    ["FILEGATE_NO_SIGV2=1", { env: { FILEGATE_NO_SIGV2: "1" } }],
  ];
  for (const [label, opts] of cases) {
    test(label, async () => {
      const off = await startGateway(opts);
      const sdk = s3Client(off);
      try {
        await sdk.send(new CreateBucketCommand({ Bucket: "plain" }));
        const target = "/plain/x";
        const header = await rawRequest(off.port, "GET", target, signV2("GET", target, { host: `127.0.0.1:${off.port}` }));
        expect([header.status, errorCode(header.body)]).toEqual([400, "InvalidRequest"]);
        expect(header.body).toContain(V2_REFUSED);
        const query = await fetch(presignV2(off.endpoint, "GET", target, new Date(Date.now() + 60_000)));
        expect(query.status).toBe(400);
        expect(await query.text()).toContain(V2_REFUSED);
        // SigV4 is untouched.
        const err = await sdk.send(new GetObjectCommand({ Bucket: "plain", Key: "x" })).catch((e) => e);
        expect(err.name).toBe("NoSuchKey");
      } finally {
        sdk.destroy();
        await off.stop();
      }
    });
  }
});
