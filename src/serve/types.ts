export interface RunningServer {
  /** The port actually bound (useful with --port 0). */
  port: number;
  /** Stops accepting, waits up to `timeoutMs` for in-flight requests, then closes everything. */
  stop(timeoutMs: number): Promise<void>;
  /** Re-reads the TLS certificate and key (SIGHUP). */
  reloadTls(): void;
}

export type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

export interface ServeOptions {
  host: string;
  port: number;
  tls: { cert: string; key: string } | null;
  /** One of several worker processes on this port (SO_REUSEPORT on Bun). */
  reusePort: boolean;
}

/** An open object's descriptor and the way to close it (once). */
export interface OpenBody {
  fd: number | null;
  close(): void;
  /** Hands the descriptor over to its new owner: close() no longer touches it. */
  detach(): number;
}

/**
 * What differs between Bun and Node, in one place (as Hono has an adapter per runtime):
 * src/runtime.ts picks the implementation once; nothing else asks which runtime it is on.
 */
export interface Runtime {
  readonly name: "bun" | "node";
  readonly version: string;
  serve(fetch: FetchHandler, opts: ServeOptions): Promise<RunningServer>;
  /**
   * A response carrying bytes start..end (inclusive) of the open file `body`, which it takes
   * over. `headers` must already hold Content-Length (and Content-Range for 206).
   */
  fileResponse(body: OpenBody, start: number, end: number, size: number, status: number, headers: Record<string, string>): Response;
  /** The peer address; what the server passes as Hono's env differs per runtime. */
  remoteAddress(env: unknown, req: Request): string | null;
  /** The request target exactly as the client sent it, as an absolute URL. */
  rawUrl(env: unknown, req: Request): string;
}
