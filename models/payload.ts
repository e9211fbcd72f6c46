/**
 * The telemetry payload and the stored point, as the seed's contract
 * (backend-contract.md) defines them. Pure types and helpers, no I/O.
 */

export type XZ = [number, number];

export interface Pose { x: number; z: number }
export interface Control { steering: number; throttle: number }
export interface Track { outer?: XZ[]; inner?: XZ[] }

/** What the Jetson POSTs. Unknown extra fields are allowed and ignored. */
export interface TelemetryPayload {
  vehicle_id: string;
  /** Seconds since the epoch (float), the Jetson's wall clock. */
  timestamp: number;
  pose?: Pose;
  control?: Control;
  trajectory?: XZ[];
  track?: Track;
  [extra: string]: unknown;
}

/** The four float fields a point may carry. */
export const FIELD_NAMES = ['pose_x', 'pose_z', 'steering', 'throttle'] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
export type PointFields = Partial<Record<FieldName, number>>;

export const MEASUREMENT = 'telemetry';
export const VEHICLE_TAG = 'vehicle_id';

/** One point in the store: measurement `telemetry`, tag `vehicle_id`, ms time. */
export interface StoredPoint {
  vehicleId: string;
  timeMs: number;
  fields: PointFields;
}

/**
 * The contract converts `timestamp` (float seconds) to whole milliseconds the
 * way `new Date(timestamp * 1000)` does: truncation toward zero.
 */
export function timestampToMs(timestampSec: number): number {
  return Math.trunc(timestampSec * 1000);
}

/** Identity of a point in the store: series (vehicle_id) + millisecond time. */
export function pointKey(vehicleId: string, timeMs: number): string {
  return `${vehicleId}\u0000${timeMs}`;
}

/** The fields the contract stores for a payload (may be empty: then no point). */
export function fieldsOf(p: Pick<TelemetryPayload, 'pose' | 'control'>): PointFields {
  const f: PointFields = {};
  if (p.pose) { f.pose_x = p.pose.x; f.pose_z = p.pose.z; }
  if (p.control) { f.steering = p.control.steering; f.throttle = p.control.throttle; }
  return f;
}
