// S3 XML in goes through fast-xml-parser with one configuration; XML out is rendered here.
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { S3Error } from "../errors.ts";

export const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const SPECIAL = /[&<>"'\r]/;

/** Text escaping for every value we render. CR becomes a character reference: a raw CR is read
 * back as LF by any XML parser, so a key containing CR would come back changed. A loop rather than
 * replace() with a callback: every listed ETag has quotes, and this runs for each. */
function escapeXml(v: unknown): string {
  const s = typeof v === "string" ? v : String(v);
  if (!SPECIAL.test(s)) return s;
  let out = "";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    let r: string;
    switch (s.charCodeAt(i)) {
      case 38: r = "&amp;"; break;
      case 60: r = "&lt;"; break;
      case 62: r = "&gt;"; break;
      case 34: r = "&quot;"; break;
      case 39: r = "&apos;"; break;
      case 13: r = "&#13;"; break;
      default: continue;
    }
    out += s.slice(from, i) + r;
    from = i + 1;
  }
  return out + s.slice(from);
}

function renderValue(out: string[], name: string, v: unknown): void {
  if (v === undefined) return;
  if (Array.isArray(v)) {
    for (const item of v) {
      if (Array.isArray(item)) throw new TypeError(`renderXml: nested array under <${name}>`);
      renderValue(out, name, item);
    }
    return;
  }
  if (v === null) {
    out.push(`<${name}/>`);
    return;
  }
  if (typeof v !== "object") {
    out.push(`<${name}>${escapeXml(v)}</${name}>`);
    return;
  }
  // The start tag is filled in after the children: attributes may come in any order.
  const at = out.push("") - 1;
  let open = "<" + name;
  for (const k in v) {
    const child = (v as Record<string, unknown>)[k];
    if (k.startsWith("@_")) {
      if (child !== undefined) open += ` ${k.slice(2)}="${escapeXml(child)}"`;
    } else if (k === "#text") {
      if (child !== undefined) out.push(escapeXml(child));
    } else renderValue(out, k, child);
  }
  out[at] = open + ">";
  out.push(`</${name}>`);
}

/**
 * Renders `{ Root: {...} }`-shaped data. Arrays become repeated elements; undefined is omitted,
 * null is an empty element; keys starting with "@_" are attributes, "#text" is text content. Hand-written rather than
 * fast-xml-parser's XMLBuilder: the builder's per-node path tracking was half the CPU of a
 * 1,000-key listing page, and rendering has no parsing hazards to delegate.
 */
export function renderXml(root: string, body: Record<string, unknown>, namespace: string | null = S3_NS): string {
  const out: string[] = [XML_DECLARATION];
  renderValue(out, root, namespace ? { "@_xmlns": namespace, ...body } : body);
  return out.join("");
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  // Text is data: an object key " a " is not "a" (trimming made DeleteObjects delete the wrong
  // object). Only the indentation between elements is dropped, by withoutLayout.
  trimValues: false,
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
  const content = withoutLayout(doc[expectedRoot]);
  return content && typeof content === "object" ? (content as Record<string, unknown>) : {};
}

const LAYOUT = /^\s*$/;

/** Drops whitespace-only text beside child elements (pretty-printing); leaves leaf text as sent. */
function withoutLayout(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutLayout);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(v)) {
    if (k === "#text" && typeof child === "string" && LAYOUT.test(child)) continue;
    out[k] = withoutLayout(child);
  }
  return out;
}

/** XML lists come back as one object or an array depending on count; normalise. */
export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
