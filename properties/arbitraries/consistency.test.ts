/**
 * No false positives: a backend that does exactly what the model allows
 * (accepts and stores what must be accepted, refuses everything else with the
 * seed's status and message, refuses a second sample on a stored key with
 * 409) gets a clean verdict for any plan, hostile cases included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check } from '../../models/checker';
import { DEFAULT_CONTRACT } from '../../models/contract';
import { requestId, sampleOf, type History, type RequestRecord, type SseEventRecord, type StoreRecord } from '../../models/history';
import { materializeRequest } from '../../models/materialize';
import { predictOutcome, refusalOptions } from '../../models/model';
import type { Plan } from '../../models/plan';
import { arbPlan } from './plan';

const C = DEFAULT_CONTRACT;

function idealRun(plan: Plan): History {
  const start = 1_700_000_000_000;
  const u = C.skewUncertaintySec * 1000;
  const sent = new Map<number, number>();
  const requests: RequestRecord[] = [];
  const store: StoreRecord[] = [];
  const events: SseEventRecord[] = [];
  const keys = new Set<string>();
  plan.requests.forEach((pr, i) => {
    const sentAtMs = start + pr.atMs + i * 0.01;
    const m = materializeRequest(plan, i, { runStartMs: start, sendTimeMs: sentAtMs, sentTimestamps: sent });
    if (m.timestampSec !== undefined) sent.set(i, m.timestampSec);
    const atMs = sentAtMs + 2;
    const p = predictOutcome(m, C, { fromMs: sentAtMs - u, toMs: atMs + u });
    const sample = sampleOf(m.body);
    let status = 200;
    let message = 'Telemetry received';
    if (p.kind !== 'accept') {
      const o = refusalOptions(p)[0]!;
      status = o.status;
      message = o.message ? ('prefix' in o.message ? `${o.message.prefix}12.34s` : o.message.exact[0]!) : 'refused';
    } else if (sample && keys.has(sample.key)) {
      status = 409;
      message = 'duplicate';
    } else if (sample) {
      keys.add(sample.key);
      store.push({ vehicleId: sample.vehicleId, timeMs: sample.timeMs, fields: { ...sample.fields }, firstSeenAtMs: atMs + 50 });
      events.push({ clientId: 'c0', atMs: sentAtMs + 1, data: JSON.stringify({ ...sample.payload, serverReceiveTime: (sentAtMs + 1) / 1000 }) });
    }
    requests.push({
      id: requestId(plan.runId, i), planIndex: i, label: pr.label, vehicle: pr.vehicle, plannedAtMs: start + pr.atMs, sentAtMs,
      apiKey: m.apiKey, contentType: m.contentType, body: m.body,
      outcome: { kind: 'response', status, body: JSON.stringify({ message }), atMs },
    });
  });
  return {
    runId: plan.runId, startedAtMs: start, plannedRequestCount: plan.requests.length, requests,
    sseClients: [{ clientId: 'c0', connectedAtMs: start - 100 }], sseEvents: events, store,
    probeEndedAtMs: start + 10_000, drainBoundMs: 5000,
  };
}

describe('model and checker agree on a correct backend', () => {
  it('gives a clean verdict for any plan, hostile cases included', () => {
    fc.assert(fc.property(arbPlan({ hostile: 'all', hostileWeight: 2 }), (plan) => {
      const v = check(idealRun(plan), C);
      expect(v.violations).toEqual([]);
      expect(v.tally.sent).toBe(plan.requests.length);
      expect(v.tally.acknowledged + v.tally.rejected + v.tally.unknown + v.tally.noOutcome).toBe(v.tally.sent);
    }), { numRuns: 60, seed: 21 });
  });
});
