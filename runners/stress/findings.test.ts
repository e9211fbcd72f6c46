import { describe, expect, it } from 'vitest';
import type { MaxRateResult } from './findMaxRate';
import { DEFAULT_SEARCH } from './findMaxRate';
import { reliable, renderFindings, sseComparisons } from './findings';
import type { MatrixResult } from './matrix';
import type { ScenarioSummary } from './summary';

function row(over: Partial<ScenarioSummary>): ScenarioSummary {
  return {
    name: 'x', group: 'rate', description: '', rateHz: 10, vehicles: 1, totalRateHz: 10, payload: 'typical', network: 'loopback', sseClients: 0, sseReader: 'normal',
    durationMs: 15_000, drainMs: 5000, achievedRate: 10, intended: 150, sent: 150, acked: 150, non2xx: 0, non2xxByStatus: {}, errors: 0, errorsByClass: {}, validationRejections: 0,
    stored: 150, ackedNotStored: 0, failedHttp: 0, lossRate: 0, latencyP50Ms: 3, latencyP99Ms: 12, latencyMaxMs: 20, lagP50Ms: 700, lagP99Ms: 1400, lagMaxMs: 1500,
    sseLagP99Ms: null, sseDeliveredShare: null, backendCpuMeanPct: 3, backendCpuMaxPct: 5, backendRssMaxBytes: 100 * 1048576, backendRssSlopeBytesPerMin: null,
    influxdCpuMeanPct: 1, backendEventLoopP99MaxMs: 1, influxWriteFailures: 0, publisherBottleneck: false, publisherReasons: [], status: 'pass', exitCode: 0,
    thresholdFailures: [], infraErrors: [], loadAvgStart: 1.5, machineBusyPct: 50, stealPct: 10, ...over,
  };
}

function matrix(flushIntervalMs: number, rows: ScenarioSummary[], missingAfter = 0): MatrixResult {
  return {
    schemaVersion: 1, kind: 'matrix', createdAt: '2026-01-01T00:00:00Z',
    backend: { kind: 'reference', mode: 'legacy', flushIntervalMs }, backendLabel: `legacy, flush ${flushIntervalMs} ms`,
    loadAvgStart: [1, 1, 1], loadAvgEnd: [2, 2, 2], settleMs: flushIntervalMs + 5000, wallTimeMs: 60_000, skipped: [],
    entries: rows.map((s) => ({ summary: s, ackedMissingAtDrain: s.ackedNotStored ?? 0, storedAfterSettle: Math.max(0, (s.ackedNotStored ?? 0) - missingAfter) })),
  };
}

const short = matrix(1000, [
  row({ name: 'baseline-1hz', group: 'baseline', rateHz: 1, totalRateHz: 1, sent: 15, acked: 15, stored: 15 }),
  row({ name: 'sustained-10hz' }),
  row({ name: 'rate-200hz', rateHz: 200, totalRateHz: 200, sent: 3000, acked: 3000, stored: 2990, ackedNotStored: 10, latencyP99Ms: 350 }),
  row({ name: 'sse10-10hz', group: 'sse', sseClients: 10, latencyP99Ms: 15, backendCpuMeanPct: 5, sseLagP99Ms: 4, sseDeliveredShare: 1 }),
  row({ name: 'net-flaky-10hz', group: 'network', network: 'flaky', acked: 140, stored: 140, errors: 10, errorsByClass: { reset: 10 }, failedHttp: 10 }),
]);
const dflt = matrix(60_000, [row({ name: 'sustained-10hz', stored: 0, ackedNotStored: 150, lagP50Ms: null, lagP99Ms: null, lagMaxMs: null })]);
const maxRate: MaxRateResult = {
  schemaVersion: 1, kind: 'max-rate', createdAt: '2026-01-01T00:00:00Z', backend: { kind: 'reference', mode: 'legacy', flushIntervalMs: 1000 },
  backendLabel: 'legacy, flush 1000 ms', base: { ...row({}), name: 'sustained-10hz' } as never, search: DEFAULT_SEARCH,
  steps: [{ rate: 640, phase: 'confirm', holdMs: 15_000, pass: true, failures: [], lagSlopeMsPerSec: 1, summary: row({ rateHz: 91.43, vehicles: 7, totalRateHz: 640 }) }],
  maxReliableRate: 640, confirmed: true, firstFailingRate: 720, firstFailure: ['p99 latency 420.0 ms > SLO 200 ms'], ceilingReached: false, wallTimeMs: 1000,
};

describe('findings.md', () => {
  const md = renderFindings({ matrices: [dflt, short], maxRates: [maxRate], generatedAt: 'now', commands: [{ command: 'telemetry-proof matrix', wallTimeMs: 61_000 }] });

  it('answers the seed\'s six questions in order, then the table of every scenario', () => {
    const heads = [...md.matchAll(/^## (.*)$/gm)].map((m) => m[1]);
    expect(heads.slice(0, 6)).toEqual([
      '1. What sustained publish rate can the backend handle reliably?',
      '2. At what point do request failures or storage gaps start appearing?',
      '3. Is data loss happening at ingestion, validation, or storage?',
      '4. How much end-to-end lag appears between Jetson publish time and storage time?',
      '5. Does SSE broadcasting materially affect ingestion throughput?',
      '6. What operational safeguards or code changes are needed?',
    ]);
    expect(heads).toContain('Every scenario');
    expect(md).toContain('| sustained-10hz | 10/s | typical | loopback | 0 | 15 | 5 | 150 | 150 |');
    expect(md).toContain('| `telemetry-proof matrix` | 61 s |');
  });

  it('states the measured numbers', () => {
    expect(md).toMatch(/maximum reliable rate found by `find-max-rate` is \*\*640\/s\*\*/);
    expect(md).toMatch(/first failing rate was \*\*720\/s\*\*: p99 latency 420.0 ms > SLO 200 ms/);
    expect(md).toMatch(/storage gaps .* appear from 200\/s on: 10 of 3000/);
    expect(md).toMatch(/on the flaky network 10 of 150 requests \(6.7%\) failed/);
    expect(md).toMatch(/at 10 Hz no sample was in InfluxDB within the 5 s drain/);
    expect(md).toMatch(/at 10 Hz publish→stored lag was p50 700 ms, p99 1400 ms/);
  });

  it('ties recommendations to the measurements', () => {
    expect(md).toMatch(/Set the WriteApi flush interval to ~1 s.*150 of 150 acknowledged samples \(100.0%\)/);
    expect(md).toMatch(/Let the Jetson retry.*10 of 150 samples/);
  });

  it('compares SSE side by side and leaves a durable hook when durable was not measured', () => {
    expect(sseComparisons(short)).toHaveLength(1);
    expect(md).toMatch(/at 10\/s, 10 normal clients moved p50 3.0 ms → 3.0 ms, p99 12.0 ms → 15.0 ms/);
    expect(md).toMatch(/Durable mode was not measured/);
  });

  it('reliable() is the find-max-rate bar', () => {
    expect(reliable(row({}))).toBe(true);
    expect(reliable(row({ lagP99Ms: 6000 }))).toBe(false);
    expect(reliable(row({ publisherBottleneck: true }))).toBe(false);
  });
});
