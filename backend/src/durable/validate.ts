/**
 * Durable-mode validation: the legacy rules and messages (../validate.ts),
 * then the gaps closed. Each extra rule is a recommendation for the seed's
 * backend (see README.md in this folder):
 *
 *  1. vehicle_id must be storable as an InfluxDB tag, unchanged: not empty or
 *     blank, at most 256 characters, no control characters (line protocol has
 *     no way to write a newline in a tag), no lone UTF-16 surrogates, and no
 *     backslash before a space, comma, '=', '"' or at the end (line protocol
 *     cannot escape a backslash; the seed's client library writes such a line
 *     and InfluxDB rejects or mangles it).
 *  2. Numbers must be finite. JSON cannot spell NaN but 1e400 parses to
 *     Infinity: the seed answers 500 (pose/control) or a skew message ending
 *     in "Infinitys" (timestamp), or broadcasts null (elsewhere). Any
 *     non-finite number anywhere in the body is now a 400.
 *  3. A payload must carry a storable field (pose and/or control): the seed
 *     acknowledges such a payload with 200 and the client library then
 *     silently skips the point. Durable mode rejects it with 400 instead of
 *     inventing a presence field (the stored schema stays the seed's).
 *  4. pose and control, when present (truthy), must be objects whose values
 *     are finite numbers.
 * The body limit (413 beyond it) is configured in config.ts (BODY_LIMIT);
 * durable mode defaults it to 1 MB (mode.ts).
 */
import { fieldsOf, type TelemetryPayload } from '../../../models/payload';
import type { ValidateFn, ValidationResult } from '../interfaces';
import { DEFAULT_SKEW_WINDOW_SEC, MESSAGES, validatePayload } from '../validate';
import { tagValueProblem } from './lineProtocol';

export const MAX_VEHICLE_ID_LENGTH = 256;

export const DURABLE_MESSAGES = {
  timestampNotFinite: 'Missing or invalid timestamp: must be a finite number of seconds',
  pose: 'Invalid pose structure: x and z must be finite numbers',
  control: 'Invalid control structure: steering and throttle must be finite numbers',
  noStorableField: 'Payload has no storable field: send pose {x, z} and/or control {steering, throttle}',
} as const;

export function vehicleIdMessage(problem: string): string {
  return `Missing or invalid vehicle_id: ${problem}`;
}

export function nonFiniteMessage(path: string): string {
  return `Invalid number at ${path}: must be finite`;
}

export const REJECT_REASONS = [
  'not_object',
  'vehicle_id',
  'timestamp',
  'timestamp_skew',
  'pose',
  'control',
  'trajectory',
  'track',
  'non_finite',
  'no_storable_field',
  'other',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Why a vehicle_id cannot be stored unchanged, or null when it can. */
export function vehicleIdProblem(id: string): string | null {
  if (id.trim().length === 0) return 'must not be empty';
  if (id.length > MAX_VEHICLE_ID_LENGTH) return `must be at most ${MAX_VEHICLE_ID_LENGTH} characters`;
  const p = tagValueProblem(id);
  return p === null ? null : `cannot be stored (${p})`;
}

/** True when `value` holds a non-finite number (fast: no allocation on the common path). */
export function hasNonFinite(value: unknown, depth = 0): boolean {
  if (typeof value === 'number') return value - value !== 0; // NaN and +-Infinity
  if (typeof value !== 'object' || value === null || depth > 64) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const e: unknown = value[i];
      if (typeof e === 'number') {
        if (e - e !== 0) return true;
      } else if (Array.isArray(e) && e.length === 2 && typeof e[0] === 'number' && typeof e[1] === 'number') {
        // The common [x, z] pair, without a call.
        if (e[0] - e[0] !== 0 || e[1] - e[1] !== 0) return true;
      } else if (typeof e === 'object' && e !== null && hasNonFinite(e, depth + 1)) {
        return true;
      }
    }
    return false;
  }
  for (const key in value) {
    if (hasNonFinite((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

/** Path of the first non-finite number in `value` (depth-first), or null. */
export function findNonFinite(value: unknown, path = '', depth = 0): string | null {
  if (depth === 0 && !hasNonFinite(value)) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : path || '(body)';
  if (typeof value !== 'object' || value === null || depth > 64) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!hasNonFinite(value[i], depth + 1)) continue;
      return findNonFinite(value[i], `${path}[${i}]`, depth + 1);
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (!hasNonFinite(v, depth + 1)) continue;
    return findNonFinite(v, path ? `${path}.${key}` : key, depth + 1);
  }
  return null;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(message: string): ValidationResult {
  return { ok: false, status: 400, message };
}

export function validateDurable(body: unknown, nowSec: number, skewWindowSec: number = DEFAULT_SKEW_WINDOW_SEC): ValidationResult {
  const legacy = validatePayload(body, nowSec, skewWindowSec);
  if (!legacy.ok) {
    const ts = (body as { timestamp?: unknown } | null)?.timestamp;
    if (typeof ts === 'number' && !Number.isFinite(ts) && legacy.message.startsWith('Timestamp skew')) {
      return bad(DURABLE_MESSAGES.timestampNotFinite);
    }
    return legacy;
  }
  const p = legacy.payload as TelemetryPayload;
  if (!Number.isFinite(p.timestamp)) return bad(DURABLE_MESSAGES.timestampNotFinite);

  const idProblem = vehicleIdProblem(p.vehicle_id);
  if (idProblem !== null) return bad(vehicleIdMessage(idProblem));

  if (p.pose && (!isPlainObject(p.pose) || !Number.isFinite(p.pose.x) || !Number.isFinite(p.pose.z))) {
    return bad(DURABLE_MESSAGES.pose);
  }
  if (p.control && (!isPlainObject(p.control) || !Number.isFinite(p.control.steering) || !Number.isFinite(p.control.throttle))) {
    return bad(DURABLE_MESSAGES.control);
  }

  const nonFinite = findNonFinite(p);
  if (nonFinite !== null) return bad(nonFiniteMessage(nonFinite));

  if (Object.keys(fieldsOf(p)).length === 0) return bad(DURABLE_MESSAGES.noStorableField);

  return legacy;
}

/** Metric label for a validation message (legacy or durable). */
export function rejectReason(message: string): RejectReason {
  if (message === MESSAGES.notObject) return 'not_object';
  if (message.startsWith(MESSAGES.vehicleId)) return 'vehicle_id';
  if (message.startsWith(MESSAGES.timestamp)) return 'timestamp';
  if (message.startsWith('Timestamp skew')) return 'timestamp_skew';
  if (message.startsWith(MESSAGES.pose)) return 'pose';
  if (message.startsWith(MESSAGES.control)) return 'control';
  if (message.startsWith(MESSAGES.trajectory)) return 'trajectory';
  if (message.startsWith(MESSAGES.track)) return 'track';
  if (message.startsWith('Invalid number at')) return 'non_finite';
  if (message === DURABLE_MESSAGES.noStorableField) return 'no_storable_field';
  return 'other';
}

export interface RejectionCounter {
  counts: Map<RejectReason, number>;
}

/** The ValidateFn durable mode plugs into the app; counts rejections by reason. */
export function createDurableValidator(skewWindowSec: number, counter?: RejectionCounter): ValidateFn {
  return (body, nowSec) => {
    const r = validateDurable(body, nowSec, skewWindowSec);
    if (!r.ok && counter) {
      const reason = rejectReason(r.message);
      counter.counts.set(reason, (counter.counts.get(reason) ?? 0) + 1);
    }
    return r;
  };
}
