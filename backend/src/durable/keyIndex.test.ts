import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentKeyIndex, splitLine } from './keyIndex';
import { payloadToLine } from './lineProtocol';

const T0 = 1_700_000_000_000;

function line(vehicle: string, timeMs: number, x: number): string {
  return payloadToLine({ vehicle_id: vehicle, timestamp: timeMs / 1000, pose: { x, z: 0 } })!;
}

describe('splitLine', () => {
  it('separates series + time from fields, with escaped spaces, commas and equals in the tag', () => {
    const l = payloadToLine({ vehicle_id: 'car 1,a=b', timestamp: 1700000000.1234, pose: { x: 1.5, z: -2 }, control: { steering: 0, throttle: 1e21 } })!;
    expect(splitLine(l)).toEqual({
      key: 'telemetry,vehicle_id=car\\ 1\\,a\\=b 1700000000123',
      fields: 'pose_x=1.5,pose_z=-2,steering=0,throttle=1e+21',
      timeMs: 1700000000123,
    });
    expect(splitLine('garbage')).toBeNull();
    expect(splitLine('m f=1 notanumber')).toBeNull();
  });

  it('property: the key depends on vehicle_id and ms only, the fields on pose/control only', () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
    const id = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/[\\\u0000-\u001f\ud800-\udfff]/.test(s));
    fc.assert(
      fc.property(id, id, fc.integer({ min: 0, max: 2e12 }), fc.integer({ min: 0, max: 2e12 }), finite, finite, (a, b, ta, tb, xa, xb) => {
        const la = splitLine(payloadToLine({ vehicle_id: a, timestamp: ta / 1000, pose: { x: xa, z: 0 } })!)!;
        const lb = splitLine(payloadToLine({ vehicle_id: b, timestamp: tb / 1000, pose: { x: xb, z: 0 } })!)!;
        expect(la.key === lb.key).toBe(a === b && Math.trunc(ta) === Math.trunc(tb));
        // -0 and 0 are one stored value (line protocol writes both as 0).
        expect(la.fields === lb.fields).toBe(xa === xb);
      }),
      { numRuns: 500 },
    );
  });
});

describe('RecentKeyIndex', () => {
  it('reserves a new key, then: identical → identical, different → conflict', async () => {
    let now = T0;
    const idx = new RecentKeyIndex({ windowSec: 10, now: () => now });
    const first = await idx.check(line('car', T0, 1));
    expect(first.kind).toBe('reserved');
    if (first.kind === 'reserved') first.settle(true);
    expect((await idx.check(line('car', T0, 1))).kind).toBe('identical');
    expect((await idx.check(line('car', T0, 2))).kind).toBe('conflict');
    // Another vehicle, another millisecond: free.
    expect((await idx.check(line('bus', T0, 2))).kind).toBe('reserved');
    expect((await idx.check(line('car', T0 + 1, 2))).kind).toBe('reserved');
    expect(idx.stats()).toMatchObject({ keys: 3, conflicts: 1, identical: 1 });
    now += 1; // keep the clock in use
  });

  it('a second sample waits for the first one\'s append: a failed append frees the key', async () => {
    const idx = new RecentKeyIndex({ windowSec: 10, now: () => T0 });
    const first = await idx.check(line('car', T0, 1));
    if (first.kind !== 'reserved') throw new Error('expected reserved');
    let secondDone = false;
    const second = idx.check(line('car', T0, 2)).then((r) => { secondDone = true; return r; });
    await new Promise((r) => setTimeout(r, 5));
    expect(secondDone).toBe(false); // waits while the first is in flight
    first.settle(false); // the first got 503: never acknowledged
    const r = await second;
    expect(r.kind).toBe('reserved'); // so the second may take the key
  });

  it('concurrent different samples for one key: exactly one is reserved after the first settles durable', async () => {
    const idx = new RecentKeyIndex({ windowSec: 10, now: () => T0 });
    const first = await idx.check(line('car', T0, 0));
    if (first.kind !== 'reserved') throw new Error('expected reserved');
    const others = Array.from({ length: 5 }, (_, i) => idx.check(line('car', T0, i + 1)));
    const same = idx.check(line('car', T0, 0));
    first.settle(true);
    expect((await Promise.all(others)).map((r) => r.kind)).toEqual(['conflict', 'conflict', 'conflict', 'conflict', 'conflict']);
    expect((await same).kind).toBe('identical');
  });

  it('forgets a key once its time is more than the window (+ margin) behind the clock, never before', async () => {
    let now = T0;
    const idx = new RecentKeyIndex({ windowSec: 10, marginMs: 2000, now: () => now });
    const r = await idx.check(line('car', T0, 1));
    if (r.kind === 'reserved') r.settle(true);
    now = T0 + 11_999; // a sample stamped T0 could still be within the skew window at T0 + 10 s + 1 ms
    expect((await idx.check(line('car', T0, 2))).kind).toBe('conflict');
    now = T0 + 13_001;
    idx.evictExpired(true);
    expect(idx.size).toBe(0);
    expect(idx.stats().evicted).toBe(1);
  });

  it('a sample stamped in the future (within the window) is kept until its own time + window', async () => {
    let now = T0;
    const idx = new RecentKeyIndex({ windowSec: 10, marginMs: 2000, now: () => now });
    const r = await idx.check(line('car', T0 + 9_000, 1));
    if (r.kind === 'reserved') r.settle(true);
    now = T0 + 20_000;
    idx.evictExpired(true);
    expect((await idx.check(line('car', T0 + 9_000, 2))).kind).toBe('conflict');
    now = T0 + 22_000;
    idx.evictExpired(true);
    expect(idx.size).toBe(0);
  });

  it('is bounded: beyond maxKeys (after evicting what expired) it answers full', async () => {
    let now = T0;
    const idx = new RecentKeyIndex({ windowSec: 10, maxKeys: 3, now: () => now });
    for (let i = 0; i < 3; i++) {
      const r = await idx.check(line('car', T0 + i, 1));
      if (r.kind === 'reserved') r.settle(true);
    }
    expect((await idx.check(line('car', T0 + 3, 1))).kind).toBe('full');
    expect(idx.stats().full).toBe(1);
    now = T0 + 15_000; // the three are out of the window
    expect((await idx.check(line('car', T0 + 14_000, 1))).kind).toBe('reserved');
    expect(idx.size).toBe(1);
  });

  it('restore() indexes durable lines within the window and skips older ones', async () => {
    const idx = new RecentKeyIndex({ windowSec: 10, now: () => T0 });
    expect(idx.restore(line('car', T0 - 5_000, 1))).toBe(true);
    expect(idx.restore(line('car', T0 - 60_000, 1))).toBe(false);
    expect(idx.restore('not a line')).toBe(false);
    expect((await idx.check(line('car', T0 - 5_000, 2))).kind).toBe('conflict');
    expect((await idx.check(line('car', T0 - 5_000, 1))).kind).toBe('identical');
  });

  it('memory stays bounded under a long stream at a steady rate (keys ≈ rate × (window + margin))', async () => {
    let now = T0;
    const idx = new RecentKeyIndex({ windowSec: 10, marginMs: 2000, now: () => now });
    let maxSize = 0;
    for (let i = 0; i < 60_000; i++) {
      now = T0 + i * 10; // 100 Hz for 600 s
      const r = await idx.check(line('car', now, i));
      if (r.kind === 'reserved') r.settle(true);
      maxSize = Math.max(maxSize, idx.size);
    }
    expect(maxSize).toBeLessThanOrEqual(100 * 13 + 100);
  });
});
