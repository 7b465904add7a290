// All S3 XML in and out goes through fast-xml-parser with one configuration.
import { XMLBuilder, XMLParser, XMLValidator } from "fast-xml-parser";
import { S3Error } from "../errors.ts";

export const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\r": "&#13;" };
const SPECIAL = /[&<>"'\r]/g;

/**
 * Text escaping for every value we render. The builder's own entity handling leaves a raw CR,
 * which any XML parser reads back as LF, so a key containing CR would come back changed.
 */
function escapeXml(_name: string, v: unknown): string {
  const s = String(v);
  return s.search(SPECIAL) < 0 ? s : s.replace(SPECIAL, (c) => ESCAPES[c]);
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  suppressEmptyNode: false,
  processEntities: false,
  tagValueProcessor: escapeXml,
  attributeValueProcessor: escapeXml,
});

/** Renders `{ Root: {...} }`-shaped data. Arrays become repeated elements; undefined is omitted. */
export function renderXml(root: string, body: Record<string, unknown>, namespace: string | null = S3_NS): string {
  const node = namespace ? { "@_xmlns": namespace, ...body } : body;
  return DECLARATION + builder.build({ [root]: node });
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  // Character references such as &#34; must decode (Go's encoder, so rclone, writes the quotes
  // around part ETags that way). Declared entities, where XML bombs live, never get this far:
  // parseXml refuses any DTD.
  htmlEntities: true,
});

/**
 * Parses a client's XML document. Anything that is not well-formed, or whose root element is not
 * `expectedRoot`, is MalformedXML. Returns the root element's content.
 */
export function parseXml(text: string, expectedRoot: string): Record<string, unknown> {
  if (text.trim() === "" || /<!(DOCTYPE|ENTITY)/i.test(text) || XMLValidator.validate(text) !== true) throw new S3Error("MalformedXML");
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch {
    throw new S3Error("MalformedXML");
  }
  const roots = Object.keys(doc).filter((k) => k !== "?xml");
  if (roots.length !== 1 || roots[0] !== expectedRoot) throw new S3Error("MalformedXML");
  const content = doc[expectedRoot];
  return content && typeof content === "object" ? (content as Record<string, unknown>) : {};
}

/** XML lists come back as one object or an array depending on count; normalise. */
export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
