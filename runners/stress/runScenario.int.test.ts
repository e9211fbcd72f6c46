/**
 * A short scenario end to end against a real legacy backend of this suite's
 * own (flush 200 ms), with an SSE client and the flaky network profile on its
 * ingest proxy: the report's ledgers add up, the fault window is recorded,
 * and thresholds give the right status and exit code.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyThresholds, EXIT_INFRASTRUCTURE_ERROR, EXIT_PASS, EXIT_THRESHOLD_BREACH } from '../../reports/writers/thresholds';
import { parseRunReport, type RunReport } from '../../reports/writers/runReport';
import { findScenario } from '../scenarios/catalogue';
import { applyOverrides } from '../scenarios/overrides';
import { startSuiteBackend, type SuiteBackend } from '../stack/suiteBackend';
import { InfraError, runScenario, type ScenarioRun } from './runScenario';
import { judgeRateStep } from './verdict';

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

describe('runScenario against the real stack (legacy, flush 200 ms)', () => {
  let suite: SuiteBackend;
  let run: ScenarioRun;
  let report: RunReport;

  beforeAll(async () => {
    suite = await startSuiteBackend(inject('stack'), { kind: 'reference', mode: 'legacy', flushIntervalMs: 200 }, { label: 'stress' });
    // 4 s at 20 Hz over the flaky profile: one reset window at 2.0–2.4 s.
    const scenario = applyOverrides(findScenario('net-flaky-10hz')!, [{ label: 'test', overrides: { rateHz: 20, durationMs: 4000, sseClients: 1, drainMs: 4000, probeIntervalMs: 200 } }]);
    run = await runScenario({ stack: suite.info, scenario, thresholds: [{ metric: 'loss_acknowledged_not_stored', op: '==', value: 0 }] });
    report = run.report;
  }, 90_000);
  afterAll(async () => { await suite?.stop(); });

  it('produces a valid report whose ledgers add up', () => {
    expect(() => parseRunReport(report)).not.toThrow();
    const t = report.totals;
    expect(t.intended).toBe(80);
    expect(t.sent).toBe(t.intended);
    // Every send ended exactly one way.
    expect(t.sent).toBe(t.acknowledged + sum(t.non2xxByStatus) + sum(t.errorsByClass));
    // Legacy stores nothing it did not acknowledge here, and every loss is at exactly one stage.
    expect(t.stored.count).not.toBeNull();
    expect(t.stored.count!).toBeLessThanOrEqual(t.acknowledged);
    const l = report.loss!;
    expect(l.total).toBe(t.intended - t.stored.count!);
    expect(l.byStage.neverSent + l.byStage.rejected + l.byStage.failedHttp + l.byStage.acknowledgedNotStored).toBe(l.total);
    expect(l.byStage.failedHttp).toBe(sum(t.errorsByClass));
    expect(run.ackedMissing).toHaveLength(l.byStage.acknowledgedNotStored);
    // Per-second series cover the run and sum to the totals.
    expect(report.series.reduce((a, s) => a + s.sent, 0)).toBe(t.sent);
    expect(report.series.reduce((a, s) => a + s.acked, 0)).toBe(t.acknowledged);
  });

  it('the reset window was played, verified, recorded as a fault, and cost samples at the HTTP stage', () => {
    expect(report.infraErrors).toEqual([]);
    expect(report.faults).toHaveLength(1);
    expect(report.faults[0]!.kind).toBe('ingest-reset_peer');
    const into = (report.faults[0]!.startMs - report.startedAtMs) / 1000;
    expect(into).toBeGreaterThan(1.5);
    expect(into).toBeLessThan(2.6);
    expect(report.totals.errorsByClass.reset).toBeGreaterThan(0);
  });

  it('measured lag, SSE, resources, InfluxDB and the backend\'s metrics', () => {
    expect(report.lag.sendToStored!.count).toBe(report.totals.stored.count);
    expect(report.lag.sendToStored!.p50).toBeGreaterThan(0);
    expect(report.sse).toMatchObject({ clients: 1, connected: 1 });
    expect(report.sse!.deliveredShare).toBe(1);
    expect(report.lag.sendToSse!.count).toBe(report.totals.acknowledged);
    expect(report.backend.rssMaxBytes).toBeGreaterThan(10 * 1048576);
    expect(report.influxd!.rssMaxBytes).toBeGreaterThan(1048576);
    expect(report.backendMetrics!.requestsByOutcome.accepted).toBe(report.totals.acknowledged);
    expect(report.environment!.cpus).toBeGreaterThan(0);
    // The API key never reaches the report.
    expect(JSON.stringify(report)).not.toContain(suite.info.backend.apiKey);
  });

  it('thresholds set status and exit code: pass 0, breach 99, infrastructure error 2', () => {
    expect(report.thresholds).toHaveLength(1);
    expect(report.exitCode).toBe(report.loss!.byStage.acknowledgedNotStored === 0 ? EXIT_PASS : EXIT_THRESHOLD_BREACH);
    const breached = applyThresholds(report, [{ metric: 'errors_total', op: '==', value: 0 }]);
    expect(breached).toMatchObject({ status: 'fail', exitCode: EXIT_THRESHOLD_BREACH });
    const infra = applyThresholds({ ...report, infraErrors: ['probe failed'] }, []);
    expect(infra).toMatchObject({ status: 'error', exitCode: EXIT_INFRASTRUCTURE_ERROR });
    // And the resets make this rate unreliable for find-max-rate, with the reason named.
    expect(judgeRateStep(report).failures.join('\n')).toMatch(/requests failed without a reply \(reset: \d+/);
  });

  it('refuses to start load when the target is unreachable (InfraError → exit 2)', async () => {
    const dead = { ...suite.info, backend: { ...suite.info.backend, url: 'http://127.0.0.1:1' } };
    await expect(runScenario({ stack: dead, scenario: findScenario('baseline-1hz')! })).rejects.toBeInstanceOf(InfraError);
  });
});
