// The Content-Type of an object. An object written through S3 has a metadata record and keeps what
// its client sent (S3's binary/octet-stream when it sent none). A file made by another tool has no
// record; it is served with the type its extension names in the mime package's database (IANA
// plus the common vendor types), so a photo.jpg dropped into the tree reads as image/jpeg.
import mime from "mime";
import type { ObjectMeta } from "../storage/types.ts";

export const S3_DEFAULT_CONTENT_TYPE = "binary/octet-stream";

/** The type a file without a metadata record is served with, from the key's extension. */
export function contentTypeOfName(key: string): string {
  // A directory object (`a/b/`) has no extension; mime would look at `b`.
  if (key.endsWith("/")) return S3_DEFAULT_CONTENT_TYPE;
  return mime.getType(key) ?? S3_DEFAULT_CONTENT_TYPE;
}

/** The stored content headers an object is served (and copied) with. */
export function contentHeaders(key: string, meta: ObjectMeta | null): Record<string, string> {
  if (meta) return { "content-type": S3_DEFAULT_CONTENT_TYPE, ...meta.headers };
  return { "content-type": contentTypeOfName(key) };
}
