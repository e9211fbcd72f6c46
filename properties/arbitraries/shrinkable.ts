/**
 * Array helpers that shrink well.
 *
 * fast-check 4 cannot drop the tail of an array generated with minLength 1
 * while keeping its head (its length shrinker never goes below minLength, also
 * for the tail), so `[culprit, innocent]` would never shrink to `[culprit]`.
 * Generating from minLength 0 and filtering out the empty array keeps the
 * "at least one" guarantee and lets the shrinker drop any element.
 */
import fc from 'fast-check';

export function nonEmptyArray<T>(arb: fc.Arbitrary<T>, maxLength: number): fc.Arbitrary<T[]> {
  return fc.array(arb, { maxLength: Math.max(1, maxLength) }).filter((xs) => xs.length > 0);
}
