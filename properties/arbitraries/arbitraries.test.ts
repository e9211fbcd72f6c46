import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTRACT } from '../../models/contract';
import { materializeRequest } from '../../models/materialize';
import { predictOutcome, type Prediction } from '../../models/model';
import { planDurationMs, validatePlan, type Plan } from '../../models/plan';
import { arbClockOffset, arbDrift } from './clock';
import { arbFloat, SPECIAL_FLOATS } from './floats';
import { HOSTILE_NAMES, hostileCatalogue, type HostileName } from './hostile';
import { arbStorablePayloadShape, arbTrack, arbTrajectory, arbValidPayloadShape } from './payloads';
import { arbPlan, buildPlan, planFromGroups, QUICK_PROFILE } from './plan';
import { arbSchedule, tickAtMs } from './schedule';

const T0 = 1_700_000_000_000;

/** Sends a plan on schedule (2 ms round trip, the contract's clock uncertainty) and predicts each request. */
function predictions(plan: Plan): Array<{ label: string; p: Prediction; bytes: number }> {
  const sent = new Map<number, number>();
  return plan.requests.map((r, i) => {
    const now = T0 + r.atMs;
    const m = materializeRequest(plan, i, { runStartMs: T0, sendTimeMs: now, sentTimestamps: sent });
    if (m.timestampSec !== undefined) sent.set(i, m.timestampSec);
    const u = DEFAULT_CONTRACT.skewUncertaintySec * 1000;
    return { label: r.label, p: predictOutcome(m, DEFAULT_CONTRACT, { fromMs: now - u, toMs: now + 2 + u }), bytes: m.bodyBytes };
  });
}

describe('floats and shapes', () => {
  it('arbFloat is always finite and reaches -0, tiny and huge magnitudes', () => {
    const xs = fc.sample(arbFloat(), { numRuns: 3000, seed: 1 });
    expect(xs.every(Number.isFinite)).toBe(true);
    expect(xs.some((x) => Object.is(x, -0))).toBe(true);
    expect(xs.some((x) => x !== 0 && Math.abs(x) < 1e-300)).toBe(true);
    expect(xs.some((x) => Math.abs(x) > 1e300)).toBe(true);
    expect(xs.some((x) => x < 0)).toBe(true);
    expect(SPECIAL_FLOATS.every(Number.isFinite)).toBe(true);
  });
  it('payload shapes mix every part, including neither pose nor control; storable ones always carry one', () => {
    const shapes = fc.sample(arbValidPayloadShape(), { numRuns: 500, seed: 2 });
    expect(shapes.some((s) => s.pose === undefined && s.control === undefined)).toBe(true);
    for (const k of ['pose', 'control', 'trajectory', 'track']) expect(shapes.some((s) => k in s)).toBe(true);
    expect(fc.sample(arbStorablePayloadShape(), { numRuns: 300, seed: 3 }).every((s) => s.pose !== undefined || s.control !== undefined)).toBe(true);
  });
  it('trajectories stay within 0–500 points and reach long ones; tracks respect maxPoints', () => {
    const trajs = fc.sample(arbTrajectory(), { numRuns: 400, seed: 4 });
    expect(trajs.every((t) => t.length <= 500)).toBe(true);
    expect(trajs.some((t) => t.length === 0)).toBe(true);
    expect(trajs.some((t) => t.length > 100)).toBe(true);
    const tracks = fc.sample(arbTrack({ maxPoints: 3000 }), { numRuns: 400, seed: 5 });
    expect(tracks.every((t) => (t.outer?.length ?? 0) <= 3000 && (t.inner?.length ?? 0) <= 3000)).toBe(true);
    expect(tracks.some((t) => (t.outer?.length ?? 0) > 1000)).toBe(true);
  });
});

describe('clocks and schedules', () => {
  it('offsets are mostly within ±9 s, sometimes on the ±10 s edge, sometimes beyond', () => {
    const xs = fc.sample(arbClockOffset(), { numRuns: 3000, seed: 6 });
    const inside = xs.filter((x) => Math.abs(x) <= 9000).length / xs.length;
    expect(inside).toBeGreaterThan(0.6);
    expect(xs.some((x) => Math.abs(x) > 9000 && Math.abs(x) <= 11_000)).toBe(true);
    expect(xs.some((x) => Math.abs(x) > 11_000)).toBe(true);
    expect(fc.sample(arbClockOffset({ skewWindowSec: 2 }), { numRuns: 500, seed: 6 }).some((x) => Math.abs(x) > 2000 && Math.abs(x) < 3000)).toBe(true);
    const drifts = fc.sample(arbDrift(), { numRuns: 500, seed: 7 });
    expect(drifts.some((d) => d === 0) && drifts.some((d) => d !== 0)).toBe(true);
  });
  it('schedules run 1–200 Hz and jitter never reorders ticks', () => {
    fc.assert(fc.property(arbSchedule(), fc.nat({ max: 50 }), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1000, max: 1000 }), (s, k, j1, j2) => {
      expect(s.rateHz).toBeGreaterThanOrEqual(1);
      expect(s.rateHz).toBeLessThanOrEqual(200);
      expect(tickAtMs(s, k, j1)).toBeLessThanOrEqual(tickAtMs(s, k + 1, j2));
    }));
  });
});

describe('arbPlan', () => {
  it('produces sound plans within the quick caps', () => {
    fc.assert(fc.property(arbPlan({ hostile: 'all' }), (plan) => {
      expect(validatePlan(plan)).toEqual([]);
      expect(plan.requests.length).toBeLessThanOrEqual(QUICK_PROFILE.maxRequests);
      expect(plan.vehicles.length).toBeLessThanOrEqual(QUICK_PROFILE.maxVehicles);
      expect(planDurationMs(plan)).toBeLessThanOrEqual(QUICK_PROFILE.maxScheduleMs);
      expect(JSON.parse(JSON.stringify(plan.vehicles))).toEqual(plan.vehicles);
    }), { numRuns: 150, seed: 8 });
  });
  it('valid-only plans with in-window clocks are all accepted (or "either" for nothing to store)', () => {
    fc.assert(fc.property(arbPlan(), (plan) => {
      const calm = { ...plan, vehicles: plan.vehicles.map((v) => ({ ...v, clockOffsetMs: 0, driftMsPerSec: 0 })) };
      for (const { p } of predictions(calm)) {
        expect(p.kind === 'accept' || (p.kind === 'either' && p.why.join() === 'no_storable_fields')).toBe(true);
      }
    }), { numRuns: 100, seed: 9 });
  });
  it('mixes hostile cases in when asked, and only then', () => {
    const labels = new Set(fc.sample(arbPlan({ hostile: 'all', hostileWeight: 2 }), { numRuns: 60, seed: 10 }).flatMap((p) => p.requests.map((r) => r.label)));
    expect(labels.size).toBeGreaterThan(15);
    expect(new Set(fc.sample(arbPlan(), { numRuns: 30, seed: 11 }).flatMap((p) => p.requests.map((r) => r.label)))).toEqual(new Set(['valid']));
  });
  it('resolves duplicate references to the previous timestamped request of the same vehicle', () => {
    const cat = hostileCatalogue();
    const [pair] = fc.sample(cat.duplicateMillisecond, { numRuns: 1, seed: 12 });
    const plan = planFromGroups([pair!]);
    expect(plan.requests[1]!.body).toMatchObject({ timestamp: { kind: 'sameAs', request: 0 } });
    // Shrinking the first away leaves a plain device timestamp, never a dangling reference.
    const alone = buildPlan({ runId: 'abcd1234', vehicles: [{ clockOffsetMs: 0, driftMsPerSec: 0, schedule: { rateHz: 10, jitterPct: 0, startDelayMs: 0 }, ticks: [{ jitterPerMille: 0, groups: [[pair![1]!]] }] }] });
    expect(alone.requests[0]!.body).toMatchObject({ timestamp: { kind: 'device' } });
    expect(validatePlan(alone)).toEqual([]);
  });
  it('applies the request cap keeping the earliest and the schedule cap', () => {
    const plan = buildPlan({
      runId: 'abcd1234',
      vehicles: [{ clockOffsetMs: 0, driftMsPerSec: 0, schedule: { rateHz: 1, jitterPct: 0, startDelayMs: 0 }, ticks: Array.from({ length: 10 }, () => ({ jitterPerMille: 0, groups: [[{ label: 'valid', apiKey: 'valid' as const, contentType: 'application/json', body: { kind: 'raw' as const, text: '{}' } }]] })) }],
    }, { maxRequests: 2 });
    expect(plan.requests.map((r) => r.atMs)).toEqual([0, 1000]);
    const capped = buildPlan({ runId: 'abcd1234', vehicles: [{ clockOffsetMs: 0, driftMsPerSec: 0, schedule: { rateHz: 1, jitterPct: 0, startDelayMs: 0 }, ticks: Array.from({ length: 10 }, () => ({ jitterPerMille: 0, groups: [[{ label: 'valid', apiKey: 'valid' as const, contentType: 'application/json', body: { kind: 'raw' as const, text: '{}' } }]] })) }] }, { maxScheduleMs: 3000 });
    expect(capped.requests.map((r) => r.atMs)).toEqual([0, 1000, 2000, 3000]);
  });
});

describe('hostileCatalogue', () => {
  /** What the model must say about each case (sent on time, valid clock). */
  const expected: Record<HostileName, Array<Prediction['kind']>> = {
    apiKeyMissing: ['reject'], apiKeyWrong: ['reject'], contentTypeWrong: ['reject'], contentTypeMissing: ['reject'],
    notJson: ['reject'], emptyBody: ['reject'], jsonArrayBody: ['reject'], jsonScalarBody: ['reject'],
    vehicleIdWrongType: ['reject'], vehicleIdMissing: ['reject'], vehicleIdEmpty: ['either'],
    vehicleIdExotic: ['accept', 'either'], vehicleIdLong: ['either'],
    timestampWrongType: ['reject'], timestampMissing: ['reject'], timestampMilliseconds: ['reject'], timestampInfinite: ['reject'],
    // Just inside the window too: the edge is the point.
    timestampSkewed: ['accept', 'reject', 'either'],
    poseWrongType: ['reject', 'either'], controlWrongType: ['reject', 'either'], nonFiniteField: ['reject'],
    trajectoryWrongType: ['reject', 'either'], trajectoryOddElements: ['accept'], trackWrongType: ['reject', 'either'],
    extraFields: ['accept'], deepNesting: ['accept'], duplicateTimestamp: ['accept'], duplicateMillisecond: ['accept'],
    bodyOverLimit: ['accept'], bodyBeyondFloor: ['either'],
  };
  const catalogue = hostileCatalogue();
  it('has an entry for every name', () => {
    expect(Object.keys(catalogue).sort()).toEqual([...HOSTILE_NAMES].sort());
  });
  for (const name of HOSTILE_NAMES) {
    it(`${name}: the model's verdict is ${expected[name].join(' or ')}`, () => {
      fc.assert(fc.property(catalogue[name], (groups) => {
        for (const { label, p } of predictions(planFromGroups([groups]))) {
          expect(label).toBe(name);
          expect(expected[name]).toContain(p.kind);
        }
      }), { numRuns: name.startsWith('body') || name === 'vehicleIdLong' ? 15 : 60, seed: 13 });
    });
  }
  it('timestampSkewed reaches the uncertain edge and far beyond', () => {
    const kinds = predictions(planFromGroups(fc.sample(catalogue.timestampSkewed, { numRuns: 300, seed: 17 }))).map((x) => x.p.kind);
    expect(kinds).toContain('either');
    expect(kinds).toContain('reject');
  });
  it('hostile vehicle ids keep the run prefix and the hostile characters', () => {
    const [groups] = fc.sample(catalogue.vehicleIdExotic, { numRuns: 1, seed: 14 });
    const plan = planFromGroups([groups!], { runId: 'iso12345' });
    const m = materializeRequest(plan, 0, { runStartMs: T0, sendTimeMs: T0, sentTimestamps: new Map() });
    const id = JSON.parse(m.body).vehicle_id as string;
    expect(id.startsWith('tp-iso12345-v0')).toBe(true);
    expect(id.length).toBeGreaterThan('tp-iso12345-v0'.length);
  });
  it('oversized bodies land where their names say', () => {
    const over = predictions(planFromGroups(fc.sample(catalogue.bodyOverLimit, { numRuns: 10, seed: 15 }).flat().map((d) => [d])));
    expect(over.every((x) => x.bytes > DEFAULT_CONTRACT.bodyLimitBytes && x.bytes <= DEFAULT_CONTRACT.realisticSizeFloorBytes)).toBe(true);
    const beyond = predictions(planFromGroups(fc.sample(catalogue.bodyBeyondFloor, { numRuns: 5, seed: 16 }).flat().map((d) => [d])));
    expect(beyond.every((x) => x.bytes > DEFAULT_CONTRACT.realisticSizeFloorBytes)).toBe(true);
  });
});
