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
