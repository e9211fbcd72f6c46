import { describe, expect, it } from 'vitest';
import { summarizeBackendMetrics } from './backendMetrics';

describe('summarizeBackendMetrics', () => {
  it('gives deltas between the first and last good scrape, outcomes apart, and the worst event-loop p99', () => {
    const s = summarizeBackendMetrics([
      { tMs: 0, ok: true, error: null, metrics: { 'telemetry_requests_total{outcome="accepted"}': 10, 'telemetry_requests_total{outcome="invalid"}': 1, telemetry_influx_write_failures_total: 2, 'nodejs_eventloop_delay_seconds{quantile="0.99"}': 0.004 } },
      { tMs: 1, ok: false, error: 'down', metrics: {} },
      { tMs: 2, ok: true, error: null, metrics: { 'telemetry_requests_total{outcome="accepted"}': 110, 'telemetry_requests_total{outcome="invalid"}': 4, telemetry_influx_write_failures_total: 2, 'telemetry_influx_dropped_lines_total{reason="rejected"}': 3, 'nodejs_eventloop_delay_seconds{quantile="0.99"}': 0.0125 } },
    ]);
    expect(s).toEqual({
      scrapes: 3, failedScrapes: 1,
      requestsByOutcome: { accepted: 100, invalid: 3 },
      counters: { telemetry_influx_write_failures_total: 0, 'telemetry_influx_dropped_lines_total{reason="rejected"}': 3 },
      eventLoopDelayP99MaxMs: 12.5,
    });
  });

  it('is null when no scrape succeeded', () => {
    expect(summarizeBackendMetrics([{ tMs: 0, ok: false, error: 'x', metrics: {} }])).toBeNull();
  });
});
