import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTRACT } from './contract';
import { check, conservationHolds } from './checker';
import type { BackendEvent, History, NeverSentRecord } from './history';
import { attributeStages, backendCause, describeStages, lossTable, storeLosses, sumReports } from './stages';
import { cleanHistory, history, req, RUN, sseFrom, storedFrom, T0 } from './testing/history-builder';
import { requestId } from './history';
import { timestampToMs } from './payload';

const stagesOf = (h: History) => attributeStages(h, check(h, DEFAULT_CONTRACT), DEFAULT_CONTRACT);
const timeOf = (i: number) => timestampToMs((T0 + 100 * i) / 1000);

function neverSent(i: number, reason: NeverSentRecord['reason']): NeverSentRecord {
  return { id: requestId(RUN, i), planIndex: i, label: 'valid', vehicle: 0, plannedAtMs: T0 + 100 * i, reason, atMs: T0 + 100 * i };
}

describe('attributeStages', () => {
  it('a clean history: every sample stored', () => {
    const r = stagesOf(cleanHistory(3));
    expect(r.counts.stored).toBe(3);
    expect(storeLosses(r)).toBe(0);
    expect(r.acknowledged).toBe(3);
    expect(describeStages(r)).toBe('planned 3: stored 3');
  });

  it('one stage per sample across the pipeline', () => {
    const reqs = [
      req(0), // stored
      req(1, { reply: 400, replyBody: '{"message":"Missing or invalid vehicle_id"}', body: { timestamp: (T0 + 100) / 1000, pose: { x: 1, z: 2 } } }), // rejected
      req(2, { reply: { kind: 'timeout', atMs: T0 + 2_200 } }), // failed at HTTP
      req(3, { reply: { kind: 'error', error: 'ECONNREFUSED', atMs: T0 + 301 } }), // in doubt, but stored: stored
      req(4), // acknowledged, lost: crash
      req(5), // stored, missing on SSE
    ];
    const h = history(reqs, {
      plannedRequestCount: 8,
      neverSent: [neverSent(6, 'backoff'), neverSent(7, 'busy')],
      store: [storedFrom(reqs[0]!), storedFrom(reqs[3]!), storedFrom(reqs[5]!)],
      sseClients: [{ clientId: 'c0', connectedAtMs: T0 - 1_000 }],
      sseEvents: [sseFrom(reqs[0]!)],
      backendEvents: [{ atMs: T0 + 450, kind: 'process_exit', reason: 'kill' }],
    });
    const r = stagesOf(h);
    expect(r.perSample.map((s) => [s.planIndex, s.stage, s.cause])).toEqual([
      [0, 'stored', undefined],
      [1, 'rejected', '400'],
      [2, 'failed_http', 'timeout'],
      [3, 'stored', undefined],
      [4, 'lost_in_backend', 'crash'],
      [5, 'sse_missing', undefined],
      [6, 'never_sent', 'backoff'],
      [7, 'never_sent', 'busy'],
    ]);
    expect(r.backendCauses.crash).toBe(1);
    expect(r.neverSentReasons).toEqual({ backoff: 1, busy: 1 });
    expect(storeLosses(r)).toBe(5);
  });

  it('conservation: planned = sent + never sent (never sent is not a conservation failure)', () => {
    const h = history([req(0)], { plannedRequestCount: 2, neverSent: [neverSent(1, 'backoff')], store: [storedFrom(req(0))] });
    expect(conservationHolds(check(h, DEFAULT_CONTRACT)).ok).toBe(true);
    const both = history([req(0), req(1)], { plannedRequestCount: 2, neverSent: [neverSent(1, 'backoff')], store: [storedFrom(req(0)), storedFrom(req(1))] });
    expect(conservationHolds(check(both, DEFAULT_CONTRACT)).details.join()).toMatch(/both as sent and as never sent/);
  });

  it('splits acknowledged-but-lost by the backend evidence covering each point', () => {
    const reqs = [0, 1, 2, 3].map((i) => req(i));
    const events: BackendEvent[] = [
      { atMs: T0 + 500, kind: 'write_retry', minTimeMs: timeOf(0), maxTimeMs: timeOf(1) },
      { atMs: T0 + 900, kind: 'write_dropped', reason: 'retries_exhausted', minTimeMs: timeOf(0), maxTimeMs: timeOf(0) },
      { atMs: T0 + 950, kind: 'buffer_overflow', minTimeMs: timeOf(1), maxTimeMs: timeOf(1) },
      { atMs: T0 + 990, kind: 'write_dropped', reason: 'rejected', minTimeMs: timeOf(2), maxTimeMs: timeOf(2) },
    ];
    const r = stagesOf(history(reqs, { backendEvents: events }));
    expect(r.perSample.map((s) => [s.stage, s.cause])).toEqual([
      ['lost_in_backend', 'retries_exhausted'],
      ['lost_in_backend', 'buffer_overflow'],
      ['rejected_by_influx', undefined],
      ['lost_in_backend', 'unexplained'],
    ]);
    expect(r.backendCauses).toMatchObject({ retries_exhausted: 1, buffer_overflow: 1, unexplained: 1, crash: 0 });
    // Failed and still waiting for its retry when the probe stopped: not lost yet.
    const pending = stagesOf(history([req(0)], { backendEvents: [{ atMs: T0 + 500, kind: 'write_retry', minTimeMs: timeOf(0), maxTimeMs: timeOf(0) }] }));
    expect(pending.perSample[0]).toMatchObject({ stage: 'lost_in_backend', cause: 'pending_retry' });
  });

  it('only evidence after the sample reached the backend counts, the earliest first', () => {
    const events: BackendEvent[] = [
      { atMs: T0 + 10, kind: 'process_exit', reason: 'kill' }, // before sample 1 was sent: not its cause
      { atMs: T0 + 150, kind: 'write_dropped', reason: 'max_retry_time', minTimeMs: timeOf(1), maxTimeMs: timeOf(1) },
      { atMs: T0 + 200, kind: 'process_exit', reason: 'kill' },
    ];
    expect(backendCause(events, T0 + 100, timeOf(1))).toMatchObject({ stage: 'lost_in_backend', cause: 'retries_exhausted' });
    expect(backendCause(events, T0 + 160, timeOf(1))).toMatchObject({ cause: 'crash' });
    expect(backendCause(events, T0 + 300, timeOf(1))).toMatchObject({ cause: 'unexplained' });
  });

  it('a collapsed sample is stored with other values, not lost', () => {
    const a = req(0);
    const b = req(1, { body: { ...JSON.parse(a.body), pose: { x: 9, z: 9 } } });
    const r = stagesOf(history([a, b], { store: [storedFrom(b)] }));
    expect(r.perSample.map((s) => s.stage)).toEqual(['stored_wrong', 'stored']);
  });

  it('sums reports and renders a table with one column per report', () => {
    const lost = stagesOf(history([req(0), req(1)], { store: [storedFrom(req(0))], backendEvents: [{ atMs: T0 + 150, kind: 'process_exit', reason: 'kill' }] }));
    const skipped = stagesOf(history([req(0)], { plannedRequestCount: 2, neverSent: [neverSent(1, 'backoff')], store: [storedFrom(req(0))] }));
    const total = sumReports([lost, skipped]);
    expect(total.planned).toBe(4);
    expect(total.counts).toMatchObject({ stored: 2, lost_in_backend: 1, never_sent: 1 });
    const table = lossTable([{ label: 'jetson', report: skipped }, { label: 'retry', report: lost }]);
    expect(table.split('\n')[0]).toBe('| stage | jetson | retry |');
    expect(table).toContain('|   never sent: backoff | 1 (50.0 %) | 0 (0.0 %) |');
    expect(table).toContain('|   lost in backend: crash | 0 (0.0 %) | 1 (50.0 %) |');
    expect(table).toContain('| total not stored as sent | 1 (50.0 %) | 1 (50.0 %) |');
  });
});
