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
 * Generated like the mix below; shrunk towards *simple* numbers (see
 * simplerFloats), never by bisecting the double's bit pattern.
 */
export function arbFloat(): fc.Arbitrary<number> {
  return new SimpleShrinkFloat(fc.oneof(
    { weight: 6, arbitrary: fc.double({ min: -1000, max: 1000, noNaN: true }) },
    { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_FLOATS) },
  ));
}

/**
 * Simpler numbers than v, simplest first: 0; |v|; ±1 (keeping the sign);
 * then v without its fraction and with fewer significant digits, or, for an
 * integer, integers closer to 0 (halving the distance). Every candidate is
 * strictly simpler, so shrinking ends.
 *
 * Why not fast-check's double shrinker: it bisects the bit pattern towards 0,
 * which takes ~60 accepted steps to go from 0.3 to 5e-324 whenever any
 * non-zero value keeps the failure (e.g. "differs from the other sample"),
 * and each step is a full execution against the live stack.
 */
export function* simplerFloats(v: number): Generator<number> {
  if (!Number.isFinite(v) || v === 0) return;
  const seen = new Set<number>([v]);
  const offer = function* (c: number): Generator<number> {
    if (Number.isFinite(c) && !seen.has(c)) { seen.add(c); yield c; }
  };
  yield* offer(0);
  if (v < 0) yield* offer(-v);
  const sign = Math.sign(v);
  // ±1 is simpler than any other magnitude, and than any fraction (4e-323 → 1).
  yield* offer(sign);
  // Huge magnitudes: jump to the square root's power of ten first (1e308 → 1e154 → … in a few steps).
  if (Math.abs(v) >= 100) yield* offer(sign * 10 ** Math.floor(Math.log10(Math.abs(v)) / 2));
  if (!Number.isInteger(v)) {
    yield* offer(Math.trunc(v));
    // Fewer significant digits: 0.123456 → 0.1, 0.12, …
    for (let digits = 1; digits < 17; digits++) {
      const c = Number(v.toPrecision(digits));
      if (c === v) break;
      yield* offer(c);
    }
  } else if (Math.abs(v) > 1) {
    // Towards 0 by halving distances: v/2, 3v/4, … v-1 (a threshold is found in log² steps).
    for (let d = Math.trunc(v / 2); d !== 0; d = Math.trunc(d / 2)) yield* offer(v - d);
  }
}

class SimpleShrinkFloat extends fc.Arbitrary<number> {
  constructor(private readonly inner: fc.Arbitrary<number>) {
    super();
  }
  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<number> {
    return new fc.Value(this.inner.generate(mrng, biasFactor).value, undefined);
  }
  canShrinkWithoutContext(value: unknown): value is number {
    return typeof value === 'number';
  }
  shrink(value: number): fc.Stream<fc.Value<number>> {
    return fc.stream(simplerFloats(value)).map((c) => new fc.Value(c, undefined));
  }
}
