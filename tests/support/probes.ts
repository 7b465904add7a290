// Small probes of what a gateway left behind or sent: the file tree, a whole body, a condition
// that becomes true later.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** Every file and directory under `dir`, relative, sorted (directories end in '/'); `.filegate` skipped. */
export function treeOf(dir: string, skipGateway = true): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (skipGateway && name === ".filegate") continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        out.push(relative(dir, p) + "/");
        walk(p);
      } else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** Reads a whole web or node stream into one Buffer. */
export async function readAll(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Polls `check` until it holds or `ms` pass. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}
