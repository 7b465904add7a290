// A small, linear XML reader for S3 request documents, with a budget. fast-xml-parser's validator
// and parser together cost 135 ms of event-loop time on a legitimate 10,000-part
// CompleteMultipartUpload and seconds on hostile bodies (1.7 million empty elements: 2 s), and
// built the whole tree before anything could refuse it. This reader makes one pass, counts
// elements, attributes and depth as it goes and stops at the first one over the limit, so a
// document costs time in proportion to what the limits allow.
//
// What it accepts is the XML that S3 request documents use: one root element, elements, text,
// attributes (checked, then ignored), CDATA, comments, processing instructions, the five
// predefined entities and character references. A DTD is refused (no declared entities, so no
// entity expansion). Namespace prefixes are dropped from element names. The result has the shape
// fast-xml-parser gave (its options were ignoreAttributes, removeNSPrefix, no value parsing, no
// trimming): a leaf element is its text, an element with children is an object of them, repeated
// children become arrays, and text beside children is `#text` unless it is only layout.
import { S3Error } from "../errors.ts";

export interface XmlLimits {
  /** Elements in the document, the root included. */
  elements: number;
  /** Attributes in the document (xmlns declarations included). */
  attributes: number;
  /** Nesting depth; the root is depth 1. */
  depth: number;
  /** Entity and character references (each costs a decode step). */
  references: number;
}

/**
 * The budget every request document gets. The largest legitimate documents: a
 * CompleteMultipartUpload of 10,000 parts, each with PartNumber, ETag and checksum elements (at
 * most 8 elements a part: 80,001), and a DeleteObjects of 1,000 objects with Key, VersionId, ETag,
 * LastModifiedTime and Size (6,002). S3's deepest request schemas nest 6 levels; attributes in them
 * are namespace declarations and an ACL grantee's xsi:type (2 per grant, 100 grants). References:
 * 1,000 keys of 1,024 characters that all need escaping.
 */
export const XML_LIMITS: XmlLimits = { elements: 100_000, attributes: 10_000, depth: 32, references: 1_100_000 };

const malformed = (message?: string) => new S3Error("MalformedXML", message);

const LAYOUT = /^[ \t\r\n]*$/;
// XML names, loosely: ASCII name characters plus anything non-ASCII (S3 names are all ASCII).
const NAME = /^[A-Za-z_:\u0080-\uffff][-A-Za-z0-9_:.\u0080-\uffff]*$/;

/** The reference starting at raw[at] ('&'): the character it stands for; `refEnd` is set past ';'. */
let refEnd = 0;
/** References the document being parsed may still use (parsing is synchronous: one at a time). */
let refsLeft = 0;
let refLimit = 0;
function reference(raw: string, at: number): string {
  if (--refsLeft < 0) throw malformed(`The XML document has more than ${refLimit} references.`);
  // The common ones without a slice: &amp; &lt; &gt; (keys full of '&' are legitimate).
  const c1 = raw.charCodeAt(at + 1);
  if (c1 === 97 && raw.charCodeAt(at + 2) === 109 && raw.charCodeAt(at + 3) === 112 && raw.charCodeAt(at + 4) === 59) {
    refEnd = at + 5;
    return "&";
  }
  if ((c1 === 108 || c1 === 103) && raw.charCodeAt(at + 2) === 116 && raw.charCodeAt(at + 3) === 59) {
    refEnd = at + 4;
    return c1 === 108 ? "<" : ">";
  }
  const semi = raw.indexOf(";", at + 1);
  if (semi < 0 || semi - at > 10) throw malformed(); // a bare '&'
  refEnd = semi + 1;
  const body = raw.slice(at + 1, semi);
  switch (body) {
    case "lt": return "<";
    case "gt": return ">";
    case "amp": return "&";
    case "quot": return '"';
    case "apos": return "'";
  }
  // Character references; any other name is an entity nobody declared.
  const m = /^#(?:([0-9]{1,7})|x([0-9a-fA-F]{1,6}))$/.exec(body);
  if (!m) throw malformed();
  const cp = m[1] !== undefined ? Number(m[1]) : parseInt(m[2], 16);
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw malformed();
  return String.fromCodePoint(cp);
}

function decode(raw: string): string {
  let amp = raw.indexOf("&");
  if (amp < 0) return raw;
  let out = "";
  let from = 0;
  while (amp >= 0) {
    const ch = reference(raw, amp);
    if (amp > from) out += raw.slice(from, amp);
    out += ch;
    from = refEnd;
    amp = raw.indexOf("&", from);
  }
  return out + raw.slice(from);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

interface Frame {
  name: string;
  children: Record<string, unknown> | null;
  text: string;
}

function attach(parent: Frame, name: string, value: unknown): void {
  const key = name.slice(name.lastIndexOf(":") + 1);
  // Own keys only: a child named __proto__ must never reach an object's prototype.
  if (key === "__proto__" || key === "#text") throw malformed();
  const children = (parent.children ??= {});
  const existing = children[key];
  if (existing === undefined) children[key] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else children[key] = [existing, value];
}

function valueOf(f: Frame): unknown {
  if (f.children === null) return f.text;
  if (f.text !== "" && !LAYOUT.test(f.text)) f.children["#text"] = f.text;
  return f.children;
}

/** The document's root element name and value; MalformedXML for anything else or over `limits`. */
export function parseDocument(text: string, limits: XmlLimits = XML_LIMITS): { root: string; value: unknown } {
  const n = text.length;
  refsLeft = refLimit = limits.references;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const stack: Frame[] = [];
  let root: { root: string; value: unknown } | null = null;
  let elements = 0;
  let attributes = 0;
  while (i < n) {
    const lt = text.indexOf("<", i);
    const end = lt < 0 ? n : lt;
    if (end > i) {
      const raw = text.slice(i, end);
      if (stack.length === 0) {
        if (!LAYOUT.test(raw)) throw malformed();
      } else stack[stack.length - 1].text += decode(raw);
    }
    if (lt < 0) break;
    const c = text.charCodeAt(lt + 1);
    if (c === 47 /* / */) {
      const gt = text.indexOf(">", lt);
      if (gt < 0) throw malformed();
      let nameEnd = gt;
      while (nameEnd > lt + 2 && isSpace(text.charCodeAt(nameEnd - 1))) nameEnd--;
      const frame = stack.pop();
      if (!frame || frame.name !== text.slice(lt + 2, nameEnd)) throw malformed();
      const value = valueOf(frame);
      if (stack.length) attach(stack[stack.length - 1], frame.name, value);
      else root = { root: frame.name.slice(frame.name.lastIndexOf(":") + 1), value };
      i = gt + 1;
    } else if (c === 63 /* ? */) {
      const close = text.indexOf("?>", lt + 2);
      if (close < 0) throw malformed();
      i = close + 2;
    } else if (c === 33 /* ! */) {
      if (text.startsWith("<!--", lt)) {
        const close = text.indexOf("-->", lt + 4);
        if (close < 0) throw malformed();
        i = close + 3;
      } else if (text.startsWith("<![CDATA[", lt) && stack.length) {
        const close = text.indexOf("]]>", lt + 9);
        if (close < 0) throw malformed();
        stack[stack.length - 1].text += text.slice(lt + 9, close);
        i = close + 3;
      } else {
        // <!DOCTYPE, <!ENTITY: where entity bombs and external entities live.
        throw malformed();
      }
    } else {
      if (root !== null && stack.length === 0) throw malformed(); // a second root
      let j = lt + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (isSpace(d) || d === 47 || d === 62) break;
        j++;
      }
      const name = text.slice(lt + 1, j);
      if (!NAME.test(name)) throw malformed();
      if (++elements > limits.elements) throw malformed(`The XML document has more than ${limits.elements} elements.`);
      if (stack.length + 1 > limits.depth) throw malformed(`The XML document nests deeper than ${limits.depth} levels.`);
      // Attributes: checked for form, counted, not kept.
      let seen: string[] | null = null;
      let selfClosing = false;
      for (;;) {
        const before = j;
        while (j < n && isSpace(text.charCodeAt(j))) j++;
        if (j >= n) throw malformed();
        const d = text.charCodeAt(j);
        if (d === 62 /* > */) {
          j++;
          break;
        }
        if (d === 47 /* / */) {
          if (text.charCodeAt(j + 1) !== 62) throw malformed();
          selfClosing = true;
          j += 2;
          break;
        }
        if (j === before) throw malformed(); // attributes are separated by whitespace
        const eq = text.indexOf("=", j);
        if (eq < 0) throw malformed();
        let nameEnd = eq;
        while (nameEnd > j && isSpace(text.charCodeAt(nameEnd - 1))) nameEnd--;
        const attr = text.slice(j, nameEnd);
        if (!NAME.test(attr)) throw malformed();
        if (++attributes > limits.attributes) throw malformed(`The XML document has more than ${limits.attributes} attributes.`);
        if (seen === null) seen = [attr];
        else if (seen.includes(attr)) throw malformed();
        else if (seen.length < 64) seen.push(attr);
        j = eq + 1;
        while (j < n && isSpace(text.charCodeAt(j))) j++;
        const q = text.charCodeAt(j);
        if (q !== 34 && q !== 39) throw malformed();
        const close = text.indexOf(q === 34 ? '"' : "'", j + 1);
        if (close < 0) throw malformed();
        const value = text.slice(j + 1, close);
        if (value.includes("<")) throw malformed();
        decode(value); // well-formed references only
        j = close + 1;
      }
      if (selfClosing) {
        if (stack.length) attach(stack[stack.length - 1], name, "");
        else root = { root: name.slice(name.lastIndexOf(":") + 1), value: "" };
      } else stack.push({ name, children: null, text: "" });
      i = j;
    }
  }
  if (stack.length || root === null) throw malformed();
  return root;
}
