// Listen with the server of the runtime we are on: Bun.serve on Bun, @hono/node-server on Node.
import { isBun } from "../runtime.ts";
import type { FetchHandler, RunningServer, ServeOptions } from "./types.ts";

export async function listen(fetch: FetchHandler, opts: ServeOptions): Promise<RunningServer> {
  return isBun ? (await import("./bun.ts")).serveBun(fetch, opts) : (await import("./node.ts")).serveNode(fetch, opts);
}
