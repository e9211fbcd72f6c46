/**
 * Floats as the Jetson may send them: mostly coordinates, sometimes any
 * finite double, sometimes a special value. Always finite: non-finite values
 * are a hostile case of their own (they cannot be written in JSON anyway).
 */
import fc from 'fast-check';

/** Zeros, the smallest and largest magnitudes, and their negatives. */
export const SPECIAL_FLOATS: readonly number[] = [
  0, -0, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, -2.2250738585072014e-308,
  1e-300, -1e-300, Number.EPSILON, 1e308, -1e308, Number.MAX_VALUE, -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0.1, 1 / 3,
];

/**
 * Cross-shrinking lets a failing huge or special value shrink into the
 * coordinate range and on to 0.
 */
export function arbFloat(): fc.Arbitrary<number> {
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 6, arbitrary: fc.double({ min: -1000, max: 1000, noNaN: true }) },
    { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_FLOATS) },
  );
}
