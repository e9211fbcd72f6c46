/**
 * InfluxDB line protocol for the durable mode, written by hand so that every
 * acknowledged sample becomes exactly one well-formed line:
 *
 *   telemetry,vehicle_id=<escaped> pose_x=<f>,pose_z=<f>,steering=<f>,throttle=<f> <ms>
 *
 * - measurement `telemetry`, tag `vehicle_id`, float fields as the contract
 *   says, time = timestampToMs(timestamp) (the sample's own clock, never the
 *   server's: rewriting the same line is then a no-op in InfluxDB, which makes
 *   at-least-once shipping idempotent);
 * - floats are written with String(n): the shortest text that round-trips
 *   (InfluxDB 1.6 parses 1e+21, 5e-324 and -0; checked against a real influxd);
 *   a float without a decimal point is still a float in line protocol (only
 *   an `i`/`u` suffix makes an integer);
 * - tag values escape ',', '=' and ' '. Line protocol has no escape for a
 *   backslash: one before ' ', ',', '=', '"' or at the end of the value cannot
 *   be stored faithfully, newlines cannot be stored at all. Durable validation
 *   rejects such vehicle_ids (see validate.ts, `vehicleIdProblem`).
 */
import { MEASUREMENT, VEHICLE_TAG, FIELD_NAMES, fieldsOf, timestampToMs, type TelemetryPayload } from '../../../models/payload';
import { mutantFloat, mutantTagEscapes, mutantTimestampSec } from '../mutants';

/** Escape a tag value (and tag key) for line protocol. */
export function escapeTagValue(value: string): string {
  return value.replace(mutantTagEscapes() ?? /[,= ]/g, (c) => `\\${c}`); // mutant zoo #13 (off by default)
}

/** Escape a measurement name. */
export function escapeMeasurement(value: string): string {
  return value.replace(/[, ]/g, (c) => `\\${c}`);
}

/**
 * Why a tag value cannot round-trip through line protocol (InfluxDB 1.x and
 * 2.x parsers), or null when it can.
 */
export function tagValueProblem(value: string): string | null {
  if (value.length === 0) return 'empty';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'contains control characters';
  // Lone UTF-16 surrogates would be written as U+FFFD: another value.
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)) {
    return 'contains invalid Unicode (lone surrogate)';
  }
  if (/\\([ ,="]|$)/.test(value)) return 'backslash before a space, comma, equals sign, quote or at the end';
  return null;
}

/** Format a finite float field value; throws on a non-finite one (a bug upstream). */
export function formatFloat(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`non-finite float field value: ${n}`);
  return String(n);
}

/**
 * The line for a validated payload, or null when the payload has no storable
 * field (durable validation rejects those before they get here).
 */
export function payloadToLine(payload: Pick<TelemetryPayload, 'vehicle_id' | 'timestamp' | 'pose' | 'control'>): string | null {
  const fields = fieldsOf(payload);
  const parts: string[] = [];
  for (const name of FIELD_NAMES) {
    const v = fields[name];
    if (v !== undefined) parts.push(`${name}=${formatFloat(mutantFloat(v))}`); // mutant zoo #5
  }
  if (parts.length === 0) return null;
  return `${escapeMeasurement(MEASUREMENT)},${VEHICLE_TAG}=${escapeTagValue(payload.vehicle_id)} ${parts.join(',')} ${timestampToMs(mutantTimestampSec(payload.timestamp))}`; // mutant zoo #4
}
