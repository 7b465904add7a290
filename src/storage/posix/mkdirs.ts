// mkdir -p that reports the errno that actually stopped it. Node's recursive mkdirSync answers
// ENOENT when a missing parent cannot be created (read-only filesystem, no permission), which
// would turn EROFS into NoSuchKey; Bun reports the real code.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export function mkdirs(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    // Again level by level: the first level that fails says why (or ENOENT: something vanished).
    const missing: string[] = [];
    for (let p = path; dirname(p) !== p; p = dirname(p)) {
      missing.unshift(p);
      try {
        mkdirSync(dirname(p));
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EEXIST") break;
        if (code !== "ENOENT") throw err;
      }
    }
    for (const p of missing) {
      try {
        mkdirSync(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    }
  }
}
