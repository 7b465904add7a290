// What a route handler receives: the resolved operation, its target, the verified caller, and the
// backend. Handlers return a Response; they throw S3Error for anything a client did wrong.
import type { AuthResult } from "../auth/sigv4.ts";
import type { Config } from "../config.ts";
import type { PosixBackend } from "../posix/backend.ts";
import type { OperationName } from "./operations.ts";

export interface Owner {
  id: string;
  displayName: string;
}

export interface Services {
  config: Config;
  backend: PosixBackend;
  owner: Owner;
  lookupSecret(accessKey: string): string | undefined;
  /** MAC key for listing continuation tokens; derived from the secret so every process agrees. */
  tokenKey: Buffer;
}

export interface S3Context {
  op: OperationName;
  bucket: string | null;
  key: string | null;
  query: URLSearchParams;
  headers: Headers;
  request: Request;
  requestId: string;
  auth: AuthResult;
  services: Services;
}

export type Handler = (ctx: S3Context) => Promise<Response> | Response;
