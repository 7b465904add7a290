// Bucket CORS end to end: rules set and read back through the SDK, and a browser's side of it
// (preflights and Origin-carrying requests) over plain fetch, as a browser would send them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type CORSRule,
  type S3Client,
} from "@aws-sdk/client-s3";
import { closeGateway, expectS3Error, type Gateway, openGateway, presign, signedRequest } from "../support/index.ts";

const B = "cors-e2e";
const BARE = "cors-e2e-none";
let gw: Gateway;
let s3: S3Client;

const RULES: CORSRule[] = [
  { ID: "app", AllowedOrigins: ["https://app.example"], AllowedMethods: ["GET", "PUT", "HEAD"], AllowedHeaders: ["content-type", "x-amz-*"], ExposeHeaders: ["ETag"], MaxAgeSeconds: 600 },
  { AllowedOrigins: ["*.suffix"], AllowedMethods: ["GET"] },
];

beforeAll(async () => {
  ({ gw, s3 } = await openGateway(B, BARE));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: "k", Body: "hello" }));
});
afterAll(() => closeGateway(gw, s3));

const preflight = (path: string, headers: Record<string, string>) => fetch(`${gw.endpoint}${path}`, { method: "OPTIONS", headers });

describe("configuration", () => {
  test("Put, Get, Delete round-trip; nothing configured is NoSuchCORSConfiguration", async () => {
    await expectS3Error(s3.send(new GetBucketCorsCommand({ Bucket: BARE })), 404, "NoSuchCORSConfiguration");
    await s3.send(new PutBucketCorsCommand({ Bucket: BARE, CORSConfiguration: { CORSRules: RULES } }));
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: BARE }));
    expect(got.CORSRules).toEqual([
      { ID: "app", AllowedOrigins: ["https://app.example"], AllowedMethods: ["GET", "PUT", "HEAD"], AllowedHeaders: ["content-type", "x-amz-*"], ExposeHeaders: ["ETag"], MaxAgeSeconds: 600 },
      { AllowedOrigins: ["*.suffix"], AllowedMethods: ["GET"] },
    ]);
    await s3.send(new DeleteBucketCorsCommand({ Bucket: BARE }));
    await expectS3Error(s3.send(new GetBucketCorsCommand({ Bucket: BARE })), 404, "NoSuchCORSConfiguration");
    // Deleting what is not there succeeds, as on AWS.
    await s3.send(new DeleteBucketCorsCommand({ Bucket: BARE }));
  });

  test("bad rules are refused and the old ones stay; a document without Content-MD5 is refused", async () => {
    await s3.send(new PutBucketCorsCommand({ Bucket: B, CORSConfiguration: { CORSRules: RULES } }));
    await expectS3Error(s3.send(new PutBucketCorsCommand({ Bucket: B, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ["*"], AllowedMethods: ["PATCH"] }] } })), 400, "InvalidRequest");
    await expectS3Error(s3.send(new PutBucketCorsCommand({ Bucket: "no-such-bucket-cors", CORSConfiguration: { CORSRules: RULES } })), 404, "NoSuchBucket");
    const xml = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";
    const raw = await signedRequest(gw, { method: "PUT", path: `/${B}`, query: { cors: "" }, body: xml });
    expect([raw.status, raw.code]).toEqual([400, "InvalidRequest"]);
    expect((await s3.send(new GetBucketCorsCommand({ Bucket: B }))).CORSRules?.[0].ID).toBe("app");
  });
});

describe("a browser's requests", () => {
  test("preflight allowed: 200 with the rule's methods, the requested headers, max age; no credentials needed", async () => {
    const r = await preflight(`/${B}/k?uploadId=x&partNumber=1`, {
      origin: "https://app.example",
      "access-control-request-method": "PUT",
      "access-control-request-headers": "content-type, x-amz-date",
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(r.headers.get("access-control-allow-methods")).toBe("GET, PUT, HEAD");
    expect(r.headers.get("access-control-allow-headers")).toBe("content-type, x-amz-date");
    expect(r.headers.get("access-control-max-age")).toBe("600");
    expect(r.headers.get("access-control-allow-credentials")).toBe("true");
    expect(r.headers.get("content-length")).toBe("0");
    const wild = await preflight(`/${B}`, { origin: "foo.suffix", "access-control-request-method": "GET" });
    expect(wild.status).toBe(200);
    expect(wild.headers.get("access-control-allow-origin")).toBe("foo.suffix");
  });

  test("preflight refused: 403 for a method, header or origin no rule allows, or no rules; 400 without Origin or method", async () => {
    const forbidden = [
      [`/${B}/k`, { origin: "https://app.example", "access-control-request-method": "DELETE" }],
      [`/${B}/k`, { origin: "https://app.example", "access-control-request-method": "PUT", "access-control-request-headers": "x-other" }],
      [`/${B}/k`, { origin: "https://evil.example", "access-control-request-method": "GET" }],
      [`/${B}/k`, { origin: "foo.suffix", "access-control-request-method": "PUT" }],
    ] as const;
    for (const [path, headers] of forbidden) {
      const r = await preflight(path, headers);
      expect({ headers, status: r.status, cors: r.headers.get("access-control-allow-origin") }).toEqual({ headers, status: 403, cors: null });
      expect(await r.text()).toContain("<Code>AccessForbidden</Code>");
    }
    const bare = await preflight(`/${BARE}/k`, { origin: "https://app.example", "access-control-request-method": "GET" });
    expect(bare.status).toBe(403);
    expect(await bare.text()).toContain("CORS is not enabled for this bucket.");
    const badMethod = await preflight(`/${B}/k`, { origin: "https://app.example", "access-control-request-method": "PATCH" });
    expect(badMethod.status).toBe(400);
    expect(await badMethod.text()).toContain("Invalid Access-Control-Request-Method: PATCH");
    const noOrigin = await preflight(`/${B}/k`, { "access-control-request-method": "GET" });
    expect(noOrigin.status).toBe(400);
    const noMethod = await preflight(`/${B}/k`, { origin: "https://app.example" });
    expect(noMethod.status).toBe(400);
    const noBucket = await preflight("/no-such-bucket-cors/k", { origin: "https://app.example", "access-control-request-method": "GET" });
    expect(noBucket.status).toBe(404);
  });

  test("a signed request with an allowed Origin gets the CORS headers; others get none", async () => {
    const url = await presign(gw, "GET", B, "k");
    const ok = await fetch(url, { headers: { origin: "https://app.example" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("hello");
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(ok.headers.get("access-control-expose-headers")).toBe("ETag");
    const other = await fetch(url, { headers: { origin: "https://evil.example" } });
    expect(other.status).toBe(200);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    await other.text();
    // Errors carry them too, so the page can read why.
    const missing = await fetch(await presign(gw, "GET", B, "missing"), { headers: { origin: "https://app.example" } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("access-control-allow-origin")).toBe("https://app.example");
    await missing.text();
    // A presigned PUT from the page.
    const put = await fetch(await presign(gw, "PUT", B, "from-page"), { method: "PUT", body: "uploaded", headers: { origin: "https://app.example" } });
    expect(put.status).toBe(200);
    expect(put.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });

  test("an unsigned request is still refused, CORS or not", async () => {
    const r = await fetch(`${gw.endpoint}/${B}/k`, { headers: { origin: "https://app.example" } });
    expect(r.status).toBe(403);
    await r.text();
  });
});
