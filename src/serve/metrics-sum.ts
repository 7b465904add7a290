// The supervisor's half of the metrics sum: on a worker's request it asks every live worker for its
// snapshot and adds them up. A worker that does not answer in time counts with its last answer, and
// a worker that exited keeps counting with its last answer, so the gateway's counters never go
// backwards when one worker is restarted (a reset would make Prometheus' rate() overcount).
import { sumSnapshots, type MetricsSnapshot } from "../ops/metrics.ts";
import type { ToSupervisor, ToWorker } from "./worker-link.ts";

const COLLECT_TIMEOUT_MS = 1000;

export interface Reachable {
  send(m: ToWorker): void;
}

export class MetricsSum {
  private lastKnown = new Map<number, MetricsSnapshot>();
  private retired: MetricsSnapshot[] = [];
  private waiting = new Map<number, (index: number, s: MetricsSnapshot) => void>();
  private nextId = 1;

  /** Handles one message from worker `index`; `workers` are the live ones. */
  onMessage(index: number, m: ToSupervisor, workers: Map<number, Reachable>): void {
    if (m?.t === "snapshot") this.waiting.get(m.id)?.(index, m.snapshot);
    else if (m?.t === "sum?") {
      void this.collect(workers).then((snapshot) => workers.get(index)?.send({ t: "sum", id: m.id, snapshot }));
    }
  }

  /** Worker `index` exited: what it last reported stays in the sum, no longer as a process. */
  retire(index: number): void {
    const last = this.lastKnown.get(index);
    this.lastKnown.delete(index);
    if (last) this.retired = [sumSnapshots([...this.retired, { ...last, inFlight: 0, unsignedInFlight: 0, processes: 0 }])];
  }

  private collect(workers: Map<number, Reachable>): Promise<MetricsSnapshot> {
    const id = this.nextId++;
    const fresh = new Map<number, MetricsSnapshot>();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(id);
        for (const [i, s] of fresh) this.lastKnown.set(i, s);
        resolve(sumSnapshots([...this.retired, ...this.lastKnown.values()]));
      };
      const timer = setTimeout(done, COLLECT_TIMEOUT_MS);
      this.waiting.set(id, (index, s) => {
        fresh.set(index, s);
        if (fresh.size >= workers.size) done();
      });
      for (const w of workers.values()) w.send({ t: "snapshot?", id });
    });
  }
}
