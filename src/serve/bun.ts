// Bun entry: Bun.serve gives sendfile(2) for Bun.file bodies (RUNTIME-NOTES).
import type { FetchHandler, RunningServer } from "./types.ts";

// S3 accepts 5 GiB in one PUT; aws-chunked framing adds under 0.2% on top. Bun's default (128 MiB)
// would refuse large uploads with a bare 413.
const MAX_BODY = 5 * 1024 ** 3 + 256 * 1024 ** 2;

export function serveBun(fetch: FetchHandler, host: string, port: number): RunningServer {
  const server = Bun.serve({
    fetch,
    hostname: host,
    port,
    development: false,
    maxRequestBodySize: MAX_BODY,
    // Counts while a handler has not answered; uploads stream, so this bounds only silent clients.
    idleTimeout: 120,
  });
  return {
    port: server.port ?? port,
    async stop(timeoutMs) {
      const graceful = server.stop(false);
      const timer = new Promise<void>((r) => setTimeout(r, timeoutMs).unref?.());
      await Promise.race([graceful, timer]);
      await server.stop(true);
    },
  };
}
