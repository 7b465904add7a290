export interface RunningServer {
  /** The port actually bound (useful with --port 0). */
  port: number;
  /** Stops accepting, waits up to `timeoutMs` for in-flight requests, then closes everything. */
  stop(timeoutMs: number): Promise<void>;
}

export type FetchHandler = (request: Request) => Response | Promise<Response>;
