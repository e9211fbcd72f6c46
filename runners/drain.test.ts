import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTRACT } from '../models/contract';
import { pointKey } from '../models/payload';
import { history, payload, req, T0, VEHICLE } from '../models/testing/history-builder';
import { awaitedPoints, drainSettled } from './drain';

const C = DEFAULT_CONTRACT;

describe('awaitedPoints', () => {
  it('awaits the key of every acknowledged storable sample, once per key', () => {
    const a = awaitedPoints(history([req(0), req(1), req(2, { reply: 400 })]), C);
    expect(a.map((p) => p.key)).toEqual([pointKey(VEHICLE, T0), pointKey(VEHICLE, T0 + 100)]);
  });
  it('does not await a sample no store can hold (no pose, no control): it is lost whatever happens', () => {
    const h = history([req(0, { body: payload(0, { pose: undefined, control: undefined }) })]);
    expect(awaitedPoints(h, C)).toEqual([]);
  });
  it('does not await refused or unanswered requests', () => {
    expect(awaitedPoints(history([req(0, { reply: 401 }), req(1, { reply: { kind: 'timeout', atMs: T0 + 2000 } })]), C)).toEqual([]);
  });
});

describe('drainSettled', () => {
  const awaited = [{ key: pointKey('tp-r-v0', 5), timeMs: 5 }, { key: pointKey('tp-r-v1', 9), timeMs: 9 }];
  it('settles at once when nothing is awaited', () => {
    expect(drainSettled([], [])).toBe(true);
  });
  it('waits until every awaited key is seen', () => {
    expect(drainSettled(awaited, [{ vehicleId: 'tp-r-v0', timeMs: 5 }])).toBe(false);
    expect(drainSettled(awaited, [{ vehicleId: 'tp-r-v0', timeMs: 5 }, { vehicleId: 'tp-r-v1', timeMs: 9 }])).toBe(true);
  });
  it('counts a point on the same millisecond under a key nobody awaits (a mangled tag) as accounted for', () => {
    expect(drainSettled(awaited, [{ vehicleId: 'tp-r-v0', timeMs: 5 }, { vehicleId: 'tp-r-v1\\n', timeMs: 9 }])).toBe(true);
    expect(drainSettled(awaited, [{ vehicleId: 'tp-r-v0', timeMs: 5 }, { vehicleId: '', timeMs: 9 }])).toBe(true);
  });
  it('does not take another awaited key on the same millisecond for a twin', () => {
    const sameMs = [{ key: pointKey('tp-r-v0', 5), timeMs: 5 }, { key: pointKey('tp-r-v1', 5), timeMs: 5 }];
    expect(drainSettled(sameMs, [{ vehicleId: 'tp-r-v0', timeMs: 5 }])).toBe(false);
  });
});
