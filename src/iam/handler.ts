// The IAM API on the gateway's own endpoint: a request whose SigV4 credential scope names `iam`
// (so `aws iam --endpoint-url` and the SDKs' IAM clients can be pointed here). IAM speaks the
// Query protocol: a form-encoded POST carrying Action=… and its parameters, answered with
// <ActionResponse><ActionResult>…</ActionResult><ResponseMetadata/></ActionResponse> or
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
import { createHash } from "node:crypto";
import type { UserPrincipal } from "../access/principal.ts";
import { verifyRequest } from "../auth/verify.ts";
import { S3Error } from "../errors.ts";
import type { RequestTarget } from "../http/request-target.ts";
import { reportFailure, requestIdHeaders } from "../http/response.ts";
import type { Services } from "../s3/context.ts";
import { renderXml } from "../xml/index.ts";
import { ACTIONS } from "./actions.ts";
import { IamError, toIamError } from "./errors.ts";

export const IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/";

/** The largest form taken: PutUserPolicy's document is at most 2 KiB of policy, URL-encoded. */
const MAX_BODY = 128 * 1024;

const READ_ACTIONS = new Set(["GetUser", "ListUsers", "ListAccessKeys", "GetUserPolicy", "ListUserPolicies"]);

/** What the access log and metrics learn of an IAM request. */
export interface IamOutcome {
  accessKey: string | null;
  user: string | null;
  errorCode: string | null;
}

/** A request signed for the IAM service: only the Authorization header's scope tells it from S3's. */
export function isIamRequest(method: string, headers: Headers): boolean {
  if (method !== "POST") return false;
  const auth = headers.get("authorization");
  return auth !== null && auth.includes("/iam/aws4_request");
}

async function readForm(request: Request): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_BODY) throw new IamError("ValidationError", `The request body is over ${MAX_BODY} bytes.`);
  if (!request.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of request.body as unknown as AsyncIterable<Uint8Array>) {
    n += c.byteLength;
    if (n > MAX_BODY) throw new IamError("ValidationError", `The request body is over ${MAX_BODY} bytes.`);
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks);
}

function xml(root: string, body: Record<string, unknown>, status: number, requestId: string): Response {
  const text = renderXml(root, body, IAM_NS);
  return new Response(text, {
    status,
    headers: { "content-type": "text/xml", "content-length": String(Buffer.byteLength(text)), "x-amzn-requestid": requestId, ...requestIdHeaders(requestId) },
  });
}

export async function handleIam(
  request: Request,
  url: string,
  target: RequestTarget,
  services: Services,
  requestId: string,
  outcome: IamOutcome,
  log: (line: string) => void,
): Promise<Response> {
  try {
    const body = await readForm(request);
    const bodySha = createHash("sha256").update(body).digest("hex");
    // IAM's clients sign the body's hash without sending it in a header, as every service but S3.
    const headers = {
      get: (name: string) => (name === "x-amz-content-sha256" ? (request.headers.get(name) ?? bodySha) : request.headers.get(name)),
      forEach: (cb: (value: string, key: string) => void) => request.headers.forEach(cb),
    };
    const auth = verifyRequest(
      { method: request.method, url, target, headers },
      { lookupSecret: services.lookupSecret, now: new Date(), region: services.config.region, service: "iam", sigv2: false, hostBucket: null },
    );
    outcome.accessKey = auth.accessKey;
    if (auth.expectedSha256 !== bodySha) throw new IamError("SignatureDoesNotMatch", "The request body does not match the payload hash that was signed.");
    const caller: UserPrincipal = services.identify(auth.accessKey);
    outcome.user = caller.name;

    const params = new URLSearchParams(new URL(url).search);
    for (const [k, v] of new URLSearchParams(body.toString("utf8"))) params.set(k, v);
    const action = params.get("Action");
    if (!action) throw new IamError("MissingAction", "The request must contain the parameter Action.");
    const run = ACTIONS[action];
    if (!run) {
      if (!/^[A-Z][A-Za-z]{1,64}$/.test(action)) throw new IamError("InvalidAction", `Could not find operation ${action} for version 2010-05-08`);
      throw new IamError("NotImplemented", `${action} is not implemented by filegate.`);
    }
    // Managing users is for admins; a user's inline policies do not reach the IAM API.
    if (caller.role !== "admin") {
      const user = params.get("UserName") || caller.name;
      throw new IamError("AccessDenied", `User: ${caller.arn} is not authorized to perform: iam:${action} on resource: ${caller.arn.replace(/user\/.*$/, `user/${user}`)}`);
    }
    if (services.config.readonly && !READ_ACTIONS.has(action)) throw new IamError("AccessDenied", "This gateway is read-only.");
    const result = await run({ params, caller, users: services.users });
    return xml(`${action}Response`, { ...(result ? { [`${action}Result`]: result } : {}), ResponseMetadata: { RequestId: requestId } }, 200, requestId);
  } catch (err) {
    let e = toIamError(err);
    if (!e) {
      // Ours, not the caller's: logged once with its cause, answered as IAM's ServiceFailure.
      const failure = err instanceof S3Error ? err : new S3Error("InternalError", undefined, {}, {}, err);
      reportFailure(failure, requestId, log);
      e = failure.code === "SlowDown" ? new IamError("ServiceFailure", "Please reduce your request rate.") : new IamError("ServiceFailure", "The request processing has failed because of an unknown error, exception or failure.");
    }
    outcome.errorCode = e.code;
    return xml("ErrorResponse", { Error: { Type: e.type, Code: e.code, Message: e.message }, RequestId: requestId }, e.status, requestId);
  }
}
