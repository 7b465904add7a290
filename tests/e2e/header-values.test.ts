// Values a client gives the gateway to send back in headers (response-* overrides, stored content
// headers and x-amz-meta-*, PostObject fields, a redirect) cannot carry CR, LF, NUL, other control
// characters or (in request headers) characters past Latin-1: 400 InvalidArgument, nothing stored,
// no header injected.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { existsSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { closeGateway, errorCode, type Gateway, openGateway, sha256Hex, sign, signedRequest } from "../support/index.ts";

const B = "hdr-values";
let gw: Gateway;
let s3: S3Client;

beforeAll(async () => {
  ({ gw, s3 } = await openGateway(B));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: "obj.txt", Body: "hello" }));
});
afterAll(() => closeGateway(gw, s3));

const BAD: [string, string][] = [
  ["CR LF", "text/plain\r\nx-injected: yes"],
  ["LF", "text/plain\nx-injected: yes"],
  ["NUL", "text/plain\0"],
  ["a control character", "text/\x01plain"],
  ["DEL", "text/plain\x7f"],
  ["a character past Latin-1", "text/plain; name=日本"],
];

const tmpFiles = () => (existsSync(join(gw.root, B, ".filegate", "tmp")) ? readdirSync(join(gw.root, B, ".filegate", "tmp")) : []);

describe("response-* overrides on GET and HEAD", () => {
  for (const [what, value] of BAD) {
    test(`${what}: 400 InvalidArgument, no injected header`, async () => {
      for (const param of ["response-content-type", "response-content-disposition", "response-cache-control"]) {
        const get = await signedRequest(gw, { method: "GET", path: `/${B}/obj.txt`, query: { [param]: value } });
        expect({ param, status: get.status, code: get.code }).toEqual({ param, status: 400, code: "InvalidArgument" });
        expect(get.body).toContain(`<ArgumentName>${param}</ArgumentName>`);
        expect(get.headers.get("x-injected")).toBeNull();
        const head = await signedRequest(gw, { method: "HEAD", path: `/${B}/obj.txt`, query: { [param]: value } });
        expect({ param, status: head.status }).toEqual({ param, status: 400 });
      }
    });
  }

  test("Latin-1 and ordinary values still pass", async () => {
    const r = await signedRequest(gw, { method: "GET", path: `/${B}/obj.txt`, query: { "response-content-type": "text/plain; charset=utf-8", "response-content-disposition": "attachment; filename=caf\xe9.txt" } });
    expect([r.status, r.body, r.headers.get("content-type")]).toEqual([200, "hello", "text/plain; charset=utf-8"]);
    expect(Buffer.from(r.headers.get("content-disposition")!, "latin1").toString("latin1")).toBe("attachment; filename=caf\xe9.txt");
  });
});

/** A signed PUT written byte for byte to a socket: HTTP clients refuse to send DEL in a header. */
function rawSignedPut(key: string, header: [string, string], body: string): Promise<{ status: number; text: string }> {
  const url = new URL(gw.endpoint);
  const path = `/${B}/${key}`;
  const { headers } = sign({ method: "PUT", path, headers: { host: url.host, "content-length": String(body.length), [header[0]]: header[1] }, payloadHash: sha256Hex(body) });
  // Signed over the value's UTF-8 bytes, and those bytes on the wire (one latin1 char each).
  const head = [`PUT ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${Buffer.from(v, "utf8").toString("latin1")}`), "connection: close", "", ""].join("\r\n");
  return new Promise((ok, fail) => {
    const s = connect(gw.port, "127.0.0.1", () => s.write(Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(body)])));
    let data = "";
    s.on("data", (d) => (data += d.toString("latin1")));
    s.on("error", fail);
    s.on("close", () => ok({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0), text: data }));
  });
}

describe("stored headers on PUT", () => {
  test("DEL in x-amz-meta-* or Content-Type: 400, nothing stored (Node's parser refuses it first)", async () => {
    for (const header of [["x-amz-meta-note", "a\x7fb"], ["content-type", "text/\x7fplain"]] as [string, string][]) {
      const r = await rawSignedPut("del.txt", header, "body");
      expect({ header: header[0], status: r.status }).toEqual({ header: header[0], status: 400 });
      if (r.text.includes("<Error>")) expect(errorCode(r.text)).toBe("InvalidArgument");
      expect(existsSync(join(gw.root, B, "del.txt"))).toBe(false);
    }
  });

  test("a non-ASCII metadata value is stored, and sent back RFC 2047-encoded as S3 documents", async () => {
    const r = await rawSignedPut("latin1.txt", ["x-amz-meta-note", "café"], "body");
    expect(r.status).toBe(200);
    const got = await rawHead("latin1.txt");
    expect(got).toContain(`x-amz-meta-note: =?UTF-8?B?${Buffer.from("café").toString("base64")}?=\r\n`.toLowerCase());
  });
});

/** A HEAD whose response headers are read as raw bytes. */
function rawHead(key: string): Promise<string> {
  const url = new URL(gw.endpoint);
  const path = `/${B}/${key}`;
  const { headers } = sign({ method: "HEAD", path, headers: { host: url.host }, payloadHash: sha256Hex("") });
  const head = [`HEAD ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "connection: close", "", ""].join("\r\n");
  return new Promise((ok, fail) => {
    const s = connect(gw.port, "127.0.0.1", () => s.write(head));
    let data = "";
    s.on("data", (d) => (data += d.toString("latin1")));
    s.on("error", fail);
    s.on("close", () => ok(data.toLowerCase()));
  });
}

describe("PostObject form fields", () => {
  async function post(key: string, extra: Record<string, string>) {
    const conditions = Object.keys(extra).map((k) => ["starts-with", `$${k}`, ""]) as never[];
    const { url, fields } = await createPresignedPost(s3, { Bucket: B, Key: key, Expires: 600, Conditions: conditions });
    const form = new FormData();
    for (const [k, v] of Object.entries({ ...fields, ...extra })) form.append(k, v);
    form.append("file", new Blob(["form body"]), "f.txt");
    const r = await fetch(url, { method: "POST", body: form, redirect: "manual" });
    const text = await r.text();
    return { status: r.status, code: errorCode(text), text, headers: r.headers };
  }

  // Form fields are UTF-8 text: a character past Latin-1 is stored as its UTF-8 bytes (metadata
  // comes back RFC 2047-encoded, as S3 documents), so only controls are refused there.
  for (const [what, value] of BAD.filter(([w]) => w !== "a character past Latin-1")) {
    test(`${what} in Content-Type, x-amz-meta-*, Content-Disposition or the redirect: 400, nothing stored`, async () => {
      for (const field of ["Content-Type", "x-amz-meta-note", "Content-Disposition", "success_action_redirect"]) {
        const key = `post/${field}.txt`;
        const v = field === "success_action_redirect" ? `http://example.test/done?x=${value}` : value;
        const r = await post(key, { [field]: v });
        expect({ field, status: r.status, code: r.code }).toEqual({ field, status: 400, code: "InvalidArgument" });
        expect(r.headers.get("x-injected")).toBeNull();
        expect(existsSync(join(gw.root, B, key))).toBe(false);
      }
      expect(tmpFiles()).toEqual([]);
    });
  }

  test("UTF-8 metadata in a form is stored and returned RFC 2047-encoded", async () => {
    const r = await post("post/utf8.txt", { "x-amz-meta-note": "日本" });
    expect(r.status).toBe(204);
    expect(await rawHead("post/utf8.txt")).toContain(`x-amz-meta-note: =?UTF-8?B?${Buffer.from("日本").toString("base64")}?=\r\n`.toLowerCase());
  });

  test("a UTF-8 key and ordinary fields still upload", async () => {
    const r = await post("post/日本.txt", { "Content-Type": "text/plain", "x-amz-meta-note": "caf\xe9" });
    expect(r.status).toBe(204);
    expect(existsSync(join(gw.root, B, "post", "日本.txt"))).toBe(true);
  });
});
