// In-process: GetObjectAttributes (routes/attributes.ts) for a single-part and a multipart object.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { md5Hex } from "../../support/sign.ts";
import { openApp, type AppGateway } from "../../support/app.ts";

let gw: AppGateway;
beforeAll(async () => {
  gw = openApp();
  await gw.signed("PUT", "/attr");
  await gw.signed("PUT", "/attr/one", { body: "twelve bytes" });
});
afterAll(() => gw.close());

const attributes = (path: string, names: string, headers: Record<string, string> = {}) =>
  gw.signed("GET", path, { query: { attributes: "" }, headers: { "x-amz-object-attributes": names, ...headers } });

test("ETag, size and storage class of a plain object", async () => {
  const r = await attributes("/attr/one", "ETag,ObjectSize,StorageClass");
  expect(r.status).toBe(200);
  expect(r.body).toContain(`<ETag>${md5Hex("twelve bytes")}</ETag>`);
  expect(r.body).toContain("<ObjectSize>12</ObjectSize>");
  expect(r.body).toContain("<StorageClass>STANDARD</StorageClass>");
});

test("the parts of a multipart object, paged by max-parts", async () => {
  const init = await gw.signed("POST", "/attr/mp", { query: { uploads: "" } });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.body)![1];
  const big = Buffer.alloc(5 * 1024 * 1024, 1);
  const etags: string[] = [];
  for (const [n, body] of [[1, big], [2, big], [3, Buffer.from("tail")]] as const) {
    const p = await gw.signed("PUT", "/attr/mp", { query: { partNumber: String(n), uploadId }, body });
    etags.push(p.headers.get("etag")!);
  }
  const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
  expect((await gw.signed("POST", "/attr/mp", { query: { uploadId }, body: xml })).status).toBe(200);
  const r = await attributes("/attr/mp", "ObjectParts,ObjectSize", { "x-amz-max-parts": "2" });
  expect(r.body).toContain("<PartsCount>3</PartsCount>");
  expect(r.body).toContain(`<ObjectSize>${2 * big.length + 4}</ObjectSize>`);
  expect((r.body.match(/<Part>/g) ?? []).length).toBe(2);
  expect(r.body).toContain("<IsTruncated>true</IsTruncated>");
});

test("no attributes named: 400 InvalidArgument; a missing object: 404 NoSuchKey", async () => {
  const none = await gw.signed("GET", "/attr/one", { query: { attributes: "" } });
  expect([none.status, none.code]).toEqual([400, "InvalidArgument"]);
  expect((await attributes("/attr/none", "ETag")).code).toBe("NoSuchKey");
});
