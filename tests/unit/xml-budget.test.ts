// The budgeted XML reader (src/xml/parse.ts): same results as the fast-xml-parser configuration it
// replaced on well-formed documents, MalformedXML on everything else, and refusals past the limits.
import { describe, expect, test } from "bun:test";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { XML_LIMITS, parseXml } from "../../src/xml/index.ts";
import { parseDocument } from "../../src/xml/parse.ts";

// The old pipeline, for comparison.
const old = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, trimValues: false, processEntities: true, htmlEntities: true });
function withoutLayout(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutLayout);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(v)) {
    if (k === "#text" && typeof child === "string" && /^\s*$/.test(child)) continue;
    out[k] = withoutLayout(child);
  }
  return out;
}
function oldParse(text: string, root: string): unknown {
  expect(XMLValidator.validate(text)).toBe(true);
  const c = withoutLayout((old.parse(text) as Record<string, unknown>)[root]);
  return c && typeof c === "object" ? c : {};
}

const malformed = expect.objectContaining({ code: "MalformedXML" });

describe("same answers as fast-xml-parser on well-formed documents", () => {
  const docs: [string, string][] = [
    ["Delete", '<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a &amp; b</Key></Object><Object><Key> sp </Key><VersionId>null</VersionId></Object><Quiet>true</Quiet></Delete>'],
    ["Delete", "<Delete>\n  <Object>\n    <Key>\tk\n</Key>\n  </Object>\n</Delete>\n"],
    ["CompleteMultipartUpload", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;abc&#34;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;d&quot;</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>"],
    ["Tagging", "<Tagging><TagSet><Tag><Key>k</Key><Value></Value></Tag><Tag><Key>x</Key><Value/></Tag></TagSet></Tagging>"],
    ["AccessControlPolicy", '<AccessControlPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Owner><ID>o</ID></Owner><AccessControlList><Grant><Grantee xsi:type="CanonicalUser"><ID>o</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>'],
    ["A", "<A><B>x<C>y</C></B></A>"],
    ["A", "<s3:A xmlns:s3='urn:x'><s3:B>1</s3:B><!-- note --><B>2</B></s3:A>"],
    ["A", "<A><B><![CDATA[<raw> & ]]></B><C>&#x1F600;&#233;</C></A>"],
    ["A", "<A/>"],
    ["A", "<A>text only</A>"],
    ["CreateBucketConfiguration", "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"],
  ];
  test.each(docs.map(([r, t], i) => [i, r, t] as const))("document %d", (_i, root, text) => {
    expect(parseXml(text, root)).toEqual(oldParse(text, root) as Record<string, unknown>);
  });
});

describe("not well-formed: MalformedXML", () => {
  test.each([
    "",
    "   ",
    "not xml",
    "<A>",
    "<A></B>",
    "<A><B></A></B>",
    "<A></A><A></A>",
    "<A></A>trailing",
    "<A>&nbsp;</A>",
    "<A>a & b</A>",
    "<A>&#0;</A>",
    "<A>&#xD800;</A>",
    '<A b="1" b="2"></A>',
    '<A b="1"c="2"></A>',
    '<A b="<"></A>',
    "<A b=1></A>",
    "<1A></1A>",
    "<A><!-- open</A>",
    '<!DOCTYPE A [<!ENTITY x "y">]><A>&x;</A>',
    "<A><__proto__>1</__proto__></A>",
  ])("%p", (text) => {
    expect(() => parseXml(text, "A")).toThrow(malformed);
  });
  test("a wrong root", () => expect(() => parseXml("<B/>", "A")).toThrow(malformed));
  test("a child named __proto__ never reaches a prototype", () => {
    expect(() => parseXml("<A><__proto__><polluted>1</polluted></__proto__></A>", "A")).toThrow(malformed);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("the budget", () => {
  const limits = { elements: 10, attributes: 3, depth: 4, references: 5 };
  test("elements past the limit", () => {
    expect(parseDocument("<A>" + "<B/>".repeat(9) + "</A>", limits).root).toBe("A");
    expect(() => parseDocument("<A>" + "<B/>".repeat(10) + "</A>", limits)).toThrow(/more than 10 elements/);
  });
  test("attributes past the limit", () => {
    expect(() => parseDocument('<A a="1" b="2" c="3"></A>', limits)).not.toThrow();
    expect(() => parseDocument('<A a="1" b="2" c="3"><B d="4"/></A>', limits)).toThrow(/more than 3 attributes/);
  });
  test("depth past the limit", () => {
    expect(() => parseDocument("<A><B><C><D/></C></B></A>", limits)).not.toThrow();
    expect(() => parseDocument("<A><B><C><D><E/></D></C></B></A>", limits)).toThrow(/deeper than 4/);
  });
  test("references past the limit", () => {
    expect(() => parseDocument("<A>&amp;&lt;&gt;&#65;&#x42;</A>", limits)).not.toThrow();
    expect(() => parseDocument("<A>&amp;&lt;&gt;&#65;&#x42;&quot;</A>", limits)).toThrow(/more than 5 references/);
  });

  // The largest legitimate documents fit the default limits.
  const etag = '"' + "a".repeat(32) + '"';
  const longKey = (i: number) => `${i}/`.padEnd(1024, "k");
  test("CompleteMultipartUpload of 10,000 parts with a checksum each", () => {
    const parts = Array.from({ length: 10_000 }, (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag><ChecksumSHA256>${"A".repeat(43)}=</ChecksumSHA256></Part>`);
    const doc = parseXml(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join("")}</CompleteMultipartUpload>`, "CompleteMultipartUpload");
    expect((doc.Part as unknown[]).length).toBe(10_000);
  });
  test("DeleteObjects of 1,000 keys of 1,024 bytes, every character escaped", () => {
    const objects = Array.from({ length: 1000 }, (_, i) => `<Object><Key>${"&amp;".repeat(1020)}${i}</Key><VersionId>null</VersionId><ETag>${etag}</ETag><LastModifiedTime>2026-01-01T00:00:00Z</LastModifiedTime><Size>1</Size></Object>`);
    const doc = parseXml(`<Delete>${objects.join("")}<Quiet>true</Quiet></Delete>`, "Delete");
    expect((doc.Object as { Key: string }[])[999].Key).toBe("&".repeat(1020) + "999");
    expect(parseXml(`<Delete>${Array.from({ length: 1000 }, (_, i) => `<Object><Key>${longKey(i)}</Key></Object>`).join("")}</Delete>`, "Delete")).toBeDefined();
  });
  test("the defaults are the documented ones", () => {
    expect(XML_LIMITS).toEqual({ elements: 100_000, attributes: 10_000, depth: 32, references: 1_100_000 });
  });
});
