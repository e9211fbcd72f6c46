/**
 * A pure, in-memory imitation of the seed backend (backend-contract.md) and
 * its InfluxDB, for unit tests of the whole pure pipeline: plan → history →
 * verdict, and of shrinking. Not a backend: it models only what the tests
 * need (validation, the client library's point building, batching by flush
 * interval, field merging on equal keys, SSE to connected clients).
 */
import { isJsonContentType, requestId, type History, type RequestRecord, type SseEventRecord, type StoreRecord } from '../history';
import { isPlainObject, parseJsonBodyStrict, utf8ByteLength } from '../json';
import { materializeRequest } from '../materialize';
import { pointKey, timestampToMs } from '../payload';
import type { Plan } from '../plan';

export interface LegacySimOptions {
  startMs?: number;
  /** 0: a point is written `writeLatencyMs` after the request; else at the next flush tick. */
  flushIntervalMs?: number;
  writeLatencyMs?: number;
  networkMs?: number;
  probePollMs?: number;
  drainBoundMs?: number;
  sseClients?: number;
  bodyLimitBytes?: number;
}

interface Pending { vehicleId: string | null; timeMs: number; fields: Record<string, number>; writtenAtMs: number }

export function simulateLegacy(plan: Plan, o: LegacySimOptions = {}): History {
  const start = o.startMs ?? 1_700_000_000_000;
  const net = o.networkMs ?? 2;
  const limit = o.bodyLimitBytes ?? 100 * 1024;
  const flush = o.flushIntervalMs ?? 0;
  const poll = o.probePollMs ?? 100;
  const drain = o.drainBoundMs ?? 5000;
  const clients = Array.from({ length: o.sseClients ?? 1 }, (_, i) => ({ clientId: `c${i}`, connectedAtMs: start - 500 }));
  const sentTimestamps = new Map<number, number>();
  const requests: RequestRecord[] = [];
  const events: SseEventRecord[] = [];
  const writes: Pending[] = [];

  plan.requests.forEach((pr, i) => {
    const sentAtMs = start + pr.atMs + i * 0.01;
    const m = materializeRequest(plan, i, { runStartMs: start, sendTimeMs: sentAtMs, sentTimestamps });
    if (m.timestampSec !== undefined) sentTimestamps.set(i, m.timestampSec);
    const recvAt = sentAtMs + net;
    const reply = (status: number, body: string) => ({ kind: 'response' as const, status, body, atMs: recvAt + 1 + net });
    const json = (message: string) => JSON.stringify({ message });
    const outcome = (() => {
      let body: unknown = {};
      if (isJsonContentType(m.contentType)) {
        if (utf8ByteLength(m.body) > limit) return reply(413, '<pre>PayloadTooLargeError: request entity too large</pre>');
        const parsed = parseJsonBodyStrict(m.body);
        if (!parsed.ok) return reply(400, '<pre>SyntaxError</pre>');
        body = parsed.value;
      }
      if (m.apiKey !== 'valid') return reply(401, json('Unauthorized: Invalid or missing API Key'));
      if (typeof body !== 'object' || body === null) return reply(400, json('Payload must be an object'));
      const p = body as Record<string, unknown>;
      if (typeof p.vehicle_id !== 'string') return reply(400, json('Missing or invalid vehicle_id'));
      if (typeof p.timestamp !== 'number') return reply(400, json('Missing or invalid timestamp'));
      const skew = Math.abs(recvAt / 1000 - p.timestamp);
      if (!(skew <= 10)) return reply(400, json(`Timestamp skew too large: ${skew.toFixed(2)}s`));
      const pose = p.pose as Record<string, unknown> | undefined | null;
      if (pose !== undefined && (typeof pose?.x !== 'number' || typeof pose?.z !== 'number')) return reply(400, json('Invalid pose structure'));
      const control = p.control as Record<string, unknown> | undefined | null;
      if (control !== undefined && (typeof control?.steering !== 'number' || typeof control?.throttle !== 'number')) return reply(400, json('Invalid control structure'));
      if (p.trajectory !== undefined && !Array.isArray(p.trajectory)) return reply(400, json('Invalid trajectory format'));
      const track = p.track as Record<string, unknown> | undefined;
      if (isPlainObject(track) && ((track.outer !== undefined && !Array.isArray(track.outer)) || (track.inner !== undefined && !Array.isArray(track.inner)))) {
        return reply(400, json('Invalid track outer/inner boundary'));
      }
      // The client library: floatField throws on non-finite values.
      const fields: Record<string, number> = {};
      const put = (name: string, v: unknown) => { if (!Number.isFinite(v)) throw new Error(`invalid float value for field '${name}'`); fields[name] = v as number; };
      try {
        if (pose) { put('pose_x', pose.x); put('pose_z', pose.z); }
        if (control) { put('steering', control.steering); put('throttle', control.throttle); }
      } catch {
        return reply(500, json('Internal Server Error'));
      }
      // Empty tags are dropped; \n \r \t are escaped by the client and come back literally.
      const tag = p.vehicle_id === '' ? null : p.vehicle_id.replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
      const queuedAt = recvAt;
      const writtenAtMs = flush === 0 ? queuedAt + (o.writeLatencyMs ?? 50) : Math.ceil((queuedAt - start + 1) / flush) * flush + start;
      // A point without fields is silently skipped by the client.
      if (Object.keys(fields).length > 0) writes.push({ vehicleId: tag, timeMs: timestampToMs(p.timestamp), fields, writtenAtMs });
      for (const c of clients) events.push({ clientId: c.clientId, atMs: recvAt + 0.5, data: JSON.stringify({ ...p, serverReceiveTime: recvAt / 1000 }) });
      return reply(200, json('Telemetry received'));
    })();
    requests.push({
      id: requestId(plan.runId, i), planIndex: i, label: pr.label, vehicle: pr.vehicle,
      plannedAtMs: start + pr.atMs, sentAtMs, apiKey: m.apiKey, contentType: m.contentType, body: m.body, outcome,
    });
  });

  const lastAt = Math.max(start, ...requests.map((r) => r.outcome?.atMs ?? r.sentAtMs));
  const probeEndedAtMs = lastAt + drain;
  const store = new Map<string, StoreRecord>();
  for (const w of [...writes].sort((a, b) => a.writtenAtMs - b.writtenAtMs)) {
    if (w.writtenAtMs > probeEndedAtMs) continue;
    const key = w.vehicleId === null ? `untagged@${w.timeMs}` : pointKey(w.vehicleId, w.timeMs);
    const seen = start + Math.ceil((w.writtenAtMs - start) / poll) * poll;
    const prev = store.get(key);
    // InfluxDB merges the fields of points with the same series and time.
    store.set(key, prev
      ? { ...prev, fields: { ...prev.fields, ...w.fields } }
      : { vehicleId: w.vehicleId, timeMs: w.timeMs, fields: { ...w.fields }, firstSeenAtMs: seen });
  }
  return {
    runId: plan.runId, startedAtMs: start, plannedRequestCount: plan.requests.length, requests,
    sseClients: clients, sseEvents: events, store: [...store.values()], probeEndedAtMs, drainBoundMs: drain,
  };
}
