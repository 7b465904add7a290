import { describe, expect, test } from "bun:test";
import { parseXml, renderXml } from "../../src/xml/index.ts";

describe("parseXml", () => {
  test("character references decode (Go's encoder writes quotes as &#34;)", () => {
    const doc = parseXml('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;abc&#34;</ETag></Part></CompleteMultipartUpload>', "CompleteMultipartUpload");
    expect((doc.Part as Record<string, string>).ETag).toBe('"abc"');
    expect(parseXml("<A><B>&#x22;x&#x22; &amp;amp; &lt;</B></A>", "A").B).toBe('"x" &amp; <');
  });
  test("text is kept exactly (keys may start or end with spaces); only indentation goes", () => {
    const doc = parseXml("<Delete>\n  <Object>\n    <Key> ts </Key>\n  </Object>\n  <Object><Key>\tb\n</Key></Object>\n  <Quiet>true</Quiet>\n</Delete>", "Delete");
    expect(doc).toEqual({ Object: [{ Key: " ts " }, { Key: "\tb\n" }], Quiet: "true" });
    // Text beside elements that is not layout is still reported.
    expect(parseXml("<A><B>x<C>y</C></B></A>", "A")).toEqual({ B: { C: "y", "#text": "x" } });
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

describe("renderXml matches the XMLBuilder configuration it replaced", () => {
  // The builder is still installed (fast-xml-parser depends on it); the renderer must stay
  // byte-for-byte compatible with what clients saw before.
  const { XMLBuilder } = require("fast-xml-parser");
  const esc = (_n: string, v: unknown) => String(v).replace(/[&<>"'\r]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\r": "&#13;" })[c]!);
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@_", suppressEmptyNode: false, processEntities: false, tagValueProcessor: esc, attributeValueProcessor: esc });
  const docs: Record<string, unknown>[] = [
    { Name: "b", Prefix: "", KeyCount: 0, MaxKeys: 1000, IsTruncated: false, Contents: [], CommonPrefixes: [] },
    {
      Name: "b",
      Contents: [
        { Key: "a & b", LastModified: "2026-01-01T00:00:00.000Z", ETag: '"x"', Size: 3, StorageClass: "STANDARD", Owner: { ID: "o", DisplayName: "d" } },
        { Key: "<\r'>", Size: 0 },
      ],
      CommonPrefixes: [{ Prefix: "p/" }],
      Empty: "",
      Nothing: null,
      Skipped: undefined,
      Nested: {},
    },
    // GetBucketLocation outside us-east-1: text beside an attribute.
    { "#text": "eu-west-1" },
    { Region: { "@_a": "x&y", "#text": "a<b" } },
    {
      AccessControlList: {
        Grant: [{ Grantee: { "@_xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "@_xsi:type": "CanonicalUser", ID: "i&d" }, Permission: "FULL_CONTROL" }],
      },
    },
  ];
  test.each(docs.map((d, i) => [i, d] as const))("document %d", (_i, doc) => {
    const ns = "http://s3.amazonaws.com/doc/2006-03-01/";
    expect(renderXml("R", doc)).toBe('<?xml version="1.0" encoding="UTF-8"?>\n' + builder.build({ R: { "@_xmlns": ns, ...doc } }));
    expect(renderXml("R", doc, null)).toBe('<?xml version="1.0" encoding="UTF-8"?>\n' + builder.build({ R: doc }));
  });
});
