/**
 * Turns one PlannedRequest into the exact request to send, at send time.
 * Pure: the caller passes the clock readings; the runner records the returned
 * body verbatim in the history.
 */
import { utf8ByteLength, type JsonObject, type JsonValue } from './json';
import { timestampToMs } from './payload';
import { vehicleIdOf, type ApiKeyMode, type Plan, type TimestampSpec, type VehiclePlan } from './plan';

export interface SendContext {
  /** Epoch ms of the run's time origin (request i is planned at runStartMs + atMs). */
  runStartMs: number;
  /** Epoch ms at which this request is being sent (may be fractional). */
  sendTimeMs: number;
  /**
   * Numeric timestamps already sent, by plan index (see
   * MaterializedRequest.timestampSec): needed by `sameAs` rules.
   */
  sentTimestamps: ReadonlyMap<number, number>;
}

export interface MaterializedRequest {
  planIndex: number;
  label: string;
  vehicle: number;
  apiKey: ApiKeyMode;
  contentType: string | null;
  /** Exact body text to send (UTF-8 on the wire). */
  body: string;
  bodyBytes: number;
  /** The numeric `timestamp` the body carries, if any: store it in sentTimestamps. */
  timestampSec?: number;
}

/** The vehicle's device clock (epoch ms) when the real clock reads sendTimeMs. */
export function deviceTimeMs(v: VehiclePlan, runStartMs: number, sendTimeMs: number, extraOffsetMs = 0): number {
  return sendTimeMs + v.clockOffsetMs + (v.driftMsPerSec * (sendTimeMs - runStartMs)) / 1000 + extraOffsetMs;
}

/** Header value for a key mode; undefined means "send no header". */
export function apiKeyHeaderValue(mode: ApiKeyMode, validKey: string): string | undefined {
  switch (mode) {
    case 'valid': return validKey;
    case 'missing': return undefined;
    case 'wrong': return `${validKey}-wrong`;
    // A proper prefix (never the key itself): half of it, '' for a one-character key.
    case 'truncated': return validKey.slice(0, Math.floor(validKey.length / 2));
  }
}

export function materializeRequest(plan: Plan, index: number, ctx: SendContext): MaterializedRequest {
  const req = plan.requests[index];
  if (!req) throw new Error(`plan has no request ${index}`);
  const base = {
    planIndex: index, label: req.label, vehicle: req.vehicle,
    apiKey: req.apiKey, contentType: req.contentType,
  };
  const spec = req.body;
  if (spec.kind === 'raw') return { ...base, body: spec.text, bodyBytes: utf8ByteLength(spec.text) };
  if (spec.kind === 'json') {
    const text = JSON.stringify(spec.value);
    return { ...base, body: text, bodyBytes: utf8ByteLength(text) };
  }

  const vehicle = plan.vehicles[req.vehicle];
  if (!vehicle) throw new Error(`request ${index} names missing vehicle ${req.vehicle}`);
  const { vehicle_id: writtenId, timestamp: writtenTs, ...rest } = spec.payload;

  // Key order as the Jetson writes it: vehicle_id, timestamp, then the rest.
  const out: JsonObject = {};
  const vid = spec.vehicleId;
  if (vid.kind === 'vehicle') out.vehicle_id = vehicleIdOf(plan.runId, req.vehicle);
  else if (vid.kind === 'suffix') out.vehicle_id = vehicleIdOf(plan.runId, req.vehicle) + vid.suffix;
  else if (writtenId !== undefined) out.vehicle_id = writtenId;

  const ts = spec.timestamp.kind === 'asIs'
    ? writtenTs
    : resolveTimestamp(spec.timestamp, vehicle, ctx);
  if (ts !== undefined) out.timestamp = ts;
  // defineProperty, not assignment: a hostile key like "__proto__" must stay a plain field.
  for (const [k, v] of Object.entries(rest)) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  if (spec.padChars !== undefined && spec.padChars > 0) out._pad = 'x'.repeat(spec.padChars);

  let text: string;
  if (spec.rawNumbers && spec.rawNumbers.length > 0) {
    const withMarks = structuredClone(out);
    spec.rawNumbers.forEach((r, i) => setAtPath(withMarks, r.path, rawMark(i)));
    text = JSON.stringify(withMarks);
    spec.rawNumbers.forEach((r, i) => { text = text.replace(JSON.stringify(rawMark(i)), r.literal); });
  } else {
    text = JSON.stringify(out);
  }
  const sentTs = spec.rawNumbers?.some((r) => r.path.length === 1 && r.path[0] === 'timestamp') ? undefined : out.timestamp;
  return {
    ...base, body: text, bodyBytes: utf8ByteLength(text),
    ...(typeof sentTs === 'number' ? { timestampSec: sentTs } : {}),
  };
}

function resolveTimestamp(spec: Exclude<TimestampSpec, { kind: 'asIs' }>, v: VehiclePlan, ctx: SendContext): number {
  if (spec.kind === 'sameAs') {
    const earlier = ctx.sentTimestamps.get(spec.request);
    if (earlier !== undefined && Number.isFinite(earlier)) {
      return spec.subMsUs === undefined ? earlier : sameMillisecond(earlier, spec.subMsUs);
    }
    return resolveTimestamp({ kind: 'device' }, v, ctx);
  }
  const ms = deviceTimeMs(v, ctx.runStartMs, ctx.sendTimeMs, spec.extraOffsetMs ?? 0);
  // Microsecond resolution, like the Jetson's time.time(); or whole ms for 'ms'.
  return spec.unit === 'ms' ? Math.round(ms) : Math.round(ms * 1000) / 1e6;
}

/**
 * A timestamp in the same store millisecond as `ts` but with another sub-ms
 * part. Float arithmetic can land one ms off, so nudge until it does not.
 */
export function sameMillisecond(ts: number, subMsUs: number): number {
  const ms = timestampToMs(ts);
  for (const us of [subMsUs, 500, 250, 750, 100, 900]) {
    const cand = (ms * 1000 + us) / 1e6;
    if (timestampToMs(cand) === ms && cand !== ts) return cand;
  }
  return ts;
}

function rawMark(i: number): string {
  return `\u0000tp-raw-${i}\u0000`;
}

function setAtPath(root: JsonObject, path: Array<string | number>, value: JsonValue): void {
  if (path.length === 0) return;
  let node: JsonValue = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i] as string | number;
    const container = node as Record<string | number, JsonValue>;
    const next = container[k];
    if (typeof next !== 'object' || next === null) {
      container[k] = typeof path[i + 1] === 'number' ? [] : {};
    }
    node = container[k] as JsonValue;
  }
  (node as Record<string | number, JsonValue>)[path[path.length - 1] as string | number] = value;
}

