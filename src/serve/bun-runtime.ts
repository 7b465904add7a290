// Bun's side of the runtime interface. Object bodies are served from the descriptor the object
// was opened with (so the bytes are of the version whose headers were sent): a Bun.file of
// /proc/self/fd/N (sliced for ranges) goes out with sendfile(2), no bytes through JavaScript. Bun
// opens that path itself when it starts the response, right after the handler's promise settles,
// and closes its own descriptor when done; ours is closed on the next turn of the event loop
// (docs/RUNTIME.md).
import { readSpan } from "../http/read-span.ts";
import type { FetchHandler, OpenBody, Runtime, ServeOptions } from "./types.ts";

/** Under this Bun never uses sendfile anyway (docs/RUNTIME.md). */
const READ_ITSELF = 64 * 1024;
/** Linux names an open descriptor by this path; opening it gives a new descriptor of the same file. */
const fdPath = (fd: number) => `/proc/self/fd/${fd}`;

function fileResponse(body: OpenBody, start: number, end: number, size: number, status: number, headers: Record<string, string>): Response {
  if (end - start < READ_ITSELF) {
    // Bun reads bodies this small itself (pread, then one sendmsg with the headers) instead of
    // sendfile; reading them from our descriptor spares its reopening /proc/self/fd/N.
    try {
      return new Response(readSpan(body.fd!, start, end - start + 1), { status, headers });
    } finally {
      body.close();
    }
  }
  // Bun adds `Content-Disposition: filename="<backend file name>"` to file bodies of types it
  // does not render, unless the response has one. An empty value is the only setting that
  // neither leaks the name nor tells clients anything they did not store.
  if (headers["content-disposition"] === undefined) headers["content-disposition"] = "";
  const file = Bun.file(fdPath(body.fd!));
  setImmediate(body.close);
  return new Response(start === 0 && end === size - 1 ? file : file.slice(start, end + 1), { status, headers });
}

export const bunRuntime: Runtime = {
  name: "bun",
  get version() {
    return Bun.version;
  },
  serve: async (fetch: FetchHandler, opts: ServeOptions) => (await import("./bun.ts")).serveBun(fetch, opts),
  fileResponse,
  // Bun passes its server as Hono's env.
  remoteAddress: (env, req) => (env as { requestIP?: (r: Request) => { address: string } | null } | undefined)?.requestIP?.(req)?.address ?? null,
  // Bun does not expose the raw request target; Request.url has `.` and `..` resolved, so such
  // keys fail the signature check instead of reaching the key checks.
  rawUrl: (_env, req) => req.url,
};
