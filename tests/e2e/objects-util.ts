// Helpers shared by the object end-to-end tests: the gateway fixture, raw SigV4-signed requests
// (for what the SDKs refuse to send, such as a wrong checksum), error assertions, small
// file-tree probes.
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import type * as Minio from "minio";
import { createHash, createHmac } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "bun:test";
import { ACCESS_KEY, REGION, SECRET_KEY, minioClient, s3Client, startGateway, type Gateway } from "./harness.ts";
import { errorCode as xmlErrorCode } from "./sign.ts";

/** A fresh gateway with an SDK and a minio client, and `buckets` created. */
export async function openGateway(...buckets: string[]): Promise<{ gw: Gateway; s3: S3Client; mc: Minio.Client }> {
  const gw = await startGateway();
  const s3 = s3Client(gw);
  try {
    for (const Bucket of buckets) await s3.send(new CreateBucketCommand({ Bucket }));
  } catch (e) {
    s3.destroy();
    await gw.stop();
    throw e;
  }
  return { gw, s3, mc: minioClient(gw) };
}

/** Ends what openGateway started, and asserts the gateway never logged an internal error. */
export async function closeGateway(gw: Gateway | undefined, s3: S3Client | undefined): Promise<void> {
  s3?.destroy();
  // Every failure above was an S3 error by design; none may have been an unexpected crash.
  const log = gw?.output() ?? "";
  await gw?.stop();
  expect(log.split("\n").filter((l) => l.includes("internal error"))).toEqual([]);
}

/** The hash constructor @smithy/signature-v4 wants, on node:crypto. */
class NodeSha256 {
  private h;
  constructor(secret?: string | Uint8Array | ArrayBuffer) {
    this.h = secret !== undefined ? createHmac("sha256", toBuf(secret)) : createHash("sha256");
  }
  update(data: string | Uint8Array | ArrayBuffer): void {
    this.h.update(toBuf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

function toBuf(d: string | Uint8Array | ArrayBuffer): Buffer {
  if (typeof d === "string") return Buffer.from(d, "utf8");
  if (d instanceof ArrayBuffer) return Buffer.from(d);
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

export const signer = new SignatureV4({
  service: "s3",
  region: REGION,
  credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  sha256: NodeSha256 as never,
  uriEscapePath: false,
  applyChecksum: false,
});

export function sha256Hex(b: string | Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}
export function md5B64(b: string | Uint8Array): string {
  return createHash("md5").update(b).digest("base64");
}
export function md5Hex(b: string | Uint8Array): string {
  return createHash("md5").update(b).digest("hex");
}

/** Percent-encodes a key the way S3 clients put it in a path (slashes kept). */
export function encodeKey(key: string): string {
  return key
    .split("/")
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase()))
    .join("/");
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  code: string | null;
}

/**
 * A SigV4-signed request sent with fetch. `path` is sent and signed as given (already encoded).
 * The payload hash is the body's unless `headers` carries x-amz-content-sha256.
 */
export async function signedRequest(
  gw: Gateway,
  opts: { method: string; path: string; query?: Record<string, string>; headers?: Record<string, string>; body?: Uint8Array | string },
): Promise<RawResponse> {
  const url = new URL(gw.endpoint);
  const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? Buffer.from(opts.body) : opts.body;
  const headers: Record<string, string> = {
    host: url.host,
    "x-amz-content-sha256": sha256Hex(body ?? ""),
    ...(opts.headers ?? {}),
  };
  if (body !== undefined) headers["content-length"] = String(body.byteLength);
  const signed = await signer.sign({
    method: opts.method,
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: opts.path,
    query: opts.query ?? {},
    headers,
  });
  const qs = new URLSearchParams(opts.query ?? {}).toString().replace(/\+/g, "%20");
  const sendHeaders = { ...signed.headers } as Record<string, string>;
  delete sendHeaders.host;
  const res = await fetch(`${gw.endpoint}${opts.path}${qs ? "?" + qs : ""}`, {
    method: opts.method,
    headers: sendHeaders,
    body: body as Uint8Array<ArrayBuffer> | undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, code: errorCode(text) };
}

/** The error code of an S3 error document (sign.ts's), null when there is none. */
export function errorCode(xml: string): string | null {
  return xmlErrorCode(xml) ?? null;
}

/** Asserts that an SDK call failed with the given HTTP status and (when there is a body) S3 code. */
export async function expectS3Error(p: Promise<unknown>, status: number, code?: string): Promise<{ name: string; status: number }> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).toBeDefined();
  const e = err as { name: string; Code?: string; $metadata?: { httpStatusCode?: number }; code?: string; statusCode?: number };
  const got = e.$metadata?.httpStatusCode ?? (e as { $response?: { statusCode?: number } }).$response?.statusCode;
  expect({ status: got, code: code === undefined ? undefined : (e.Code ?? e.name) }).toEqual({ status, code });
  return { name: e.name, status: got ?? 0 };
}

/** Every file and directory under `dir`, relative, sorted (directories end in '/'); `.filegate` skipped. */
export function treeOf(dir: string, skipGateway = true): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (skipGateway && name === ".filegate") continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        out.push(relative(dir, p) + "/");
        walk(p);
      } else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Reads a whole web or node stream into one Buffer. */
export async function readAll(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** A presigned URL (no flexible-checksum parameters: the signed request is just method + path). */
export async function presign(gw: Gateway, method: "GET" | "PUT", bucket: string, key: string, expiresIn = 600): Promise<string> {
  const { GetObjectCommand, PutObjectCommand } = await import("@aws-sdk/client-s3");
  const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
  const client = s3Client(gw, { requestChecksumCalculation: "WHEN_REQUIRED" });
  const cmd = method === "GET" ? new GetObjectCommand({ Bucket: bucket, Key: key }) : new PutObjectCommand({ Bucket: bucket, Key: key });
  return getSignedUrl(client, cmd, { expiresIn });
}

/** Polls `check` until it holds or `ms` pass. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}
