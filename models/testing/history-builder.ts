/**
 * Small builders for crafting histories in unit tests. Times are ms after T0.
 */
import type { History, Outcome, RequestRecord, SseEventRecord, StoreRecord } from '../history';
import { requestId } from '../history';
import { timestampToMs } from '../payload';
import type { ApiKeyMode } from '../plan';

export const T0 = 1_700_000_000_000;
export const RUN = 'testrun1';
export const VEHICLE = 'tp-testrun1-v0';

/** A valid payload object sent at `atMs` after T0 (timestamp = send time by default). */
export function payload(atMs: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { vehicle_id: VEHICLE, timestamp: (T0 + atMs) / 1000, pose: { x: 1.5, z: -2 }, control: { steering: 0.1, throttle: 0.5 }, ...over };
}

export type Reply = number | Outcome | null;

export interface ReqOptions {
  body?: unknown;
  sentAtMs?: number;
  /** Status (answered 2 ms after sending), a full outcome, or null for none. */
  reply?: Reply;
  replyBody?: string;
  apiKey?: ApiKeyMode;
  contentType?: string | null;
  label?: string;
  vehicle?: number;
}

const DEFAULT_REPLY_BODY: Record<number, string> = {
  200: '{"message":"Telemetry received"}',
  401: '{"message":"Unauthorized: Invalid or missing API Key"}',
  500: '{"message":"Internal Server Error"}',
};

/** Request `i`, sent at `sentAtMs` (default 100 * i) with a valid body unless given. */
export function req(i: number, o: ReqOptions = {}): RequestRecord {
  const sentAtMs = o.sentAtMs ?? 100 * i;
  const body = o.body === undefined ? JSON.stringify(payload(sentAtMs)) : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  const reply = o.reply === undefined ? 200 : o.reply;
  const outcome: Outcome | null = typeof reply === 'number'
    ? { kind: 'response', status: reply, body: o.replyBody ?? DEFAULT_REPLY_BODY[reply] ?? '{"message":"error"}', atMs: T0 + sentAtMs + 2 }
    : reply;
  return {
    id: requestId(RUN, i), planIndex: i, label: o.label ?? 'valid', vehicle: o.vehicle ?? 0,
    plannedAtMs: T0 + sentAtMs, sentAtMs: T0 + sentAtMs,
    apiKey: o.apiKey ?? 'valid', contentType: o.contentType === undefined ? 'application/json' : o.contentType,
    body, outcome,
  };
}

/** The store entry that holds a request's sample exactly, first seen `lagMs` after sending. */
export function storedFrom(r: RequestRecord, o: { lagMs?: number; fields?: StoreRecord['fields']; vehicleId?: string | null } = {}): StoreRecord {
  const p = JSON.parse(r.body) as { vehicle_id: string; timestamp: number; pose?: { x: number; z: number }; control?: { steering: number; throttle: number } };
  const fields: StoreRecord['fields'] = {};
  if (p.pose) { fields.pose_x = p.pose.x; fields.pose_z = p.pose.z; }
  if (p.control) { fields.steering = p.control.steering; fields.throttle = p.control.throttle; }
  return {
    vehicleId: o.vehicleId === undefined ? p.vehicle_id : o.vehicleId,
    timeMs: timestampToMs(p.timestamp),
    fields: o.fields ?? fields,
    firstSeenAtMs: r.sentAtMs + (o.lagMs ?? 100),
  };
}

/** The SSE event a backend would broadcast for a request, `afterMs` after sending. */
export function sseFrom(r: RequestRecord, clientId = 'c0', afterMs = 1): SseEventRecord {
  const p = JSON.parse(r.body) as Record<string, unknown>;
  return { clientId, atMs: r.sentAtMs + afterMs, data: JSON.stringify({ ...p, serverReceiveTime: (r.sentAtMs + afterMs) / 1000 }) };
}

export function history(requests: RequestRecord[], over: Partial<History> = {}): History {
  return {
    runId: RUN, startedAtMs: T0, plannedRequestCount: requests.length, requests,
    sseClients: [], sseEvents: [], store: [],
    probeEndedAtMs: T0 + Math.max(0, ...requests.map((r) => r.sentAtMs - T0)) + 10_000,
    drainBoundMs: 10_000,
    ...over,
  };
}

/** A clean history: every request acknowledged, stored exactly, delivered once to one SSE client. */
export function cleanHistory(n: number): History {
  const requests = Array.from({ length: n }, (_, i) => req(i));
  return history(requests, {
    store: requests.map((r) => storedFrom(r)),
    sseClients: [{ clientId: 'c0', connectedAtMs: T0 - 1000 }],
    sseEvents: requests.map((r) => sseFrom(r)),
  });
}
