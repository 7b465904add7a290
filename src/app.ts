// The Hono app shared by the Bun and Node entry points. A request goes: address (bucket, key) →
// operation table → SigV4 verification → the operation's handler → response, and every response,
// error or not, carries the request id headers and is counted and logged once.
import { Hono } from "hono";
import { ANONYMOUS } from "./access/principal.ts";
import type { AuthResult } from "./auth/types.ts";
import { verifyRequest } from "./auth/verify.ts";
import { S3Error } from "./errors.ts";
import { asS3Error, errorResponse, nextRequestId, reportFailure, requestIdHeaders } from "./http/response.ts";
import type { AccessLog } from "./ops/access-log.ts";
import { renderMetrics, type Metrics, type MetricsSnapshot } from "./ops/metrics.ts";
import { isReady } from "./ops/ready.ts";
import { Admission, carriesCredentials } from "./http/admission.ts";
import { parseRequestTarget } from "./http/request-target.ts";
import { corsHeadersFor } from "./routes/cors.ts";
import { HANDLERS } from "./routes/index.ts";
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

  // The peer address costs a syscall per request; only the access log wants it.
  app.all("*", (c) => handleS3(c.req.raw, services, obs, obs.accessLog ? remoteAddress(c.env, c.req.raw) : null, rawUrl(c.env, c.req.raw)));
  return app;
}

/** What one request was, for the access log and metrics; filled in as handling proceeds. */
interface Outcome {
  op: OperationName | "unknown";
  bucket: string | null;
  key: string | null;
  accessKey: string | null;
  errorCode: string | null;
}

/** Bun passes its server as Hono's env, @hono/node-server the Node request. */
function remoteAddress(env: unknown, req: Request): string | null {
  const e = env as { requestIP?: (r: Request) => { address: string } | null; incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return e?.requestIP?.(req)?.address ?? e?.incoming?.socket?.remoteAddress ?? null;
}

/**
 * The URL exactly as the client sent it. Request.url has `.` and `..` segments resolved, which
 * breaks the client's signature and hides hostile keys from the key checks. Node keeps the raw
 * request target; Bun does not expose it, so there such keys fail the signature check instead.
 */
function rawUrl(env: unknown, req: Request): string {
  const target = (env as { incoming?: { url?: unknown } } | undefined)?.incoming?.url;
  return typeof target === "string" && target.startsWith("/") ? new URL(req.url).origin + target : req.url;
}

export async function handleS3(request: Request, services: Services, obs: Observers, remote: string | null, url = request.url): Promise<Response> {
  const started = performance.now();
  const requestId = nextRequestId();
  const outcome: Outcome = { op: "unknown", bucket: null, key: null, accessKey: null, errorCode: null };
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
      response = await dispatch(request, url, services, obs, requestId, outcome, admission);
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
    remote,
    accessKey: outcome.accessKey,
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

async function dispatch(request: Request, url: string, services: Services, obs: Observers, requestId: string, outcome: Outcome, admission: Admission): Promise<Response> {
  let resource = "/";
  try {
    // The one parse of the request target; addressing, the operation table, auth and the handlers read it.
    const target = parseRequestTarget(url);
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
    const auth = unsigned
      ? UNSIGNED_AUTH
      : await verifyRequest(
          { method: request.method, url, target, headers },
          {
            lookupSecret: services.lookupSecret,
            now: new Date(),
            region: services.config.region,
            sigv2: services.config.sigv2,
            hostBucket: addr.virtualHosted ? addr.bucket : null,
          },
        );
    if (!unsigned) admission.enter("signed");
    outcome.accessKey = auth.accessKey || null;
    // Authenticated callers learn what is wrong with the request shape; others only get AccessDenied.
    if (!op) resolveOperationOrThrow(shape);
    if (services.config.readonly && !READ_METHODS.has(request.method)) throw new S3Error("AccessDenied", "This gateway is read-only.");
    const expectedOwner = headers.get("x-amz-expected-bucket-owner");
    if (expectedOwner !== null && expectedOwner !== services.owner.id) throw new S3Error("AccessDenied");
    // Buckets here are never versioned: the only version an object has is "null".
    const versionId = query.get("versionId");
    if (versionId !== null && versionId !== "null" && addr.key !== null) {
      throw new S3Error("InvalidArgument", "Invalid version id specified", { ArgumentName: "versionId", ArgumentValue: versionId });
    }
    const handler = HANDLERS[op!];
    if (!handler) throw new S3Error("NotImplemented", `${op} is not implemented by filegate.`);
    const principal = unsigned ? ANONYMOUS : services.identify(auth.accessKey);
    const ctx: S3Context = { op: op!, bucket: addr.bucket, key: addr.key, query, headers, request, requestId, auth, principal, services, authenticated: () => admission.enter("signed") };
    const response = await handler(ctx);
    for (const [k, v] of Object.entries(requestIdHeaders(requestId))) response.headers.set(k, v);
    return response;
  } catch (err) {
    // One mapping for what is logged, counted and sent.
    const e = asS3Error(err);
    reportFailure(e, requestId, obs.log);
    outcome.errorCode = e.code;
    return errorResponse(e, resource, requestId, request.method);
  }
}
