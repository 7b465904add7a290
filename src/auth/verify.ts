// Which signature a request carries, and the one verifier for it: V4 in the Authorization header,
// V4 presigned, or Signature V2 in either place (when V2 is accepted). A request with no
// credentials at all is anonymous (null): authorization decides what, if anything, it may do.
import { S3Error } from "../errors.ts";
import { parseRequestTarget } from "../http/request-target.ts";
import { verifyHeaderAuth } from "./header-auth.ts";
import { verifyPresignedAuth } from "./presigned-auth.ts";
import { verifyV2 } from "./sigv2-auth.ts";
import { SIGV2_MESSAGE, type AuthResult, type VerifiableRequest, type VerifyOptions } from "./types.ts";

/** The verified signature, or null when the request carries no credentials at all (anonymous). */
export function verifyOrAnonymous(req: VerifiableRequest, opts: VerifyOptions): AuthResult | null {
  const target = req.target ?? parseRequestTarget(req.url);
  const authorization = req.headers.get("authorization");
  const hasQueryAuth = target.has("X-Amz-Algorithm") || target.has("X-Amz-Credential");
  const hasV2QueryAuth = target.has("AWSAccessKeyId") && target.has("Signature");

  if (authorization !== null && (hasQueryAuth || hasV2QueryAuth)) {
    throw new S3Error("InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified", {
      ArgumentName: "Authorization",
      ArgumentValue: authorization,
    });
  }
  const v2 = () => {
    if (!opts.sigv2) throw new S3Error("InvalidRequest", SIGV2_MESSAGE);
    return verifyV2({ ...req, target }, { lookupSecret: opts.lookupSecret, now: opts.now, hostBucket: opts.hostBucket ?? null });
  };
  if (authorization !== null) return authorization.trimStart().startsWith("AWS ") ? v2() : verifyHeaderAuth(req.method, target, req.headers, authorization, opts);
  if (hasQueryAuth) return verifyPresignedAuth(req.method, target, req.headers, opts);
  if (hasV2QueryAuth) return v2();
  return null;
}

/** verifyOrAnonymous for callers that accept only signed requests: anonymous is AccessDenied. */
export function verifyRequest(req: VerifiableRequest, opts: VerifyOptions): AuthResult {
  const auth = verifyOrAnonymous(req, opts);
  if (auth === null) throw new S3Error("AccessDenied");
  return auth;
}
