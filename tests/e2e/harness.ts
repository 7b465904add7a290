// Starts a real gateway process over a fresh temporary root, on the runtime named by
// FILEGATE_TEST_RUNTIME (bun: src/cli.ts; node: the dist/node bundle), and gives tests real S3
// clients pointed at it.
import { S3Client } from "@aws-sdk/client-s3";
import * as Minio from "minio";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");
export const RUNTIME = (process.env.FILEGATE_TEST_RUNTIME ?? "bun") as "bun" | "node";
export const ACCESS_KEY = "TESTACCESSKEY0000001";
export const SECRET_KEY = "test/secret+key0000000000000000000000000";
export const REGION = "us-east-1";

export interface Gateway {
  root: string;
  endpoint: string;
  port: number;
  pid: number;
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

export function gatewayCommand(): string[] {
  if (RUNTIME === "node") {
    const bundle = join(REPO, "dist/node/filegate.mjs");
    if (!existsSync(bundle)) throw new Error("dist/node/filegate.mjs is missing: run `npm run build:node` first");
    return [process.env.NODE_BINARY ?? "node", bundle];
  }
  return [process.execPath, join(REPO, "src/cli.ts")];
}

/**
 * `wrap` is a command prefix the gateway runs under (e.g. `strace -f -o FILE`); `pid` is then the
 * wrapper's.
 */
export async function startGateway(opts: { args?: string[]; env?: Record<string, string>; root?: string; wrap?: string[] } = {}): Promise<Gateway> {
  const root = opts.root ?? mkdtempSync(join(tmpdir(), "filegate-e2e-"));
  const [cmd, ...base] = [...(opts.wrap ?? []), ...gatewayCommand()];
  const proc = spawn(cmd, [...base, "serve", "--root", root, "--port", "0", "--host", "127.0.0.1", "--workers", "1", ...(opts.args ?? [])], {
    env: { ...process.env, FILEGATE_ACCESS_KEY: ACCESS_KEY, FILEGATE_SECRET_KEY: SECRET_KEY, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const endpoint = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("gateway did not start:\n" + out)), 15000);
    const check = () => {
      const m = /endpoint\s+(https?:\/\/\S+)|listening on (https?:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1] ?? m[2]);
      }
    };
    proc.stdout!.on("data", check);
    proc.on("exit", (code) => fail(new Error(`gateway exited with ${code}:\n${out}`)));
  });
  const port = Number(new URL(endpoint).port);
  return {
    root,
    endpoint,
    port,
    pid: proc.pid!,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      if (!opts.root) rmSync(root, { recursive: true, force: true });
    },
  };
}

export function s3Client(gw: Gateway, overrides: Partial<ConstructorParameters<typeof S3Client>[0]> = {}): S3Client {
  return new S3Client({
    endpoint: gw.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    ...overrides,
  });
}

export function minioClient(gw: Gateway, secretKey = SECRET_KEY): Minio.Client {
  return new Minio.Client({
    endPoint: "127.0.0.1",
    port: gw.port,
    useSSL: false,
    accessKey: ACCESS_KEY,
    secretKey,
    region: REGION,
    pathStyle: true,
  });
}

let counter = 0;
export function uniqueBucket(prefix = "b"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}
