// Presigned URLs, so that the load tools (wrk, sink.c) need no signing of their own: every URL
// comes from @aws-sdk/s3-request-presigner. nginx gets plain paths instead.
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl, S3RequestPresigner } from "@aws-sdk/s3-request-presigner";
import { REGION } from "./options.ts";

/** The longest expiry SigV4 allows, so no URL expires during a run. */
const EXPIRES = 7 * 24 * 3600;

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export function presignClient(endpoint: string, credentials: Credentials): S3Client {
  // WHEN_REQUIRED: by default the presigner hoists an x-amz-checksum-crc32 of the *empty* body
  // into a PUT URL, which no real body then matches.
  return new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials, requestChecksumCalculation: "WHEN_REQUIRED" });
}

export async function presignGet(endpoint: string, credentials: Credentials, bucket: string, key: string): Promise<string> {
  return getSignedUrl(presignClient(endpoint, credentials), new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: EXPIRES });
}

/** Path-and-query of a presigned PutObject URL for each key; the 4 KiB PUT run needs one per key.
 *
 * getSignedUrl runs the whole command middleware stack, ~1 ms per URL here, which is a minute
 * for 60k keys. The SDK's S3RequestPresigner signs a bare request in ~0.05 ms; what it does not do
 * is serialize the command, so the request is built here, and checked at start against
 * getSignedUrl for the same key and time to be byte-for-byte the same URL. Keys are plain ASCII
 * (k0, k1, …), so encodeURIComponent matches the SDK's path and query encoding. */
export async function putPresigner(endpoint: string, credentials: Credentials): Promise<(bucket: string, key: string) => Promise<string>> {
  const client = presignClient(endpoint, credentials);
  const presigner = new S3RequestPresigner({ ...client.config });
  const u = new URL(endpoint);
  const signingDate = new Date();
  const sign = async (bucket: string, key: string): Promise<string> => {
    const path = `/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
    const signed = await presigner.presign(
      { method: "PUT", protocol: u.protocol, hostname: u.hostname, port: Number(u.port), path, query: { "x-id": "PutObject" }, headers: { host: u.host } },
      { expiresIn: EXPIRES, signingDate },
    );
    const q = signed.query ?? {};
    const query = Object.keys(q)
      .sort()
      .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(q[k] as string)}`)
      .join("&");
    return `${path}?${query}`;
  };
  const sdk = await getSignedUrl(client, new PutObjectCommand({ Bucket: "check", Key: "check-0" }), { expiresIn: EXPIRES, signingDate });
  const mine = endpoint + (await sign("check", "check-0"));
  if (sdk !== mine) throw new Error(`bulk presigner disagrees with getSignedUrl:\n  sdk:  ${sdk}\n  mine: ${mine}`);
  return sign;
}
