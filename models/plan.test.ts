import { describe, expect, it } from 'vitest';
import { isValidRunId, planNeedsFreshStore, rekeyPlan, runPrefix, validatePlan, vehicleIdOf, type Plan, type PlannedRequest } from './plan';

const req = (over: Partial<PlannedRequest> = {}): PlannedRequest => ({
  atMs: 0, vehicle: 0, label: 'valid', apiKey: 'valid', contentType: 'application/json',
  body: { kind: 'payload', payload: { pose: { x: 1, z: 2 } }, vehicleId: { kind: 'vehicle' }, timestamp: { kind: 'device' } },
  ...over,
});
const plan = (requests: PlannedRequest[], runId = 'abc123'): Plan => ({
  runId, vehicles: [{ clockOffsetMs: 0, driftMsPerSec: 0, rateHz: 10, jitterMs: 0 }], requests,
});

describe('run ids and vehicle ids', () => {
  it('derives every vehicle id from the run prefix', () => {
    expect(runPrefix('abc123')).toBe('tp-abc123-');
    expect(vehicleIdOf('abc123', 2)).toBe('tp-abc123-v2');
    expect(isValidRunId('abc123')).toBe(true);
    expect(isValidRunId('ABC')).toBe(false);
    expect(isValidRunId('a-b-c-d')).toBe(false);
  });
  it('rekeys a plan without touching its requests', () => {
    const p = plan([req()]);
    const q = rekeyPlan(p, 'fresh999');
    expect(q.runId).toBe('fresh999');
    expect(q.requests).toBe(p.requests);
    expect(() => rekeyPlan(p, 'bad id')).toThrow();
  });
});

describe('validatePlan', () => {
  it('accepts a sound plan', () => {
    expect(validatePlan(plan([req(), req({ atMs: 5 })]))).toEqual([]);
  });
  it('reports unsorted requests, missing vehicles, forward references and bad sub-ms', () => {
    const p = plan([
      req({ atMs: 10 }),
      req({ atMs: 5, vehicle: 3 }),
      req({ atMs: 20, body: { kind: 'payload', payload: {}, vehicleId: { kind: 'vehicle' }, timestamp: { kind: 'sameAs', request: 2 } } }),
      req({ atMs: 30, body: { kind: 'payload', payload: {}, vehicleId: { kind: 'vehicle' }, timestamp: { kind: 'sameAs', request: 0, subMsUs: 1000 } } }),
    ], 'X');
    const problems = validatePlan(p).join('\n');
    expect(problems).toMatch(/invalid runId/);
    expect(problems).toMatch(/request 1: not sorted/);
    expect(problems).toMatch(/request 1: no vehicle 3/);
    expect(problems).toMatch(/request 2: sameAs 2 is not an earlier request/);
    expect(problems).toMatch(/request 3: subMsUs 1000/);
  });
});

describe('planNeedsFreshStore', () => {
  it('is false when every id carries the run prefix (suffixes included)', () => {
    expect(planNeedsFreshStore(plan([req(), req({ body: { kind: 'payload', payload: {}, vehicleId: { kind: 'suffix', suffix: ',\n' }, timestamp: { kind: 'device' } } })]))).toBe(false);
  });
  it('is true for an as-is string id without the prefix, e.g. ""', () => {
    expect(planNeedsFreshStore(plan([req({ body: { kind: 'payload', payload: { vehicle_id: '' }, vehicleId: { kind: 'asIs' }, timestamp: { kind: 'device' } } })]))).toBe(true);
  });
  it('is false for non-string as-is ids (always refused, never stored)', () => {
    expect(planNeedsFreshStore(plan([req({ body: { kind: 'payload', payload: { vehicle_id: 7 }, vehicleId: { kind: 'asIs' }, timestamp: { kind: 'device' } } })]))).toBe(false);
  });
});
