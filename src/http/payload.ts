// What a client promised about a body (Content-MD5, x-amz-content-sha256, a declared length, an
// x-amz-checksum-* header or trailer), checked once the store has read it whole: S3's rules, kept
// above the store, which only calls IncomingBody.verify with what it computed.
import { S3Error } from "../errors.ts";
import type { IncomingBody } from "../storage/types.ts";
import { bodyReadError } from "./read-chunk.ts";

export function validateContentMd5(value: string | null): Buffer | null {
  if (value === null) return null;
  const buf = Buffer.from(value, "base64");
  if (buf.length !== 16 || buf.toString("base64") !== value.trim()) throw new S3Error("InvalidDigest");
  return buf;
}

/**
 * Checks, once a body has been received whole, everything its request declared about it: length,
 * x-amz-content-sha256, Content-MD5 and the x-amz-checksum-* header or trailer. Returns the
 * checksum to store, if one was asked for.
 */
export async function checkDeclared(
  body: IncomingBody,
  got: { size: number; md5?: Buffer; sha256?: Buffer; checksum?: Buffer },
): Promise<{ algorithm: NonNullable<IncomingBody["checksum"]>["algorithm"]; value: string } | null> {
  if (body.length !== null && got.size !== body.length) throw new S3Error("IncompleteBody");
  if (body.sha256 && got.sha256?.toString("hex") !== body.sha256) throw new S3Error("XAmzContentSHA256Mismatch");
  const expectedMd5 = validateContentMd5(body.contentMd5);
  if (expectedMd5 && !got.md5?.equals(expectedMd5)) throw new S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.");
  if (!body.checksum || !got.checksum) return null;
  const value = got.checksum.toString("base64");
  const expected = body.checksum.expected ?? (await body.checksum.fromTrailer);
  if (expected !== undefined && expected !== null && expected !== value) {
    throw new S3Error("BadDigest", `The ${body.checksum.algorithm} you specified did not match the calculated checksum.`);
  }
  return { algorithm: body.checksum.algorithm, value };
}


/**
 * The body with its verification attached. A malformed Content-MD5 is refused here, before any
 * byte is read. `verify` reads `body.checksum` when it runs, so a checksum added later (a
 * multipart upload's algorithm) is checked too.
 */
export function verifiable(body: Omit<IncomingBody, "verify" | "readError">): IncomingBody {
  validateContentMd5(body.contentMd5);
  const out = body as IncomingBody;
  out.verify = (got) => checkDeclared(out, got);
  out.readError = bodyReadError;
  return out;
}
