// What may go into a response header. Values a client gives us to send back later (stored
// Content-Type and x-amz-meta-*, PostObject form fields, response-* overrides, a redirect) are
// checked against it when they arrive, so a CR/LF can never split a header and a value the runtime
// cannot send (it throws, which was a 500) is never stored.
import { S3Error } from "../errors.ts";

// HTTP field values (RFC 9110 5.5): HTAB, visible ASCII, space and obs-text (0x80-0xFF, sent as
// Latin-1 by both runtimes). CR, LF, NUL, other controls, DEL and anything past Latin-1 are not.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
// A header name is an RFC 9110 token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function isHeaderValue(value: string): boolean {
  return !BAD_VALUE.test(value);
}

export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

/** 400 InvalidArgument naming the argument when `value` cannot be a header value. */
export function checkHeaderValue(argument: string, value: string): string {
  if (!isHeaderValue(value)) {
    throw new S3Error("InvalidArgument", `${argument} contains a character that cannot appear in an HTTP header (a control character, or one outside Latin-1).`, {
      ArgumentName: argument,
    });
  }
  return value;
}

/** The same for a header name (x-amz-meta-* names from a form). */
export function checkHeaderName(argument: string): string {
  if (!isHeaderName(argument)) throw new S3Error("InvalidArgument", "The name is not a valid HTTP header name.", { ArgumentName: argument.slice(0, 64) });
  return argument;
}
