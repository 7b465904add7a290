// The checks on startFilegate(), in plain JavaScript so the same file runs in-process on Bun (from
// embed.test.ts) and on Node (a node process embed.test.ts starts). Throws on the first failure.
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function portFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen({ port, host: "127.0.0.1", exclusive: true }, () => s.close(() => resolve(true)));
  });
}

const client = (gw) =>
  new S3Client({ endpoint: gw.endpoint, region: gw.region, forcePathStyle: true, credentials: { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey } });

export async function runEmbedChecks(startFilegate) {
  // Two at once, each with its own temp root, port and keys.
  const [a, b] = await Promise.all([startFilegate({ buckets: ["alpha", "beta"] }), startFilegate({ region: "eu-west-3" })]);
  assert.notEqual(a.port, b.port);
  assert.notEqual(a.root, b.root);
  assert.match(a.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(b.region, "eu-west-3");
  assert.ok(existsSync(a.root) && existsSync(b.root));
  const sa = client(a);
  const sb = client(b);
  const names = (await sa.send(new ListBucketsCommand({}))).Buckets.map((x) => x.Name);
  assert.deepEqual(names, ["alpha", "beta"]);
  await sb.send(new CreateBucketCommand({ Bucket: "gamma" }));
  await sa.send(new PutObjectCommand({ Bucket: "alpha", Key: "dir/hello.txt", Body: "hello from a" }));
  await sb.send(new PutObjectCommand({ Bucket: "gamma", Key: "k", Body: "hello from b" }));
  const got = await sa.send(new GetObjectCommand({ Bucket: "alpha", Key: "dir/hello.txt" }));
  assert.equal(await got.Body.transformToString(), "hello from a");
  assert.equal(await (await sb.send(new GetObjectCommand({ Bucket: "gamma", Key: "k" }))).Body.transformToString(), "hello from b");
  // Keys are per gateway: a's keys do not open b.
  const wrong = new S3Client({ endpoint: b.endpoint, region: b.region, forcePathStyle: true, credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey } });
  await assert.rejects(wrong.send(new ListBucketsCommand({})), (e) => e.name === "InvalidAccessKeyId");
  // stop() closes live keep-alive connections, frees the port and removes the temp root.
  await Promise.all([a.stop(), b.stop()]);
  assert.equal(existsSync(a.root), false);
  assert.equal(existsSync(b.root), false);
  assert.equal(await portFree(a.port), true);
  assert.equal(await portFree(b.port), true);
  await a.stop(); // twice is fine
  for (const c of [sa, sb, wrong]) c.destroy();

  // A root of the caller's, fixed keys: the root stays after stop().
  const root = mkdtempSync(join(tmpdir(), "filegate-embed-"));
  try {
    const credentials = { accessKeyId: "EMBEDKEY0001", secretAccessKey: "embedded-secret-0001" };
    const c = await startFilegate({ root, credentials, buckets: ["mine"] });
    assert.equal(c.root, root);
    assert.equal(c.accessKeyId, "EMBEDKEY0001");
    assert.equal(c.secretAccessKey, "embedded-secret-0001");
    const sc = client(c);
    await sc.send(new PutObjectCommand({ Bucket: "mine", Key: "photo.jpg", Body: "jpeg?" }));
    await c.stop();
    sc.destroy();
    assert.ok(existsSync(join(root, "mine", "photo.jpg")));
    // A bad option is a TypeError naming it; nothing is left listening or on disk.
    await assert.rejects(startFilegate({ region: "Not A Region" }), (e) => e instanceof TypeError && /region/.test(e.message));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return "ok";
}
