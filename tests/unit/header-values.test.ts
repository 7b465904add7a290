import { expect, test } from "bun:test";
import { S3Error } from "../../src/errors.ts";
import { checkHeaderValue, isHeaderName, isHeaderValue } from "../../src/http/header-values.ts";

test("header values: visible ASCII, space, tab and Latin-1 pass; controls, DEL and wider characters do not", () => {
  for (const ok of ["", "text/plain; charset=utf-8", "a\tb", "caf\xe9", "\x80\xff", "~!@#$%^&*()"]) expect(isHeaderValue(ok)).toBe(true);
  for (const bad of ["a\rb", "a\nb", "a\0b", "\x01", "\x1f", "\x7f", "\u0100", "日本", "\ud83d\ude00"]) expect(isHeaderValue(bad)).toBe(false);
});

test("header names are tokens", () => {
  expect(isHeaderName("x-amz-meta-a_b.c")).toBe(true);
  for (const bad of ["", "a b", "a:b", "a\r\nb", "é"]) expect(isHeaderName(bad)).toBe(false);
});

test("checkHeaderValue: 400 InvalidArgument naming the argument", () => {
  expect(checkHeaderValue("x", "fine")).toBe("fine");
  let e: unknown;
  try {
    checkHeaderValue("response-content-type", "a\r\nb");
  } catch (err) {
    e = err;
  }
  expect(e).toBeInstanceOf(S3Error);
  expect([(e as S3Error).status, (e as S3Error).code, (e as S3Error).extra.ArgumentName]).toEqual([400, "InvalidArgument", "response-content-type"]);
});
