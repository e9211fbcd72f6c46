import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nonEmptyArray, shrinkableArray } from './shrinkable';

/** Shrinks a failing list property; returns the counterexample and how many candidates the predicate saw. */
function shrinkWith(arb: fc.Arbitrary<number[]>, holds: (xs: number[]) => boolean, seed: number) {
  let calls = 0;
  const out = fc.check(fc.property(arb, (xs) => { calls++; return holds(xs); }), { seed, numRuns: 200 });
  return { out, calls };
}

describe('nonEmptyArray / shrinkableArray', () => {
  it('generates within the bounds', () => {
    fc.assert(fc.property(nonEmptyArray(fc.integer(), 5), (xs) => xs.length >= 1 && xs.length <= 5), { seed: 1 });
    fc.assert(fc.property(shrinkableArray(fc.integer(), 3), (xs) => xs.length <= 3), { seed: 1 });
    const lengths = new Set(fc.sample(nonEmptyArray(fc.integer(), 6), { numRuns: 300, seed: 2 }).map((xs) => xs.length));
    expect([...lengths].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('isolates a single culprit anywhere in the list, then shrinks it in place', () => {
    let found = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const { out } = shrinkWith(nonEmptyArray(fc.integer({ min: 0, max: 1000 }), 12), (xs) => xs.every((x) => x < 900), seed);
      if (!out.failed) continue;
      expect(out.counterexample![0]).toEqual([900]);
      found++;
    }
    expect(found).toBeGreaterThan(5);
  });

  it('keeps a pair that fails only together, and drops everything else', () => {
    let found = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const { out } = shrinkWith(nonEmptyArray(fc.integer({ min: 0, max: 20 }), 12), (xs) => !(xs.includes(3) && xs.includes(7)), seed);
      if (!out.failed) continue;
      expect([...out.counterexample![0]].sort((a, b) => a - b)).toEqual([3, 7]);
      found++;
    }
    expect(found).toBeGreaterThan(2);
  });

  it('never goes below the minimum length', () => {
    const { out } = shrinkWith(nonEmptyArray(fc.integer({ min: 0, max: 10 }), 8), () => false, 3);
    expect(out.counterexample![0]).toEqual([0]);
    const empty = shrinkWith(shrinkableArray(fc.integer({ min: 0, max: 10 }), 8), () => false, 3);
    expect(empty.out.counterexample![0]).toEqual([]);
  });

  it('drops innocent items before shrinking them (few accepted steps for a late culprit)', () => {
    // Culprit last: fast-check's own array shrinker first shrinks the innocent head item by item.
    const arb = fc.tuple(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 8, maxLength: 8 }), fc.constant(950)).map(([xs, c]) => [...xs, c]);
    const mine = fc.tuple(nonEmptyArray(fc.integer({ min: 1, max: 1000 }), 8), fc.constant(950)).map(([xs, c]) => [...xs, c]);
    const holds = (xs: number[]) => !xs.includes(950);
    const ours = fc.check(fc.property(mine, holds), { seed: 9 });
    const theirs = fc.check(fc.property(arb, holds), { seed: 9 });
    expect(ours.counterexample![0]).toEqual([1, 950]);
    expect(ours.numShrinks).toBeLessThan(theirs.numShrinks);
  });
});
