// dist/types/index.d.ts: the declarations of the package's public API (src/index.ts). Its types are
// self-contained, so the one emitted file is the whole public surface.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dir, "..");
const out = mkdtempSync(join(tmpdir(), "filegate-types-"));
try {
  const tsc = spawnSync(join(repo, "node_modules/.bin/tsc"), ["-p", repo, "--noEmit", "false", "--declaration", "--emitDeclarationOnly", "--outDir", out], { stdio: "inherit" });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  const emitted = join(out, "src/index.d.ts");
  if (/^import /m.test(readFileSync(emitted, "utf8"))) throw new Error("src/index.ts's public types must not import other modules");
  mkdirSync(join(repo, "dist/types"), { recursive: true });
  copyFileSync(emitted, join(repo, "dist/types/index.d.ts"));
} finally {
  rmSync(out, { recursive: true, force: true });
}
