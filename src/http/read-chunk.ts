// One read of a request body, with the protocol's meaning of a failure: a body that breaks off
// (the client closed or reset the connection) is the client's short body, not a server fault.
import { S3Error, isS3Error } from "../errors.ts";

/** What a failed read means: our own decoders' errors (aws-chunked) as they are, anything else IncompleteBody. */
export function bodyReadError(e: unknown): S3Error {
  if (isS3Error(e)) return e;
  return new S3Error("IncompleteBody", "The request body ended before its declared length (connection closed).", {}, {}, e);
}

export async function readChunk<R>(reader: { read(): Promise<R> }): Promise<R> {
  try {
    return await reader.read();
  } catch (e) {
    throw bodyReadError(e);
  }
}
