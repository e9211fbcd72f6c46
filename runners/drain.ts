/**
 * When the drain after a run may stop: pure helpers for executePlan.
 *
 * The drain waits for the points the model expects. Two kinds of expected
 * point are not waited for, because waiting cannot change the verdict and
 * only makes every failing execution (and so every shrink step) slow:
 *  - a sample with no storable field (no pose, no control): no store can
 *    hold a point without fields, it is lost whatever happens;
 *  - a sample whose key is missing but whose millisecond shows up under
 *    another key of the run (a mangled or dropped vehicle_id tag): the
 *    checker pairs the two as corrupted.
 */
import type { Contract } from '../models/contract';
import type { History } from '../models/history';
import { expectedPoints } from '../models/model';
import { pointKey } from '../models/payload';

export interface AwaitedPoint {
  key: string;
  timeMs: number;
}

/** Expected points that some acknowledged sample can actually produce. */
export function awaitedPoints(history: History, contract: Contract): AwaitedPoint[] {
  return [...expectedPoints(history, contract).values()]
    .filter((p) => p.candidates.some((c) => Object.keys(c.fields).length > 0))
    .map((p) => ({ key: p.key, timeMs: p.timeMs }));
}

/** True once every awaited point is seen, or its millisecond is seen under a key nobody awaits. */
export function drainSettled(awaited: readonly AwaitedPoint[], seen: ReadonlyArray<{ vehicleId: string; timeMs: number }>): boolean {
  if (awaited.length === 0) return true;
  const awaitedKeys = new Set(awaited.map((a) => a.key));
  const seenKeys = new Set<string>();
  const strayMs = new Set<number>();
  for (const p of seen) {
    const k = pointKey(p.vehicleId, p.timeMs);
    seenKeys.add(k);
    if (!awaitedKeys.has(k)) strayMs.add(p.timeMs);
  }
  return awaited.every((a) => seenKeys.has(a.key) || strayMs.has(a.timeMs));
}
