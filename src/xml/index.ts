// S3 XML in is read by parse.ts (with a budget); XML out is rendered here.
import { S3Error } from "../errors.ts";
import { XML_LIMITS, parseDocument, type XmlLimits } from "./parse.ts";

export { XML_LIMITS, type XmlLimits } from "./parse.ts";

export const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const SPECIAL = /[&<>"'\r]/;

/** Text escaping for every value we render. CR becomes a character reference: a raw CR is read
 * back as LF by any XML parser, so a key containing CR would come back changed. A loop rather than
 * replace() with a callback: every listed ETag has quotes, and this runs for each. */
export function escapeXml(v: unknown): string {
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
    } else if (k === "#raw") {
      // Elements the caller rendered itself (a listing's <Contents>), inserted as they are.
      if (child !== undefined) out.push(child as string);
    } else if (k === "#mixed") {
      // Elements of different names in one given order (ListObjectVersions' Version and DeleteMarker).
      for (const [n, c] of child as [string, unknown][]) renderValue(out, n, c);
    } else renderValue(out, k, child);
  }
  out[at] = open + ">";
  out.push(`</${name}>`);
}

/**
 * Renders `{ Root: {...} }`-shaped data. Arrays become repeated elements; undefined is omitted,
 * null is an empty element; keys starting with "@_" are attributes, "#text" is text content,
 * "#mixed" a list of [name, value] elements rendered in that order, "#raw" already rendered XML
 * inserted as it is (the caller escapes). Hand-written rather than
 * fast-xml-parser's XMLBuilder: the builder's per-node path tracking was half the CPU of a
 * 1,000-key listing page, and rendering has no parsing hazards to delegate.
 */
export function renderXml(root: string, body: Record<string, unknown>, namespace: string | null = S3_NS): string {
  const out: string[] = [XML_DECLARATION];
  renderValue(out, root, namespace ? { "@_xmlns": namespace, ...body } : body);
  return out.join("");
}

/**
 * Parses a client's XML document (parse.ts: one pass, within XML_LIMITS). Anything that is not
 * well-formed, is over the limits, or whose root element is not `expectedRoot`, is MalformedXML.
 * Returns the root element's content.
 */
export function parseXml(text: string, expectedRoot: string, limits: XmlLimits = XML_LIMITS): Record<string, unknown> {
  const doc = parseDocument(text, limits);
  if (doc.root !== expectedRoot) throw new S3Error("MalformedXML");
  return doc.value && typeof doc.value === "object" ? (doc.value as Record<string, unknown>) : {};
}

/** XML lists come back as one object or an array depending on count; normalise. */
export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
