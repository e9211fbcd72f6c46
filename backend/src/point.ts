/**
 * The InfluxDB point the seed queues for a payload (contract step 4):
 * measurement `telemetry`, tag `vehicle_id`, time = new Date(timestamp * 1000)
 * (whole ms, truncated toward zero: equals timestampToMs), float fields
 * pose_x/pose_z when pose is present and steering/throttle when control is.
 *
 * What @influxdata/influxdb-client 1.35 then does, kept as-is (legacy mode
 * reproduces these, it does not fix them):
 *  - no fields (no pose and no control): toLineProtocol() returns undefined
 *    and WriteApi.writePoint() silently skips the point. The request still
 *    gets 200: an acknowledged sample that is never stored.
 *  - non-finite value (JSON 1e400 = Infinity): floatField() throws
 *    "invalid float value for field ..." -> the route answers 500.
 *  - empty vehicle_id: a tag with an empty value is omitted, so the point
 *    lands in the series without any vehicle_id tag.
 *  - the tag value is only escaped for ',', '=' and ' ': a vehicle_id ending
 *    in a backslash escapes the separator after it and produces an invalid
 *    line; InfluxDB then rejects the whole batch with 400 (not retried).
 *    A newline is written as the two characters '\' 'n'.
 */
import { Point } from '@influxdata/influxdb-client';
import { MEASUREMENT, VEHICLE_TAG, type TelemetryPayload } from '../../models/payload';
import { mutantFloat, mutantTimestampSec } from './mutants';

export function toPoint(payload: TelemetryPayload): Point {
  const point = new Point(MEASUREMENT)
    .tag(VEHICLE_TAG, payload.vehicle_id)
    .timestamp(new Date(mutantTimestampSec(payload.timestamp) * 1000));
  // Same truthiness as validatePayload and models' fieldsOf().
  if (payload.pose) point.floatField('pose_x', mutantFloat(payload.pose.x)).floatField('pose_z', mutantFloat(payload.pose.z));
  if (payload.control) {
    point.floatField('steering', mutantFloat(payload.control.steering)).floatField('throttle', mutantFloat(payload.control.throttle));
  }
  return point;
}

/** True when the client library will drop this point without a word. */
export function hasNoFields(point: Point): boolean {
  return Object.keys(point.fields).length === 0;
}
