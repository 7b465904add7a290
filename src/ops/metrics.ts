// Prometheus metrics, kept as plain numbers in preallocated maps so the hot path only increments.
// A process's counters are a plain-JSON snapshot, so a --workers supervisor can sum the snapshots
// of all its workers (histogram buckets are kept per bucket, not cumulative, so they add up) and
// one scrape describes the whole gateway. Rendered in the text exposition format on scrape.
import type { OperationName } from "../s3/operations.ts";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const STATUS_CLASSES = ["2xx", "3xx", "4xx", "5xx"] as const;

export interface OpStats {
  byClass: number[]; // indexed like STATUS_CLASSES
  latency: number[]; // counts per LATENCY_BUCKETS (not cumulative), plus +Inf at the end
  latencySum: number;
  latencyCount: number;
}

/** One process's counters, or the sum over several; survives JSON (it crosses the IPC channel). */
export interface MetricsSnapshot {
  ops: Record<string, OpStats>;
  bytesIn: number;
  bytesOut: number;
  inFlight: number;
  unsignedInFlight: number;
  rejectedBusy: number;
  /** Epoch ms the oldest contributing process started. */
  startedAt: number;
  /** How many processes this snapshot sums. */
  processes: number;
}

const emptyOp = (): OpStats => ({ byClass: [0, 0, 0, 0], latency: new Array(LATENCY_BUCKETS.length + 1).fill(0), latencySum: 0, latencyCount: 0 });

export class Metrics {
  private ops = new Map<string, OpStats>();
  bytesIn = 0;
  bytesOut = 0;
  inFlight = 0;
  /** Requests that have not proven a signature yet (the --max-unsigned pool). */
  unsignedInFlight = 0;
  rejectedBusy = 0;
  private readonly started = Date.now();

  private stats(op: string): OpStats {
    let s = this.ops.get(op);
    if (!s) {
      s = emptyOp();
      this.ops.set(op, s);
    }
    return s;
  }

  record(op: OperationName | "unknown" | "IAM", status: number, seconds: number, bytesIn: number, bytesOut: number): void {
    const s = this.stats(op);
    const cls = Math.min(Math.max(Math.floor(status / 100) - 2, 0), 3);
    s.byClass[cls]++;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    s.latency[i]++;
    s.latencySum += seconds;
    s.latencyCount++;
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
  }

  snapshot(): MetricsSnapshot {
    const ops: Record<string, OpStats> = {};
    for (const [op, s] of this.ops) ops[op] = { byClass: [...s.byClass], latency: [...s.latency], latencySum: s.latencySum, latencyCount: s.latencyCount };
    return { ops, bytesIn: this.bytesIn, bytesOut: this.bytesOut, inFlight: this.inFlight, unsignedInFlight: this.unsignedInFlight, rejectedBusy: this.rejectedBusy, startedAt: this.started, processes: 1 };
  }
}

/** Counters and gauges add up (in-flight of the gateway is the sum of its workers'); the start is the oldest. */
export function sumSnapshots(snaps: MetricsSnapshot[]): MetricsSnapshot {
  const total: MetricsSnapshot = { ops: {}, bytesIn: 0, bytesOut: 0, inFlight: 0, unsignedInFlight: 0, rejectedBusy: 0, startedAt: Infinity, processes: 0 };
  for (const s of snaps) {
    for (const [op, o] of Object.entries(s.ops)) {
      const t = (total.ops[op] ??= emptyOp());
      o.byClass.forEach((n, i) => (t.byClass[i] += n));
      o.latency.forEach((n, i) => (t.latency[i] += n));
      t.latencySum += o.latencySum;
      t.latencyCount += o.latencyCount;
    }
    total.bytesIn += s.bytesIn;
    total.bytesOut += s.bytesOut;
    total.inFlight += s.inFlight;
    total.unsignedInFlight += s.unsignedInFlight ?? 0;
    total.rejectedBusy += s.rejectedBusy;
    total.startedAt = Math.min(total.startedAt, s.startedAt);
    total.processes += s.processes;
  }
  if (total.startedAt === Infinity) total.startedAt = Date.now();
  return total;
}

export function renderMetrics(m: MetricsSnapshot, gauges: Record<string, number> = {}): string {
  const out: string[] = [];
  out.push("# HELP filegate_requests_total S3 requests by operation and status class.");
  out.push("# TYPE filegate_requests_total counter");
  for (const [op, s] of Object.entries(m.ops)) {
    STATUS_CLASSES.forEach((c, i) => {
      if (s.byClass[i]) out.push(`filegate_requests_total{operation="${op}",status="${c}"} ${s.byClass[i]}`);
    });
  }
  out.push("# HELP filegate_request_duration_seconds Time to the response headers, by operation.");
  out.push("# TYPE filegate_request_duration_seconds histogram");
  for (const [op, s] of Object.entries(m.ops)) {
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((le, i) => {
      cumulative += s.latency[i];
      out.push(`filegate_request_duration_seconds_bucket{operation="${op}",le="${le}"} ${cumulative}`);
    });
    cumulative += s.latency[LATENCY_BUCKETS.length];
    out.push(`filegate_request_duration_seconds_bucket{operation="${op}",le="+Inf"} ${cumulative}`);
    out.push(`filegate_request_duration_seconds_sum{operation="${op}"} ${s.latencySum}`);
    out.push(`filegate_request_duration_seconds_count{operation="${op}"} ${s.latencyCount}`);
  }
  const simple: [string, string, string, number][] = [
    ["filegate_received_bytes_total", "counter", "Request body bytes declared by clients.", m.bytesIn],
    ["filegate_sent_bytes_total", "counter", "Response body bytes (Content-Length) sent.", m.bytesOut],
    ["filegate_requests_in_flight", "gauge", "Signed requests being handled now.", m.inFlight],
    ["filegate_unsigned_requests_in_flight", "gauge", "Requests not (yet) proven signed being handled now.", m.unsignedInFlight],
    ["filegate_requests_rejected_busy_total", "counter", "Requests refused with 503 SlowDown.", m.rejectedBusy],
    ["filegate_uptime_seconds", "gauge", "Seconds since the gateway started.", (Date.now() - m.startedAt) / 1000],
    ["filegate_processes", "gauge", "Server processes (workers) these numbers sum over.", m.processes],
  ];
  for (const [name, value] of Object.entries(gauges)) simple.push([name, "gauge", name.replace(/_/g, " "), value]);
  for (const [name, type, help, value] of simple) {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
  }
  return out.join("\n") + "\n";
}
