/**
 * The client: runs a plan against a live stack on its real schedule (open
 * loop: a send never waits for an earlier reply) and records the history —
 * every request as sent and its one outcome, every SSE event, and every store
 * key with the time it was first seen. Nothing here judges; models/checker
 * does that from the history alone.
 */
import { Agent, request, errors as undiciErrors } from 'undici';
import { randomBytes } from 'node:crypto';
import type { StackInfo } from './stack/types';
import type { Contract } from '../models/contract';
import type { History, RequestRecord, StoreRecord, FaultRecord, NeverSentRecord } from '../models/history';
import { requestId, sampleOf } from '../models/history';
import { awaitedPoints, drainSettled } from './drain';
import { ownPoints } from './isolation';
import { materializeRequest, apiKeyHeaderValue } from '../models/materialize';
import { rekeyPlan, runPrefix, planNeedsFreshStore, type Plan } from '../models/plan';
import { isPlainObject, tryParseJson } from '../models/json';
import { InfluxProbe, StorePoller } from './influxProbe';
import { SseRecorder } from './sseRecorder';

export interface ExecuteOptions {
  target: StackInfo;
  contract: Contract;
  /** SSE clients connected for the whole run (0 = no SSE ledger). */
  sseClients?: number;
  /** Client timeout per request (the Jetson uses 2 s). */
  requestTimeoutMs?: number;
  /**
   * After the last reply, how long to keep watching the store for points
   * still to come. Ends early once every expected point is there.
   */
  drainBoundMs: number;
  pollIntervalMs?: number;
  /** A fresh run id per execution (default: random), so reruns never mix. */
  runId?: string;
  /**
   * The nemesis: started with the run's time origin, resolves with the fault
   * records once its schedule (and healing) is over. The drain starts after.
   */
  nemesis?: (runStartMs: number) => Promise<FaultRecord[]>;
  /**
   * Replaces the open-loop sender (e.g. a publisher policy that skips or
   * resends, runners/policyClient.ts): gets the rekeyed plan and the time
   * origin, resolves once every request was sent or given up.
   */
  publisher?: (ctx: { plan: Plan; runStartMs: number; signal?: AbortSignal }) => Promise<{ records: RequestRecord[]; neverSent: NeverSentRecord[] }>;
  signal?: AbortSignal;
}

export function freshRunId(): string {
  // [a-z0-9]{10}: safe in tags, regexes and file names.
  return BigInt(`0x${randomBytes(8).toString('hex')}`).toString(36).padStart(10, '0').slice(0, 10);
}

/** A failed request: no reply within the timeout, or a transport error. */
function classifyError(err: unknown): { kind: 'error' | 'timeout'; error: string } {
  const e = err as { code?: string; name?: string; message?: string };
  if (
    e instanceof undiciErrors.HeadersTimeoutError ||
    e instanceof undiciErrors.BodyTimeoutError ||
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError'
  ) {
    return { kind: 'timeout', error: e.message ?? 'timeout' };
  }
  return { kind: 'error', error: `${e?.code ?? e?.name ?? 'Error'}: ${e?.message ?? String(err)}` };
}

const sleepFor = (wait: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (wait <= 0 || signal?.aborted) return resolve();
    const onAbort = () => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, wait);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Timers may fire a millisecond early: sleep until the clock really reads epochMs. */
async function sleepUntil(epochMs: number, signal?: AbortSignal): Promise<void> {
  while (Date.now() < epochMs && !signal?.aborted) await sleepFor(epochMs - Date.now(), signal);
}

/**
 * The clock reading a request's device timestamp is taken from. A burst —
 * requests of one vehicle planned for the same instant — is samples taken
 * within one millisecond: the first at its send time, the j-th next one j µs
 * later. So whether a burst shares a store key does not depend on how fast
 * the runner sends (shrinking must not hinge on timing luck).
 */
export class SampleClock {
  private readonly bursts = new Map<string, { baseMs: number; count: number }>();

  stampFor(vehicle: number, plannedAtMs: number, sendTimeMs: number): number {
    const key = `${vehicle}@${plannedAtMs}`;
    const b = this.bursts.get(key);
    if (!b) {
      this.bursts.set(key, { baseMs: sendTimeMs, count: 1 });
      return sendTimeMs;
    }
    return b.baseMs + b.count++ / 1000;
  }
}

export async function executePlan(planIn: Plan, opts: ExecuteOptions): Promise<History> {
  const plan = rekeyPlan(planIn, opts.runId ?? freshRunId());
  const prefix = runPrefix(plan.runId);
  const { target } = opts;
  const timeoutMs = opts.requestTimeoutMs ?? 2_000;
  const probe = new InfluxProbe({ url: target.influx.directUrl, db: target.influx.db, token: target.influx.token });
  const includeUntagged = planNeedsFreshStore(plan);
  // Untagged points carry no run prefix: ours are the ones not there before.
  const untaggedBeforeMs = new Set<number>();
  if (includeUntagged) {
    for (const p of await probe.readPoints({ untaggedOnly: true })) untaggedBeforeMs.add(p.timeMs);
  }

  // Ids the plan writes as they are, without the run prefix (e.g. ""): their
  // SSE events are this run's too (runs on one backend never overlap).
  const unprefixedIds = new Set(plan.requests.flatMap((r) => {
    const id = r.body.kind === 'payload' && r.body.vehicleId.kind === 'asIs' ? r.body.payload['vehicle_id'] : undefined;
    return typeof id === 'string' && !id.startsWith(prefix) ? [id] : [];
  }));
  const sse = new SseRecorder({
    url: `${target.backend.url}/api/v1/telemetry/stream`,
    bearerToken: target.backend.sseToken,
    clients: opts.sseClients ?? 1,
    keep: (data) => {
      const parsed = tryParseJson(data);
      if (!parsed.ok || !isPlainObject(parsed.value)) return true;
      const id = parsed.value['vehicle_id'];
      return typeof id !== 'string' || id.startsWith(prefix) || unprefixedIds.has(id);
    },
  });
  const agent = new Agent({ connections: 256, pipelining: 1, keepAliveTimeout: 10_000 });
  const poller = new StorePoller(probe, { vehiclePrefix: prefix, includeUntagged }, opts.pollIntervalMs ?? 150);
  const records: RequestRecord[] = [];
  const sentTimestamps = new Map<number, number>();
  const sampleClock = new SampleClock();
  let faults: FaultRecord[] = [];
  try {
    if ((opts.sseClients ?? 1) > 0) await sse.connect();
    poller.start();
    const runStartMs = Date.now() + 20; // a little slack to get every timer armed
    const nemesis = opts.nemesis ? opts.nemesis(runStartMs) : Promise.resolve([]);
    const inflight: Promise<void>[] = [];
    const custom = opts.publisher?.({ plan, runStartMs, ...(opts.signal ? { signal: opts.signal } : {}) });
    for (let i = 0; !custom && i < plan.requests.length; i++) {
      const planned = plan.requests[i]!;
      await sleepUntil(runStartMs + planned.atMs, opts.signal);
      if (opts.signal?.aborted) break;
      const sendTimeMs = Date.now();
      const stampMs = sampleClock.stampFor(planned.vehicle, planned.atMs, sendTimeMs);
      const m = materializeRequest(plan, i, { runStartMs, sendTimeMs: stampMs, sentTimestamps });
      if (m.timestampSec !== undefined) sentTimestamps.set(i, m.timestampSec);
      const record: RequestRecord = {
        id: requestId(plan.runId, i),
        planIndex: i,
        label: m.label,
        vehicle: m.vehicle,
        plannedAtMs: runStartMs + planned.atMs,
        sentAtMs: sendTimeMs,
        apiKey: m.apiKey,
        contentType: m.contentType,
        body: m.body,
        outcome: null,
      };
      records.push(record);
      const headers: Record<string, string> = {};
      if (m.contentType !== null) headers['content-type'] = m.contentType;
      const key = apiKeyHeaderValue(m.apiKey, target.backend.apiKey);
      if (key !== undefined) headers[opts.contract.apiKeyHeader] = key;
      // Open loop: fire and keep the promise; the next send does not wait.
      inflight.push(
        (async () => {
          try {
            const res = await request(`${target.backend.url}/api/v1/telemetry`, {
              method: 'POST',
              headers,
              body: m.body,
              dispatcher: agent,
              signal: AbortSignal.timeout(timeoutMs),
            });
            const body = await res.body.text();
            record.outcome = { kind: 'response', status: res.statusCode, body: body.slice(0, 2_000), atMs: Date.now() };
          } catch (err) {
            const c = classifyError(err);
            record.outcome = c.kind === 'timeout' ? { kind: 'timeout', atMs: Date.now() } : { kind: 'error', error: c.error, atMs: Date.now() };
          }
        })(),
      );
    }
    await Promise.all(inflight);
    const published = custom ? await custom : undefined;
    if (published) records.push(...published.records);
    faults = await nemesis;

    // Drain: watch the store until every point the model expects is
    // accounted for (plus one more poll for stragglers), or the bound passes.
    const partial = buildHistory(plan, records, sse, [], runStartMs, Date.now(), opts.drainBoundMs, faults);
    const awaited = awaitedPoints(partial, opts.contract);
    const pollMs = opts.pollIntervalMs ?? 150;
    let settledAt: number | undefined;
    await poller.drain(opts.drainBoundMs, () => {
      if (!drainSettled(awaited, poller.points())) { settledAt = undefined; return false; }
      settledAt ??= Date.now();
      return Date.now() - settledAt >= pollMs;
    });
    const probeEndedAtMs = Date.now();
    // Untagged points carry no run prefix: ours are new since the run started
    // and sit on the millisecond of a sample this run sent (isolation from
    // other runs' empty vehicle_ids in a shared store).
    const sentMs = new Set(records.map((r) => sampleOf(r.body)?.timeMs).filter((t): t is number => t !== undefined));
    const store: StoreRecord[] = ownPoints(poller.points(), untaggedBeforeMs, sentMs)
      .map((p) => ({
        vehicleId: p.vehicleId === '' ? null : p.vehicleId,
        timeMs: p.timeMs,
        fields: { ...p.fields },
        firstSeenAtMs: p.firstSeenAtMs,
      }));
    if (poller.error && store.length === 0) throw poller.error;
    const history = buildHistory(plan, records, sse, store, runStartMs, probeEndedAtMs, opts.drainBoundMs, faults);
    return published?.neverSent.length ? { ...history, neverSent: published.neverSent } : history;
  } finally {
    await poller.stop();
    await sse.close();
    await agent.destroy();
  }
}

function buildHistory(
  plan: Plan,
  requests: RequestRecord[],
  sse: SseRecorder,
  store: StoreRecord[],
  startedAtMs: number,
  probeEndedAtMs: number,
  drainBoundMs: number,
  faults: FaultRecord[],
): History {
  return {
    runId: plan.runId,
    startedAtMs,
    plannedRequestCount: plan.requests.length,
    requests: requests.map((r) => ({ ...r })),
    sseClients: sse.clients.map((c) => ({ ...c })),
    sseEvents: [...sse.events],
    store,
    probeEndedAtMs,
    drainBoundMs,
    ...(faults.length ? { faults } : {}),
  };
}
