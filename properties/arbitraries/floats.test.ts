import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbFloat, simplerFloats } from './floats';

const shrunk = (holds: (x: number) => boolean, seed = 1) => {
  const out = fc.check(fc.property(arbFloat(), holds), { seed, numRuns: 1000 });
  expect(out.failed).toBe(true);
  return { value: out.counterexample![0], steps: out.numShrinks };
};

describe('simplerFloats', () => {
  it('offers 0 first, then the positive, then 1, then fewer digits', () => {
    expect([...simplerFloats(-0.123456)]).toEqual([0, 0.123456, -1, -0.1, -0.12, -0.123, -0.1235, -0.12346]);
    expect([...simplerFloats(4e-323)]).toEqual([0, 1]);
    expect([...simplerFloats(0)]).toEqual([]);
    expect([...simplerFloats(1)]).toEqual([0]);
    expect([...simplerFloats(-1)]).toEqual([0, 1]);
    expect([...simplerFloats(8)]).toEqual([0, 1, 4, 6, 7]);
    expect([...simplerFloats(-1e308)].slice(0, 4)).toEqual([0, 1e308, -1, -1e154]);
  });
  it('never offers non-finite values or the value itself', () => {
    fc.assert(fc.property(arbFloat(), (v) => {
      for (const c of simplerFloats(v)) {
        expect(Number.isFinite(c)).toBe(true);
        expect(Object.is(c, v)).toBe(false);
      }
    }), { seed: 3, numRuns: 300 });
  });
});

describe('arbFloat shrinking', () => {
  it('a value that only has to be non-zero shrinks to 1 in a couple of steps, not to 5e-324', () => {
    const { value, steps } = shrunk((x) => x === 0 || Math.abs(x) < Number.MIN_VALUE, 2);
    expect(Math.abs(value)).toBe(1);
    expect(steps).toBeLessThanOrEqual(3);
  });
  it('a threshold is found exactly, in few steps', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { value, steps } = shrunk((x) => x <= 500, seed);
      expect(value).toBe(501);
      expect(steps).toBeLessThan(60);
    }
  });
  it('anything shrinks to 0 when the value does not matter', () => {
    expect(shrunk(() => false).value).toBe(0);
  });
});
