// User metadata values (x-amz-meta-*) between the wire and the store. AWS's user guide
// ("Working with object metadata", user-defined metadata): "When using non-US-ASCII characters
// in your metadata values, the provided Unicode string is examined for non-US-ASCII characters.
// Values of such headers are character decoded as per RFC 2047 before storing and encoded as per
// RFC 2047 to make them mail-safe before returning. If the string contains only US-ASCII
// characters, it is presented as is." S3 answers with one base64 encoded-word,
// `=?UTF-8?B?...?=` (as seen from AWS by SDK and gateway maintainers).
//
// Both runtimes hand header values over as Latin-1, one character per byte received, so a header
// value string here is the bytes as sent.

/** An RFC 2047 encoded-word: =?charset?B|Q?text?= */
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
const ONLY_ENCODED_WORDS = /^\s*=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=(?:\s+=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)*\s*$/;
const PRINTABLE_ASCII = /^[\t\x20-\x7e]*$/;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Bytes as text: UTF-8 when they are UTF-8 (what every current client sends), else Latin-1. */
function bytesToText(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes.toString("latin1");
  }
}

function decodeWord(charset: string, encoding: string, text: string): string | null {
  const cs = charset.toLowerCase().replace(/\*.*$/, ""); // RFC 2231 language suffix
  let bytes: Buffer;
  if (encoding === "B" || encoding === "b") {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
    bytes = Buffer.from(text, "base64");
  } else {
    // Q: '_' is a space, =XX a byte.
    const out: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === "_") out.push(0x20);
      else if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
        out.push(parseInt(text.slice(i + 1, i + 3), 16));
        i += 2;
      } else out.push(text.charCodeAt(i) & 0xff);
    }
    bytes = Buffer.from(out);
  }
  if (cs === "utf-8" || cs === "utf8") return bytesToText(bytes);
  if (cs === "iso-8859-1" || cs === "latin1" || cs === "us-ascii") return bytes.toString("latin1");
  return null;
}

/** The stored text of a metadata value received as `wire` (one char per byte). */
export function metaValueFromWire(wire: string): string {
  if (ONLY_ENCODED_WORDS.test(wire)) {
    let failed = false;
    // Whitespace between adjacent encoded-words is not part of the text (RFC 2047 §6.2).
    const decoded = wire.trim().replace(/\?=\s+=\?/g, "?==?").replace(ENCODED_WORD, (_m, cs: string, enc: string, text: string) => {
      const d = decodeWord(cs, enc, text);
      if (d === null) failed = true;
      return d ?? "";
    });
    if (!failed) return decoded;
  }
  return PRINTABLE_ASCII.test(wire) ? wire : bytesToText(Buffer.from(wire, "latin1"));
}

/** The header value S3 returns for stored metadata text. */
export function metaValueToWire(text: string): string {
  return PRINTABLE_ASCII.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, "utf8").toString("base64")}?=`;
}

/** A header value given as text (a POST form field) as the bytes a client would have sent. */
export function textToWire(text: string): string {
  return PRINTABLE_ASCII.test(text) ? text : Buffer.from(text, "utf8").toString("latin1");
}
