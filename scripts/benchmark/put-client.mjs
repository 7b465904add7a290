// PUT client for scripts/bench, run with Node in its own process so its CPU is not the
// orchestrator's. Uploads FILE as one PutObject the way current SDKs send it: a file stream body
// with ContentLength and the default checksum settings, which means aws-chunked with
// STREAMING-UNSIGNED-PAYLOAD-TRAILER and a CRC32 trailer. `--when-required` turns the default
// checksum off (plain UNSIGNED-PAYLOAD body) for servers that cannot parse aws-chunked trailers.
//
//   node scripts/benchmark/put-client.mjs ENDPOINT ACCESS SECRET BUCKET KEY FILE [--when-required]
//
// Prints {"bytes":N,"seconds":S,"etag":"..."}.
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createReadStream, statSync } from "node:fs";

const [endpoint, accessKeyId, secretAccessKey, Bucket, Key, file, flag] = process.argv.slice(2);
const client = new S3Client({
  endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId, secretAccessKey },
  ...(flag === "--when-required" ? { requestChecksumCalculation: "WHEN_REQUIRED" } : {}),
});
const size = statSync(file).size;
const t0 = performance.now();
const out = await client.send(new PutObjectCommand({ Bucket, Key, Body: createReadStream(file, { highWaterMark: 1024 * 1024 }), ContentLength: size }));
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ bytes: size, seconds, etag: out.ETag }) + "\n");
client.destroy();
