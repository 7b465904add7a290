// `encoding-type=url` on listings: keys (and prefixes, markers, delimiters) come back URL-encoded
// so that characters XML cannot carry survive. Shared by object and multipart-upload listings.
import { S3Error } from "../errors.ts";
import type { QueryParams } from "../http/request-target.ts";

/** Like encodeURIComponent but keeping '/', and escaping !'()* too, as S3 does. */
export function urlEncodeKey(s: string): string {
  return encodeURIComponent(s).replace(/%2F/g, "/").replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

const identity = (s: string) => s;

/** Whether the listing asked for url encoding, and the encoder for its strings. */
export function keyEncoder(q: QueryParams): { url: boolean; enc: (s: string) => string } {
  const v = q.get("encoding-type");
  if (v === null) return { url: false, enc: identity };
  if (v.toLowerCase() !== "url") throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", { ArgumentName: "encoding-type", ArgumentValue: v });
  return { url: true, enc: urlEncodeKey };
}
