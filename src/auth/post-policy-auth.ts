// Browser POST forms: the signature is over the base64 policy itself (no canonical request), with
// the V4 credential scope or, for Signature V2, the bare access key. The policy's conditions are
// checked by ../s3/post-policy.ts.
import { S3Error } from "../errors.ts";
import { deriveSigningKey, hmacHex, secretOf, signaturesEqual } from "./keys.ts";
import { credentialParameter, parseAmzDate } from "./scope.ts";
import { mismatch } from "./signed-tail.ts";
import { mismatchV2, signV2, v2SignaturesEqual } from "./sigv2.ts";
import { ALGORITHM, type VerifyOptions } from "./types.ts";

/** Verifies the SigV4 fields of a browser POST form. Returns the access key. */
export function verifyPostPolicy(
  form: { policy: string; algorithm: string; credential: string; amzDate: string; signature: string },
  opts: Pick<VerifyOptions, "lookupSecret" | "region">,
): string {
  if (form.algorithm !== ALGORITHM) throw new S3Error("InvalidArgument", `Only ${ALGORITHM} is supported.`, { ArgumentName: "x-amz-algorithm" });
  if (!parseAmzDate(form.amzDate)) {
    throw new S3Error("AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  }
  const cred = credentialParameter(form.credential, form.amzDate, opts);
  const secret = secretOf(opts.lookupSecret, cred.accessKey);
  const expected = hmacHex(deriveSigningKey(secret, cred.date, cred.region, cred.service), form.policy);
  if (!signaturesEqual(expected, form.signature)) throw mismatch(cred.accessKey, form.policy, form.signature);
  return cred.accessKey;
}

/** Verifies a V2 browser POST form: the signature is HMAC-SHA1 over the base64 policy. */
export function verifyPostPolicyV2(form: { policy: string; accessKey: string; signature: string }, lookupSecret: (accessKey: string) => string | undefined): string {
  const secret = secretOf(lookupSecret, form.accessKey);
  if (!v2SignaturesEqual(signV2(secret, form.policy), form.signature)) throw mismatchV2(form.accessKey, form.policy, form.signature);
  return form.accessKey;
}
