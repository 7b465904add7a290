import { describe, expect, test } from "bun:test";
import { parseXml, renderXml } from "../../src/xml/index.ts";

describe("parseXml", () => {
  test("character references decode (Go's encoder writes quotes as &#34;)", () => {
    const doc = parseXml('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;abc&#34;</ETag></Part></CompleteMultipartUpload>', "CompleteMultipartUpload");
    expect((doc.Part as Record<string, string>).ETag).toBe('"abc"');
    expect(parseXml("<A><B>&#x22;x&#x22; &amp;amp; &lt;</B></A>", "A").B).toBe('"x" &amp; <');
  });
  test("DTDs and declared entities are refused", () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><A><B>&lol2;</B></A>';
    expect(() => parseXml(bomb, "A")).toThrow();
  });
  test("wrong root, empty and malformed documents are MalformedXML", () => {
    for (const t of ["", "<A>", "<B></B>", "not xml"]) expect(() => parseXml(t, "A")).toThrow(expect.objectContaining({ code: "MalformedXML" }));
  });
});

describe("renderXml", () => {
  test("CR survives as a character reference; markup is escaped", () => {
    const xml = renderXml("R", { Key: "a\rb<&>" });
    expect(xml).toContain("<Key>a&#13;b&lt;&amp;&gt;</Key>");
    expect((parseXml(xml, "R").Key as string)).toBe("a\rb<&>");
  });
});
