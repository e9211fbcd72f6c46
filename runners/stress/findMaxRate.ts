/**
 * Maximum reliable rate: step the total rate up geometrically until a step
 * fails, bisect between the last pass and the first failure, then confirm the
 * winner with a longer hold. Each step is a whole scenario run judged by
 * verdict.ts; the search itself (`planNextStep`) is a pure function of the
 * steps so far, so it is unit-tested without a backend.
 */
import type { RunReport } from '../../reports/writers/runReport';
import { applyOverrides } from '../scenarios/overrides';
import type { Scenario } from '../scenarios/schema';
import type { StackInfo } from '../stack/types';
import { backendLabel, describeBackend, type BackendDescription } from './backendLabel';
import { summarize, type ScenarioSummary } from './summary';
import { DEFAULT_RATE_CRITERIA, judgeRateStep, type RateCriteria } from './verdict';

export interface MaxRateSearch {
  /** First total rate tried (samples/s over all vehicles). */
  startRate: number;
  /** Never try above this. */
  maxRate: number;
  /** Ramp factor (2 = double each step). */
  growth: number;
  /** Stop bisecting when (fail − pass) / pass ≤ this. */
  precision: number;
  holdMs: number;
  confirmHoldMs: number;
  /** Bound on steps, confirmation included. */
  maxSteps: number;
  /** Split the rate over vehicles so none exceeds this (a vehicle's keys are per millisecond). */
  perVehicleMaxHz: number;
  /**
   * Re-run a failed step whose load generator fell behind this many more
   * times: on a shared box a neighbour's burst of CPU says nothing about the
   * backend. A step still failing after that fails.
   */
  retriesWhenGeneratorBehind: number;
  /**
   * A send this late counts against the generator (1% allowed). 100 ms, not
   * the scenarios' 25 ms: on a shared 2-core box scheduler wake-ups of 25–50 ms
   * are routine and do not change the offered rate, while a generator that
   * really cannot keep up falls seconds behind. Late sends still count in the
   * corrected latency that the SLO judges.
   */
  lateThresholdMs: number;
  criteria: RateCriteria;
}

export const DEFAULT_SEARCH: MaxRateSearch = {
  startRate: 10, maxRate: 3200, growth: 2, precision: 0.15, holdMs: 5000, confirmHoldMs: 15_000, maxSteps: 14, perVehicleMaxHz: 100, retriesWhenGeneratorBehind: 2, lateThresholdMs: 100,
  criteria: DEFAULT_RATE_CRITERIA,
};

export type StepPhase = 'ramp' | 'bisect' | 'confirm';

export interface MaxRateStep {
  rate: number;
  phase: StepPhase;
  holdMs: number;
  pass: boolean;
  failures: string[];
  lagSlopeMsPerSec: number | null;
  summary?: ScenarioSummary;
  /** Where the step's reports were written, relative to the search's folder. */
  dir?: string;
  /** Earlier attempts at this step, discarded because the load generator fell behind. */
  discardedAttempts?: { failures: string[]; dir?: string }[];
}

export type NextStep = { kind: 'step'; rate: number; phase: StepPhase; holdMs: number } | { kind: 'done' };

/** Highest passing rate below the lowest failing one, and that failing one. */
export function bracket(steps: readonly Pick<MaxRateStep, 'rate' | 'pass'>[]): { lo: number | null; hi: number | null } {
  const fails = steps.filter((s) => !s.pass).map((s) => s.rate);
  const hi = fails.length > 0 ? Math.min(...fails) : null;
  const passes = steps.filter((s) => s.pass && (hi === null || s.rate < hi)).map((s) => s.rate);
  return { lo: passes.length > 0 ? Math.max(...passes) : null, hi };
}

export function planNextStep(steps: readonly MaxRateStep[], o: MaxRateSearch): NextStep {
  if (steps.length === 0) return { kind: 'step', rate: Math.min(o.startRate, o.maxRate), phase: 'ramp', holdMs: o.holdMs };
  const last = steps[steps.length - 1]!;
  if (last.phase === 'confirm' && last.pass) return { kind: 'done' };
  const confirms = steps.filter((s) => s.phase === 'confirm').length;
  if (steps.length >= o.maxSteps || confirms >= 2) return { kind: 'done' };
  const { lo, hi } = bracket(steps);
  if (hi === null) {
    // Still ramping: every step so far passed.
    if (lo! >= o.maxRate) return { kind: 'step', rate: lo!, phase: 'confirm', holdMs: o.confirmHoldMs };
    return { kind: 'step', rate: Math.min(o.maxRate, Math.round(lo! * o.growth)), phase: 'ramp', holdMs: o.holdMs };
  }
  if (lo === null) return { kind: 'done' }; // even the lowest rate tried failed
  const mid = Math.round((lo + hi) / 2);
  // Leave one step for the confirmation.
  if ((hi - lo) / lo <= o.precision || mid === lo || mid === hi || steps.length >= o.maxSteps - 1) {
    return { kind: 'step', rate: lo, phase: 'confirm', holdMs: o.confirmHoldMs };
  }
  return { kind: 'step', rate: mid, phase: 'bisect', holdMs: o.holdMs };
}

export interface MaxRateResult {
  schemaVersion: 1;
  kind: 'max-rate';
  createdAt: string;
  backend: BackendDescription;
  backendLabel: string;
  base: Omit<Scenario, 'thresholds'>;
  search: MaxRateSearch;
  steps: MaxRateStep[];
  /** Highest rate that passed, confirmed by the longer hold when `confirmed`. */
  maxReliableRate: number | null;
  confirmed: boolean;
  /** Lowest rate that failed, and why. */
  firstFailingRate: number | null;
  firstFailure: string[];
  /** True when even maxRate passed (the real limit is higher). */
  ceilingReached: boolean;
  wallTimeMs: number;
}

/** The outcome of a finished search (pure). */
export function concludeSearch(steps: readonly MaxRateStep[], o: MaxRateSearch): Pick<MaxRateResult, 'maxReliableRate' | 'confirmed' | 'firstFailingRate' | 'firstFailure' | 'ceilingReached'> {
  const { lo, hi } = bracket(steps);
  const confirmedStep = steps.find((s) => s.phase === 'confirm' && s.pass && s.rate === lo);
  const failing = hi === null ? undefined : steps.find((s) => !s.pass && s.rate === hi);
  return {
    maxReliableRate: lo,
    confirmed: confirmedStep !== undefined,
    firstFailingRate: hi,
    firstFailure: failing?.failures ?? [],
    ceilingReached: hi === null && lo !== null && lo >= o.maxRate,
  };
}

/** The scenario of one step: the base with the rate split over vehicles. */
export function stepScenario(base: Scenario, rate: number, holdMs: number, o: Pick<MaxRateSearch, 'perVehicleMaxHz' | 'criteria' | 'lateThresholdMs'>): Scenario {
  const vehicles = Math.max(1, Math.ceil(rate / o.perVehicleMaxHz));
  return applyOverrides({ ...base, name: `max-rate-${rate}` }, [{
    label: 'find-max-rate',
    overrides: {
      group: 'max-rate',
      description: `${base.description ? `${base.description} ` : ''}find-max-rate step: ${rate} samples/s (${vehicles} × ${+(rate / vehicles).toFixed(3)} Hz) held ${holdMs / 1000} s`,
      rateHz: rate / vehicles,
      vehicles,
      durationMs: holdMs,
      // Enough sockets for replies of up to ~0.5 s, so a slow backend shows as latency, not as the generator waiting for a connection.
      connections: Math.max(base.connections, Math.min(1024, Math.ceil(rate / 2))),
      drainMs: o.criteria.lagBoundMs,
      lateThresholdMs: o.lateThresholdMs,
      thresholds: [
        { metric: 'loss_acknowledged_not_stored', op: '==', value: 0, description: 'acknowledged = stored' },
        { metric: 'non2xx_total', op: '==', value: 0 },
        { metric: 'errors_total', op: '==', value: 0 },
        { metric: 'latency_p99_ms', op: '<=', value: o.criteria.latencyP99Ms, description: 'latency SLO' },
        { metric: 'lag_stored_p99_ms', op: '<=', value: o.criteria.lagBoundMs, description: 'lag bound' },
        { metric: 'publisher_bottleneck', op: '==', value: 0, description: 'the generator kept up' },
      ],
    },
  }]);
}

/**
 * A failed step whose load generator fell behind proves nothing about the
 * backend: corrected latency, timeouts and lag all include the generator's
 * own stalls (a starved event loop on a shared box). Such a step is re-run.
 */
export function generatorBehind(report: RunReport, pass: boolean): boolean {
  return !pass && report.publisher.bottleneck;
}

export interface FindMaxRateInput {
  base: Scenario;
  search: MaxRateSearch;
  /**
   * Called before every step; returns the stack to use (e.g. after restarting
   * the backend so a failed step's backlog cannot spill into the next).
   */
  prepare: (step: { rate: number; phase: StepPhase }) => Promise<StackInfo>;
  /** Runs one step's scenario; the caller writes its reports and returns their folder. */
  runStep: (stack: StackInfo, scenario: Scenario) => Promise<{ report: RunReport; dir?: string }>;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export async function findMaxRate(input: FindMaxRateInput): Promise<MaxRateResult> {
  const started = Date.now();
  const steps: MaxRateStep[] = [];
  const log = input.log ?? (() => undefined);
  let backend: BackendDescription | undefined;
  for (;;) {
    if (input.signal?.aborted) break;
    const next = planNextStep(steps, input.search);
    if (next.kind === 'done') break;
    let stack = await input.prepare({ rate: next.rate, phase: next.phase });
    backend ??= describeBackend(stack);
    const scenario = stepScenario(input.base, next.rate, next.holdMs, input.search);
    log(`[find-max-rate] ${next.phase} ${next.rate}/s (${scenario.vehicles} × ${+scenario.rateHz.toFixed(3)} Hz) for ${next.holdMs / 1000} s`);
    const discarded: { failures: string[]; dir?: string }[] = [];
    for (;;) {
      const { report, dir } = await input.runStep(stack, scenario);
      const v = judgeRateStep(report, input.search.criteria);
      if (generatorBehind(report, v.pass) && discarded.length < input.search.retriesWhenGeneratorBehind && !input.signal?.aborted) {
        discarded.push({ failures: v.failures, dir });
        log(`[find-max-rate]   inconclusive (the load generator fell behind): running ${next.rate}/s again`);
        // A fresh backend again: its pid and URL change, so take the new stack info.
        stack = await input.prepare({ rate: next.rate, phase: next.phase });
        continue;
      }
      steps.push({
        rate: next.rate, phase: next.phase, holdMs: next.holdMs, pass: v.pass, failures: v.failures, lagSlopeMsPerSec: v.lagSlopeMsPerSec,
        summary: summarize(report), dir, ...(discarded.length > 0 ? { discardedAttempts: discarded } : {}),
      });
      log(`[find-max-rate]   ${v.pass ? 'PASS' : `FAIL: ${v.failures.join('; ')}`}`);
      break;
    }
  }
  const { thresholds: _t, ...base } = input.base;
  void _t;
  const b = backend ?? { kind: 'external' as const, mode: null, flushIntervalMs: null };
  return {
    schemaVersion: 1,
    kind: 'max-rate',
    createdAt: new Date(started).toISOString(),
    backend: b,
    backendLabel: backendLabel(b),
    base,
    search: input.search,
    steps,
    ...concludeSearch(steps, input.search),
    wallTimeMs: Date.now() - started,
  };
}
