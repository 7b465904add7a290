// The Hono app shared by the Bun and Node entry points. A request goes: address (bucket, key) →
// operation table → SigV4 verification (none at all: the anonymous principal) → authorization
// (src/access/authorize.ts) → the operation's handler → response, and every response,
// error or not, carries the request id headers and is counted and logged once.
import { Hono } from "hono";
import { authorize } from "./access/authorize.ts";
import { documentAsked } from "./access/context-keys.ts";
import { DOCUMENT_LIMITS, prefetchDocument } from "./s3/request-document.ts";
import { ANONYMOUS } from "./access/principal.ts";
import { checkRequestFsAccess } from "./access/unix.ts";
import type { AuthResult } from "./auth/types.ts";
import { verifyOrAnonymous } from "./auth/verify.ts";
import { isVersionSelector } from "./s3/version-selector.ts";
import { S3Error } from "./errors.ts";
import { asS3Error, errorResponse, nextRequestId, reportFailure, requestIdHeaders } from "./http/response.ts";
import type { AccessLog } from "./ops/access-log.ts";
import { renderMetrics, type Metrics, type MetricsSnapshot } from "./ops/metrics.ts";
import { isReady } from "./ops/ready.ts";
import { Admission, carriesCredentials } from "./http/admission.ts";
import { parseRequestTarget } from "./http/request-target.ts";
import { corsHeadersFor } from "./routes/cors.ts";
import { HANDLERS } from "./routes/index.ts";
import { handleIam, isIamRequest } from "./iam/handler.ts";
import { runtime } from "./runtime.ts";
import { resolveAddress } from "./s3/address.ts";
import type { S3Context, Services } from "./s3/context.ts";
import { resolveOperation, resolveOperationOrThrow, type OperationName } from "./s3/operations.ts";

export type Logger = (line: string) => void;

export interface Observers {
  log: Logger;
  metrics: Metrics;
  accessLog: AccessLog | null;
  /** Extra gauges computed at scrape time (e.g. open multipart uploads). */
  gauges?: () => Record<string, number>;
  /** What a scrape reports; a --workers worker asks its supervisor for the sum over all workers. */
  scrape?: () => Promise<MetricsSnapshot>;
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The two operations whose request is not signed: a browser's CORS preflight (it only reads the
 * bucket's CORS rules) and a form upload (its handler verifies the signed policy in the form).
 */
const UNSIGNED_OPS: ReadonlySet<OperationName> = new Set(["OptionsObject", "PostObject"]);
const UNSIGNED_AUTH: AuthResult = Object.freeze({
  accessKey: "",
  payload: "unsigned",
  seedSignature: "",
  signingKey: new Uint8Array(0),
  scope: "",
  amzDate: "",
  presigned: false,
});

export function createApp(services: Services, obs: Observers): Hono {
  const app = new Hono();

  // `_` can never start a bucket name, so these paths shadow no bucket.
  app.get("/_filegate/health", () => new Response("ok\n", { headers: { "content-type": "text/plain" } }));
  app.get("/_filegate/ready", () =>
    isReady(services.config.root, !services.config.readonly)
      ? new Response("ready\n", { headers: { "content-type": "text/plain" } })
      : new Response(`root not readable${services.config.readonly ? "" : " and writable"}\n`, { status: 503, headers: { "content-type": "text/plain" } }),
  );
  app.get("/_filegate/metrics", async (c) => {
    const token = services.config.metricsToken;
    if (token && c.req.header("authorization") !== `Bearer ${token}`) return new Response("unauthorized\n", { status: 401 });
    const snapshot = obs.scrape ? await obs.scrape() : obs.metrics.snapshot();
    return new Response(renderMetrics(snapshot, obs.gauges?.() ?? {}), { headers: { "content-type": "text/plain; version=0.0.4" } });
  });

  // The peer address costs a syscall per request: looked up only for the access log or a policy's aws:SourceIp.
  app.all("*", (c) => handleS3(c.req.raw, services, obs, lazyRemote(c.env, c.req.raw), runtime.rawUrl(c.env, c.req.raw)));
  return app;
}

/** What one request was, for the access log and metrics; filled in as handling proceeds. */
interface Outcome {
  /** "IAM" for the IAM API (src/iam/), which shares the endpoint. */
  op: OperationName | "unknown" | "IAM";
  bucket: string | null;
  key: string | null;
  accessKey: string | null;
  user: string | null;
  errorCode: string | null;
}

function lazyRemote(env: unknown, req: Request): () => string | null {
  let known: string | null | undefined;
  return () => (known === undefined ? (known = runtime.remoteAddress(env, req)) : known);
}

export async function handleS3(request: Request, services: Services, obs: Observers, remote: () => string | null = () => null, url = request.url): Promise<Response> {
  const started = performance.now();
  const requestId = nextRequestId();
  const outcome: Outcome = { op: "unknown", bucket: null, key: null, accessKey: null, user: null, errorCode: null };
  const metrics = obs.metrics;
  let response: Response | undefined;
  const admission = new Admission(metrics, services.config);
  try {
    try {
      admission.enter(carriesCredentials(request.headers, url) ? "signed" : "unsigned");
    } catch (e) {
      outcome.errorCode = "SlowDown";
      response = errorResponse(e, "/", requestId, request.method);
    }
    if (!response) {
      response = await dispatch(request, url, services, obs, requestId, outcome, admission, remote);
      // Only browsers send Origin; everyone else pays one header lookup.
      const origin = request.headers.get("origin");
      if (origin !== null && outcome.bucket !== null && outcome.op !== "OptionsObject") {
        const cors = corsHeadersFor(services.store, outcome.bucket, origin, request.method);
        if (cors) for (const [k, v] of Object.entries(cors)) response.headers.set(k, v);
      }
    }
  } finally {
    admission.release();
  }
  const seconds = (performance.now() - started) / 1000;
  const bytesIn = Number(request.headers.get("content-length") ?? 0) || 0;
  const bytesOut = request.method === "HEAD" ? 0 : Number(response.headers.get("content-length") ?? 0) || 0;
  metrics.record(outcome.op, response.status, seconds, bytesIn, bytesOut);
  obs.accessLog?.write({
    time: new Date().toISOString(),
    requestId,
    remote: remote(),
    accessKey: outcome.accessKey,
    user: outcome.user,
    operation: outcome.op,
    bucket: outcome.bucket,
    key: outcome.key,
    status: response.status,
    error: outcome.errorCode,
    bytesIn,
    bytesOut,
    ms: Math.round(seconds * 1000 * 100) / 100,
  });
  return response;
}

async function dispatch(request: Request, url: string, services: Services, obs: Observers, requestId: string, outcome: Outcome, admission: Admission, remote: () => string | null): Promise<Response> {
  let resource = "/";
  let ctx: S3Context | undefined;
  try {
    // The one parse of the request target; addressing, the operation table, auth and the handlers read it.
    const target = parseRequestTarget(url);
    if (isIamRequest(request.method, request.headers)) {
      outcome.op = "IAM";
      return await handleIam(request, url, target, services, requestId, outcome, obs.log);
    }
    const addr = resolveAddress(target, request.headers.get("host"), services.config.virtualDomain);
    outcome.bucket = addr.bucket;
    outcome.key = addr.key;
    resource = addr.bucket ? `/${addr.bucket}${addr.key !== null ? "/" + addr.key : ""}` : "/";
    // The target answers get/has/keys itself: no URLSearchParams is built per request.
    const query = target;
    const headers = request.headers;
    const shape = { method: request.method, bucket: addr.bucket, key: addr.key, query, headers };
    const op = resolveOperation(shape);
    if (op) outcome.op = op;
    const unsigned = op !== null && UNSIGNED_OPS.has(op);
    // Unsigned operations wait in the unsigned pool until they prove something (PostObject's
    // policy); a verified signature moves a request to the signed pool.
    if (unsigned) admission.enter("unsigned");
    const verified = unsigned
      ? UNSIGNED_AUTH
      : await verifyOrAnonymous(
          { method: request.method, url, target, headers },
          {
            lookupSecret: services.lookupSecret,
            now: new Date(),
            region: services.config.region,
            sigv2: services.config.sigv2,
            hostBucket: addr.virtualHosted ? addr.bucket : null,
          },
        );
    // No credentials at all: the anonymous principal, which stays in the unsigned pool.
    const anonymous = verified === null;
    const auth = verified ?? UNSIGNED_AUTH;
    if (!unsigned && !anonymous) admission.enter("signed");
    outcome.accessKey = auth.accessKey || null;
    // Authenticated callers learn what is wrong with the request shape; others only get AccessDenied.
    if (!op) {
      if (anonymous) throw new S3Error("AccessDenied");
      resolveOperationOrThrow(shape);
    }
    if (services.config.readonly && !READ_METHODS.has(request.method)) throw new S3Error("AccessDenied", "This gateway is read-only.");
    const expectedOwner = headers.get("x-amz-expected-bucket-owner");
    if (expectedOwner !== null && expectedOwner !== (addr.bucket ? services.owners.ownerId(addr.bucket) : services.owner.id)) throw new S3Error("AccessDenied");
    // A version id filegate could never have issued names no version: refused before any lookup.
    const versionId = query.get("versionId");
    if (versionId !== null && !isVersionSelector(versionId) && addr.key !== null) {
      throw new S3Error("InvalidArgument", "Invalid version id specified", { ArgumentName: "versionId", ArgumentValue: versionId });
    }
    const principal = unsigned || anonymous ? ANONYMOUS : services.identify(auth.accessKey);
    ctx = { op: op!, bucket: addr.bucket, key: addr.key, query, headers, request, requestId, auth, principal, services, remote, authenticated: () => admission.enter("signed") };
    // A body whose values a policy's conditions test is read (not yet judged) before the decision.
    const documentLimit = DOCUMENT_LIMITS[op!];
    if (documentLimit !== undefined && documentAsked(ctx)) await prefetchDocument(ctx, documentLimit);
    // Before the handler lookup: who may not act learns nothing about what is implemented.
    authorize(ctx);
    // The S3 decision first; then, for users with a Unix account, the mode bits.
    checkRequestFsAccess(ctx);
    const handler = HANDLERS[op!];
    if (!handler) throw new S3Error("NotImplemented", `${op} is not implemented by filegate.`);
    const response = await handler(ctx);
    for (const [k, v] of Object.entries(requestIdHeaders(requestId))) response.headers.set(k, v);
    return response;
  } catch (err) {
    // One mapping for what is logged, counted and sent.
    const e = asS3Error(err);
    reportFailure(e, requestId, obs.log);
    outcome.errorCode = e.code;
    return errorResponse(e, resource, requestId, request.method);
  } finally {
    // Read after the handler: PostObject learns its user from the form.
    if (ctx?.principal.kind === "user") outcome.user = ctx.principal.name;
  }
}
