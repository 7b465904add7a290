// Header-signed GETs as @aws-sdk/client-s3 sends them, many of them: every SDK request carries a
// fresh `amz-sdk-invocation-id` (a UUID) among its signed headers, so no two requests share a
// signature. Running the SDK's whole middleware stack costs ~1 ms per request, too slow to prepare
// tens of thousands, so the same headers are signed here with the SDK's own SignatureV4, and the
// result is checked at start against a request the SDK itself built, byte for byte.
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { randomUUID } from "node:crypto";
import { REGION } from "./options.ts";
import type { Credentials } from "./presign.ts";

export interface SignedGet {
  path: string;
  headers: Record<string, string>;
}

type Captured = { path: string; query: Record<string, string>; headers: Record<string, string> };

/** The request the SDK sends for GetObject, signed, captured before it leaves. */
async function sdkRequest(endpoint: string, credentials: Credentials, bucket: string, key: string): Promise<{ captured: Captured; sha256: unknown }> {
  let captured: Captured | undefined;
  const client = new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials,
    requestHandler: {
      handle: async (req: Captured) => {
        captured = { path: req.path, query: { ...req.query }, headers: { ...req.headers } };
        throw new Error("captured");
      },
    } as never,
  });
  await client.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch(() => {});
  if (!captured) throw new Error("the SDK sent no request");
  return { captured, sha256: client.config.sha256 };
}

/**
 * A function giving a differently signed GetObject of `bucket/key` per call, with the SDK's
 * header set. Keys are plain ASCII, so the path needs no encoding beyond what the SDK does.
 */
export async function headerSigner(endpoint: string, credentials: Credentials, bucket: string, key: string): Promise<() => Promise<SignedGet>> {
  const { captured: sdk, sha256 } = await sdkRequest(endpoint, credentials, bucket, key);
  const signer = new SignatureV4({ credentials, region: REGION, service: "s3", sha256: sha256 as never, uriEscapePath: false, applyChecksum: false });
  const u = new URL(endpoint);
  const qs = Object.entries(sdk.query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
  const path = sdk.path + (qs ? "?" + qs : "");
  const base = { ...sdk.headers };
  delete base.authorization;
  delete base["x-amz-date"];
  const sign = async (invocationId: string, signingDate: Date): Promise<SignedGet> => {
    const signed = await signer.sign(
      { method: "GET", protocol: u.protocol, hostname: u.hostname, port: Number(u.port), path: sdk.path, query: sdk.query, headers: { ...base, "amz-sdk-invocation-id": invocationId } },
      { signingDate },
    );
    return { path, headers: signed.headers as Record<string, string> };
  };
  const d = sdk.headers["x-amz-date"];
  const sdkDate = new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
  const mine = await sign(sdk.headers["amz-sdk-invocation-id"], sdkDate);
  if (mine.headers.authorization !== sdk.headers.authorization) {
    throw new Error(`header signer disagrees with the SDK:\n  sdk:  ${sdk.headers.authorization}\n  mine: ${mine.headers.authorization}`);
  }
  const now = new Date();
  return () => sign(randomUUID(), now);
}
