/**
 * Device clocks: offset from the real clock at run start, and drift.
 */
import fc from 'fast-check';

/**
 * Offset in ms: mostly well inside the skew window (within ±(window - 1 s),
 * i.e. ±9 s by default), sometimes within 1 s of its edge, sometimes beyond.
 * Shrinks towards 0.
 */
export function arbClockOffset(opts: { skewWindowSec?: number } = {}): fc.Arbitrary<number> {
  const w = Math.round((opts.skewWindowSec ?? 10) * 1000);
  const inside = Math.max(0, w - 1000);
  const signed = (mag: fc.Arbitrary<number>) => fc.tuple(fc.boolean(), mag).map(([neg, m]) => (neg ? -m : m));
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 8, arbitrary: fc.integer({ min: -inside, max: inside }) },
    { weight: 1, arbitrary: signed(fc.integer({ min: w - 1000, max: w + 1000 })) },
    { weight: 1, arbitrary: signed(fc.integer({ min: w + 1000, max: w * 6 })) },
  );
}

/** Drift in ms per real second: usually none, sometimes up to ±500 ms/s. */
export function arbDrift(): fc.Arbitrary<number> {
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 4, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -500, max: 500 }) },
  );
}
