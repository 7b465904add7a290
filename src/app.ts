// The Hono app shared by the Bun and Node entry points. A request goes: address (bucket, key) →
// operation table → SigV4 verification → the operation's handler → response, and every response,
// error or not, carries the request id headers.
import { Hono } from "hono";
import { verifyRequest } from "./auth/sigv4.ts";
import { S3Error } from "./errors.ts";
import { errorResponse, nextRequestId, requestIdHeaders } from "./http/response.ts";
import { HANDLERS } from "./routes/index.ts";
import { resolveAddress } from "./s3/address.ts";
import type { S3Context, Services } from "./s3/context.ts";
import { resolveOperation, resolveOperationOrThrow } from "./s3/operations.ts";

export type Logger = (line: string) => void;

export function createApp(services: Services, log: Logger): Hono {
  const app = new Hono();

  // `_` can never start a bucket name, so these paths shadow nothing.
  app.get("/_filegate/health", () => new Response("ok\n", { headers: { "content-type": "text/plain" } }));

  app.all("*", (c) => handleS3(c.req.raw, services, log));
  return app;
}

export async function handleS3(request: Request, services: Services, log: Logger): Promise<Response> {
  const requestId = nextRequestId();
  let resource = "/";
  try {
    const addr = resolveAddress(request.url, request.headers.get("host"), services.config.virtualDomain);
    resource = addr.bucket ? `/${addr.bucket}${addr.key !== null ? "/" + addr.key : ""}` : "/";
    const query = new URLSearchParams(addr.rawQuery);
    const headers = request.headers;
    const shape = { method: request.method, bucket: addr.bucket, key: addr.key, query, headers };
    const op = resolveOperation(shape);
    const auth = await verifyRequest(
      { method: request.method, url: request.url, headers },
      { lookupSecret: services.lookupSecret, now: new Date(), region: services.config.region },
    );
    // Authenticated callers learn what is wrong with the request shape; others only get AccessDenied.
    if (!op) resolveOperationOrThrow(shape);
    const handler = HANDLERS[op!];
    if (!handler) throw new S3Error("NotImplemented", `${op} is not implemented by filegate.`);
    const ctx: S3Context = { op: op!, bucket: addr.bucket, key: addr.key, query, headers, request, requestId, auth, services };
    const response = await handler(ctx);
    for (const [k, v] of Object.entries(requestIdHeaders(requestId))) response.headers.set(k, v);
    return response;
  } catch (err) {
    return errorResponse(err, resource, requestId, request.method, log);
  }
}
