import { describe, expect, it } from 'vitest';
import { sampleReport } from './testing/sampleReport';
import {
  applyThresholds, compare, evaluateThreshold, evaluateThresholds, EXIT_INFRASTRUCTURE_ERROR, EXIT_PASS, EXIT_THRESHOLD_BREACH,
  DEFAULT_THRESHOLDS, exitCodeFor, METRICS, metricValue, parseThresholds,
} from './thresholds';

describe('thresholds', () => {
  it('compares with every operator', () => {
    expect([compare(1, '<', 2), compare(2, '<', 2), compare(2, '<=', 2), compare(3, '>', 2), compare(2, '>=', 2), compare(0, '==', 0), compare(1, '!=', 0)])
      .toEqual([true, false, true, true, true, true, true]);
    expect(compare(0.1 + 0.2, '==', 0.3)).toBe(false);
  });

  it('reads metrics from the report', () => {
    const r = sampleReport();
    expect(metricValue(r, 'latency_p99_ms')).toBe(123.456);
    expect(metricValue(r, 'latency_uncorrected_p99_ms')).toBe(97.25);
    expect(metricValue(r, 'lag_stored_p99_ms')).toBe(4321.5);
    expect(metricValue(r, 'loss_acknowledged_not_stored')).toBe(105);
    expect(metricValue(r, 'loss_rate')).toBeCloseTo(0.051, 9);
    expect(metricValue(r, 'ack_rate')).toBeCloseTo(2950 / 3000, 9);
    expect(metricValue(r, 'errors_total')).toBe(30);
    expect(metricValue(r, 'non2xx_total')).toBe(20);
    expect(metricValue(r, 'publisher_bottleneck')).toBe(0);
    expect(metricValue(r, 'nope')).toBeNull();
    for (const name of Object.keys(METRICS)) expect(() => metricValue(r, name)).not.toThrow();
  });

  it('evaluates pass and fail with messages', () => {
    const r = sampleReport();
    const [p99, silent, late] = evaluateThresholds([
      { metric: 'latency_p99_ms', op: '<', value: 200 },
      { metric: 'loss_acknowledged_not_stored', op: '==', value: 0 },
      { metric: 'publisher_dropped_iterations', op: '<=', value: 2 },
    ], r);
    expect(p99).toMatchObject({ pass: true, actual: 123.456 });
    expect(silent).toMatchObject({ pass: false, actual: 105, message: 'loss_acknowledged_not_stored = 105, required == 0' });
    expect(late).toMatchObject({ pass: false, actual: 3 });
  });

  it('fails closed on a metric that was not measured or does not exist', () => {
    const r = sampleReport({ loss: null, totals: { ...sampleReport().totals, stored: { count: null, probe: 'none' } } });
    expect(evaluateThreshold({ metric: 'loss_acknowledged_not_stored', op: '==', value: 0 }, r)).toMatchObject({ pass: false, actual: null, message: 'loss_acknowledged_not_stored was not measured in this run' });
    expect(evaluateThreshold({ metric: 'latency_p42_ms', op: '<', value: 1 }, r)).toMatchObject({ pass: false, message: 'unknown metric "latency_p42_ms"' });
    expect(() => parseThresholds([{ metric: 'latency_p42_ms', op: '<', value: 1 }])).toThrow(/unknown metric/);
    expect(() => parseThresholds([{ metric: 'latency_p99_ms', op: '=<', value: 1 }])).toThrow();
    expect(parseThresholds([{ metric: 'latency_p99_ms', op: '<', value: 1 }])).toHaveLength(1);
  });

  it('maps results to exit codes: infrastructure beats breach beats pass', () => {
    expect(exitCodeFor({ infraErrors: [], thresholds: [{ pass: true }] })).toBe(EXIT_PASS);
    expect(exitCodeFor({ infraErrors: [], thresholds: [] })).toBe(EXIT_PASS);
    expect(exitCodeFor({ infraErrors: [], thresholds: [{ pass: true }, { pass: false }] })).toBe(EXIT_THRESHOLD_BREACH);
    expect(exitCodeFor({ infraErrors: ['influx did not start'], thresholds: [{ pass: false }] })).toBe(EXIT_INFRASTRUCTURE_ERROR);
    expect([EXIT_PASS, EXIT_THRESHOLD_BREACH, EXIT_INFRASTRUCTURE_ERROR]).toEqual([0, 99, 2]);
  });

  it('applyThresholds sets status and exit code', () => {
    const r = sampleReport();
    expect(applyThresholds(r, [{ metric: 'sent', op: '==', value: 3000 }])).toMatchObject({ status: 'pass', exitCode: 0 });
    expect(applyThresholds(r, [{ metric: 'sent', op: '>', value: 3000 }])).toMatchObject({ status: 'fail', exitCode: 99 });
    expect(applyThresholds({ ...r, infraErrors: ['x'] }, [])).toMatchObject({ status: 'error', exitCode: 2 });
  });
  it('the default bar fails a run whose requests were refused or failed, even when every acknowledged sample was stored', () => {
    const base = sampleReport();
    const clean = sampleReport({
      totals: { ...base.totals, non2xxByStatus: {}, errorsByClass: { timeout: 0, refused: 0, reset: 0, aborted: 0, other: 0 } },
      loss: base.loss ? { ...base.loss, byStage: { ...base.loss.byStage, acknowledgedNotStored: 0 } } : null,
      latency: { ...base.latency, corrected: { ...base.latency.corrected, p99: 50 } },
      lag: { ...base.lag, sendToStored: base.lag.sendToStored ? { ...base.lag.sendToStored, p99: 100 } : null },
    });
    expect(applyThresholds(clean, DEFAULT_THRESHOLDS)).toMatchObject({ status: 'pass' });
    const resets = { ...clean, totals: { ...clean.totals, errorsByClass: { ...clean.totals.errorsByClass, reset: 3 } } };
    const failed = applyThresholds(resets, DEFAULT_THRESHOLDS);
    expect(failed.status).toBe('fail');
    expect(failed.thresholds.filter((t) => !t.pass).map((t) => t.metric)).toEqual(['errors_total']);
    const shed = applyThresholds({ ...clean, totals: { ...clean.totals, non2xxByStatus: { '503': 7 } } }, DEFAULT_THRESHOLDS);
    expect(shed.thresholds.filter((t) => !t.pass).map((t) => t.message)).toEqual(['non2xx_total = 7, required == 0']);
  });
});
