import { expect, test } from "bun:test";
import { Metrics, renderMetrics, sumSnapshots } from "../../src/ops/metrics.ts";

test("snapshots of several workers add up: counters, histogram buckets, in-flight; start is the oldest", () => {
  const a = new Metrics();
  const b = new Metrics();
  a.record("GetObject", 200, 0.002, 0, 10);
  a.record("GetObject", 404, 0.2, 0, 0);
  b.record("GetObject", 200, 0.002, 0, 5);
  b.record("PutObject", 200, 3, 100, 0);
  b.inFlight = 2;
  const sa = a.snapshot();
  const sb = { ...b.snapshot(), startedAt: sa.startedAt - 5000 };
  const sum = sumSnapshots([sa, sb]);
  expect(sum.processes).toBe(2);
  expect(sum.startedAt).toBe(sb.startedAt);
  const text = renderMetrics(JSON.parse(JSON.stringify(sum)));
  expect(text).toContain('filegate_requests_total{operation="GetObject",status="2xx"} 2');
  expect(text).toContain('filegate_requests_total{operation="GetObject",status="4xx"} 1');
  expect(text).toContain('filegate_request_duration_seconds_bucket{operation="GetObject",le="0.0025"} 2');
  expect(text).toContain('filegate_request_duration_seconds_bucket{operation="GetObject",le="0.25"} 3');
  expect(text).toContain('filegate_request_duration_seconds_bucket{operation="GetObject",le="+Inf"} 3');
  expect(text).toContain('filegate_request_duration_seconds_bucket{operation="PutObject",le="2.5"} 0');
  expect(text).toContain('filegate_request_duration_seconds_count{operation="PutObject"} 1');
  expect(text).toContain("filegate_sent_bytes_total 15");
  expect(text).toContain("filegate_received_bytes_total 100");
  expect(text).toContain("filegate_requests_in_flight 2");
  expect(text).toContain("filegate_processes 2");
});

test("the sum of nothing renders as an empty gateway", () => {
  const text = renderMetrics(sumSnapshots([]));
  expect(text).toContain("filegate_processes 0");
  expect(text).not.toContain("filegate_requests_total{");
});
