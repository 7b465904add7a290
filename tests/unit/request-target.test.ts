import { describe, expect, test } from "bun:test";
import { parseRequestTarget, splitQuery } from "../../src/http/request-target.ts";

describe("request target: one parse for addressing, routing and auth", () => {
  test("raw path and query survive; parts keep the bytes sent and the decoded text", () => {
    const t = parseRequestTarget("http://h:9000/b/a/../k%2B?acl&X-Amz-Credential=AK%2F2013&x=a+b&&y=");
    expect(t.path).toBe("/b/a/../k%2B");
    expect(t.rawQuery).toBe("acl&X-Amz-Credential=AK%2F2013&x=a+b&&y=");
    expect(t.parts.map((p) => [p.rawKey, p.rawValue, p.hasEquals, p.key, p.value])).toEqual([
      ["acl", "", false, "acl", ""],
      ["X-Amz-Credential", "AK%2F2013", true, "X-Amz-Credential", "AK/2013"],
      ["x", "a+b", true, "x", "a b"],
      ["y", "", true, "y", ""],
    ]);
    expect(t.param("X-Amz-Credential")).toBe("AK/2013");
    expect(t.param("x-amz-credential")).toBeUndefined();
    expect(t.param("x-amz-credential", true)).toBe("AK/2013");
    expect(t.has("acl")).toBe(true);
    expect(t.query.get("x")).toBe("a b");
  });

  // Handlers read `query`; it must be what URLSearchParams makes of the same bytes.
  test("decoded parts agree with URLSearchParams on request-line queries", () => {
    const alphabet = ["a", "b", "=", "&", "%", "+", "?", "%2", "%41", "%C3", "%A9", "%E6%97%A5", "%FF", "%ED%A0%80", "%F0%9F", "%80", "%zz", "%00", "%2B", "%20"];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let n = 0; n < 20000; n++) {
      let s = "";
      const len = 1 + rand(10);
      for (let i = 0; i < len; i++) s += alphabet[rand(alphabet.length)];
      expect(splitQuery(s).map((p) => [p.key, p.value])).toEqual([...new URLSearchParams(s)]);
    }
  });
});
