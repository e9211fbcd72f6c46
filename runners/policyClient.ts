/**
 * A publisher that behaves like a car: each vehicle is a lane with at most
 * one request in flight, and a pure publisher policy (chaos/publisherPolicy)
 * decides what happens after every reply.
 *
 *  - jetson: a tick is sent when it comes, unless the vehicle is still
 *    waiting for its previous reply ('busy': the real worker blocks on its
 *    POST) or backing off after a failure ('backoff'); either way that sample
 *    is never sent. A failed sample is not resent.
 *  - retry: a tick is made (timestamped) when it comes and queued; the lane
 *    sends its queue in order, one at a time, resending a failed sample
 *    (same body) after the policy's back-off or Retry-After, until it is
 *    acknowledged or given up. A full queue drops its oldest unsent sample
 *    ('queue_full'); what is still queued `catchUpMs` after the last tick is
 *    never sent ('run_ended').
 *
 * First attempts keep the plan's open-loop schedule across vehicles; time is
 * compressed by passing small back-off bounds. Every attempt is recorded.
 * A sample's device timestamp is its tick's planned time (see `make`).
 */
import { Agent, request } from 'undici';
import type { Contract } from '../models/contract';
import { requestId, type AttemptRecord, type NeverSentReason, type NeverSentRecord, type Outcome, type RequestRecord } from '../models/history';
import { apiKeyHeaderValue, materializeRequest, type MaterializedRequest } from '../models/materialize';
import type { Plan } from '../models/plan';
import {
  jetsonPolicy, outcomeFromError, outcomeFromStatus, retryPolicy,
  type BackoffConfig, type PolicyName, type RetryConfig, type SendOutcome,
} from '../chaos/publisherPolicy';

export interface PolicyClientOptions {
  policy: PolicyName;
  /** Back-off bounds (both policies); compressed runs pass small ones. Default: the Jetson's 1 s .. 30 s. */
  backoff?: Partial<BackoffConfig>;
  /** retry only: attempts, time budget per sample, Retry-After scale, statuses. */
  retry?: Partial<Omit<RetryConfig, keyof BackoffConfig>>;
  /** retry only: samples queued per vehicle before the oldest is dropped (default 600). */
  maxQueuePerVehicle?: number;
  /** retry only: how long after the last planned tick queued samples may still go out (default 10 s). */
  catchUpMs?: number;
  /** Client timeout per attempt (the Jetson uses 2 s). */
  requestTimeoutMs?: number;
}

export interface PublishContext {
  /** Already rekeyed to the run id. */
  plan: Plan;
  runStartMs: number;
  contract: Contract;
  backendUrl: string;
  apiKey: string;
  signal?: AbortSignal;
}

export interface PublishResult {
  records: RequestRecord[];
  neverSent: NeverSentRecord[];
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = () => { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

interface Item {
  m: MaterializedRequest;
  plannedAtMs: number;
  record?: RequestRecord;
  /** retry policy per-sample state. */
  attempts: number;
  firstFailureAt?: number;
}

interface Lane {
  busy: boolean;
  backoffUntil: number;
  consecutiveFailures: number;
  queue: Item[];
  worker?: Promise<void>;
}

/** The history's outcome and the policy's view of one exchange. */
export interface Exchange { outcome: Outcome; send: SendOutcome }

/** One POST with a deadline; never throws. */
export async function postOnce(url: string, headers: Record<string, string>, body: string, timeoutMs: number, dispatcher: Agent): Promise<Exchange> {
  try {
    const res = await request(url, { method: 'POST', headers, body, dispatcher, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.body.text();
    const ra = res.headers['retry-after'];
    return {
      outcome: { kind: 'response', status: res.statusCode, body: text.slice(0, 2_000), atMs: Date.now() },
      send: outcomeFromStatus(res.statusCode, Array.isArray(ra) ? ra[0] : ra),
    };
  } catch (err) {
    const send = outcomeFromError(err);
    const atMs = Date.now();
    const e = err as { code?: string; name?: string; message?: string };
    return {
      outcome: send.kind === 'timeout' ? { kind: 'timeout', atMs } : { kind: 'error', error: `${e?.code ?? e?.name ?? 'Error'}: ${e?.message ?? String(err)}`, atMs },
      send,
    };
  }
}

export async function publishWithPolicy(ctx: PublishContext, o: PolicyClientOptions): Promise<PublishResult> {
  const { plan, runStartMs, contract, signal } = ctx;
  const timeoutMs = o.requestTimeoutMs ?? 2_000;
  const jetson = jetsonPolicy(o.backoff);
  const retry = retryPolicy({ ...o.backoff, ...o.retry });
  const maxQueue = Math.max(1, o.maxQueuePerVehicle ?? 600);
  const lastAtMs = plan.requests.reduce((m, r) => Math.max(m, r.atMs), 0);
  const catchUpDeadline = runStartMs + lastAtMs + (o.catchUpMs ?? 10_000);
  const url = `${ctx.backendUrl}/api/v1/telemetry`;
  const agent = new Agent({ connections: 256, pipelining: 1, keepAliveTimeout: 10_000 });
  const records: RequestRecord[] = [];
  const neverSent: NeverSentRecord[] = [];
  const sentTimestamps = new Map<number, number>();
  const lanes = new Map<number, Lane>();
  const inflight: Promise<void>[] = [];
  const lane = (v: number): Lane => {
    let l = lanes.get(v);
    if (!l) lanes.set(v, (l = { busy: false, backoffUntil: 0, consecutiveFailures: 0, queue: [] }));
    return l;
  };

  const make = (i: number): Item => {
    // The sample is made at its tick: stamp it with the tick's planned time,
    // so a late timer (a busy test machine) never gives two samples of one
    // vehicle the same millisecond, and reruns stamp alike.
    const tickMs = runStartMs + plan.requests[i]!.atMs;
    const m = materializeRequest(plan, i, { runStartMs, sendTimeMs: Math.min(Date.now(), tickMs), sentTimestamps });
    if (m.timestampSec !== undefined) sentTimestamps.set(i, m.timestampSec);
    return { m, plannedAtMs: runStartMs + plan.requests[i]!.atMs, attempts: 0 };
  };
  const giveUp = (i: number, reason: NeverSentReason, item?: Item): void => {
    const r = plan.requests[i]!;
    neverSent.push({
      id: requestId(plan.runId, i), planIndex: i, label: r.label, vehicle: r.vehicle,
      plannedAtMs: runStartMs + r.atMs, reason, atMs: Date.now(), ...(item ? { body: item.m.body } : {}),
    });
  };
  const headersOf = (m: MaterializedRequest): Record<string, string> => {
    const h: Record<string, string> = {};
    if (m.contentType !== null) h['content-type'] = m.contentType;
    const key = apiKeyHeaderValue(m.apiKey, ctx.apiKey);
    if (key !== undefined) h[contract.apiKeyHeader] = key;
    return h;
  };
  /** One attempt of an item: recorded on its RequestRecord (created at the first attempt). */
  const attempt = async (item: Item): Promise<Exchange> => {
    const sentAtMs = Date.now();
    const m = item.m;
    const rec: RequestRecord = item.record ?? {
      id: requestId(plan.runId, m.planIndex), planIndex: m.planIndex, label: m.label, vehicle: m.vehicle,
      plannedAtMs: item.plannedAtMs, sentAtMs, apiKey: m.apiKey, contentType: m.contentType, body: m.body, outcome: null,
    };
    if (!item.record) { item.record = rec; records.push(rec); }
    const a: AttemptRecord = { sentAtMs, outcome: null };
    if (o.policy === 'retry') (rec.attempts ??= []).push(a);
    rec.sentAtMs = sentAtMs;
    rec.outcome = null;
    const x = await postOnce(url, headersOf(m), m.body, timeoutMs, agent);
    a.outcome = x.outcome;
    rec.outcome = x.outcome;
    item.attempts++;
    return x;
  };

  const jetsonTick = (i: number): void => {
    const l = lane(plan.requests[i]!.vehicle);
    if (l.busy) return giveUp(i, 'busy');
    if (Date.now() < l.backoffUntil) return giveUp(i, 'backoff');
    l.busy = true;
    const item = make(i);
    inflight.push((async () => {
      const x = await attempt(item);
      const d = jetson.decide({ consecutiveFailures: l.consecutiveFailures }, x.send, x.outcome.atMs);
      l.consecutiveFailures = d.state.consecutiveFailures;
      l.backoffUntil = x.outcome.atMs + d.delayMs;
      l.busy = false;
    })());
  };

  const retryWorker = async (l: Lane): Promise<void> => {
    while (l.queue.length > 0 && !signal?.aborted) {
      const wait = l.backoffUntil - Date.now();
      if (wait > 0) await sleep(Math.min(wait, catchUpDeadline - Date.now()), signal);
      if (Date.now() >= catchUpDeadline || signal?.aborted) break;
      const item = l.queue[0]!;
      l.busy = true;
      const x = await attempt(item);
      l.busy = false;
      const d = retry.decide(
        { attempts: item.attempts - 1, ...(item.firstFailureAt !== undefined ? { firstFailureAt: item.firstFailureAt } : {}), consecutiveFailures: l.consecutiveFailures },
        x.send,
        x.outcome.atMs,
      );
      l.consecutiveFailures = d.state.consecutiveFailures;
      l.backoffUntil = x.outcome.atMs + d.delayMs;
      if (d.action === 'resend') {
        item.firstFailureAt = d.state.firstFailureAt;
        continue;
      }
      l.queue.shift(); // acknowledged, or given up after its last attempt (its record says how)
    }
    l.worker = undefined;
  };
  const retryTick = (i: number): void => {
    const l = lane(plan.requests[i]!.vehicle);
    l.queue.push(make(i));
    // Never drop the head while it is in flight or awaiting its resend.
    while (l.queue.length > maxQueue) {
      const dropAt = l.queue[0]!.record ? 1 : 0;
      const [dropped] = l.queue.splice(dropAt, 1);
      giveUp(dropped!.m.planIndex, 'queue_full', dropped);
    }
    l.worker ??= retryWorker(l);
  };

  try {
    for (let i = 0; i < plan.requests.length; i++) {
      await sleep(runStartMs + plan.requests[i]!.atMs - Date.now(), signal);
      if (signal?.aborted) {
        for (let k = i; k < plan.requests.length; k++) giveUp(k, 'aborted');
        break;
      }
      if (o.policy === 'jetson') jetsonTick(i);
      else retryTick(i);
    }
    await Promise.all(inflight);
    await Promise.all([...lanes.values()].map((l) => l.worker));
    // What the lanes could not send in time (sent-and-failed items keep their record).
    for (const l of lanes.values()) {
      for (const item of l.queue) if (!item.record) giveUp(item.m.planIndex, signal?.aborted ? 'aborted' : 'run_ended', item);
      l.queue = [];
    }
  } finally {
    await agent.destroy();
  }
  records.sort((a, b) => a.planIndex - b.planIndex);
  neverSent.sort((a, b) => a.planIndex - b.planIndex);
  return { records, neverSent };
}
