// A streaming multipart/form-data reader for browser POST uploads. The fields before the file are
// small and read into memory (bounded); the file is handed on as a stream that ends at the next
// boundary, so an upload of any size goes to disk without being buffered whole. Fields after the
// file are ignored, as S3 ignores them.
import { S3Error } from "../errors.ts";
import { readChunk } from "./read-chunk.ts";

export interface FormFile {
  filename: string;
  contentType: string | null;
  /** The file's bytes, ending where its part ends. Errors with MalformedPOSTRequest if it never does. */
  stream: ReadableStream<Uint8Array>;
}

export interface FormBeforeFile {
  /** Fields in order, names as sent. */
  fields: [string, string][];
  file: FormFile | null;
  /** Reads what is left of the body (bounded) so the connection stays usable; call once done. */
  finish(): Promise<void>;
}

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");
const DASHES = Buffer.from("--");
const MAX_PART_HEADER = 8 * 1024;
const MAX_PREAMBLE = 64 * 1024;
// Past this much unread body after a refusal, the connection is dropped rather than drained.
const MAX_DRAIN = 16 * 1024 * 1024;

const malformed = () => new S3Error("MalformedPOSTRequest");

/** The boundary of a `multipart/form-data` Content-Type, or null when it is not one. */
export function formBoundary(contentType: string | null): string | null {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : null;
}

/**
 * name and filename from a part's Content-Disposition. Browsers percent-encode `"` in names and
 * send backslashes as they are (`C:\dir\f.txt`), so a backslash escapes nothing here.
 */
export function parseDisposition(value: string): { name: string; filename: string | null } | null {
  if (!/^\s*form-data\s*(;|$)/i.test(value)) return null;
  const param = (p: string) => {
    const m = new RegExp(`;\\s*${p}="([^"]*)"|;\\s*${p}=([^;\\s]+)`, "i").exec(value);
    return m ? (m[1] ?? m[2]) : null;
  };
  const name = param("name");
  return name === null ? null : { name, filename: param("filename") };
}

class Scanner {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Epoch ms by which the next read must have delivered; null: no deadline (the file part). */
  deadline: number | null = null;
  constructor(private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> }) {}

  private read(): Promise<{ done: boolean; value?: Uint8Array }> {
    const deadline = this.deadline;
    if (deadline === null) return readChunk(this.reader);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, fail) => {
      timer = setTimeout(() => {
        void this.reader.cancel().catch(() => {});
        fail(new S3Error("RequestTimeout", "The form fields before the file did not arrive within the time allowed."));
      }, Math.max(0, deadline - Date.now()));
    });
    return Promise.race([readChunk(this.reader), late]).finally(() => clearTimeout(timer));
  }

  /** Appends the next chunk; false at the end of the body. */
  async fill(): Promise<boolean> {
    if (this.ended) return false;
    const { done, value } = await this.read();
    if (done || !value) {
      this.ended = done;
      return !done;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, value]) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return true;
  }

  /** The bytes before `delim` (which is consumed); MalformedPOSTRequest past `max` or the end. */
  async until(delim: Buffer, max: number, tooLong: () => S3Error = malformed): Promise<Buffer> {
    let from = 0;
    for (;;) {
      const at = this.buf.indexOf(delim, from);
      if (at >= 0) {
        if (at > max) throw tooLong();
        const out = Buffer.from(this.buf.subarray(0, at));
        this.buf = this.buf.subarray(at + delim.length);
        return out;
      }
      if (this.buf.length > max + delim.length) throw tooLong();
      from = Math.max(0, this.buf.length - delim.length + 1);
      if (!(await this.fill())) throw malformed();
    }
  }

  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n) if (!(await this.fill())) throw malformed();
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** A stream of the bytes before `delim`, holding back just enough to see it arrive split. */
  streamUntil(delim: Buffer): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          const at = this.buf.indexOf(delim);
          if (at >= 0) {
            if (at > 0) controller.enqueue(new Uint8Array(this.buf.subarray(0, at)));
            this.buf = this.buf.subarray(at + delim.length);
            controller.close();
            return;
          }
          const safe = this.buf.length - (delim.length - 1);
          if (safe > 0) {
            controller.enqueue(new Uint8Array(this.buf.subarray(0, safe)));
            this.buf = this.buf.subarray(safe);
            return;
          }
          if (!(await this.fill())) throw malformed();
        }
      },
      // A refused upload (too large, say) stops reading here; finish() then drains what is left, so
      // the client can read the error instead of seeing its connection reset mid-send.
      cancel: () => {},
    });
  }

  async drain(max: number): Promise<void> {
    let seen = this.buf.length;
    this.buf = Buffer.alloc(0);
    while (seen <= max && (await this.fill().catch(() => false))) {
      seen += this.buf.length;
      this.buf = Buffer.alloc(0);
    }
    if (!this.ended) await this.reader.cancel().catch(() => {});
  }
}

/**
 * Reads a multipart/form-data body up to its field named `file` (any case). `maxFieldBytes` bounds
 * the names and values before it; beyond that, `tooLarge` is thrown. `deadlineMs` bounds the time
 * until the file part starts.
 */
export async function readFormUntilFile(
  body: ReadableStream<Uint8Array>,
  boundary: string,
  maxFieldBytes: number,
  tooLarge: () => S3Error,
  deadlineMs: number | null = null,
): Promise<FormBeforeFile> {
  const s = new Scanner(body.getReader());
  // The fields must all arrive within deadlineMs (RequestTimeout otherwise); the file then streams
  // at its own pace.
  s.deadline = deadlineMs === null ? null : Date.now() + deadlineMs;
  const finish = () => s.drain(MAX_DRAIN);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The first boundary may open the body without the CRLF before it.
  await s.until(Buffer.from(`--${boundary}`), MAX_PREAMBLE);
  const fields: [string, string][] = [];
  let budget = maxFieldBytes;
  for (;;) {
    const after = await s.take(2);
    if (after.equals(DASHES)) return { fields, file: null, finish };
    if (!after.equals(CRLF)) throw malformed();
    const head = (await s.until(HEADER_END, MAX_PART_HEADER)).toString("utf8");
    let disposition: ReturnType<typeof parseDisposition> = null;
    let contentType: string | null = null;
    for (const line of head.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-disposition") disposition = parseDisposition(value);
      else if (name === "content-type") contentType = value;
    }
    if (!disposition) throw malformed();
    if (disposition.name.toLowerCase() === "file") {
      s.deadline = null;
      return { fields, file: { filename: disposition.filename ?? "", contentType, stream: s.streamUntil(delimiter) }, finish };
    }
    const value = await s.until(delimiter, budget, tooLarge);
    budget -= value.length + Buffer.byteLength(disposition.name);
    if (budget < 0) throw tooLarge();
    fields.push([disposition.name, value.toString("utf8")]);
  }
}
