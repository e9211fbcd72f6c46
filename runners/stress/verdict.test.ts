import { describe, expect, it } from 'vitest';
import { sampleReport } from '../../reports/writers/testing/sampleReport';
import type { RunReport } from '../../reports/writers/runReport';
import { judgeRateStep, lagSlope, slopePerSecond } from './verdict';

function clean(): RunReport {
  const r = sampleReport();
  return {
    ...r,
    totals: { ...r.totals, sent: 3000, acknowledged: 3000, non2xxByStatus: {}, errorsByClass: { timeout: 0, refused: 0, reset: 0, aborted: 0, other: 0 }, validationRejections: 0, stored: { count: 3000, probe: 'p' } },
    loss: { total: 0, rate: 0, byStage: { neverSent: 0, rejected: 0, failedHttp: 0, acknowledgedNotStored: 0 }, storedDespiteFailure: 0 },
    latency: { ...r.latency, corrected: { ...r.latency.corrected, p99: 50 } },
    lag: { ...r.lag, sendToStored: { count: 3000, p50: 400, p90: 800, p99: 1000, p999: 1100, max: 1200 } },
    series: r.series.map((s) => ({ ...s, lagP99Ms: 900 + (s.tMs % 3000) / 30 })),
    infraErrors: [],
  };
}

describe('judgeRateStep', () => {
  it('passes a clean run', () => {
    expect(judgeRateStep(clean())).toMatchObject({ pass: true, failures: [] });
  });

  it('names every failed criterion', () => {
    const r = clean();
    const bad: RunReport = {
      ...r,
      totals: { ...r.totals, non2xxByStatus: { '503': 2 }, errorsByClass: { ...r.totals.errorsByClass, timeout: 3 } },
      loss: { ...r.loss!, byStage: { ...r.loss!.byStage, acknowledgedNotStored: 7 } },
      latency: { ...r.latency, corrected: { ...r.latency.corrected, p99: 450 } },
      lag: { ...r.lag, sendToStored: { ...r.lag.sendToStored!, p99: 9000 } },
      series: r.series.map((s, i) => ({ ...s, lagP99Ms: 1000 + i * 500 })),
      publisher: { ...r.publisher, bottleneck: true, reasons: ['late sends'] },
    };
    const v = judgeRateStep(bad);
    expect(v.pass).toBe(false);
    expect(v.failures.join('\n')).toMatch(/7 of 3000 acknowledged samples were not stored/);
    expect(v.failures.join('\n')).toMatch(/2 non-2xx replies \(503: 2\)/);
    expect(v.failures.join('\n')).toMatch(/3 requests failed without a reply \(timeout: 3\)/);
    expect(v.failures.join('\n')).toMatch(/p99 latency 450.0 ms > SLO 200 ms/);
    expect(v.failures.join('\n')).toMatch(/storage lag p99 9000 ms > bound 5000 ms/);
    expect(v.failures.join('\n')).toMatch(/storage lag growing by 500 ms every second/);
    expect(v.failures.join('\n')).toMatch(/load generator did not keep up: late sends/);
    expect(v.lagSlopeMsPerSec).toBe(500);
  });

  it('fails a run that measured no storage, and one with an infrastructure error', () => {
    expect(judgeRateStep({ ...clean(), loss: null }).failures).toContain('storage was not measured');
    expect(judgeRateStep({ ...clean(), infraErrors: ['probe down'] }).failures[0]).toMatch(/infrastructure error: probe down/);
  });

  it('computes least-squares slopes', () => {
    expect(slopePerSecond([[0, 1], [1, 3], [2, 5]])).toBeCloseTo(2);
    expect(slopePerSecond([[0, 1], [1, 3]])).toBeNull();
    expect(lagSlope(clean())).not.toBeNull();
  });
});
