// Users for tests: `filegate user …` run on a root (as an operator would, gateway running or not),
// and SDK clients signing as those users.
import { ListBucketsCommand, type S3Client } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { s3Client, type Endpoint } from "./clients.ts";
import { gatewayCommand } from "./gateway.ts";

export interface MadeUser {
  user: string;
  accessKeyId: string;
  secretAccessKey: string;
  userId: string;
  canonicalId: string;
  role: "admin" | "user";
}

/** Runs `filegate user ARGS --root ROOT` on the runtime under test; stdout, stderr and exit code. */
export function userCli(root: string, args: string[], env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const [cmd, ...base] = gatewayCommand();
  const r = spawnSync(cmd, [...base, "user", ...args, "--root", root], { encoding: "utf8", env: { ...process.env, FILEGATE_ACCESS_KEY: "", FILEGATE_SECRET_KEY: "", ...env }, timeout: 20000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `filegate user add NAME …`: the JSON it prints. */
export function addUser(root: string, name: string, args: string[] = []): MadeUser {
  const r = userCli(root, ["add", name, ...args]);
  if (r.code !== 0) throw new Error(`filegate user add ${name} failed (${r.code}): ${r.err}`);
  return JSON.parse(r.out) as MadeUser;
}

/** An SDK client signing with `u`'s key. */
export function clientAs(gw: Endpoint, u: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return s3Client(gw, { credentials: { accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey } });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `c`'s key is in use: the user store is re-read within 500 ms; allow `ms`. */
export async function untilAccepted(c: S3Client, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await c.send(new ListBucketsCommand({}));
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await pause(50);
    }
  }
}

/** The HTTP status `send` gets once a change has had time to spread (polls up to `ms`). */
export async function statusBecomes(send: () => Promise<unknown>, status: number, ms = 4000): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    let got: number;
    try {
      await send();
      got = 200;
    } catch (e) {
      got = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
    }
    if (got === status || Date.now() > end) return got;
    await pause(50);
  }
}
