// GetObjectAttributes: the object's metadata without its body, selected by x-amz-object-attributes.
import { checksumField } from "../checksums/index.ts";
import { S3Error } from "../errors.ts";
import { evaluateConditions, readConditions } from "../http/conditions.ts";
import { xmlResponse } from "../http/response.ts";
import { requireObject, type Handler } from "../s3/context.ts";
import type { OperationName } from "../s3/operations.ts";
import { openSelected, versionHeader } from "./objects.ts";

const ATTRIBUTES = new Set(["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]);

function intHeader(h: Headers, name: string, def: number, max: number): number {
  const raw = h.get(name);
  if (raw === null) return def;
  if (!/^\d+$/.test(raw.trim())) throw new S3Error("InvalidArgument", `${name} must be a non-negative integer`, { ArgumentName: name });
  return Math.min(Number(raw), max);
}

const getObjectAttributes: Handler = (ctx) => {
  const { bucket, key } = requireObject(ctx);
  const h = ctx.headers;
  const wanted = (h.get("x-amz-object-attributes") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0) throw new S3Error("InvalidArgument", "Empty value provided for header x-amz-object-attributes", { ArgumentName: "x-amz-object-attributes" });
  for (const a of wanted) if (!ATTRIBUTES.has(a)) throw new S3Error("InvalidArgument", `Invalid attribute name specified: ${a}`, { ArgumentName: "x-amz-object-attributes" });
  const info = openSelected(ctx, bucket, key);
  info.close();
  if (info.deleteMarker) throw new S3Error("MethodNotAllowed", undefined, {}, { "x-amz-delete-marker": "true", "x-amz-version-id": info.versionId ?? "null" });
  // Conditions apply as on HEAD, except that "not modified" is not an answer for attributes.
  const cond = evaluateConditions({ ...readConditions(h), ifNoneMatch: null, ifModifiedSince: null }, info.etag, info.lastModified);
  if (cond !== "ok") throw new S3Error("PreconditionFailed");

  const body: Record<string, unknown> = {};
  const want = new Set(wanted);
  if (want.has("ETag")) body.ETag = info.etag.slice(1, -1);
  const ck = info.meta?.checksum;
  if (want.has("Checksum") && ck) body.Checksum = { [checksumField(ck.algorithm)]: ck.value, ChecksumType: ck.type };
  const parts = info.meta?.parts;
  if (want.has("ObjectParts") && parts) {
    const maxParts = intHeader(h, "x-amz-max-parts", 1000, 1000);
    const marker = intHeader(h, "x-amz-part-number-marker", 0, 10000);
    const sums = info.meta?.partChecksums;
    const field = ck && sums ? checksumField(ck.algorithm) : null;
    const page = parts
      .map((size, i) => ({ PartNumber: i + 1, Size: size, ...(field ? { [field]: sums![i] } : {}) }))
      .filter((p) => p.PartNumber > marker)
      .slice(0, maxParts);
    const truncated = page.length > 0 && page[page.length - 1].PartNumber < parts.length;
    body.ObjectParts = {
      PartsCount: parts.length, // the SDKs' TotalPartsCount; this is its name on the wire
      PartNumberMarker: marker,
      ...(truncated ? { NextPartNumberMarker: page[page.length - 1].PartNumber } : {}),
      MaxParts: maxParts,
      IsTruncated: truncated,
      Part: page,
    };
  }
  if (want.has("StorageClass")) body.StorageClass = "STANDARD";
  if (want.has("ObjectSize")) body.ObjectSize = info.size;
  return xmlResponse("GetObjectAttributesResponse", body, 200, { "last-modified": info.lastModified.toUTCString(), ...versionHeader(ctx, bucket, info) });
};

export const attributeHandlers: Partial<Record<OperationName, Handler>> = {
  GetObjectAttributes: getObjectAttributes,
};
