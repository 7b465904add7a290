// PostObject: the browser form upload. The request itself is not signed; the form carries a
// policy (what may be uploaded, until when) and its signature (SigV4, or V2 from old clients).
// Fields before the file are read into memory (at most 20 KB, S3's limit); the file streams to
// disk like any PUT body.
import { checkFsAccess, fileOwnerOf } from "../access/unix.ts";
import { requireAccess } from "../access/authorize.ts";
import { verifyPostPolicy, verifyPostPolicyV2 } from "../auth/post-policy-auth.ts";
import { SIGV2_MESSAGE } from "../auth/types.ts";
import { S3Error } from "../errors.ts";
import { formBoundary, readFormUntilFile } from "../http/form-data.ts";
import { checkHeaderName, checkHeaderValue } from "../http/header-values.ts";
import { declaredChecksum, withDefaultChecksum } from "../http/request-body.ts";
import { verifiable } from "../http/payload.ts";
import { xmlResponse } from "../http/response.ts";
import { requireBucket, writerId, type Handler, type S3Context } from "../s3/context.ts";
import type { OperationName } from "../s3/operations.ts";
import { textToWire } from "../s3/meta-value.ts";
import { checkPolicy, decodePolicy } from "../s3/post-policy.ts";
import { encodeTags, parseTaggingXml } from "../s3/tags.ts";
import { refuseUnsupportedWriteHeaders, STORED_HEADERS, storedHeadersFrom, writtenVersionHeader } from "./objects.ts";
import { requestedObjectAcl } from "./acl.ts";
import { writeLock } from "./object-lock.ts";

const MAX_FIELDS = 20 * 1024;
const MAX_OBJECT = 5 * 1024 ** 3;
/**
 * The form's fields (at most 20 KB) must all arrive within this, counted from when the handler
 * starts reading: until the policy signature in them is verified the request is anonymous, and an
 * anonymous client trickling a form must not hold a slot for long.
 */
export const FORM_DEADLINE_MS = 10_000;

/** Form fields that stand for the request headers of a PUT. */
function headerOf(field: string): string | null {
  if (field === "acl") return "x-amz-acl";
  if ((STORED_HEADERS as readonly string[]).includes(field) || field.startsWith("x-amz-meta-")) return field;
  if (field === "x-amz-storage-class" || field.startsWith("x-amz-server-side-encryption") || field.startsWith("x-amz-object-lock-")) return field;
  if (field === "x-amz-website-redirect-location" || field.startsWith("x-amz-grant-")) return field;
  return null;
}

/**
 * Verifies the policy's signature (V4, or V2 unless refused); the form's fields are lower-cased
 * names. Returns the access key that signed it.
 */
function authenticate(ctx: S3Context, form: Map<string, string>, policy: string): string {
  const field = (name: string) => {
    const v = form.get(name);
    if (v === undefined) throw new S3Error("InvalidArgument", `Bucket POST must contain a field named '${name}'.`, { ArgumentName: name });
    return v;
  };
  // Signature Version 2 forms carry AWSAccessKeyId and signature (HMAC-SHA1 of the policy).
  if (form.has("awsaccesskeyid") && !form.has("x-amz-algorithm")) {
    if (!ctx.services.config.sigv2) throw new S3Error("InvalidRequest", SIGV2_MESSAGE);
    return verifyPostPolicyV2({ policy, accessKey: field("awsaccesskeyid"), signature: field("signature") }, ctx.services.lookupSecret);
  }
  return verifyPostPolicy(
    { policy, algorithm: field("x-amz-algorithm"), credential: field("x-amz-credential"), amzDate: field("x-amz-date"), signature: field("x-amz-signature") },
    { lookupSecret: ctx.services.lookupSecret, region: ctx.services.config.region },
  );
}

/** Fails the upload as soon as it leaves the size range the policy allows. */
function sizeLimit(min: number, max: number): TransformStream<Uint8Array, Uint8Array> {
  let n = 0;
  return new TransformStream({
    transform(chunk, controller) {
      n += chunk.byteLength;
      if (n > max) throw new S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", { MaxSizeAllowed: String(max) });
      controller.enqueue(chunk);
    },
    flush() {
      if (n < min) throw new S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", { ProposedSize: String(n), MinSizeAllowed: String(min) });
    },
  });
}

const encodePath = (key: string) => key.split("/").map(encodeURIComponent).join("/");

const postObject: Handler = async (ctx) => {
  const bucket = requireBucket(ctx);
  const backend = ctx.services.store;
  backend.requireBucket(bucket);
  const boundary = formBoundary(ctx.headers.get("content-type"));
  if (!boundary || !ctx.request.body) {
    throw new S3Error("PreconditionFailed", undefined, { Condition: "Bucket POST must be of the enclosure-type multipart/form-data" });
  }
  const form = await readFormUntilFile(ctx.request.body, boundary, MAX_FIELDS, () => new S3Error("MaxPostPreDataLengthExceededError"), FORM_DEADLINE_MS);
  try {
    // S3 expands ${filename} before it checks the policy, in every field.
    const filename = form.file?.filename ?? "";
    const fields = new Map(form.fields.map(([k, v]) => [k.toLowerCase(), v.replaceAll("${filename}", filename)]));
    fields.set("bucket", bucket);
    // A form without a policy is anonymous (as on AWS): it may upload only where a bucket policy
    // lets anyone put the key, and it keeps its --max-unsigned slot.
    const signedPolicy = fields.get("policy");
    if (signedPolicy !== undefined) {
      const accessKey = authenticate(ctx, fields, signedPolicy);
      // Proven: from here the upload holds a --max-requests slot, not an unsigned one.
      ctx.authenticated?.();
      ctx.principal = ctx.services.identify(accessKey);
    }
    const range = signedPolicy !== undefined ? checkPolicy(decodePolicy(signedPolicy), fields, new Date()) : undefined;
    const key = fields.get("key");
    if (key === undefined) throw new S3Error("InvalidArgument", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { ArgumentName: "key" });
    if (!form.file) throw new S3Error("IncorrectNumberOfFilesInPostRequest");
    // The form's signer needs what a PUT of this key would (the app could not ask before the key was known).
    requireAccess(ctx, { action: "s3:PutObject", on: "object", bucket, key });
    if (fields.has("tagging")) requireAccess(ctx, { action: "s3:PutObjectTagging", on: "object", bucket, key });
    // Lock and ACL fields ask what the same headers on a PUT ask (src/access/authorize.ts).
    if (fields.has("x-amz-object-lock-mode") || fields.has("x-amz-object-lock-retain-until-date")) requireAccess(ctx, { action: "s3:PutObjectRetention", on: "object", bucket, key });
    if (fields.has("x-amz-object-lock-legal-hold")) requireAccess(ctx, { action: "s3:PutObjectLegalHold", on: "object", bucket, key });
    if (fields.has("acl") || [...fields.keys()].some((f) => f.startsWith("x-amz-grant-"))) requireAccess(ctx, { action: "s3:PutObjectAcl", on: "object", bucket, key });

    const h = new Headers();
    const digests = new Headers();
    for (const [name, value] of fields) {
      const header = headerOf(name);
      // Form fields are UTF-8 text; headers carry bytes (refusing characters past U+00FF), and form
      // fields, unlike request headers, may hold CR, LF or any control character: they would split
      // or break the headers a GET sends back.
      if (header) h.set(checkHeaderName(header), checkHeaderValue(name, textToWire(value)));
      // Like a PUT's headers, these make the upload fail unless the bytes match.
      if (name === "content-md5" || (name.startsWith("x-amz-checksum-") && name !== "x-amz-checksum-algorithm")) digests.set(checkHeaderName(name), checkHeaderValue(name, value));
    }
    refuseUnsupportedWriteHeaders(h);
    const redirect = fields.get("success_action_redirect") ?? fields.get("redirect");
    if (redirect) checkHeaderValue(fields.has("success_action_redirect") ? "success_action_redirect" : "redirect", redirect);
    const tagging = fields.get("tagging");
    const tags = tagging ? parseTaggingXml(tagging) : [];
    // Lock fields, like a PUT's lock headers; the digest S3 then wants is a form field too.
    const lockHeaders = new Headers(h);
    for (const [k, v] of digests) lockHeaders.set(k, v);
    const { lock, guard } = writeLock(ctx, bucket, { integrity: true, headers: lockHeaders });
    const stream = form.file.stream.pipeThrough(sizeLimit(range?.min ?? 0, Math.min(range?.max ?? MAX_OBJECT, MAX_OBJECT)));
    checkFsAccess(ctx, "write", bucket, key);
    const info = await backend.putObject(
      bucket,
      key,
      withDefaultChecksum(ctx, verifiable({ stream: { getReader: () => stream.getReader() }, length: null, sha256: null, contentMd5: digests.get("content-md5"), checksum: declaredChecksum(digests) })),
      {
        ...storedHeadersFrom(h),
        tags: tags.length ? encodeTags(tags) : undefined,
        owner: writerId(ctx),
        fileOwner: fileOwnerOf(ctx.principal),
        acl: requestedObjectAcl(ctx, bucket, h),
        ...(lock ? { lock } : {}),
        check: guard,
      },
    );
    await form.finish();

    const location = `${new URL(ctx.request.url).origin}/${bucket}/${encodePath(key)}`;
    const headers: Record<string, string> = { etag: info.etag, location, ...writtenVersionHeader(ctx, bucket, info) };
    if (redirect && URL.canParse(redirect)) {
      const q = new URLSearchParams({ bucket, key, etag: info.etag }).toString();
      return new Response(null, { status: 303, headers: { ...headers, location: redirect + (redirect.includes("?") ? "&" : "?") + q } });
    }
    const status = fields.get("success_action_status");
    if (status === "201") return xmlResponse("PostResponse", { Location: location, Bucket: bucket, Key: key, ETag: info.etag }, 201, headers);
    return new Response(null, { status: status === "200" ? 200 : 204, headers });
  } catch (e) {
    await form.finish().catch(() => {});
    throw e;
  }
};

export const postObjectHandlers: Partial<Record<OperationName, Handler>> = {
  PostObject: postObject,
};
