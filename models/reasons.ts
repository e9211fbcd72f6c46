/**
 * Reason classes the model gives for a refusal, and the seed backend's exact
 * reply messages (backend-contract.md).
 */

export type Reason =
  // Definite refusals.
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'malformed_json'
  | 'unauthorized'
  | 'not_object'
  | 'invalid_vehicle_id'
  | 'invalid_timestamp'
  | 'timestamp_skew'
  | 'invalid_pose'
  | 'invalid_control'
  | 'invalid_trajectory'
  | 'invalid_track'
  /** A number that cannot be stored (only reachable with literals like 1e309). */
  | 'non_finite_number'
  // Cases where refusing and accepting-and-storing are both acceptable.
  /** Timestamp within skewUncertaintySec of the skew window edge. */
  | 'skew_boundary'
  /** Body above both the backend limit and the realistic-size floor. */
  | 'beyond_realistic_size'
  /** "" (or only blanks) passes the seed's validation but cannot be a tag value. */
  | 'empty_vehicle_id'
  /**
   * A vehicle_id line protocol cannot carry unchanged (control characters,
   * lone surrogates, a backslash): refusing it is as right as storing it exactly.
   */
  | 'unstorable_vehicle_id'
  /** A vehicle_id longer than contract.vehicleIdFloorChars. */
  | 'long_vehicle_id'
  /** Neither pose nor control: nothing to store. Accepting means storing anyway. */
  | 'no_storable_fields'
  /** An optional structure given as null (pose, control, trajectory, track, outer, inner). */
  | 'null_optional'
  /**
   * An optional structure given as false, 0 or "": a typical JS implementation
   * (`if (payload.pose && …)`) treats it as absent and accepts; the contract's
   * literal reading ("present and not a structure") refuses. Both are fine.
   */
  | 'falsy_optional'
  /** `track` present but not an object: the seed ignores it, a stricter backend may refuse. */
  | 'non_object_track'
  /** Same store key as an earlier sample that may be stored. */
  | 'duplicate_key';

export type MessageExpectation = { exact: string[] } | { prefix: string };

export const MESSAGES = {
  unauthorized: 'Unauthorized: Invalid or missing API Key',
  notObject: 'Payload must be an object',
  invalidVehicleId: 'Missing or invalid vehicle_id',
  invalidTimestamp: 'Missing or invalid timestamp',
  skewPrefix: 'Timestamp skew too large: ',
  invalidPose: 'Invalid pose structure',
  invalidControl: 'Invalid control structure',
  invalidTrajectory: 'Invalid trajectory format',
  // The seed wording covers both sides; accept per-side wording too.
  invalidTrack: ['Invalid track outer/inner boundary', 'Invalid track outer boundary', 'Invalid track inner boundary'],
  accepted: 'Telemetry received',
  internal: 'Internal Server Error',
} as const;

/**
 * An exact seed message matches itself, or itself followed by ": " and a
 * detail (a backend may explain more, e.g. "Missing or invalid timestamp:
 * must be a finite number of seconds"); clients keying on the seed's words
 * still recognise it.
 */
export function messageMatches(expect: MessageExpectation, message: string): boolean {
  if ('prefix' in expect) return message.startsWith(expect.prefix);
  return expect.exact.some((m) => message === m || message.startsWith(`${m}: `));
}
