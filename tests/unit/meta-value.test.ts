// User metadata values between header bytes and stored text (RFC 2047, as S3 documents it).
import { describe, expect, test } from "bun:test";
import { metaValueFromWire, metaValueToWire, textToWire } from "../../src/s3/meta-value.ts";

/** A header value as the runtimes hand it over: one char per byte received. */
const wire = (bytes: number[] | string) => Buffer.from(typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes).toString("latin1");

describe("from the wire", () => {
  test("ASCII is kept as it is", () => {
    expect(metaValueFromWire("plain value")).toBe("plain value");
    expect(metaValueFromWire("")).toBe("");
    expect(metaValueFromWire("a=?b")).toBe("a=?b");
  });
  test("UTF-8 bytes are UTF-8 text (botocore, Go, curl send UTF-8)", () => {
    expect(metaValueFromWire(wire("Hello Worldé"))).toBe("Hello Worldé");
    expect(metaValueFromWire(wire("中文 📈"))).toBe("中文 📈");
  });
  test("bytes that are not UTF-8 are Latin-1", () => {
    expect(metaValueFromWire(wire([0x48, 0xe9]))).toBe("Hé");
  });
  test("RFC 2047 encoded-words are decoded (B and Q, UTF-8 and ISO-8859-1)", () => {
    expect(metaValueFromWire("=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?=")).toBe("Hello Worldé");
    expect(metaValueFromWire("=?utf-8?q?Hello_World=C3=A9?=")).toBe("Hello Worldé");
    expect(metaValueFromWire("=?ISO-8859-1?Q?caf=E9?=")).toBe("café");
    expect(metaValueFromWire("=?UTF-8?Q?=04mymeta?=")).toBe("\x04mymeta");
    // Whitespace between adjacent words is dropped (RFC 2047 §6.2).
    expect(metaValueFromWire("=?UTF-8?B?5Lit?= =?UTF-8?B?5paH?=")).toBe("中文");
  });
  test("text that only looks like an encoded-word is kept", () => {
    expect(metaValueFromWire("see =?UTF-8?B?w6k=?=")).toBe("see =?UTF-8?B?w6k=?=");
    expect(metaValueFromWire("=?KOI8-R?B?w6k=?=")).toBe("=?KOI8-R?B?w6k=?=");
    expect(metaValueFromWire("=?UTF-8?B?not base64!?=")).toBe("=?UTF-8?B?not base64!?=");
  });
});

describe("to the wire", () => {
  test("printable ASCII is presented as is", () => {
    expect(metaValueToWire("plain value\twith tab")).toBe("plain value\twith tab");
  });
  test("anything else is one base64 UTF-8 encoded-word", () => {
    expect(metaValueToWire("Hello Worldé")).toBe("=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?=");
    expect(metaValueToWire("\x04mymeta")).toBe("=?UTF-8?B?BG15bWV0YQ==?=");
    expect(metaValueToWire("中文")).toBe("=?UTF-8?B?5Lit5paH?=");
  });
  test("round trip", () => {
    for (const v of ["x", "Hello Worldé", "中文 📈", "\x01"]) expect(metaValueFromWire(metaValueToWire(v))).toBe(v);
  });
  test("form text becomes the UTF-8 bytes a client would send", () => {
    expect(textToWire("abc")).toBe("abc");
    expect(metaValueFromWire(textToWire("中文"))).toBe("中文");
  });
});
