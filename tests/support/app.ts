// The in-process tier's fixture: the gateway's own app, built by the same factory the command line
// uses (src/gateway.ts), over a fresh temporary root, called with app.fetch(Request) on Bun: no
// process, no socket, so a handler test costs about a millisecond. Imports only src/gateway.ts and
// src/config.ts, so the tree under src/ can move without breaking this tier.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCommand } from "../../src/config.ts";
import { buildGateway } from "../../src/gateway.ts";
import { ACCESS_KEY, SECRET_KEY } from "./env.ts";
import { assertNoInternalError } from "./gateway.ts";
import { errorCode, queryString, sha256Hex, sign, type RawResponse } from "./sign.ts";

/** Nominal: nothing listens here; the host only has to match what the requests sign. */
const ENDPOINT = "http://127.0.0.1:9000";

export interface AppGateway {
  root: string;
  endpoint: string;
  /** Everything the gateway logged so far. */
  log: string[];
  /** The gateway's services: tests swap `identify` to act as another user. */
  services: ReturnType<typeof buildGateway>["services"];
  /** An unsigned request, as a browser (CORS preflight, form upload) sends it. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A SigV4-signed request; `path` is already encoded. The payload hash is the body's unless given. */
  signed(method: string, path: string, opts?: { query?: Record<string, string>; headers?: Record<string, string>; body?: Uint8Array | string }): Promise<RawResponse>;
  /** Stops the sweeper, removes the root, asserts nothing was logged as an internal error. */
  close(): void;
}

/** `args` are `serve` flags (e.g. ["--meta", "sidecar"]). */
export function openApp(args: string[] = []): AppGateway {
  const root = mkdtempSync(join(tmpdir(), "filegate-app-"));
  const command = parseCommand(["serve", "--root", root, "--quiet", ...args], { FILEGATE_ACCESS_KEY: ACCESS_KEY, FILEGATE_SECRET_KEY: SECRET_KEY });
  if (command.kind !== "serve") throw new Error(`not a serve command: ${command.kind}`);
  const log: string[] = [];
  const gw = buildGateway(command.config, { log: (line) => log.push(line), accessLog: false });
  const fetch = async (path: string, init?: RequestInit) => gw.app.fetch(new Request(ENDPOINT + path, init));
  return {
    root,
    endpoint: ENDPOINT,
    log,
    services: gw.services,
    fetch,
    async signed(method, path, opts = {}) {
      const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? Buffer.from(opts.body) : opts.body;
      const given = { ...(opts.headers ?? {}) };
      const payloadHash = given["x-amz-content-sha256"] ?? sha256Hex(body ?? "");
      delete given["x-amz-content-sha256"];
      const headers: Record<string, string> = { host: new URL(ENDPOINT).host, ...given };
      if (body !== undefined) headers["content-length"] = String(body.byteLength);
      const signed = sign({ method, path, query: opts.query, headers, payloadHash }).headers;
      const qs = queryString(opts.query ?? {});
      const res = await fetch(path + (qs ? "?" + qs : ""), { method, headers: signed, body: body as Uint8Array<ArrayBuffer> | undefined });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text, code: errorCode(text) };
    },
    close() {
      gw.stopSweeper();
      rmSync(root, { recursive: true, force: true });
      assertNoInternalError(log.join("\n"), "the in-process gateway");
    },
  };
}
