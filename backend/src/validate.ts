/**
 * Legacy payload validation: the seed's rules, messages and order exactly
 * (backend-contract.md, "POST /api/v1/telemetry" step 2). First failure wins.
 *
 * This is written the way a typical JavaScript controller implements that
 * contract, and its quirks are kept on purpose because the framework must
 * judge the real behaviour, not an idealised one:
 *  - `typeof x !== 'number'` is the only number check, so NaN and ±Infinity
 *    pass it. JSON cannot carry NaN, but it can carry 1e400 (= Infinity):
 *    an infinite `timestamp` then fails the skew check ("Infinitys"), while
 *    an infinite pose/control value passes here and makes the point builder
 *    throw (route answers 500). A NaN timestamp (only reachable by calling
 *    this function directly) passes the skew check, since NaN > 10 is false.
 *  - `typeof [] === 'object'`, so an array body passes the object check and
 *    fails on vehicle_id instead.
 *  - an empty `vehicle_id` passes (the stored point then has no tag at all).
 *  - "present" means truthy for pose, control, trajectory, track.outer and
 *    track.inner (`if (payload.pose && ...)`), so `pose: null`, `trajectory: 0`
 *    or `track: "x"` are accepted; fieldsOf() in models/payload.ts uses the
 *    same truthiness, so such a payload stores no fields from that part.
 *  - unknown extra fields are accepted and kept (they are broadcast on SSE).
 */
import type { TelemetryPayload } from '../../models/payload';
import type { ValidationResult } from './interfaces';
import { mutantSkewSlackSec } from './mutants';

export const DEFAULT_SKEW_WINDOW_SEC = 10;

export const MESSAGES = {
  notObject: 'Payload must be an object',
  vehicleId: 'Missing or invalid vehicle_id',
  timestamp: 'Missing or invalid timestamp',
  pose: 'Invalid pose structure',
  control: 'Invalid control structure',
  trajectory: 'Invalid trajectory format',
  track: 'Invalid track outer/inner boundary',
} as const;

export function skewMessage(skewSec: number): string {
  // toFixed(2): 10.004 is rejected but printed "10.00s"; Infinity prints "Infinitys".
  return `Timestamp skew too large: ${skewSec.toFixed(2)}s`;
}

function reject(message: string): ValidationResult {
  return { ok: false, status: 400, message };
}

/**
 * @param body    the parsed JSON body (whatever express.json() produced)
 * @param nowSec  the server clock, seconds since the epoch (float)
 * @param skewWindowSec  |now - timestamp| strictly above this is rejected
 */
export function validatePayload(
  body: unknown,
  nowSec: number,
  skewWindowSec: number = DEFAULT_SKEW_WINDOW_SEC,
): ValidationResult {
  // null is excluded explicitly (typeof null === 'object'); arrays are not.
  if (typeof body !== 'object' || body === null) return reject(MESSAGES.notObject);
  const p = body as Record<string, unknown>;

  if (typeof p.vehicle_id !== 'string') return reject(MESSAGES.vehicleId);
  if (typeof p.timestamp !== 'number') return reject(MESSAGES.timestamp);

  const skew = Math.abs(nowSec - p.timestamp);
  // Strictly greater: a skew of exactly the window passes.
  if (skew > skewWindowSec + mutantSkewSlackSec()) return reject(skewMessage(skew));

  const pose = p.pose as Record<string, unknown> | undefined;
  if (pose && (typeof pose.x !== 'number' || typeof pose.z !== 'number')) return reject(MESSAGES.pose);

  const control = p.control as Record<string, unknown> | undefined;
  if (control && (typeof control.steering !== 'number' || typeof control.throttle !== 'number')) {
    return reject(MESSAGES.control);
  }

  if (p.trajectory && !Array.isArray(p.trajectory)) return reject(MESSAGES.trajectory);

  const track = p.track as Record<string, unknown> | undefined;
  if (track && ((track.outer && !Array.isArray(track.outer)) || (track.inner && !Array.isArray(track.inner)))) {
    return reject(MESSAGES.track);
  }

  return { ok: true, payload: p as TelemetryPayload };
}
