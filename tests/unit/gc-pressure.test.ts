import { expect, test } from "bun:test";
import { GcPressure } from "../../src/ops/gc-pressure.ts";

const MiB = 1024 * 1024;

function rig(softMiB = 100, intervalMs = 1000) {
  const s = { rss: 50 * MiB, now: 0, collections: 0, queued: [] as (() => void)[] };
  const gc = new GcPressure({
    softLimitBytes: softMiB * MiB,
    minIntervalMs: intervalMs,
    rss: () => s.rss,
    now: () => s.now,
    collect: () => s.collections++,
    later: (fn) => s.queued.push(fn),
  });
  const run = () => s.queued.splice(0).forEach((fn) => fn());
  return { s, gc, run };
}

test("collects only above the soft limit, after the page, at most once per interval", () => {
  const { s, gc, run } = rig();
  gc.afterPage();
  run();
  expect(s.collections).toBe(0);
  s.rss = 150 * MiB;
  gc.afterPage();
  gc.afterPage(); // one pending collection at a time
  expect(s.collections).toBe(0);
  run();
  expect(s.collections).toBe(1);
  s.rss = 200 * MiB; // above what the collection left + 16 MiB
  s.now = 500;
  gc.afterPage();
  run();
  expect(s.collections).toBe(1);
  s.now = 1000;
  gc.afterPage();
  run();
  expect(s.collections).toBe(2);
});

test("live data above the limit moves the limit up instead of collecting every interval", () => {
  const { s, gc, run } = rig();
  s.rss = 150 * MiB; // and a collection frees nothing
  gc.afterPage();
  run();
  expect(s.collections).toBe(1);
  s.now = 5000;
  gc.afterPage();
  run();
  expect(s.collections).toBe(1);
  s.rss = 170 * MiB; // garbage again beyond what was live
  gc.afterPage();
  run();
  expect(s.collections).toBe(2);
});
