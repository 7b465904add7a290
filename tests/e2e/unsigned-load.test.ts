// Unauthenticated load is bounded: requests that have not proven a signature (PostObject reading
// its form, CORS preflights, anonymous requests) share the small --max-unsigned pool, never the
// --max-requests slots of signed traffic, and a form whose fields trickle is cut off after the
// documented deadline.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { connect, type Socket } from "node:net";
import { type Gateway, s3Client, startGateway } from "../support/index.ts";

const B = "unsigned-load";
let gw: Gateway;
let s3: S3Client;

beforeAll(async () => {
  gw = await startGateway({ args: ["--max-requests", "16", "--max-unsigned", "8"] });
  s3 = s3Client(gw, { maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
afterAll(async () => {
  s3?.destroy();
  await gw?.stop();
});

const BOUNDARY = "----trickle";

/** Opens a form upload that sends its headers and the start of the form, then stalls. */
function tricklingPost(): Promise<{ sock: Socket; answer: Promise<string> }> {
  return new Promise((ok, fail) => {
    const sock = connect(gw.port, "127.0.0.1");
    let data = "";
    // The answer's head is enough: the connection may stay open for the rest of the body.
    const answer = new Promise<string>((done) => {
      sock.on("data", (d) => {
        data += d;
        if (data.includes("\r\n\r\n")) setTimeout(() => done(data), 50);
      });
      sock.on("close", () => done(data));
      sock.on("error", () => done(data));
    });
    sock.once("error", fail);
    sock.once("connect", () => {
      sock.write(
        `POST /${B} HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: 100000\r\n\r\n` +
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk`,
      );
      ok({ sock, answer });
    });
  });
}

async function gauge(name: string): Promise<number> {
  const text = await (await fetch(`${gw.endpoint}/_filegate/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1]);
}

describe("1,000 trickling anonymous form uploads", () => {
  test("signed requests keep being served; anonymous ones beyond the pool get 503 SlowDown", async () => {
    const posts: { sock: Socket; answer: Promise<string> }[] = [];
    try {
      for (let i = 0; i < 1000; i++) posts.push(await tricklingPost());
      // Everything beyond the 8 unsigned slots is refused at once.
      const refused = await Promise.race([
        Promise.all(posts.slice(8).map((p) => p.answer)),
        new Promise<null>((r) => setTimeout(() => r(null), 5000)),
      ]);
      expect(refused).not.toBeNull();
      for (const a of refused!) expect(a).toMatch(/^HTTP\/1\.1 503/);
      expect(await gauge("filegate_unsigned_requests_in_flight")).toBe(8);
      // Signed traffic is untouched, and fast.
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) {
        await s3.send(new PutObjectCommand({ Bucket: B, Key: `k${i}`, Body: `v${i}` }));
        expect(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: `k${i}` }))).Body!.transformToString()).toBe(`v${i}`);
      }
      expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([B]);
      expect(performance.now() - t0).toBeLessThan(5000);
      // A CORS preflight competes only with the anonymous uploads.
      const preflight = await fetch(`${gw.endpoint}/${B}/x`, { method: "OPTIONS", headers: { origin: "http://a.test", "access-control-request-method": "GET" } });
      expect(preflight.status).toBe(503);
    } finally {
      for (const p of posts) p.sock.destroy();
    }
  });

  test("a form whose fields trickle is cut off with 400 RequestTimeout after 10 s, and its slot is free again", async () => {
    const started = performance.now();
    const { sock, answer } = await tricklingPost();
    const ticker = setInterval(() => sock.write("k"), 500);
    try {
      const text = await answer.then((t) => t || "");
      const seconds = (performance.now() - started) / 1000;
      expect(text).toMatch(/^HTTP\/1\.1 400/);
      expect(text).toContain("<Code>RequestTimeout</Code>");
      expect(seconds).toBeGreaterThan(9);
      expect(seconds).toBeLessThan(14);
    } finally {
      clearInterval(ticker);
      sock.destroy();
    }
    expect(await gauge("filegate_unsigned_requests_in_flight")).toBe(0);
    expect(await gauge("filegate_requests_in_flight")).toBe(0);
  }, 30_000);
});
