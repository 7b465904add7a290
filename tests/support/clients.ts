// Real S3 clients pointed at a gateway: the AWS SDK, minio-js, and SDK-made presigned URLs.
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import * as Minio from "minio";
import { ACCESS_KEY, REGION, SECRET_KEY } from "./env.ts";

/** Anything with an endpoint: a spawned gateway (gateway.ts) or an in-process one. */
export interface Endpoint {
  endpoint: string;
  port: number;
}

export function s3Client(gw: Endpoint, overrides: Partial<ConstructorParameters<typeof S3Client>[0]> = {}): S3Client {
  return new S3Client({
    endpoint: gw.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    ...overrides,
  });
}

export function minioClient(gw: Endpoint, secretKey = SECRET_KEY): Minio.Client {
  return new Minio.Client({
    endPoint: "127.0.0.1",
    port: gw.port,
    useSSL: false,
    accessKey: ACCESS_KEY,
    secretKey,
    region: REGION,
    pathStyle: true,
  });
}

/** A presigned URL (no flexible-checksum parameters: the signed request is just method + path). */
export async function presign(gw: Endpoint, method: "GET" | "PUT", bucket: string, key: string, expiresIn = 600): Promise<string> {
  const client = s3Client(gw, { requestChecksumCalculation: "WHEN_REQUIRED" });
  const cmd = method === "GET" ? new GetObjectCommand({ Bucket: bucket, Key: key }) : new PutObjectCommand({ Bucket: bucket, Key: key });
  return getSignedUrl(client, cmd, { expiresIn });
}
