// Bun entry: Bun.serve gives sendfile(2) for Bun.file bodies (docs/RUNTIME.md). TLS turns that off
// (Bun writes TLS records from userspace); terminate TLS in front to keep zero-copy.
import { readFileSync } from "node:fs";
import type { FetchHandler, RunningServer, ServeOptions } from "./types.ts";

// S3 accepts 5 GiB in one PUT; aws-chunked framing adds under 0.2% on top. Bun's default (128 MiB)
// would refuse large uploads with a bare 413. The app refuses declared lengths over 5 GiB with
// S3's EntityTooLarge; this cap sits above that so Bun's own bare 413 is only the last resort.
const MAX_BODY = 6 * 1024 ** 3;

let dateSecond = 0;
let dateText = "";
function httpDate(): string {
  const s = Math.floor(Date.now() / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(s * 1000).toUTCString();
  }
  return dateText;
}

/** Bun sends Date on every response but HEAD's; HTTP requires it and SDKs read it for clock skew. */
async function withDate(response: Response | Promise<Response>): Promise<Response> {
  const r = await response;
  if (!r.headers.has("date")) r.headers.set("date", httpDate());
  return r;
}

function readTls(tls: ServeOptions["tls"]) {
  return tls ? { cert: readFileSync(tls.cert, "utf8"), key: readFileSync(tls.key, "utf8") } : undefined;
}

export function serveBun(fetch: FetchHandler, opts: ServeOptions): RunningServer {
  const config = {
    fetch: (req: Request, server: unknown) => (req.method === "HEAD" ? withDate(fetch(req, server)) : fetch(req, server)),
    hostname: opts.host,
    port: opts.port,
    reusePort: opts.reusePort,
    development: false,
    maxRequestBodySize: MAX_BODY,
    // Counts while a handler has not answered; uploads stream, so this bounds only silent clients.
    idleTimeout: 120,
  };
  const server = Bun.serve({ ...config, tls: readTls(opts.tls) });
  return {
    port: server.port ?? opts.port,
    async stop(timeoutMs) {
      const graceful = server.stop(false);
      const timer = new Promise<void>((r) => setTimeout(r, timeoutMs).unref?.());
      await Promise.race([graceful, timer]);
      await server.stop(true);
    },
    reloadTls() {
      if (opts.tls) server.reload({ ...config, tls: readTls(opts.tls) } as never);
    },
  };
}
