// Turns a request's body into the verified stream the backend consumes: aws-chunked framing
// removed (and each chunk signature checked) when used, and every declared digest attached so
// the writer can check it on the way to disk.
import { createChunkedDecoder } from "../auth/chunked.ts";
import { CHECKSUM_ALGORITHMS, checksumHeader, createHasher, isDigest, parseChecksumAlgorithm, type ChecksumAlgorithm } from "../checksums/index.ts";
import { S3Error } from "../errors.ts";
import { readChunk } from "./read-chunk.ts";
import { directBody } from "./node-body.ts";
import { verifiable } from "./payload.ts";
import { XML_LIMITS } from "../xml/parse.ts";
import type { S3Context } from "../s3/context.ts";
import type { IncomingBody } from "../storage/types.ts";

const MAX_SINGLE_UPLOAD = 5 * 1024 ** 3;

function declaredLength(ctx: S3Context): number | null {
  const h = ctx.headers;
  // In the streaming modes SigV4 verification has already read and checked x-amz-decoded-content-length.
  const n = ctx.auth.payload.startsWith("streaming") ? ctx.auth.decodedContentLength : contentLength(h.get("content-length"));
  if (n === undefined) {
    if (h.get("transfer-encoding")?.toLowerCase().includes("chunked")) return null;
    // HTTP/1.1: a request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112
    // §6.3). Bun then gives no body stream, Node an empty one; both are the empty document a
    // bodiless CreateBucket sends. Uploads are refused earlier (incomingBody's 411).
    if (h.get("content-length") === null && h.get("transfer-encoding") === null) return 0;
    throw new S3Error("MissingContentLength");
  }
  // S3's limit for one PUT or one part; refuse before reading anything.
  if (n > MAX_SINGLE_UPLOAD) throw new S3Error("EntityTooLarge", undefined, { ProposedSize: String(n), MaxSizeAllowed: String(MAX_SINGLE_UPLOAD) });
  return n;
}

function contentLength(raw: string | null): number | undefined {
  if (raw === null) return undefined;
  if (!/^\d{1,16}$/.test(raw.trim())) throw new S3Error("InvalidArgument", "Content-Length is not a valid number.", { ArgumentName: "Content-Length" });
  return Number(raw);
}

/** The request's x-amz-checksum-<alg> header, if any; S3 refuses more than one. */
export function headerChecksum(h: Headers): { algorithm: ChecksumAlgorithm; value: string } | undefined {
  const given = CHECKSUM_ALGORITHMS.filter((a) => h.get(checksumHeader(a)) !== null);
  if (given.length > 1) throw new S3Error("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
  return given.length ? { algorithm: given[0], value: h.get(checksumHeader(given[0]))!.trim() } : undefined;
}

/** A value that is not a digest of the algorithm's length is malformed, not a mismatch. */
function wellFormed(algorithm: ChecksumAlgorithm, value: string): string {
  if (!isDigest(algorithm, value)) throw new S3Error("InvalidRequest", `Value for ${checksumHeader(algorithm)} header is invalid.`);
  return value;
}

/** The checksum an x-amz-checksum-<alg> header (or form field) declares for the body, checked for form. */
export function declaredChecksum(h: Headers): IncomingBody["checksum"] {
  const given = headerChecksum(h);
  return given ? { algorithm: given.algorithm, expected: wellFormed(given.algorithm, given.value), fromTrailer: null } : null;
}

/** `headerDescribesBody` false: an x-amz-checksum-<alg> header is about something else (the
 * object a CompleteMultipartUpload makes), not this body. */
function requestedChecksum(ctx: S3Context, trailers: Promise<Map<string, string>> | null, headerDescribesBody: boolean): IncomingBody["checksum"] {
  const h = ctx.headers;
  const given = headerDescribesBody ? declaredChecksum(h) : null;
  if (given) return given;
  const trailer = h.get("x-amz-trailer")?.trim().toLowerCase();
  if (trailer) {
    const algorithm = CHECKSUM_ALGORITHMS.find((a) => checksumHeader(a) === trailer);
    if (!algorithm) throw new S3Error("InvalidRequest", `The value specified in the x-amz-trailer header is not supported: ${trailer}`);
    if (!trailers) throw new S3Error("InvalidRequest", "x-amz-trailer requires an aws-chunked body with trailers.");
    const fromTrailer = trailers.then((m) => {
      const v = m.get(trailer);
      if (v === undefined) throw new S3Error("IncompleteBody", `The trailer ${trailer} was declared but not sent.`);
      return wellFormed(algorithm, v.trim());
    });
    fromTrailer.catch(() => {}); // awaited later; a body error must not also crash as unhandled
    return { algorithm, expected: null, fromTrailer };
  }
  const sdkAlgorithm = parseChecksumAlgorithm(h.get("x-amz-sdk-checksum-algorithm"));
  // The SDK header only says how the client computed the value it sends; without one S3 refuses.
  if (sdkAlgorithm && headerDescribesBody) {
    throw new S3Error("InvalidRequest", "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.");
  }
  const algorithm: ChecksumAlgorithm | undefined = sdkAlgorithm ?? parseChecksumAlgorithm(h.get("x-amz-checksum-algorithm"));
  return algorithm ? { algorithm, expected: null, fromTrailer: null } : null;
}

/**
 * An upload's body (PutObject, UploadPart). S3 wants its length declared: a request with neither
 * Content-Length nor Transfer-Encoding is 411, not an empty object.
 */
export function incomingBody(ctx: S3Context): IncomingBody {
  if (ctx.headers.get("content-length") === null && ctx.headers.get("transfer-encoding") === null) throw new S3Error("MissingContentLength");
  return verifiedBody(ctx, true);
}

/** A whole object's body: with --default-checksum, one that declares no checksum gets one computed. */
export function objectBody(ctx: S3Context): IncomingBody {
  return withDefaultChecksum(ctx, incomingBody(ctx));
}

export function withDefaultChecksum(ctx: S3Context, body: IncomingBody): IncomingBody {
  const algorithm = ctx.services.config.defaultChecksum;
  if (!body.checksum && algorithm) body.checksum = { algorithm, expected: null, fromTrailer: null };
  return body;
}

function verifiedBody(ctx: S3Context, headerDescribesBody: boolean): IncomingBody {
  const auth = ctx.auth;
  let stream: IncomingBody["stream"] = directBody(ctx.request) ?? ctx.request.body;
  let trailers: Promise<Map<string, string>> | null = null;
  if (auth.payload !== "signed" && auth.payload !== "unsigned") {
    if (!stream) throw new S3Error("IncompleteBody");
    // The declared decoded length lets the decoder refuse an overlong chunk before passing it on.
    const decoder = createChunkedDecoder({ mode: auth.payload, auth, decodedContentLength: auth.decodedContentLength });
    stream = decoder.decode(stream);
    trailers = decoder.trailers;
  }
  return verifiable({
    stream,
    length: declaredLength(ctx),
    sha256: auth.payload === "signed" ? (auth.expectedSha256 ?? null) : null,
    contentMd5: ctx.headers.get("content-md5"),
    checksum: requestedChecksum(ctx, trailers, headerDescribesBody),
  });
}

/** Operations S3 marks "Content-MD5 required" (DeleteObjects, PutBucketCors) take any digest. */
export function requireBodyDigest(h: Headers): void {
  const has = h.get("content-md5") !== null || [...h.keys()].some((k) => k.startsWith("x-amz-checksum-") && k !== "x-amz-checksum-type") || h.get("x-amz-trailer") !== null;
  if (!has) throw new S3Error("InvalidRequest", "Missing required header for this request: Content-MD5");
}

/**
 * Bytes of request documents all requests of this process may hold in memory at once. A document
 * is buffered whole (and then decoded to a string) before it is parsed, and DeleteObjects and
 * CompleteMultipartUpload legitimately take megabytes: without a shared cap, sixteen 8 MB bodies
 * at once held over a gigabyte. Past it a request gets 503 SlowDown, which clients retry.
 */
export const MAX_BUFFERED_DOCUMENTS = 16 * 1024 * 1024;
let bufferedDocuments = 0;

// Every element costs a start and an end tag: a body with more '<' than this cannot be within the
// XML budget, and is refused while it streams in, before it is parsed or even held whole.
const MAX_TAGS = 2 * XML_LIMITS.elements + 1024;

function countTags(chunk: Uint8Array): number {
  let n = 0;
  for (let i = chunk.indexOf(60); i >= 0; i = chunk.indexOf(60, i + 1)) n++;
  return n;
}

/**
 * Reads a small request document (XML) with the same verification as uploads, refusing anything
 * over `limit` bytes without buffering it, and anything with more tags than the XML budget allows.
 */
export async function readSmallBody(ctx: S3Context, limit: number, headerDescribesBody = true): Promise<string> {
  const body = verifiedBody(ctx, headerDescribesBody);
  if (body.length !== null && body.length > limit) throw new S3Error("MaxMessageLengthExceeded");
  const chunks: Uint8Array[] = [];
  let size = 0;
  let tags = 0;
  let held = 0;
  const hold = (n: number) => {
    if (bufferedDocuments + n > MAX_BUFFERED_DOCUMENTS) throw new S3Error("SlowDown", "Too many large request documents are being read at once; retry.");
    bufferedDocuments += n;
    held += n;
  };
  // Digests as the chunks arrive: hashing 8 MB at the end blocked the event loop for tens of ms.
  const md5 = body.contentMd5 !== null ? createHasher("MD5") : null;
  const sha = body.sha256 ? createHasher("SHA256") : null;
  const ck = body.checksum ? createHasher(body.checksum.algorithm) : null;
  try {
    // A declared length is reserved up front and read into one buffer: no second copy to join.
    const whole = body.length !== null && body.length > 0 ? (hold(body.length), Buffer.allocUnsafe(body.length)) : null;
    if (body.stream) {
      const reader = body.stream.getReader();
      try {
        for (;;) {
          const { done, value } = await readChunk(reader);
          if (done) break;
          size += value.byteLength;
          if (size > limit) throw new S3Error("MaxMessageLengthExceeded");
          tags += countTags(value);
          if (tags > MAX_TAGS) throw new S3Error("MalformedXML", `The XML document has more than ${XML_LIMITS.elements} elements.`);
          md5?.update(value);
          sha?.update(value);
          ck?.update(value);
          if (whole) {
            if (size > whole.length) throw new S3Error("InvalidRequest", "The request body is longer than its declared length.");
            whole.set(value, size - value.byteLength);
          } else {
            hold(value.byteLength);
            chunks.push(value);
          }
        }
      } catch (e) {
        await reader.cancel().catch(() => {});
        throw e;
      }
    }
    const buf = whole ? whole.subarray(0, size) : Buffer.concat(chunks);
    await body.verify({ size, md5: md5?.digest(), sha256: sha?.digest(), checksum: ck?.digest() });
    return buf.toString("utf8");
  } finally {
    bufferedDocuments -= held;
  }
}
