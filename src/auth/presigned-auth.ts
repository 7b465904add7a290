// Signature V4 in the query string (a presigned URL): the X-Amz-* parameters, the URL's lifetime
// and the payload hash a presigner could know.
import { S3Error } from "../errors.ts";
import type { RequestTarget } from "../http/request-target.ts";
import { credentialParameter, parseAmzDate } from "./scope.ts";
import { verifySigned } from "./signed-tail.ts";
import { ALGORITHM, MAX_PRESIGN_EXPIRES, MAX_SKEW_MS, UNSIGNED_PAYLOAD, type AuthResult, type HeaderSource, type VerifyOptions } from "./types.ts";

const QUERY_PARAMS_MISSING =
  "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";

/** What a presigned URL says about itself, checked: a pure function of the URL and the region. */
interface PresignedParams {
  region: string;
  amzDate: string;
  requestTimeMs: number;
  expires: number;
  cred: ReturnType<typeof credentialParameter>;
  signedHeaders: string[];
  signedSet: Set<string>;
  signature: string;
  hoistedPayload: string | undefined;
}

/** Parsed targets are reused for repeated URLs (request-target.ts), and so is this, per target. */
const parsedParams = new WeakMap<RequestTarget, PresignedParams>();

function presignedParams(target: RequestTarget, opts: VerifyOptions): PresignedParams {
  const known = parsedParams.get(target);
  if (known !== undefined && known.region === opts.region) return known;
  const algorithm = target.param("X-Amz-Algorithm");
  const credential = target.param("X-Amz-Credential");
  const amzDate = target.param("X-Amz-Date");
  const expiresRaw = target.param("X-Amz-Expires");
  const signedHeadersRaw = target.param("X-Amz-SignedHeaders");
  const signature = target.param("X-Amz-Signature");
  if (
    algorithm === undefined || credential === undefined || amzDate === undefined ||
    expiresRaw === undefined || signedHeadersRaw === undefined || signature === undefined
  ) {
    throw new S3Error("AuthorizationQueryParametersError", QUERY_PARAMS_MISSING);
  }
  if (algorithm !== ALGORITHM) {
    throw new S3Error("AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
  }
  const requestTime = parseAmzDate(amzDate);
  if (!requestTime) {
    throw new S3Error("AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  }
  if (!/^-?\d+$/.test(expiresRaw)) {
    throw new S3Error("AuthorizationQueryParametersError", "X-Amz-Expires should be a number");
  }
  const expires = Number(expiresRaw);
  // A lifetime S3 will not grant is refused as access, not as a malformed request: Ceph's
  // s3-tests, written against AWS, expect 403 for a negative and an over-a-week X-Amz-Expires (a
  // zero one has simply expired, below). The messages are AWS's own wording.
  if (expires < 0) throw new S3Error("AccessDenied", "X-Amz-Expires must be non-negative");
  if (expires > MAX_PRESIGN_EXPIRES) {
    throw new S3Error("AccessDenied", "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds");
  }
  const cred = credentialParameter(credential, amzDate, opts);
  const signedHeaders = signedHeadersRaw.split(";").map((h) => h.trim().toLowerCase());
  if (signedHeaders.some((h) => h === "")) {
    throw new S3Error("AuthorizationQueryParametersError", "Error parsing the X-Amz-SignedHeaders parameter.");
  }
  const signedSet = new Set(signedHeaders);
  if (!signedSet.has("host")) {
    throw new S3Error("AuthorizationQueryParametersError", "Query-string authentication requires the host header to be signed.");
  }
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) {
    throw new S3Error("AuthorizationQueryParametersError", "Error parsing the X-Amz-Signature parameter.");
  }
  const params: PresignedParams = {
    region: opts.region,
    amzDate,
    requestTimeMs: requestTime.getTime(),
    expires,
    cred,
    signedHeaders,
    signedSet,
    signature,
    hoistedPayload: target.param("X-Amz-Content-Sha256", true),
  };
  parsedParams.set(target, params);
  return params;
}

export function verifyPresignedAuth(method: string, target: RequestTarget, headers: HeaderSource, opts: VerifyOptions): AuthResult {
  const { amzDate, requestTimeMs, expires, cred, signedHeaders, signedSet, signature, hoistedPayload } = presignedParams(target, opts);
  const nowMs = opts.now.getTime();
  if (requestTimeMs - nowMs > MAX_SKEW_MS) {
    throw new S3Error("AccessDenied", "Request is not valid yet", {
      "X-Amz-Date": amzDate,
      ServerTime: opts.now.toISOString(),
    });
  }
  // A zero lifetime has ended even within the second the URL was signed in.
  if (expires === 0 || nowMs > requestTimeMs + expires * 1000) {
    throw new S3Error("AccessDenied", "Request has expired", {
      "X-Amz-Expires": String(expires),
      Expires: new Date(requestTimeMs + expires * 1000).toISOString(),
      ServerTime: opts.now.toISOString(),
    });
  }

  // A presigner cannot know the body, so the payload is UNSIGNED-PAYLOAD unless the signer
  // hoisted an explicit value into the URL (the JS SDK hoists its header under the lowercase
  // name) or the caller sends one.
  const payloadValue = (hoistedPayload ?? headers.get("x-amz-content-sha256") ?? UNSIGNED_PAYLOAD).trim();
  return verifySigned(
    { method, target, headers, cred, amzDate, signedHeaders, signedSet, payloadValue, signature, presigned: true },
    opts.lookupSecret,
  );
}
