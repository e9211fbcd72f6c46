/**
 * Publish schedules: a rate (1–200 Hz), jitter, and ticks each carrying a
 * burst of one or more requests sent back to back.
 */
import fc from 'fast-check';

export interface Schedule {
  rateHz: number;
  /** Jitter as a percentage of the period (0–40 %, so ticks never reorder). */
  jitterPct: number;
  /** Delay of the vehicle's first tick after run start (ms). */
  startDelayMs: number;
}

export function arbSchedule(opts: { maxRateHz?: number } = {}): fc.Arbitrary<Schedule> {
  const maxRate = Math.max(1, Math.min(200, opts.maxRateHz ?? 200));
  return fc.record({
    // Shrinks towards 1 Hz; the Jetson's usual rates come up often.
    rateHz: fc.oneof(
      { withCrossShrink: true },
      fc.integer({ min: 1, max: maxRate }),
      fc.constantFrom(...[1, 10, 20, 50, 100, 200].filter((r) => r <= maxRate)),
    ),
    jitterPct: fc.integer({ min: 0, max: 40 }),
    startDelayMs: fc.integer({ min: 0, max: 500 }),
  });
}

export function periodMs(s: Schedule): number {
  return 1000 / s.rateHz;
}

/** Planned time of tick k (ms after run start); jitterPerMille in [-1000, 1000]. */
export function tickAtMs(s: Schedule, k: number, jitterPerMille: number): number {
  const p = periodMs(s);
  const jitter = ((p * s.jitterPct) / 100) * (jitterPerMille / 1000);
  return Math.max(0, Math.round(s.startDelayMs + k * p + jitter));
}
