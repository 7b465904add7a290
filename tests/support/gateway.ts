// The one gateway fixture: a real gateway process over a fresh temporary root, on the runtime named
// by FILEGATE_TEST_RUNTIME (bun: src/cli.ts; node: the dist/node bundle). Stopping it asserts that
// it never logged an internal error: every failure a test provokes is an S3 error by design, so a
// 500 in the log is a bug even when the test's own assertions passed.
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import type * as Minio from "minio";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { minioClient, s3Client } from "./clients.ts";
import { ACCESS_KEY, REPO, RUNTIME, SECRET_KEY } from "./env.ts";

export interface Gateway {
  root: string;
  endpoint: string;
  port: number;
  pid: number;
  proc: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  /** SIGTERM (unless it already exited), remove the temporary root, then assert no internal error. */
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
 * rm -rf, also of files Object Lock made immutable (chattr +i, where the gateway ran as root): their
 * flag is cleared first, which only a process with CAP_LINUX_IMMUTABLE can do (as the gateway could).
 */
export function removeTree(root: string): void {
  try {
    rmSync(root, { recursive: true, force: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") throw e;
    spawnSync("chattr", ["-R", "-f", "-i", root], { stdio: "ignore" });
    rmSync(root, { recursive: true, force: true });
  }
}

/** The log lines that report a 500 (http/response.ts keeps the words "internal error" in them). */
export function internalErrors(log: string): string[] {
  return log.split("\n").filter((l) => l.includes("internal error"));
}

/** Throws (a plain Error, so scripts can use this too) when `log` reports an internal error. */
export function assertNoInternalError(log: string, who = "the gateway"): void {
  const lines = internalErrors(log);
  if (lines.length > 0) throw new Error(`${who} logged ${lines.length} internal error(s):\n${lines.join("\n")}`);
}

/**
 * `root` reuses a directory (it is then left in place); `wrap` is a command prefix the gateway
 * runs under (e.g. `strace -f -o FILE`), and `pid` is then the wrapper's.
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
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      if (!opts.root) removeTree(root);
      assertNoInternalError(out, `the gateway on port ${port}`);
    },
  };
}

/** A fresh gateway with an SDK and a minio client, and `buckets` created. */
export async function openGateway(...buckets: string[]): Promise<{ gw: Gateway; s3: S3Client; mc: Minio.Client }> {
  const gw = await startGateway();
  const s3 = s3Client(gw);
  try {
    for (const Bucket of buckets) await s3.send(new CreateBucketCommand({ Bucket }));
  } catch (e) {
    s3.destroy();
    await gw.stop();
    throw e;
  }
  return { gw, s3, mc: minioClient(gw) };
}

/** Ends what openGateway (or startGateway plus a client) started; the stop asserts no internal error. */
export async function closeGateway(gw: Gateway | undefined, s3: S3Client | undefined): Promise<void> {
  s3?.destroy();
  await gw?.stop();
}
