/** A complete, valid RunReport for the writers' tests, with hostile strings to exercise escaping. */
import type { RunReport, Threshold } from '../runReport';
import { applyThresholds } from '../thresholds';

export const HOSTILE = `<script>alert("x")</script> & 'quotes' ]]> \u0001bell|pipe`;

export const SAMPLE_THRESHOLDS: Threshold[] = [
  { metric: 'latency_p99_ms', op: '<', value: 200, description: `p99 under 200 ms ${HOSTILE}` },
  { metric: 'loss_acknowledged_not_stored', op: '==', value: 0, description: 'no silent loss' },
  { metric: 'publisher_dropped_iterations', op: '<=', value: 10 },
];

/** The sample with `overrides`, then `thresholds` evaluated (which sets status and exit code). */
export function sampleReport(overrides: Partial<RunReport> = {}, thresholds: Threshold[] = SAMPLE_THRESHOLDS): RunReport {
  const start = Date.UTC(2025, 0, 2, 3, 4, 5);
  const series = Array.from({ length: 30 }, (_, i) => ({
    tMs: start + i * 1000,
    sent: 100,
    acked: i >= 10 && i < 15 ? 90 : 100,
    stored: i >= 10 && i < 15 ? 60 : 100,
    latencyP50Ms: 2.5,
    latencyP99Ms: i >= 10 && i < 15 ? 850 : 12.5,
    lagP99Ms: i >= 10 && i < 15 ? null : 480,
    sseLagP99Ms: 3.25,
    errors: i >= 10 && i < 15 ? 10 : 0,
    backendCpuPct: 35 + (i % 5),
    backendRssBytes: (120 + i * 0.5) * 1048576,
    influxWriteErrors: i >= 10 && i < 15 ? 40 : 0,
  }));
  const base: RunReport = {
    schemaVersion: 1,
    runId: 'run-2025-01-02-abc123',
    scenario: { name: `steady-10hz ${HOSTILE}`, description: 'Ten vehicles at 10 Hz, InfluxDB cut for 5 s.', config: { vehicles: 10, rateHz: 10, profile: 'typical', note: HOSTILE } },
    target: { backendUrl: 'http://127.0.0.1:3000', influxUrl: 'http://127.0.0.1:8086', backendMode: 'legacy' },
    startedAtMs: start,
    endedAtMs: start + 30_000,
    totals: {
      intended: 3000,
      sent: 3000,
      acknowledged: 2950,
      non2xxByStatus: { '400': 12, '500': 8 },
      errorsByClass: { timeout: 25, refused: 0, reset: 5, aborted: 0, other: 0 },
      validationRejections: 12,
      stored: { count: 2847, probe: 'InfluxQL SELECT every 1 s, 10 s settle' },
    },
    loss: {
      total: 153,
      rate: 153 / 3000,
      byStage: { neverSent: 0, rejected: 20, failedHttp: 28, acknowledgedNotStored: 105 },
      storedDespiteFailure: 2,
    },
    latency: {
      corrected: { count: 2970, p50: 2.5, p90: 8.75, p99: 123.456, p999: 850.5, max: 1999.9, mean: 12.3 },
      uncorrected: { count: 2970, p50: 2.1, p90: 7.5, p99: 97.25, p999: 640.25, max: 1500.5, mean: 9.9 },
    },
    lag: {
      sendToStored: { count: 2847, p50: 250.5, p90: 430.25, p99: 4321.5, p999: 5200.75, max: 6100.125 },
      sendToSse: { count: 2950, p50: 1.5, p90: 2.25, p99: 3.25, p999: 7.5, max: 9.75 },
    },
    series,
    faults: [{ kind: 'influx-down', startMs: start + 10_000, endMs: start + 15_000, detail: `toxiproxy timeout ${HOSTILE}` }],
    publisher: { droppedIterations: 3, lateThresholdMs: 10, eventLoopDelayP99Ms: 1.25, eventLoopDelayMaxMs: 14.5, maxInFlight: 42, bottleneck: false, reasons: [] },
    backend: { cpuMaxPct: 39, cpuMeanPct: 37, rssMaxBytes: 134.5 * 1048576, rssSlopeBytesPerMin: 0.75 * 1048576, influxWriteErrors: 200 },
    thresholds: [],
    status: 'pass',
    exitCode: 0,
    infraErrors: [],
    notes: ['send→stored lag resolution is 1 s.'],
    ...overrides,
  };
  return applyThresholds(base, thresholds);
}
