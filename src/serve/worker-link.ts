// A --workers worker's tie to its supervisor, over the IPC channel the supervisor opens for every
// worker (Bun: spawn's "ipc" stdio; Node: node:cluster's own channel). The channel closes when the
// supervisor dies, however it dies (SIGKILL included), so a worker can never outlive it and keep
// serving the port with an old secret or config. It also carries the metrics sum: a scrape that
// lands on one worker is answered with the counters of all of them.
import { constants } from "node:os";
import { parentDeathSignal } from "../storage/posix/kernel.ts";
import type { Metrics, MetricsSnapshot } from "../ops/metrics.ts";

export type ToSupervisor = { t: "sum?"; id: number } | { t: "snapshot"; id: number; snapshot: MetricsSnapshot };
export type ToWorker = { t: "snapshot?"; id: number } | { t: "sum"; id: number; snapshot: MetricsSnapshot };

/**
 * Set by a process that wants this one to die with it (the --workers supervisor for its workers,
 * the npm package's launcher for the Bun process it starts): we check our parent is still it.
 */
export const PARENT_PID_ENV = "FILEGATE_PARENT_PID";

/** How long a scrape waits for the supervisor's sum before it reports this worker alone. */
const SUM_TIMEOUT_MS = 3000;

/**
 * Calls `orphaned` once when the parent is gone: the IPC channel closed, or (a backstop, and the
 * only sign where no channel was opened) the parent pid changed.
 */
export function dieWithParent(orphaned: () => void): void {
  let fired = false;
  const fire = () => {
    if (fired) return;
    fired = true;
    orphaned();
  };
  process.once("disconnect", fire);
  const parent = Number(process.env[PARENT_PID_ENV]);
  // With the addon the kernel also signals us when the parent dies (PR_SET_PDEATHSIG). It does so
  // when the thread that spawned us exits too, so the signal only counts once the pid says so.
  if (parent > 0 && parentDeathSignal(constants.signals.SIGUSR2)) process.on("SIGUSR2", () => process.ppid !== parent && fire());
  if (parent > 0) {
    if (process.ppid !== parent) fire();
    else setInterval(() => process.ppid !== parent && fire(), 500).unref();
  }
}

/** Answers the supervisor's snapshot requests; returns the scrape function for the app. */
export function scrapeThroughSupervisor(metrics: Metrics): () => Promise<MetricsSnapshot> {
  const pending = new Map<number, (s: MetricsSnapshot) => void>();
  let nextId = 1;
  const send = (m: ToSupervisor) => {
    if (process.send && process.connected) process.send(m);
  };
  process.on("message", (m: ToWorker) => {
    if (m?.t === "snapshot?") send({ t: "snapshot", id: m.id, snapshot: metrics.snapshot() });
    else if (m?.t === "sum") pending.get(m.id)?.(m.snapshot);
  });
  return () =>
    new Promise((resolve) => {
      if (!process.send || !process.connected) return resolve(metrics.snapshot());
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(metrics.snapshot());
      }, SUM_TIMEOUT_MS);
      pending.set(id, (s) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(s);
      });
      send({ t: "sum?", id });
    });
}
