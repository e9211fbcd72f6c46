import { describe, expect, it } from 'vitest';
import { findScenario } from '../scenarios/catalogue';
import { bracket, concludeSearch, DEFAULT_SEARCH, planNextStep, stepScenario, type MaxRateSearch, type MaxRateStep } from './findMaxRate';

/** Play the planner against a backend that passes exactly the rates ≤ limit (and fails a confirmation at `flakyAt`). */
function simulate(limit: number, o: MaxRateSearch, flakyConfirmAt?: number): MaxRateStep[] {
  const steps: MaxRateStep[] = [];
  for (let i = 0; i < 100; i++) {
    const next = planNextStep(steps, o);
    if (next.kind === 'done') return steps;
    const pass = next.rate <= limit && !(next.phase === 'confirm' && next.rate === flakyConfirmAt);
    steps.push({ rate: next.rate, phase: next.phase, holdMs: next.holdMs, pass, failures: pass ? [] : [`failed at ${next.rate}`], lagSlopeMsPerSec: 0 });
  }
  throw new Error('planner did not stop');
}

describe('find-max-rate search', () => {
  const o: MaxRateSearch = { ...DEFAULT_SEARCH, startRate: 10, maxRate: 3200, precision: 0.1, maxSteps: 20 };

  it('ramps ×2, bisects to the precision, then confirms the winner with the longer hold', () => {
    const steps = simulate(700, o);
    expect(steps.slice(0, 8).map((s) => s.rate)).toEqual([10, 20, 40, 80, 160, 320, 640, 1280]);
    expect(steps.slice(0, 8).every((s) => s.phase === 'ramp')).toBe(true);
    const last = steps.at(-1)!;
    expect(last.phase).toBe('confirm');
    expect(last.holdMs).toBe(o.confirmHoldMs);
    const r = concludeSearch(steps, o);
    expect(r.confirmed).toBe(true);
    expect(r.maxReliableRate).toBeLessThanOrEqual(700);
    expect(r.maxReliableRate! * (1 + o.precision)).toBeGreaterThanOrEqual(r.firstFailingRate! - 1);
    expect(r.firstFailingRate).toBeGreaterThan(700);
    expect(r.firstFailure).toEqual([`failed at ${r.firstFailingRate}`]);
  });

  it('stops at once when the first rate fails, with no winner', () => {
    const steps = simulate(5, o);
    expect(steps).toHaveLength(1);
    expect(concludeSearch(steps, o)).toMatchObject({ maxReliableRate: null, firstFailingRate: 10, confirmed: false });
  });

  it('reports the ceiling when even maxRate passes', () => {
    const steps = simulate(1e9, { ...o, maxRate: 100 });
    expect(steps.map((s) => s.rate)).toEqual([10, 20, 40, 80, 100, 100]);
    expect(concludeSearch(steps, { ...o, maxRate: 100 })).toMatchObject({ maxReliableRate: 100, confirmed: true, ceilingReached: true });
  });

  it('a failed confirmation moves the bracket down and confirms again; two confirmations at most', () => {
    const steps = simulate(700, o, 680);
    const confirms = steps.filter((s) => s.phase === 'confirm');
    expect(confirms.length).toBeGreaterThanOrEqual(2);
    expect(confirms.length).toBeLessThanOrEqual(2);
    const r = concludeSearch(steps, o);
    expect(r.firstFailingRate).toBeLessThanOrEqual(680);
  });

  it('never exceeds maxSteps', () => {
    const small = { ...o, maxSteps: 5 };
    expect(simulate(700, small).length).toBeLessThanOrEqual(5);
  });

  it('bracket: the highest pass below the lowest failure', () => {
    expect(bracket([{ rate: 10, pass: true }, { rate: 40, pass: false }, { rate: 20, pass: true }, { rate: 50, pass: true }])).toEqual({ lo: 20, hi: 40 });
    expect(bracket([])).toEqual({ lo: null, hi: null });
  });

  it('a step splits the rate over vehicles of at most perVehicleMaxHz and uses the search criteria as thresholds', () => {
    const s = stepScenario(findScenario('sustained-10hz')!, 750, 8000, DEFAULT_SEARCH);
    expect(s).toMatchObject({ name: 'max-rate-750', vehicles: 8, rateHz: 93.75, durationMs: 8000, drainMs: 5000, group: 'max-rate' });
    expect(s.connections).toBeGreaterThanOrEqual(375);
    expect(s.thresholds!.map((t) => t.metric)).toContain('latency_p99_ms');
  });
});

describe('find-max-rate with a noisy load generator', () => {
  it('re-runs a failed step whose generator fell behind, and keeps the discarded attempts', async () => {
    const { findMaxRate } = await import('./findMaxRate');
    const { sampleReport } = await import('../../reports/writers/testing/sampleReport');
    const clean = sampleReport({}, []);
    const good = { ...clean, totals: { ...clean.totals, non2xxByStatus: {}, errorsByClass: { timeout: 0, refused: 0, reset: 0, aborted: 0, other: 0 }, acknowledged: 3000, sent: 3000 }, loss: { total: 0, rate: 0, byStage: { neverSent: 0, rejected: 0, failedHttp: 0, acknowledgedNotStored: 0 }, storedDespiteFailure: 0 }, latency: { ...clean.latency, corrected: { ...clean.latency.corrected, p99: 20 } }, lag: { ...clean.lag, sendToStored: { count: 3000, p50: 500, p90: 800, p99: 1000, p999: 1000, max: 1000 } }, series: clean.series.map((x) => ({ ...x, lagP99Ms: 1000 })), infraErrors: [] };
    const behind = { ...good, publisher: { ...good.publisher, bottleneck: true, reasons: ['starved'] } };
    let calls = 0;
    const prepared: number[] = [];
    const seenStacks: unknown[] = [];
    const r = await findMaxRate({
      base: findScenario('sustained-10hz')!,
      search: { ...DEFAULT_SEARCH, startRate: 10, maxRate: 20, retriesWhenGeneratorBehind: 2 },
      prepare: async (s) => { prepared.push(s.rate); return { backend: { url: '', directUrl: `backend-${prepared.length}`, apiKey: '' } } as never; },
      // The first attempt at 20/s is starved; the retry is clean.
      runStep: async (stack, scenario) => { calls++; seenStacks.push((stack as { backend: { directUrl: string } }).backend.directUrl); return { report: scenario.rateHz === 20 && calls === 2 ? behind : good }; },
    });
    expect(r.steps.map((s) => [s.rate, s.phase, s.pass])).toEqual([[10, 'ramp', true], [20, 'ramp', true], [20, 'confirm', true]]);
    expect(r.steps[1]!.discardedAttempts).toHaveLength(1);
    expect(r.steps[1]!.discardedAttempts![0]!.failures[0]).toMatch(/load generator did not keep up: starved/);
    expect(prepared).toEqual([10, 20, 20, 20]);
    // Every attempt runs against the backend its own prepare() returned (a restart changes pid and URL).
    expect(seenStacks).toEqual(['backend-1', 'backend-2', 'backend-3', 'backend-4']);
    expect(r).toMatchObject({ maxReliableRate: 20, confirmed: true, ceilingReached: true });
  });
});
