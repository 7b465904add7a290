// Readiness: the root can be read, and written unless the gateway is read-only by choice (a full
// or read-only filesystem makes a writing gateway unready).
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GATEWAY_DIR } from "../storage/posix/layout.ts";

/** null when a file can be created and removed in ROOT/.filegate, else the errno code that stopped it. */
export function writeProblem(root: string): string | null {
  const probe = join(root, GATEWAY_DIR, `ready-${process.pid}`);
  try {
    writeFileSync(probe, "");
    rmSync(probe);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

export function isReady(root: string, needWrite = true): boolean {
  try {
    readdirSync(root);
  } catch {
    return false;
  }
  return !needWrite || writeProblem(root) === null;
}
