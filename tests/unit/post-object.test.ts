import { describe, expect, test } from "bun:test";
import { formBoundary, parseDisposition, readFormUntilFile } from "../../src/http/form-data.ts";
import { checkPolicy, decodePolicy } from "../../src/s3/post-policy.ts";

const tooLarge = () => Object.assign(new Error("too large"), { code: "MaxPostPreDataLengthExceededError" }) as never;

/** The body delivered in chunks of `size` bytes, so boundaries fall across chunk edges. */
function chunked(body: Buffer, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= body.length) return c.close();
      c.enqueue(new Uint8Array(body.subarray(at, at + size)));
      at += size;
    },
  });
}

async function text(s: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(s).arrayBuffer());
}

const B = "----b0undary";
// The file's bytes contain near-misses of the delimiter.
const FILE = Buffer.concat([Buffer.from("line one\r\n--"), Buffer.from(`\r\n--${B.slice(0, 6)}`), Buffer.alloc(300, 0x41), Buffer.from("\r\n-")]);
const BODY = Buffer.concat([
  Buffer.from(`preamble to ignore\r\n--${B}\r\nContent-Disposition: form-data; name="key"\r\n\r\nuploads/\${filename}\r\n`),
  Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="X-Amz-Meta-Note"\r\n\r\n a note with spaces \r\n`),
  Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="File"; filename="my photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
  FILE,
  Buffer.from(`\r\n--${B}\r\nContent-Disposition: form-data; name="after"\r\n\r\nignored\r\n--${B}--\r\n`),
]);

describe("multipart/form-data reader", () => {
  test("boundary and disposition parsing", () => {
    expect(formBoundary(`multipart/form-data; boundary=${B}`)).toBe(B);
    expect(formBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b"')).toBe("a b");
    expect(formBoundary("application/x-www-form-urlencoded")).toBeNull();
    expect(formBoundary("multipart/form-data")).toBeNull();
    // Browsers send backslashes raw (old ones send a whole Windows path) and percent-encode quotes.
    expect(parseDisposition('form-data; name="file"; filename="C:\\dir\\a%22b.txt"')).toEqual({ name: "file", filename: "C:\\dir\\a%22b.txt" });
    expect(parseDisposition("form-data; name=key")).toEqual({ name: "key", filename: null });
    expect(parseDisposition('attachment; name="x"')).toBeNull();
  });

  for (const size of [1, 2, 7, 64, 100_000]) {
    test(`fields, then the file streamed exactly, in chunks of ${size}`, async () => {
      const form = await readFormUntilFile(chunked(BODY, size), B, 20 * 1024, tooLarge);
      expect(form.fields).toEqual([["key", "uploads/${filename}"], ["X-Amz-Meta-Note", " a note with spaces "]]);
      expect(form.file?.filename).toBe("my photo.jpg");
      expect(form.file?.contentType).toBe("image/jpeg");
      expect((await text(form.file!.stream)).equals(FILE)).toBe(true);
      await form.finish();
    });
  }

  test("no file part; fields over the limit; a body cut off inside the file", async () => {
    const noFile = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--${B}--\r\n`);
    expect((await readFormUntilFile(chunked(noFile, 5), B, 1024, tooLarge)).file).toBeNull();
    await expect(readFormUntilFile(chunked(BODY, 64), B, 10, tooLarge)).rejects.toMatchObject({ code: "MaxPostPreDataLengthExceededError" });
    const cut = BODY.subarray(0, BODY.indexOf(FILE) + 100);
    const form = await readFormUntilFile(chunked(cut, 64), B, 1024, tooLarge);
    await expect(text(form.file!.stream)).rejects.toMatchObject({ code: "MalformedPOSTRequest" });
    await expect(readFormUntilFile(chunked(Buffer.from("no boundary here"), 4), B, 1024, tooLarge)).rejects.toMatchObject({ code: "MalformedPOSTRequest" });
  });
});

describe("POST policy", () => {
  const encode = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString("base64");
  const later = new Date(Date.now() + 60_000).toISOString();
  const policy = decodePolicy(
    encode({
      expiration: later,
      conditions: [{ bucket: "b" }, ["starts-with", "$key", "uploads/"], ["eq", "$Content-Type", "image/png"], ["starts-with", "$x-amz-meta-tag", ""], ["content-length-range", 1, "1000"]],
    }),
  );
  const form = (extra: Record<string, string> = {}) =>
    new Map(Object.entries({ bucket: "b", key: "uploads/x", "content-type": "image/png", "x-amz-meta-tag": "anything", policy: "p", "x-amz-signature": "s", file: "", ...extra }));

  test("a form meeting every condition passes and yields the size range", () => {
    expect(checkPolicy(policy, form(), new Date())).toEqual({ min: 1, max: 1000 });
    expect(checkPolicy(policy, form({ "x-ignore-anything": "1" }), new Date())).toEqual({ min: 1, max: 1000 });
  });

  test("each way a form can fail", () => {
    const fails = (f: Map<string, string>, now = new Date()) => {
      try {
        checkPolicy(policy, f, now);
      } catch (e) {
        return (e as Error).message;
      }
      return "passed";
    };
    expect(fails(form({ key: "other/x" }))).toContain('Policy Condition failed: ["starts-with","$key","uploads/"]');
    expect(fails(form({ "content-type": "image/gif" }))).toContain("Policy Condition failed");
    expect(fails(form({ bucket: "c" }))).toContain('{"bucket":"b"}');
    expect(fails(form({ "x-amz-meta-other": "1" }))).toContain("Extra input fields: x-amz-meta-other");
    expect(fails(form(), new Date(Date.now() + 120_000))).toContain("Policy expired.");
    // Each type of a Content-Type list must meet a starts-with condition.
    const types = decodePolicy(encode({ expiration: later, conditions: [{ bucket: "b" }, ["starts-with", "$Content-Type", "image/"]] }));
    const typed = (ct: string) => new Map([["bucket", "b"], ["content-type", ct]]);
    expect(checkPolicy(types, typed("image/jpg, image/png"), new Date())).toBeUndefined();
    expect(() => checkPolicy(types, typed("image/jpg,text/plain"), new Date())).toThrow("Policy Condition failed");
    // The bucket is a field: a policy that does not name it does not allow it.
    const nameless = decodePolicy(encode({ expiration: later, conditions: [["starts-with", "$key", ""]] }));
    expect(() => checkPolicy(nameless, new Map([["bucket", "b"], ["key", "k"]]), new Date())).toThrow("Extra input fields: bucket");
  });

  test("every content-length-range holds: the allowed range is their intersection", () => {
    const two = decodePolicy(encode({ expiration: later, conditions: [{ bucket: "b" }, ["content-length-range", 0, 3], ["content-length-range", 1, 100]] }));
    expect(checkPolicy(two, new Map([["bucket", "b"]]), new Date())).toEqual({ min: 1, max: 3 });
  });

  test("malformed policies are InvalidPolicyDocument", () => {
    for (const bad of ["not base64 json", encode([]), encode({ conditions: [] }), encode({ expiration: "soon", conditions: [] }), encode({ expiration: later }), encode({ expiration: later, conditions: [["eq", "key", "x"]] }), encode({ expiration: later, conditions: [["between", "$key", "x"]] }), encode({ expiration: later, conditions: [["content-length-range", -1, 5]] }), encode({ expiration: later, conditions: [], foo: "bar" }), encode({ expiration: "2099", conditions: [] }), encode({ expiration: "2099-01-01 00:00:00.123+00:00", conditions: [] }), encode({ expiration: "2099-01-01T12:00:00+02:00", conditions: [] })]) {
      expect(() => decodePolicy(bad)).toThrow(expect.objectContaining({ code: "InvalidPolicyDocument" }));
    }
  });
});
