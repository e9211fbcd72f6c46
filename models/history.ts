/**
 * What a run observed: every request as sent and its outcome, every SSE event,
 * every store key seen. Plain JSON (it is written to case.json as is).
 *
 * Clock: every `*AtMs` is epoch milliseconds on the runner's clock (may be
 * fractional). The backend is assumed to share that clock up to
 * contract.skewUncertaintySec.
 */
import type { Contract } from './contract';
import { isPlainObject, tryParseJson } from './json';
import { pointKey, timestampToMs, type FieldName, type PointFields } from './payload';
import type { ApiKeyMode } from './plan';

export type Outcome =
  /** An HTTP reply (any status). `body` is the reply text. */
  | { kind: 'response'; status: number; body: string; atMs: number }
  /** Connection refused/reset etc.: outcome unknown. */
  | { kind: 'error'; error: string; atMs: number }
  /** No reply within the client timeout: outcome unknown. */
  | { kind: 'timeout'; atMs: number };

export interface RequestRecord {
  /** Unique per request: requestId(runId, planIndex). */
  id: string;
  planIndex: number;
  /** Catalogue label from the plan ('valid' or a hostile case name). */
  label: string;
  vehicle: number;
  plannedAtMs: number;
  /** When the request started going out. */
  sentAtMs: number;
  apiKey: ApiKeyMode;
  /** Content-Type sent, or null for none. */
  contentType: string | null;
  /** Exact body text sent. The model and the checker parse it themselves. */
  body: string;
  /** null: the runner never recorded an outcome (flagged as exactly_one_outcome). */
  outcome: Outcome | null;
  /**
   * Every try of this body, oldest first, when a publisher policy may resend
   * it (the last one is `sentAtMs`/`outcome`). Absent: one try.
   */
  attempts?: AttemptRecord[];
}

/** One try of a request's body. */
export interface AttemptRecord {
  sentAtMs: number;
  outcome: Outcome | null;
}

/** Why a publisher never sent a planned request. */
export type NeverSentReason =
  /** The vehicle was backing off after a failure (the Jetson drops the tick). */
  | 'backoff'
  /** The vehicle's previous request was still in flight (one at a time). */
  | 'busy'
  /** The vehicle's resend queue was full: the oldest unsent sample was dropped. */
  | 'queue_full'
  /** Still queued when the run's catch-up bound ended. */
  | 'run_ended'
  | 'aborted';

/** A planned request the publisher never sent: conservation counts it (sent + never sent = planned). */
export interface NeverSentRecord {
  id: string;
  planIndex: number;
  label: string;
  vehicle: number;
  plannedAtMs: number;
  reason: NeverSentReason;
  /** When it was given up. */
  atMs: number;
  /** The body it would have sent, when it was already made (a queued sample). */
  body?: string;
}

/**
 * What the backend itself reported about its writes (its log or metrics),
 * as evidence of where acknowledged samples went. `minTimeMs..maxTimeMs` is
 * the range of point times of the lines concerned, when known.
 */
export interface BackendEvent {
  atMs: number;
  kind:
    | 'write_ok'
    /** A write attempt failed and will be retried. */
    | 'write_retry'
    /** Lines given up after a failed attempt (see `reason`). */
    | 'write_dropped'
    /** Lines thrown out of a full retry buffer. */
    | 'buffer_overflow'
    /** Lines abandoned when the process shut down (retry buffer closed, final flush failed). */
    | 'abandoned_on_shutdown'
    /** The process ended (killed, crashed, restarted); its memory is gone. */
    | 'process_exit'
    | 'process_start';
  lines?: number;
  minTimeMs?: number;
  maxTimeMs?: number;
  /** write_dropped: retries_exhausted | max_retry_time | rejected; process_exit: kill | restart | crash. */
  reason?: string;
  detail?: string;
}

export interface SseClientRecord {
  clientId: string;
  /** When the stream's response headers arrived (events flow from then on). */
  connectedAtMs: number;
  disconnectedAtMs?: number;
}

/**
 * One `data:` event, as received. The runner keeps only this run's events:
 * it drops events whose vehicle_id is a string that neither starts with
 * runPrefix(runId) nor is an id the plan writes as it is (e.g. "").
 */
export interface SseEventRecord {
  clientId: string;
  atMs: number;
  data: string;
}

/**
 * One store key (vehicle_id + ms time), with the LAST field values read and
 * when the key was first seen by the probe.
 */
export interface StoreRecord {
  /** Tag value read back; null for a point that has no vehicle_id tag. */
  vehicleId: string | null;
  timeMs: number;
  fields: Record<string, number | string | boolean | null>;
  firstSeenAtMs: number;
  lastSeenAtMs?: number;
}

/** A fault injected during the run (for reports; the checker ignores it). */
export interface FaultRecord {
  kind: string;
  /** What it acted on (influx, ingest, backend, influxd), when known. */
  target?: string;
  startedAtMs: number;
  endedAtMs?: number;
  detail?: string;
}

export interface History {
  runId: string;
  startedAtMs: number;
  /** plan.requests.length: conservation compares it with what was sent. */
  plannedRequestCount: number;
  requests: RequestRecord[];
  sseClients: SseClientRecord[];
  sseEvents: SseEventRecord[];
  store: StoreRecord[];
  /** When the store probe stopped (run end + drain). */
  probeEndedAtMs: number;
  drainBoundMs: number;
  faults?: FaultRecord[];
  /** Planned requests a publisher policy never sent (see NeverSentRecord). */
  neverSent?: NeverSentRecord[];
  /** The backend's own account of its writes and restarts (chaos runs). */
  backendEvents?: BackendEvent[];
}

export function requestId(runId: string, planIndex: number): string {
  return `${runId}#${planIndex}`;
}

/** How a reply counts: Jepsen's ok / fail / info. */
export type OutcomeClass =
  /** 2xx: the backend promised to keep the sample. */
  | 'acknowledged'
  /** 4xx, or a 5xx the contract lists as a definite refusal: must not be stored. */
  | 'rejected'
  /** Timeout, connection error, other 5xx or odd status: may or may not be stored. */
  | 'unknown'
  /** No outcome recorded at all. */
  | 'none';

export function outcomeClass(outcome: Outcome | null, contract: Contract): OutcomeClass {
  if (outcome === null) return 'none';
  if (outcome.kind !== 'response') return 'unknown';
  const s = outcome.status;
  if (s >= 200 && s < 300) return 'acknowledged';
  if (s >= 400 && s < 500) return 'rejected';
  if (contract.definiteServerRejectStatuses.includes(s)) return 'rejected';
  return 'unknown';
}

export function isJsonContentType(contentType: string | null): boolean {
  if (contentType === null) return false;
  const media = contentType.split(';')[0]?.trim().toLowerCase();
  return media === 'application/json';
}

/** What the store would hold for a request, if it were stored. */
export interface Sample {
  vehicleId: string;
  timestampSec: number;
  timeMs: number;
  key: string;
  fields: PointFields;
  /** The parsed body (for SSE matching). */
  payload: Record<string, unknown>;
}

/**
 * The sample a request body describes: needs a JSON object body with a string
 * vehicle_id and a finite numeric timestamp. Lenient on purpose (content type
 * and validity are ignored): it attributes stored points to requests, it does
 * not judge them.
 */
export function sampleOf(body: string): Sample | undefined {
  const parsed = tryParseJson(body);
  if (!parsed.ok || !isPlainObject(parsed.value)) return undefined;
  const p = parsed.value;
  const vehicleId = p['vehicle_id'];
  const ts = p['timestamp'];
  if (typeof vehicleId !== 'string' || typeof ts !== 'number' || !Number.isFinite(ts)) return undefined;
  const timeMs = timestampToMs(ts);
  return { vehicleId, timestampSec: ts, timeMs, key: pointKey(vehicleId, timeMs), fields: numericFieldsOf(p), payload: p };
}

/** The float fields a payload would store, taking only numeric leaves. */
export function numericFieldsOf(p: Record<string, unknown>): PointFields {
  const f: PointFields = {};
  const put = (name: FieldName, v: unknown) => { if (typeof v === 'number') f[name] = v; };
  const pose = p['pose'];
  if (isPlainObject(pose)) { put('pose_x', pose['x']); put('pose_z', pose['z']); }
  const control = p['control'];
  if (isPlainObject(control)) { put('steering', control['steering']); put('throttle', control['throttle']); }
  return f;
}

/** Key of a stored point; null vehicle ids (untagged points) never match a sent key. */
export function storeKey(r: StoreRecord): string {
  return r.vehicleId === null ? `\u0001untagged\u0000${r.timeMs}` : pointKey(r.vehicleId, r.timeMs);
}
