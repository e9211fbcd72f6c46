/**
 * The later acceptance criteria, rehearsed against a pure simulation of the
 * seed backend (models/testing/legacy-sim.ts): each finding must fail its
 * property and shrink to its minimal case. This proves the plan design
 * shrinks well; the live suites do the same against the real stack.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check, lagWithinBound, noServerErrorOnClientError, validationAgreesWithModel, type Verdict } from '../../models/checker';
import { DEFAULT_CONTRACT } from '../../models/contract';
import { utf8ByteLength } from '../../models/json';
import type { Plan } from '../../models/plan';
import { simulateLegacy, type LegacySimOptions } from '../../models/testing/legacy-sim';
import { hostileCatalogue } from './hostile';
import { arbPlan, arbPlanOf, planFromGroups } from './plan';
import { arbRealisticDraft, realisticDraft } from './realistic';
import { materializeRequest } from '../../models/materialize';

const verdict = (plan: Plan, o: LegacySimOptions = {}): Verdict => check(simulateLegacy(plan, o), DEFAULT_CONTRACT);

/** Runs a property expected to fail and returns the shrunk plan. */
function shrunk(arb: fc.Arbitrary<Plan>, holds: (p: Plan) => boolean, seed = 42): Plan {
  const out = fc.check(fc.property(arb, holds), { seed, numRuns: 200 });
  expect(out.failed).toBe(true);
  return out.counterexample![0];
}

const calm = { maxRateHz: 50 } as const;

describe('shrinking reaches the minimal case of each seed finding', () => {
  it('a clean simulated run of valid, storable samples passes every property', () => {
    const plan = planFromGroups([[realisticDraft({ trackPoints: 10 })], [realisticDraft({ trackPoints: 20 })]]);
    const v = verdict(plan);
    expect(v.violations).toEqual([]);
    expect(v.tally.acknowledged).toBe(2);
  });

  it('(1) acknowledged but never stored: one payload with neither pose nor control', () => {
    const plan = shrunk(arbPlan(calm), (p) => verdict(p).counts.lost === 0);
    expect(plan.vehicles).toHaveLength(1);
    expect(plan.requests).toHaveLength(1);
    const body = plan.requests[0]!.body;
    expect(body.kind === 'payload' && !('pose' in body.payload) && !('control' in body.payload)).toBe(true);
    expect(plan.vehicles[0]!.clockOffsetMs).toBe(0);
  });

  it('(2) same vehicle and millisecond collapse: two payloads', () => {
    const plan = shrunk(arbPlan({ ...calm, hostile: ['duplicateMillisecond'] }), (p) => verdict(p).counts.collapsed === 0);
    expect(plan.vehicles).toHaveLength(1);
    expect(plan.requests).toHaveLength(2);
  });

  it('(3) 60 s flush: an acknowledged sample is not stored within the 5 s lag bound — one payload', () => {
    const plan = shrunk(arbPlan(calm), (p) => lagWithinBound(verdict(p, { flushIntervalMs: 60_000 })).ok);
    expect(plan.vehicles).toHaveLength(1);
    expect(plan.requests).toHaveLength(1);
  });

  it('(4) a realistic payload refused with 413: shrinks to the smallest track that trips 100 kB', () => {
    const size = (n: number) => {
      const p = planFromGroups([[realisticDraft({ trackPoints: n })]]);
      return utf8ByteLength(materializeRequest(p, 0, { runStartMs: 1_700_000_000_000, sendTimeMs: 1_700_000_000_000, sentTimestamps: new Map() }).body);
    };
    let threshold = 0;
    while (size(threshold) <= DEFAULT_CONTRACT.bodyLimitBytes) threshold++;
    const plan = shrunk(arbPlanOf(arbRealisticDraft({ maxTrackPoints: 5000 }).map((d) => [d])), (p) => validationAgreesWithModel(verdict(p)).ok);
    expect(plan.requests).toHaveLength(1);
    const body = plan.requests[0]!.body;
    const track = body.kind === 'payload' ? (body.payload.track as { outer: unknown[] }) : undefined;
    expect(track?.outer.length).toBe(threshold);
    expect(size(threshold)).toBeGreaterThan(DEFAULT_CONTRACT.bodyLimitBytes);
    expect(size(threshold - 1)).toBeLessThanOrEqual(DEFAULT_CONTRACT.bodyLimitBytes);
  });

  it('(5a) 1e309 answered with 500: one request', () => {
    const plan = shrunk(arbPlan({ ...calm, hostile: ['nonFiniteField'] }), (p) => noServerErrorOnClientError(verdict(p)).ok);
    expect(plan.requests).toHaveLength(1);
    expect(plan.requests[0]!.label).toBe('nonFiniteField');
  });

  it('(5b) empty vehicle_id acknowledged, stored without its tag: one request', () => {
    const plan = shrunk(arbPlanOf(hostileCatalogue().vehicleIdEmpty, { maxGroups: 6 }), (p) => verdict(p).counts.corrupted + verdict(p).counts.lost === 0);
    expect(plan.requests).toHaveLength(1);
    expect(plan.requests[0]!.label).toBe('vehicleIdEmpty');
  });

  it('(5c) exotic vehicle_id mangled by escaping: one request, one character', () => {
    const plan = shrunk(arbPlanOf(hostileCatalogue().vehicleIdExotic, { maxGroups: 6 }), (p) => verdict(p).counts.corrupted === 0);
    expect(plan.requests).toHaveLength(1);
    const body = plan.requests[0]!.body;
    // The simulated client escapes \n, \r and \t into two characters each.
    const suffix = body.kind === 'payload' && body.vehicleId.kind === 'suffix' ? body.vehicleId.suffix : undefined;
    expect(['\n', '\r', '\t']).toContain(suffix);
  });
});
