/**
 * Telling a run's own store points from other runs' in a shared database.
 * Tagged points carry the run prefix (the probe selects them by it). Points
 * stored without a vehicle_id tag (an empty id) carry nothing: a run owns one
 * only if it is new since the run started and sits on the millisecond of a
 * sample the run sent. Pure.
 */
import type { ObservedPoint } from './influxProbe';

export function ownPoints<P extends Pick<ObservedPoint, 'vehicleId' | 'timeMs'>>(
  points: readonly P[],
  untaggedBeforeMs: ReadonlySet<number>,
  sentMs: ReadonlySet<number>,
): P[] {
  return points.filter((p) => p.vehicleId !== '' || (!untaggedBeforeMs.has(p.timeMs) && sentMs.has(p.timeMs)));
}
