// Readiness: the root can be read and written (a full or read-only filesystem makes us unready).
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GATEWAY_DIR } from "../posix/layout.ts";

export function isReady(root: string): boolean {
  const probe = join(root, GATEWAY_DIR, `ready-${process.pid}`);
  try {
    readdirSync(root);
    writeFileSync(probe, "");
    rmSync(probe);
    return true;
  } catch {
    return false;
  }
}
