// Clears what crashed processes left behind, at start-up and then periodically, in every process
// (each sweep touches only what no live process holds, so several sweepers do no harm): temp files
// of dead processes, multipart Completes whose owner died, expired completion records.
import type { PosixBackend } from "../storage/posix/backend.ts";
import { TEMP_MIN_AGE_MS, sweepTempFiles } from "../storage/posix/incoming.ts";
import type { MultipartStore } from "../storage/posix/multipart.ts";

export const SWEEP_EVERY_MS = 10 * 60_000;

export function sweepOnce(root: string, backend: PosixBackend, multipart: MultipartStore, log: (line: string) => void): void {
  try {
    sweepTempFiles(root, TEMP_MIN_AGE_MS);
    for (const b of backend.listBuckets()) {
      try {
        multipart.sweep(b.name);
      } catch {
        // the bucket went away meanwhile
      }
    }
  } catch (e) {
    log(`filegate: sweep of ${root} failed: ${(e as Error).message}`);
  }
}

/** Sweeps now and every SWEEP_EVERY_MS; the timer never keeps the process alive. Returns its stop. */
export function startSweeper(root: string, backend: PosixBackend, multipart: MultipartStore, log: (line: string) => void): () => void {
  sweepOnce(root, backend, multipart, log);
  const timer = setInterval(() => sweepOnce(root, backend, multipart, log), SWEEP_EVERY_MS);
  timer.unref?.();
  return () => clearInterval(timer);
}
