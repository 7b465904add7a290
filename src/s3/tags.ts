// Object tag sets: from the x-amz-tagging header (URL-encoded) or a <Tagging> document, checked
// against S3's limits, and stored URL-encoded.
import { S3Error } from "../errors.ts";
import { asArray, parseXml } from "../xml/index.ts";

export type TagSet = [string, string][];

const MAX_TAGS = 10;

function validate(tags: TagSet): TagSet {
  if (tags.length > MAX_TAGS) throw new S3Error("InvalidTag", "Object tags cannot be greater than 10");
  const seen = new Set<string>();
  for (const [k, v] of tags) {
    if (k.length === 0 || [...k].length > 128) throw new S3Error("InvalidTag", "The TagKey you have provided is invalid");
    if ([...v].length > 256) throw new S3Error("InvalidTag", "The TagValue you have provided is invalid");
    if (seen.has(k)) throw new S3Error("InvalidTag", "Cannot provide multiple Tags with the same key");
    if (k.startsWith("aws:")) throw new S3Error("InvalidTag", "Your TagKey cannot be prefixed with aws:");
    seen.add(k);
  }
  return tags;
}

export function parseTaggingHeader(value: string): TagSet {
  if (value.trim() === "") return [];
  const tags: TagSet = [];
  for (const [k, v] of new URLSearchParams(value)) tags.push([k, v]);
  return validate(tags);
}

export function parseTaggingXml(text: string): TagSet {
  const doc = parseXml(text, "Tagging");
  const set = doc.TagSet as Record<string, unknown> | string | undefined;
  if (set === undefined) throw new S3Error("MalformedXML");
  const items = typeof set === "object" ? asArray(set.Tag as Record<string, unknown> | Record<string, unknown>[] | undefined) : [];
  return validate(
    items.map((t) => {
      if (typeof t !== "object" || t === null || typeof t.Key !== "string") throw new S3Error("MalformedXML");
      const value = t.Value === undefined ? "" : t.Value;
      if (typeof value !== "string") throw new S3Error("MalformedXML");
      return [t.Key, value] as [string, string];
    }),
  );
}

/** The x-amz-tagging header of a write, encoded for storage; undefined when absent or empty. */
export function tagsFromHeader(h: Headers): string | undefined {
  const v = h.get("x-amz-tagging");
  if (v === null) return undefined;
  const tags = parseTaggingHeader(v);
  return tags.length ? encodeTags(tags) : undefined;
}

export function encodeTags(tags: TagSet): string {
  return new URLSearchParams(tags).toString();
}

export function decodeTags(stored: string | undefined): TagSet {
  return stored ? [...new URLSearchParams(stored)] : [];
}

export function tagSetXml(tags: TagSet) {
  return { TagSet: { Tag: tags.map(([Key, Value]) => ({ Key, Value })) } };
}
