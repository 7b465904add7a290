// Bucket CORS: Put/Get/DeleteBucketCors keep the rules with the bucket (every gateway process on
// the tree sees them), a browser's preflight (OPTIONS) is answered from them without credentials,
// and app.ts adds the allowing headers to the answer of any request that carries an Origin.
import { S3Error } from "../errors.ts";
import { readSmallBody, requireBodyDigest } from "../http/request-body.ts";
import { xmlResponse } from "../http/response.ts";
import type { ObjectStore } from "../storage/types.ts";
import { CORS_METHODS, corsResponseHeaders, corsXml, matchCors, parseCorsXml, requestedHeaders, type CorsRule } from "../s3/cors.ts";
import { requireExistingBucket, type Handler } from "../s3/context.ts";
import type { OperationName } from "../s3/operations.ts";

const SETTING = "bucket-cors.json";

function storedRules(store: ObjectStore, bucket: string): CorsRule[] | undefined {
  const text = store.bucketSetting(bucket, SETTING);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as CorsRule[];
  } catch {
    return undefined; // a damaged file is no configuration, never a 500 on every browser request
  }
}

const putBucketCors: Handler = async (ctx) => {
  const bucket = requireExistingBucket(ctx);
  requireBodyDigest(ctx.headers);
  const rules = parseCorsXml(await readSmallBody(ctx, 64 * 1024));
  ctx.services.store.setBucketSetting(bucket, SETTING, JSON.stringify(rules));
  return new Response(null, { status: 200 });
};

const getBucketCors: Handler = (ctx) => {
  const rules = storedRules(ctx.services.store, requireExistingBucket(ctx));
  if (!rules) throw new S3Error("NoSuchCORSConfiguration", undefined, { BucketName: ctx.bucket! });
  return xmlResponse("CORSConfiguration", corsXml(rules));
};

const deleteBucketCors: Handler = (ctx) => {
  ctx.services.store.setBucketSetting(requireExistingBucket(ctx), SETTING, undefined);
  return new Response(null, { status: 204 });
};

const NOT_ALLOWED =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

const preflight: Handler = (ctx) => {
  const origin = ctx.headers.get("origin");
  if (!origin) throw new S3Error("BadRequest", "Insufficient information. Origin request header needed.");
  const method = ctx.headers.get("access-control-request-method");
  if (!method || !CORS_METHODS.has(method)) throw new S3Error("BadRequest", `Invalid Access-Control-Request-Method: ${method}`);
  const rules = storedRules(ctx.services.store, requireExistingBucket(ctx));
  const refused = (message: string) => new S3Error("AccessForbidden", message, { Method: method, ResourceType: ctx.key ? "OBJECT" : "BUCKET" });
  if (!rules) throw refused("CORSResponse: CORS is not enabled for this bucket.");
  const wanted = requestedHeaders(ctx.headers.get("access-control-request-headers"));
  const rule = matchCors(rules, origin, method, wanted);
  if (!rule) throw refused(NOT_ALLOWED);
  // An explicit length: Node would otherwise send an empty chunked body.
  return new Response(null, { status: 200, headers: { ...corsResponseHeaders(rule, origin, wanted), "content-length": "0" } });
};

/**
 * The CORS headers for the answer to a request from a browser page at `origin`, when the bucket
 * allows it; null otherwise. Never throws: a missing bucket or unreadable rules just mean none.
 */
export function corsHeadersFor(store: ObjectStore, bucket: string, origin: string, method: string): Record<string, string> | null {
  let rules: CorsRule[] | undefined;
  try {
    // No stat of the bucket: a missing bucket simply has no rules file to read.
    rules = storedRules(store, bucket);
  } catch {
    return null;
  }
  const rule = rules && matchCors(rules, origin, method);
  return rule ? corsResponseHeaders(rule, origin) : null;
}

export const corsHandlers: Partial<Record<OperationName, Handler>> = {
  PutBucketCors: putBucketCors,
  GetBucketCors: getBucketCors,
  DeleteBucketCors: deleteBucketCors,
  OptionsObject: preflight,
};
