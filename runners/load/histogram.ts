/**
 * Latency histograms: hdr-histogram-js recording MICROseconds (a loopback
 * reply is well under a millisecond), read back in milliseconds. Memory is
 * fixed whatever the request count, which is what keeps a soak bounded.
 */
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

export type { Histogram };

/** Percentiles in milliseconds; all 0 when count is 0. */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export function createHistogram(): Histogram {
  // 1 µs .. 1 h at 3 significant digits; autoResize covers anything longer.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(0, Math.round(ms * 1000)));
}

export function percentilesMs(h: Histogram): Percentiles {
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}

/** Percentiles of a plain list of millisecond values (for lag series computed after a run). */
export function percentilesOfMs(values: Iterable<number>): Percentiles {
  const h = createHistogram();
  for (const v of values) if (Number.isFinite(v)) recordMs(h, v);
  const p = percentilesMs(h);
  h.destroy();
  return p;
}
