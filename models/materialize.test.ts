import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apiKeyHeaderValue, deviceTimeMs, materializeRequest, sameMillisecond, type SendContext } from './materialize';
import { timestampToMs } from './payload';
import type { BodySpec, Plan, PlannedRequest, VehiclePlan } from './plan';

const T0 = 1_700_000_000_000;
const vehicle = (over: Partial<VehiclePlan> = {}): VehiclePlan => ({ clockOffsetMs: 0, driftMsPerSec: 0, rateHz: 10, jitterMs: 0, ...over });
const payload = (over: Partial<Extract<BodySpec, { kind: 'payload' }>> = {}): BodySpec => ({
  kind: 'payload', payload: { pose: { x: 1, z: 2 } }, vehicleId: { kind: 'vehicle' }, timestamp: { kind: 'device' }, ...over,
});
const planOf = (bodies: BodySpec[], v: VehiclePlan = vehicle()): Plan => ({
  runId: 'run1', vehicles: [v],
  requests: bodies.map((body, i): PlannedRequest => ({ atMs: i * 100, vehicle: 0, label: 'valid', apiKey: 'valid', contentType: 'application/json', body })),
});
const ctx = (sendTimeMs: number, sent: Array<[number, number]> = []): SendContext => ({ runStartMs: T0, sendTimeMs, sentTimestamps: new Map(sent) });

describe('materializeRequest', () => {
  it('writes vehicle_id and the device timestamp first, with microsecond resolution', () => {
    const m = materializeRequest(planOf([payload()], vehicle({ clockOffsetMs: 9000 })), 0, ctx(T0 + 123.4567));
    expect(m.timestampSec).toBe(Math.round((T0 + 9123.4567) * 1000) / 1e6);
    expect(m.body).toBe(`{"vehicle_id":"tp-run1-v0","timestamp":${m.timestampSec},"pose":{"x":1,"z":2}}`);
    expect(Object.keys(JSON.parse(m.body))).toEqual(['vehicle_id', 'timestamp', 'pose']);
    expect(m.bodyBytes).toBe(Buffer.byteLength(m.body));
  });
  it('applies drift and extra offsets, and whole ms for unit "ms"', () => {
    const v = vehicle({ clockOffsetMs: -500, driftMsPerSec: 100 });
    expect(deviceTimeMs(v, T0, T0 + 2000, 7)).toBe(T0 + 2000 - 500 + 200 + 7);
    const m = materializeRequest(planOf([payload({ timestamp: { kind: 'device', unit: 'ms' } })]), 0, ctx(T0 + 1.6));
    expect(m.timestampSec).toBe(T0 + 2);
  });
  it('copies an earlier timestamp exactly, or lands in the same millisecond with another sub-ms part', () => {
    const p = planOf([payload(), payload({ timestamp: { kind: 'sameAs', request: 0 } }), payload({ timestamp: { kind: 'sameAs', request: 0, subMsUs: 900 } })]);
    const first = 1_700_000_000.123456;
    const exact = materializeRequest(p, 1, ctx(T0 + 50, [[0, first]]));
    expect(exact.timestampSec).toBe(first);
    const near = materializeRequest(p, 2, ctx(T0 + 50, [[0, first]]));
    expect(near.timestampSec).not.toBe(first);
    expect(timestampToMs(near.timestampSec!)).toBe(timestampToMs(first));
  });
  it('falls back to the device clock when the referenced request sent no timestamp', () => {
    const p = planOf([payload(), payload({ timestamp: { kind: 'sameAs', request: 0 } })]);
    expect(materializeRequest(p, 1, ctx(T0 + 10)).timestampSec).toBe((T0 + 10) / 1000);
  });
  it('sameMillisecond always stays in the same store millisecond', () => {
    fc.assert(fc.property(fc.integer({ min: 1_500_000_000_000_000, max: 1_900_000_000_000_000 }), fc.integer({ min: 1, max: 999 }), (us, sub) => {
      const ts = us / 1e6;
      const t2 = sameMillisecond(ts, sub);
      expect(timestampToMs(t2)).toBe(timestampToMs(ts));
    }));
  });
  it('splices raw literals such as 1e309, which parse to Infinity', () => {
    const m = materializeRequest(planOf([payload({ rawNumbers: [{ path: ['pose', 'x'], literal: '1e309' }] })]), 0, ctx(T0));
    expect(m.body).toContain('"x":1e309');
    expect(JSON.parse(m.body).pose.x).toBe(Infinity);
    const t = materializeRequest(planOf([payload({ rawNumbers: [{ path: ['timestamp'], literal: '-1e309' }] })]), 0, ctx(T0));
    expect(JSON.parse(t.body).timestamp).toBe(-Infinity);
    expect(t.timestampSec).toBeUndefined();
  });
  it('keeps hostile suffixes, as-is fields, padding and a "__proto__" key verbatim', () => {
    const p = planOf([
      payload({ vehicleId: { kind: 'suffix', suffix: ',a b="\\\n' } }),
      payload({ payload: { vehicle_id: 42, pose: { x: 1, z: 2 } }, vehicleId: { kind: 'asIs' }, timestamp: { kind: 'asIs' } }),
      payload({ padChars: 1000 }),
      payload({ payload: JSON.parse('{"__proto__":{"polluted":true},"pose":{"x":1,"z":2}}') }),
    ]);
    expect(JSON.parse(materializeRequest(p, 0, ctx(T0)).body).vehicle_id).toBe('tp-run1-v0,a b="\\\n');
    const asIs = JSON.parse(materializeRequest(p, 1, ctx(T0)).body);
    expect(asIs).toEqual({ vehicle_id: 42, pose: { x: 1, z: 2 } });
    expect(materializeRequest(p, 2, ctx(T0)).bodyBytes).toBeGreaterThan(1000);
    expect(materializeRequest(p, 3, ctx(T0)).body).toContain('"__proto__":{"polluted":true}');
  });
  it('sends raw and json bodies verbatim', () => {
    const p = planOf([{ kind: 'raw', text: 'not json' }, { kind: 'json', value: [1, 'a'] }]);
    expect(materializeRequest(p, 0, ctx(T0)).body).toBe('not json');
    expect(materializeRequest(p, 1, ctx(T0)).body).toBe('[1,"a"]');
  });
  it('maps api key modes to header values', () => {
    expect(apiKeyHeaderValue('valid', 'k')).toBe('k');
    expect(apiKeyHeaderValue('missing', 'k')).toBeUndefined();
    expect(apiKeyHeaderValue('wrong', 'k')).not.toBe('k');
    expect(apiKeyHeaderValue('wrong', 'secret-key')?.startsWith('secret-key')).toBe(true);
    expect(apiKeyHeaderValue('truncated', 'secret-key')).toBe('secre');
    expect(apiKeyHeaderValue('truncated', 'k')).toBe('');
  });
});
