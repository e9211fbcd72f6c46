/**
 * A plan: pure data saying what to send, to whom, and when. The runner turns
 * each PlannedRequest into exact bytes at send time with `materializeRequest`
 * (materialize.ts) and records those bytes in the history; the model and the
 * checker only ever read the history, never the plan.
 *
 * Timestamps. A plan cannot hold final timestamps: the contract judges
 * |server now - timestamp|, so a timestamp must be derived from the real send
 * time. A request therefore holds a *rule* (TimestampSpec); the runner applies
 * it at send time and records the resulting body verbatim.
 *
 * Run isolation. Vehicle ids are never stored in the plan: the runner rekeys
 * every execution with a fresh run id (`rekeyPlan`), and every vehicle id is
 * `runPrefix(runId) + "v<index>"`, e.g. `tp-k3x9q2-v0`. Hostile vehicle ids
 * keep that prefix and append the hostile part (`tp-k3x9q2-v0,a b=c"\n`), so
 * the probe can select a run's series in a shared bucket with the tag regex
 * `^tp-<runId>-` (the prefix is [a-z0-9-] only: safe in regexes and line
 * protocol). The only ids that cannot carry the prefix are the empty string
 * and non-strings; non-strings are always rejected, and an empty id ends up as
 * a point without a vehicle_id tag (the InfluxDB client drops empty tags). To
 * judge those the probe must also read untagged points, which is only safe in
 * a store of its own: `planNeedsFreshStore(plan)` says when the runner must
 * use a fresh database/bucket for the run.
 */
import type { ContractOverrides } from './contract';
import type { JsonObject, JsonValue } from './json';

/**
 * How the request authenticates: the real key, no header, or a wrong key:
 * `wrong` = the real key with a suffix, `truncated` = a proper prefix of it
 * (catches a key compared by prefix in either direction).
 */
export type ApiKeyMode = 'valid' | 'missing' | 'wrong' | 'truncated';

/** Where a `payload` body gets its `timestamp` from, decided at send time. */
export type TimestampSpec =
  /**
   * The vehicle's device clock at the moment of sending:
   * sendTime + clockOffsetMs + driftMsPerSec * secondsSinceRunStart + extraOffsetMs.
   * unit 's' (default) gives float seconds with microsecond resolution, as the
   * Jetson sends; 'ms' gives whole epoch milliseconds (a classic client bug).
   */
  | { kind: 'device'; extraOffsetMs?: number; unit?: 's' | 'ms' }
  /**
   * Reuse the timestamp actually sent by plan.requests[request] (an earlier
   * index). With `subMsUs` (1..999): same millisecond, different sub-ms part,
   * i.e. a distinct sample that lands on the same store key.
   * Falls back to 'device' if that request carried no numeric timestamp.
   */
  | { kind: 'sameAs'; request: number; subMsUs?: number }
  /** Leave `timestamp` exactly as written in the payload (or absent). */
  | { kind: 'asIs' };

/** Where a `payload` body gets its `vehicle_id` from. */
export type VehicleIdSpec =
  /** The vehicle's id: runPrefix(runId) + "v<index>". */
  | { kind: 'vehicle' }
  /** The vehicle's id with a (hostile) suffix appended: keeps the run prefix. */
  | { kind: 'suffix'; suffix: string }
  /** Leave `vehicle_id` exactly as written in the payload (wrong type, empty, absent). */
  | { kind: 'asIs' };

/** A numeric literal JSON.stringify cannot write, e.g. `1e309` (parses to Infinity). */
export interface RawNumber {
  /** Path of keys/indices inside the payload, e.g. ['pose', 'x']. */
  path: Array<string | number>;
  literal: string;
}

export type BodySpec =
  /** A telemetry object; vehicle_id and timestamp are filled at send time per their specs. */
  | {
      kind: 'payload';
      payload: JsonObject;
      vehicleId: VehicleIdSpec;
      timestamp: TimestampSpec;
      /** Literals spliced into the JSON text in place of the value at `path`. */
      rawNumbers?: RawNumber[];
      /** Adds a string field `_pad` of this many ASCII chars (to make bodies big cheaply). */
      padChars?: number;
    }
  /** Any JSON value sent as JSON.stringify(value) (arrays, scalars). */
  | { kind: 'json'; value: JsonValue }
  /** Text sent verbatim (not JSON, truncated JSON, empty body...). */
  | { kind: 'raw'; text: string };

export interface VehiclePlan {
  /** Device clock minus real clock at run start (ms). */
  clockOffsetMs: number;
  /** Clock drift (ms gained per real second); 0 for most vehicles. */
  driftMsPerSec: number;
  /** Nominal publish rate (Hz) and the jitter applied to each tick (ms); descriptive. */
  rateHz: number;
  jitterMs: number;
}

export interface PlannedRequest {
  /** Intended send time, ms after run start. Requests are sorted by it. */
  atMs: number;
  /** Index into plan.vehicles (whose clock and id the request uses). */
  vehicle: number;
  /** Catalogue name ('valid' or a hostile case name), for reports. */
  label: string;
  apiKey: ApiKeyMode;
  /** Content-Type header value, or null for no header. */
  contentType: string | null;
  body: BodySpec;
}

export interface Plan {
  /** [a-z0-9]{4,24}; the runner replaces it for every execution (rekeyPlan). */
  runId: string;
  /** fast-check seed that produced the plan, when known (for replay). */
  seed?: number;
  vehicles: VehiclePlan[];
  /** Flattened and sorted by atMs; `sameAs` references point to lower indices. */
  requests: PlannedRequest[];
  /** Contract overrides the run must be judged with. */
  contract?: ContractOverrides;
}

export const JSON_CONTENT_TYPE = 'application/json';

const RUN_ID_RE = /^[a-z0-9]{4,24}$/;

export function isValidRunId(runId: string): boolean {
  return RUN_ID_RE.test(runId);
}

/** Every vehicle id of the run starts with this. */
export function runPrefix(runId: string): string {
  return `tp-${runId}-`;
}

export function vehicleIdOf(runId: string, vehicle: number): string {
  return `${runPrefix(runId)}v${vehicle}`;
}

/** Same plan under another run id (ids are derived, so nothing else changes). */
export function rekeyPlan(plan: Plan, runId: string): Plan {
  if (!isValidRunId(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}`);
  return { ...plan, runId };
}

/**
 * True when some request may produce a point the run prefix cannot select
 * (a string vehicle_id written as-is that lacks the prefix, e.g. ""): the
 * runner must then give the run a fresh database/bucket and probe untagged
 * points too.
 */
export function planNeedsFreshStore(plan: Plan): boolean {
  const prefix = runPrefix(plan.runId);
  return plan.requests.some((r) => {
    if (r.body.kind !== 'payload' || r.body.vehicleId.kind !== 'asIs') return false;
    const id = r.body.payload['vehicle_id'];
    return typeof id === 'string' && !id.startsWith(prefix);
  });
}

/** Structural problems of a plan (empty when sound). */
export function validatePlan(plan: Plan): string[] {
  const problems: string[] = [];
  if (!isValidRunId(plan.runId)) problems.push(`invalid runId ${JSON.stringify(plan.runId)}`);
  if (plan.vehicles.length === 0) problems.push('no vehicles');
  plan.requests.forEach((r, i) => {
    if (!(r.vehicle >= 0 && r.vehicle < plan.vehicles.length)) problems.push(`request ${i}: no vehicle ${r.vehicle}`);
    if (!Number.isFinite(r.atMs) || r.atMs < 0) problems.push(`request ${i}: bad atMs ${r.atMs}`);
    const prev = plan.requests[i - 1];
    if (prev && prev.atMs > r.atMs) problems.push(`request ${i}: not sorted by atMs`);
    if (r.body.kind === 'payload' && r.body.timestamp.kind === 'sameAs') {
      const k = r.body.timestamp.request;
      if (!(Number.isInteger(k) && k >= 0 && k < i)) problems.push(`request ${i}: sameAs ${k} is not an earlier request`);
      const us = r.body.timestamp.subMsUs;
      if (us !== undefined && !(Number.isInteger(us) && us >= 1 && us <= 999)) problems.push(`request ${i}: subMsUs ${us} outside 1..999`);
    }
  });
  return problems;
}

/** Schedule length: last intended send time (ms after start). */
export function planDurationMs(plan: Plan): number {
  return plan.requests.reduce((m, r) => Math.max(m, r.atMs), 0);
}
