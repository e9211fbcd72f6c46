/**
 * Default Jetson-like payload builders. A builder is a PayloadFn the
 * publisher calls at the moment it sends: `(vehicleIndex, seq, intendedSendMs)`.
 *
 * Profiles (backend-contract.md, "The Jetson publisher"):
 *  - minimal: vehicle_id, timestamp, pose, control;
 *  - typical: + trajectory of 500 [x, z] pairs;
 *  - heavy:   + track {outer, inner} boundary polylines (large).
 *
 * `timestamp` is the device clock in float seconds (microsecond precision,
 * like Python's time.time()). The store keys a point by vehicle_id + whole
 * milliseconds, so two sends of one vehicle in the same millisecond would
 * overwrite each other and look like loss: the builder keeps each vehicle's
 * millisecond key strictly increasing.
 */
import { randomBytes } from 'node:crypto';
import { timestampToMs, type TelemetryPayload, type XZ } from '../../models/payload';
import { nowMs } from './clock';

export type PayloadProfile = 'minimal' | 'typical' | 'heavy';
export const PAYLOAD_PROFILES: readonly PayloadProfile[] = ['minimal', 'typical', 'heavy'];

export type PayloadFn = (vehicleIndex: number, seq: number, intendedSendMs: number) => object;

export interface JetsonPayloadOptions {
  profile: PayloadProfile;
  /** Makes keys unique to this run. Default: 6 random base-36 characters. */
  runTag?: string;
  /** Vehicle id for an index. Default: `tp-<runTag>-v<index>`. */
  vehicleId?: (vehicleIndex: number) => string;
  /**
   * Which time the device clock reads: 'actual' = when the send happens (what
   * a Jetson does), 'intended' = the scheduled slot (deterministic keys).
   */
  clock?: 'actual' | 'intended';
  /** Added to the device clock (simulates a Jetson whose clock is off). */
  clockOffsetMs?: number;
  /** Points in `trajectory` (typical, heavy). Default 500. */
  trajectoryPoints?: number;
  /** Points in each of track.outer / track.inner (heavy). Default 1500 (~75 kB body). */
  trackPoints?: number;
}

export function defaultRunTag(): string {
  return BigInt('0x' + randomBytes(5).toString('hex')).toString(36).slice(0, 6).padStart(6, '0');
}

/** Round to `d` decimals (SLAM poses do not need 17 digits; keeps bodies realistic). */
function round(v: number, d = 4): number {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}

/** Position on vehicle `i`'s closed loop at step `k` (a 20 m ellipse, one lap per 600 steps). */
function pathPoint(i: number, k: number): XZ {
  const a = (k / 600) * 2 * Math.PI + i;
  return [round(20 * Math.cos(a)), round(12 * Math.sin(a))];
}

function boundary(i: number, n: number, scale: number): XZ[] {
  const pts: XZ[] = [];
  for (let k = 0; k < n; k++) {
    const a = (k / n) * 2 * Math.PI + i;
    pts.push([round(scale * 20 * Math.cos(a)), round(scale * 12 * Math.sin(a))]);
  }
  return pts;
}

export function jetsonPayload(options: JetsonPayloadOptions): PayloadFn {
  const runTag = options.runTag ?? defaultRunTag();
  const idOf = options.vehicleId ?? ((i: number) => `tp-${runTag}-v${i}`);
  const clock = options.clock ?? 'actual';
  const offset = options.clockOffsetMs ?? 0;
  const trajN = options.trajectoryPoints ?? 500;
  const trackN = options.trackPoints ?? 1500;
  const lastMs = new Map<number, number>();
  // The track does not change during a run: build it once per vehicle.
  const tracks = new Map<number, { outer: XZ[]; inner: XZ[] }>();

  return (vehicleIndex, seq, intendedSendMs) => {
    const deviceMs = (clock === 'actual' ? nowMs() : intendedSendMs) + offset;
    let timestamp = Math.round(deviceMs * 1000) / 1e6;
    const prev = lastMs.get(vehicleIndex);
    if (prev !== undefined && timestampToMs(timestamp) <= prev) {
      // Middle of the next millisecond, so float rounding cannot pull it back.
      timestamp = (prev + 1.5) / 1000;
    }
    lastMs.set(vehicleIndex, timestampToMs(timestamp));

    const [x, z] = pathPoint(vehicleIndex, seq);
    const p: TelemetryPayload = {
      vehicle_id: idOf(vehicleIndex),
      timestamp,
      pose: { x, z },
      control: { steering: round(Math.sin(seq / 37 + vehicleIndex) * 0.5), throttle: round(0.3 + 0.2 * Math.cos(seq / 53)) },
    };
    if (options.profile === 'minimal') return p;

    const traj: XZ[] = new Array(trajN);
    for (let k = 0; k < trajN; k++) traj[k] = pathPoint(vehicleIndex, seq - trajN + 1 + k);
    p.trajectory = traj;
    if (options.profile === 'typical') return p;

    let track = tracks.get(vehicleIndex);
    if (!track) {
      track = { outer: boundary(vehicleIndex, trackN, 1.25), inner: boundary(vehicleIndex, trackN, 0.75) };
      tracks.set(vehicleIndex, track);
    }
    p.track = track;
    return p;
  };
}
