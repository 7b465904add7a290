// In-process: multipart uploads (routes/multipart.ts): create, parts, list, complete, abort,
// Complete's checks, UploadPartCopy.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { md5Hex } from "../../support/sign.ts";
import { openApp, type AppGateway } from "../../support/app.ts";

let gw: AppGateway;
beforeAll(async () => {
  gw = openApp();
  await gw.signed("PUT", "/mpu");
});
afterAll(() => gw.close());

const MiB5 = 5 * 1024 * 1024;
async function create(key: string): Promise<string> {
  const r = await gw.signed("POST", `/mpu/${key}`, { query: { uploads: "" } });
  expect(r.status).toBe(200);
  return /<UploadId>([^<]+)<\/UploadId>/.exec(r.body)![1];
}
const part = (key: string, uploadId: string, n: number, body: Uint8Array | string) => gw.signed("PUT", `/mpu/${key}`, { query: { partNumber: String(n), uploadId }, body });
const completeXml = (etags: string[]) => `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;

test("create, two parts, ListParts, ListMultipartUploads, complete: the file and the multipart ETag", async () => {
  const id = await create("big");
  const a = Buffer.alloc(MiB5, 7);
  const etags = [(await part("big", id, 1, a)).headers.get("etag")!, (await part("big", id, 2, "end")).headers.get("etag")!];
  expect(etags).toEqual([`"${md5Hex(a)}"`, `"${md5Hex("end")}"`]);
  const parts = await gw.signed("GET", "/mpu/big", { query: { uploadId: id } });
  expect((parts.body.match(/<Part>/g) ?? []).length).toBe(2);
  const uploads = await gw.signed("GET", "/mpu", { query: { uploads: "" } });
  expect(uploads.body).toContain(`<UploadId>${id}</UploadId>`);
  const done = await gw.signed("POST", "/mpu/big", { query: { uploadId: id }, body: completeXml(etags) });
  expect(done.status).toBe(200);
  expect(done.body).toMatch(/<ETag>(?:"|&quot;|&#34;)[0-9a-f]{32}-2(?:"|&quot;|&#34;)<\/ETag>/);
  expect(readFileSync(join(gw.root, "mpu", "big")).equals(Buffer.concat([a, Buffer.from("end")]))).toBe(true);
});

test("Complete's checks: a wrong ETag is InvalidPart, a small non-last part EntityTooSmall", async () => {
  const id = await create("checks");
  const e1 = (await part("checks", id, 1, "small")).headers.get("etag")!;
  const e2 = (await part("checks", id, 2, "last")).headers.get("etag")!;
  const wrong = await gw.signed("POST", "/mpu/checks", { query: { uploadId: id }, body: completeXml([e1, '"00000000000000000000000000000000"']) });
  expect([wrong.status, wrong.code]).toEqual([400, "InvalidPart"]);
  const small = await gw.signed("POST", "/mpu/checks", { query: { uploadId: id }, body: completeXml([e1, e2]) });
  expect([small.status, small.code]).toEqual([400, "EntityTooSmall"]);
  expect(existsSync(join(gw.root, "mpu", "checks"))).toBe(false);
});

test("abort: 204, then the upload is NoSuchUpload", async () => {
  const id = await create("aborted");
  await part("aborted", id, 1, "x");
  expect((await gw.signed("DELETE", "/mpu/aborted", { query: { uploadId: id } })).status).toBe(204);
  const after = await part("aborted", id, 2, "y");
  expect([after.status, after.code]).toEqual([404, "NoSuchUpload"]);
});

test("UploadPartCopy takes a byte range of an existing object", async () => {
  await gw.signed("PUT", "/mpu/source", { body: "0123456789" });
  const id = await create("copied");
  const r = await gw.signed("PUT", "/mpu/copied", { query: { partNumber: "1", uploadId: id }, headers: { "x-amz-copy-source": "/mpu/source", "x-amz-copy-source-range": "bytes=2-5" } });
  expect(r.status).toBe(200);
  expect(r.body).toContain(md5Hex("2345"));
  const etag = /<ETag>([^<]+)<\/ETag>/.exec(r.body)![1].replace(/&quot;|&#34;/g, '"');
  expect((await gw.signed("POST", "/mpu/copied", { query: { uploadId: id }, body: completeXml([etag]) })).status).toBe(200);
  expect(readFileSync(join(gw.root, "mpu", "copied"), "utf8")).toBe("2345");
});
