// Turns a request's body into the verified stream the backend consumes: aws-chunked framing
// removed (and each chunk signature checked) when used, and every declared digest attached so
// the writer can check it on the way to disk.
import { createChunkedDecoder } from "../auth/chunked.ts";
import { CHECKSUM_ALGORITHMS, checksumHeader, computeChecksum, isDigest, parseChecksumAlgorithm, type ChecksumAlgorithm } from "../checksums/index.ts";
import { S3Error } from "../errors.ts";
import { checkDeclared, readChunk, type IncomingBody } from "../posix/incoming.ts";
import type { S3Context } from "../s3/context.ts";

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

function verifiedBody(ctx: S3Context, headerDescribesBody: boolean): IncomingBody {
  const auth = ctx.auth;
  let stream = ctx.request.body;
  let trailers: Promise<Map<string, string>> | null = null;
  if (auth.payload !== "signed" && auth.payload !== "unsigned") {
    if (!stream) throw new S3Error("IncompleteBody");
    // The declared decoded length lets the decoder refuse an overlong chunk before passing it on.
    const decoder = createChunkedDecoder({ mode: auth.payload, auth, decodedContentLength: auth.decodedContentLength });
    stream = stream.pipeThrough(decoder.stream);
    trailers = decoder.trailers;
  }
  return {
    stream,
    length: declaredLength(ctx),
    sha256: auth.payload === "signed" ? (auth.expectedSha256 ?? null) : null,
    contentMd5: ctx.headers.get("content-md5"),
    checksum: requestedChecksum(ctx, trailers, headerDescribesBody),
  };
}

/** Operations S3 marks "Content-MD5 required" (DeleteObjects, PutBucketCors) take any digest. */
export function requireBodyDigest(h: Headers): void {
  const has = h.get("content-md5") !== null || [...h.keys()].some((k) => k.startsWith("x-amz-checksum-") && k !== "x-amz-checksum-type") || h.get("x-amz-trailer") !== null;
  if (!has) throw new S3Error("InvalidRequest", "Missing required header for this request: Content-MD5");
}

/**
 * Reads a small request document (XML) with the same verification as uploads, refusing anything
 * over `limit` bytes without buffering it.
 */
export async function readSmallBody(ctx: S3Context, limit: number, headerDescribesBody = true): Promise<string> {
  const body = verifiedBody(ctx, headerDescribesBody);
  if (body.length !== null && body.length > limit) throw new S3Error("MaxMessageLengthExceeded");
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (body.stream) {
    const reader = body.stream.getReader();
    for (;;) {
      const { done, value } = await readChunk(reader);
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw new S3Error("MaxMessageLengthExceeded");
      }
      chunks.push(value);
    }
  }
  const buf = Buffer.concat(chunks);
  const digest = (alg: ChecksumAlgorithm | "MD5") => computeChecksum(alg, buf);
  await checkDeclared(body, {
    size: buf.length,
    md5: body.contentMd5 !== null ? digest("MD5") : undefined,
    sha256: body.sha256 ? digest("SHA256") : undefined,
    checksum: body.checksum ? digest(body.checksum.algorithm) : undefined,
  });
  return buf.toString("utf8");
}
