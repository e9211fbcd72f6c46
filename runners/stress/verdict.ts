/**
 * Does a rate pass? (find-max-rate). A rate is reliable only if every
 * acknowledged sample was stored within the lag bound, nothing was refused
 * or failed, p99 latency met the SLO, storage lag stayed bounded and did not
 * grow during the hold, and the load generator kept its schedule (otherwise
 * the figures describe the tool, not the backend).
 */
import type { RunReport } from '../../reports/writers/runReport';

export interface RateCriteria {
  /** p99 request latency (coordinated-omission corrected) must be ≤ this (ms). */
  latencyP99Ms: number;
  /** send→stored lag p99 must be ≤ this (ms): the contract's lag bound. */
  lagBoundMs: number;
  /** Per-second lag p99 may not grow faster than this over the hold (ms per second). */
  lagGrowthMsPerSec: number;
}

export const DEFAULT_RATE_CRITERIA: RateCriteria = { latencyP99Ms: 200, lagBoundMs: 5000, lagGrowthMsPerSec: 100 };

export interface StepVerdict {
  pass: boolean;
  /** One short sentence per failed criterion. */
  failures: string[];
  lagSlopeMsPerSec: number | null;
}

/** Least-squares slope of (x seconds, y ms) in ms per second; null for < 3 points. */
export function slopePerSecond(points: ReadonlyArray<readonly [number, number]>): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const [x, y] of points) { sx += x; sy += y; sxx += x * x; sxy += x * y; }
  const den = n * sxx - sx * sx;
  return den === 0 ? null : (n * sxy - sx * sy) / den;
}

/** Slope of the per-second lag p99, skipping the first `skipSec` seconds (start-up). */
export function lagSlope(r: RunReport, skipSec = 2): number | null {
  const pts = r.series
    .map((s, i) => [i, s.lagP99Ms] as const)
    .filter((p): p is readonly [number, number] => p[0] >= skipSec && p[1] !== null);
  return slopePerSecond(pts);
}

const list = (rec: Record<string, number>): string => Object.entries(rec).filter(([, v]) => v > 0).map(([k, v]) => `${k}: ${v}`).join(', ');

export function judgeRateStep(r: RunReport, c: RateCriteria = DEFAULT_RATE_CRITERIA): StepVerdict {
  const failures: string[] = [];
  if (r.infraErrors.length > 0) failures.push(`infrastructure error: ${r.infraErrors[0]}`);
  const loss = r.loss;
  if (!loss) failures.push('storage was not measured');
  else {
    if (loss.byStage.acknowledgedNotStored > 0) failures.push(`${loss.byStage.acknowledgedNotStored} of ${r.totals.acknowledged} acknowledged samples were not stored within the drain bound`);
    if (loss.byStage.neverSent > 0) failures.push(`${loss.byStage.neverSent} scheduled samples were never sent`);
  }
  const non2xx = Object.values(r.totals.non2xxByStatus).reduce((a, b) => a + b, 0);
  if (non2xx > 0) failures.push(`${non2xx} non-2xx replies (${list(r.totals.non2xxByStatus)})`);
  const errors = Object.values(r.totals.errorsByClass).reduce((a, b) => a + b, 0);
  if (errors > 0) failures.push(`${errors} requests failed without a reply (${list(r.totals.errorsByClass)})`);
  if (r.latency.corrected.p99 > c.latencyP99Ms) failures.push(`p99 latency ${r.latency.corrected.p99.toFixed(1)} ms > SLO ${c.latencyP99Ms} ms`);
  const lag = r.lag.sendToStored;
  if (lag && lag.count > 0 && lag.p99 > c.lagBoundMs) failures.push(`storage lag p99 ${Math.round(lag.p99)} ms > bound ${c.lagBoundMs} ms`);
  const slope = lagSlope(r);
  if (slope !== null && slope > c.lagGrowthMsPerSec) failures.push(`storage lag growing by ${Math.round(slope)} ms every second of the hold (limit ${c.lagGrowthMsPerSec})`);
  if (r.publisher.bottleneck) failures.push(`the load generator did not keep up: ${r.publisher.reasons.join('; ')}`);
  return { pass: failures.length === 0, failures, lagSlopeMsPerSec: slope === null ? null : Math.round(slope * 10) / 10 };
}
