// PublicAccessBlockConfiguration: the XML of Put/GetPublicAccessBlock, and the JSON it is kept as.
import type { PublicAccessBlock } from "../access/sources.ts";
import { S3Error } from "../errors.ts";
import { parseXml } from "../xml/index.ts";

const FIELDS = [
  ["BlockPublicAcls", "blockPublicAcls"],
  ["IgnorePublicAcls", "ignorePublicAcls"],
  ["BlockPublicPolicy", "blockPublicPolicy"],
  ["RestrictPublicBuckets", "restrictPublicBuckets"],
] as const;

/** An absent element is false, as on AWS; anything but true/false is MalformedXML. */
export function parsePublicAccessBlockXml(text: string): PublicAccessBlock {
  const doc = parseXml(text, "PublicAccessBlockConfiguration");
  const out = { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false };
  for (const [element, field] of FIELDS) {
    const v = doc[element];
    if (v === undefined) continue;
    const t = typeof v === "string" ? v.trim().toLowerCase() : "";
    if (t !== "true" && t !== "false") throw new S3Error("MalformedXML");
    out[field] = t === "true";
  }
  return out;
}

export function publicAccessBlockXml(b: PublicAccessBlock): Record<string, unknown> {
  return Object.fromEntries(FIELDS.map(([element, field]) => [element, String(b[field])]));
}

export function encodePublicAccessBlock(b: PublicAccessBlock): string {
  return JSON.stringify(b);
}

export function decodePublicAccessBlock(text: string): PublicAccessBlock {
  const v = JSON.parse(text) as Partial<PublicAccessBlock>;
  return { blockPublicAcls: v.blockPublicAcls === true, ignorePublicAcls: v.ignorePublicAcls === true, blockPublicPolicy: v.blockPublicPolicy === true, restrictPublicBuckets: v.restrictPublicBuckets === true };
}
