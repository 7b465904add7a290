// Full collections after listing pages once the process has grown, on Bun only.
//
// Why: a listing page holds its ~1,000 entries (keys, paths, stats, ETags, the XML pieces) across
// the awaits of the walk, so Bun's (JavaScriptCore's) eden collections find them alive and promote
// them to the old generation, which only a full collection frees. Measured on a full listing of a
// 1M-key bucket: the process grew ~0.2 MiB per page (216 MiB after 800 pages) although its live
// objects stayed ~45 MiB; with a full collection every 50 pages it stayed at ~85 MiB. Node's
// scavenger frees such short-lived objects by itself, so there nothing is done.
//
// A full collection of this heap takes ~10-25 ms; it runs after the response is handed over, at
// most once per `minIntervalMs`, and only while RSS is above the soft limit. When live data alone
// keeps the process above the limit, the limit moves up to what a collection left plus 16 MiB,
// so a large live heap does not cause a collection every interval.

export interface GcPressureOptions {
  softLimitBytes: number;
  minIntervalMs: number;
  /** Defaults: process RSS, Bun.gc(true), Date.now, setImmediate. Given in tests. */
  rss?: () => number;
  collect?: () => void;
  now?: () => number;
  later?: (fn: () => void) => void;
}

const MARGIN = 16 * 1024 * 1024;

export class GcPressure {
  private last = -Infinity;
  private limit: number;
  private pending = false;
  private readonly rss: () => number;
  private readonly collect: (() => void) | null;
  private readonly now: () => number;
  private readonly later: (fn: () => void) => void;

  constructor(private readonly opts: GcPressureOptions) {
    this.limit = opts.softLimitBytes;
    const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
    this.rss = opts.rss ?? (() => process.memoryUsage.rss());
    this.collect = opts.collect ?? (bun ? () => bun.gc(true) : null);
    this.now = opts.now ?? Date.now;
    this.later = opts.later ?? ((fn) => setImmediate(fn));
  }

  /** Called after a page of a listing: schedules a full collection if one is due. */
  afterPage(): void {
    if (this.collect === null || this.pending) return;
    const t = this.now();
    if (t - this.last < this.opts.minIntervalMs || this.rss() <= this.limit) return;
    this.pending = true;
    this.later(() => {
      this.pending = false;
      this.collect!();
      this.last = this.now();
      this.limit = Math.max(this.opts.softLimitBytes, this.rss() + MARGIN);
    });
  }
}

/** The gateway's: above 112 MiB, at most once a second. */
export const listingGc = new GcPressure({ softLimitBytes: 112 * 1024 * 1024, minIntervalMs: 1000 });
