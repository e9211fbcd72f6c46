import { describe, expect, it } from 'vitest';
import {
  CATEGORIES, PROPERTIES, ackImpliesStored, allPropertiesHold, check, conservationHolds, lagWithinBound,
  noServerErrorOnClientError, nothingUnexpected, rejectedNeverStored, sseDeliversOnceInOrder, validationAgreesWithModel,
  type Category, type Verdict,
} from './checker';
import { DEFAULT_CONTRACT, contractFrom } from './contract';
import type { History } from './history';
import { cleanHistory, history, payload, req, sseFrom, storedFrom, T0, VEHICLE } from './testing/history-builder';

const C = DEFAULT_CONTRACT;
const verdictOf = (h: History, c = C) => check(h, c);
/** Categories with a non-zero count. */
const fired = (v: Verdict): Partial<Record<Category, number>> =>
  Object.fromEntries(Object.entries(v.counts).filter(([, n]) => n > 0));
const sampleOf = (v: Verdict, i: number) => v.perSample.find((s) => s.planIndex === i)!;

describe('a clean history', () => {
  it('has no finding in any category and every property holds', () => {
    const v = verdictOf(cleanHistory(5));
    expect(fired(v)).toEqual({});
    expect(v.violations).toEqual([]);
    expect(allPropertiesHold(v).ok).toBe(true);
    expect(v.tally).toMatchObject({ planned: 5, sent: 5, acknowledged: 5, rejected: 0, unknown: 0, noOutcome: 0, storedKeys: 5, sseEvents: 5 });
    expect(v.perSample.every((s) => s.categories.length === 0 && s.lagMs === 100)).toBe(true);
  });
  it('covers every category and property name in the counts', () => {
    expect(Object.keys(verdictOf(cleanHistory(1)).counts).sort()).toEqual([...CATEGORIES].sort());
    expect(PROPERTIES).toHaveLength(8);
  });
});

describe('store ledger', () => {
  it('lost: acknowledged, never stored — every one is counted', () => {
    const h = cleanHistory(4);
    h.store = h.store.slice(0, 1);
    const v = verdictOf(h);
    expect(fired(v)).toEqual({ lost: 3 });
    expect(sampleOf(v, 2).categories).toEqual(['lost']);
    expect(ackImpliesStored(v).ok).toBe(false);
    expect(ackImpliesStored(v).details).toHaveLength(3);
    // Watched for 10 s > 5 s bound: the lag property fails too.
    expect(lagWithinBound(v).ok).toBe(false);
    expect(nothingUnexpected(v).ok).toBe(true);
  });
  it('lost but watched for less than the lag bound: lag holds, with a note', () => {
    const h = cleanHistory(1);
    h.store = [];
    h.probeEndedAtMs = h.requests[0]!.sentAtMs + 1000;
    const v = verdictOf(h);
    expect(v.counts.lost).toBe(1);
    expect(lagWithinBound(v).ok).toBe(true);
    expect(v.notes.join()).toMatch(/less than the lag bound/);
  });
  it('lost: an acknowledged body that names no storable key', () => {
    const v = verdictOf(history([req(0, { body: payload(0, { vehicle_id: 7 }) })]));
    expect(v.counts.lost).toBe(1);
    expect(v.counts.model_disagreement).toBe(1);
  });
  it('unexpected: a stored key nobody sent', () => {
    const h = cleanHistory(2);
    h.store.push({ vehicleId: VEHICLE, timeMs: T0 + 999_999, fields: { pose_x: 1 }, firstSeenAtMs: T0 + 10 });
    const v = verdictOf(h);
    expect(fired(v)).toEqual({ unexpected: 1 });
    expect(v.unexpected).toHaveLength(1);
    expect(nothingUnexpected(v).ok).toBe(false);
    expect(ackImpliesStored(v).ok).toBe(true);
  });
  it('recovered: outcome unknown, yet stored — counted, not a violation', () => {
    const r = req(0, { reply: { kind: 'timeout', atMs: T0 + 2000 } });
    const r2 = req(1, { reply: 502 });
    const r3 = req(2, { reply: { kind: 'error', error: 'ECONNRESET', atMs: T0 + 300 } });
    const v = verdictOf(history([r, r2, r3], { store: [storedFrom(r), storedFrom(r2)] }));
    expect(fired(v)).toEqual({ recovered: 2 });
    expect(v.violations).toEqual([]);
    expect(v.tally.unknown).toBe(3);
    expect(sampleOf(v, 2).categories).toEqual([]);
  });
  it('collapsed: two distinct acknowledged samples on one key, the store keeps one', () => {
    const a = req(0, { body: payload(0) });
    const b = req(1, { body: payload(0.5, { pose: { x: 7, z: 7 } }), sentAtMs: 1 });
    expect(a.body).not.toBe(b.body);
    const v = verdictOf(history([a, b], { store: [storedFrom(b)] }));
    expect(fired(v)).toEqual({ collapsed: 1 });
    expect(sampleOf(v, 0).categories).toEqual(['collapsed']);
    expect(sampleOf(v, 1).categories).toEqual([]);
    expect(ackImpliesStored(v).ok).toBe(false);
  });
  it('not collapsed: the same values sent twice on one key (an idempotent resend)', () => {
    const a = req(0, { body: payload(0) });
    const b = req(1, { body: payload(0), sentAtMs: 1 });
    expect(fired(verdictOf(history([a, b], { store: [storedFrom(a)] })))).toEqual({});
  });
  it('collapse by field merging: neither sample is stored as sent', () => {
    const a = req(0, { body: payload(0, { control: undefined }) });
    const b = req(1, { body: payload(0, { pose: undefined }), sentAtMs: 1 });
    const merged = { ...storedFrom(a), fields: { ...storedFrom(a).fields, ...storedFrom(b).fields } };
    const v = verdictOf(history([a, b], { store: [merged] }));
    // Both are collapsed into one point; nothing was mangled, so nothing is corrupted.
    expect(sampleOf(v, 0).categories).toEqual(['collapsed']);
    expect(sampleOf(v, 1).categories).toEqual(['collapsed']);
    expect(fired(v)).toEqual({ collapsed: 2 });
    expect(sampleOf(v, 0).details.join()).toMatch(/merged with testrun1#1 into one point/);
  });
  it('a sample with no pose or control on a shared key is lost, not collapsed or corrupted', () => {
    const empty = req(0, { body: payload(0, { pose: undefined, control: undefined }) });
    const full = req(1, { body: payload(0), sentAtMs: 1 });
    const v = verdictOf(history([empty, full], { store: [storedFrom(full)] }));
    expect(fired(v)).toEqual({ lost: 1 });
    expect(sampleOf(v, 0).categories).toEqual(['lost']);
    expect(sampleOf(v, 0).details.join()).toMatch(/no pose or control/);
    expect(sampleOf(v, 1).categories).toEqual([]);
    expect(lagWithinBound(v).violations.map((x) => x.requestIds)).toEqual([[empty.id]]);
  });
  it('a field merge with a no-field sample sent last: the storable two collapse, the empty one is lost', () => {
    const a = req(0, { body: payload(0, { control: undefined }) });
    const b = req(1, { body: payload(0, { pose: undefined }), sentAtMs: 1 });
    const empty = req(2, { body: payload(0, { pose: undefined, control: undefined }), sentAtMs: 2 });
    const merged = { ...storedFrom(a), fields: { ...storedFrom(a).fields, ...storedFrom(b).fields } };
    const v = verdictOf(history([a, b, empty], { store: [merged] }));
    expect(fired(v)).toEqual({ collapsed: 2, lost: 1 });
    expect(sampleOf(v, 2).categories).toEqual(['lost']);
  });
  it('a shared key whose values come from none of its samples: the last storable sample is corrupted', () => {
    const a = req(0, { body: payload(0, { control: undefined }) });
    const b = req(1, { body: payload(0, { pose: undefined }), sentAtMs: 1 });
    const empty = req(2, { body: payload(0, { pose: undefined, control: undefined }), sentAtMs: 2 });
    const mangled = { ...storedFrom(a), fields: { pose_x: 1.5, pose_z: -2, steering: 0.1, throttle: 0.99 } };
    const v = verdictOf(history([a, b, empty], { store: [mangled] }));
    expect(sampleOf(v, 1).categories).toEqual(['corrupted']);
    expect(sampleOf(v, 0).categories).toEqual(['collapsed']);
    expect(sampleOf(v, 2).categories).toEqual(['lost']);
  });
  it('corrupted: stored values differ from the sent ones', () => {
    const a = req(0);
    const v = verdictOf(history([a], { store: [storedFrom(a, { fields: { pose_x: 1.5, pose_z: -2, steering: 0.1, throttle: 0.25 } })] }));
    expect(fired(v)).toEqual({ corrupted: 1 });
    expect(sampleOf(v, 0).details.join()).toMatch(/throttle sent 0.5 stored 0.25/);
  });
  it('-0 sent and 0 stored is not corruption', () => {
    const a = req(0, { body: payload(0, { pose: { x: -0, z: 0 } }) });
    const body = '{"vehicle_id":"' + VEHICLE + '","timestamp":' + T0 / 1000 + ',"pose":{"x":-0,"z":0}}';
    const b = { ...a, body };
    expect(fired(verdictOf(history([b], { store: [{ vehicleId: VEHICLE, timeMs: T0, fields: { pose_x: 0, pose_z: 0 }, firstSeenAtMs: T0 + 5 }] })))).toEqual({});
  });
  it('corrupted, not lost + unexpected: stored under a mangled vehicle_id', () => {
    const a = req(0, { body: payload(0, { vehicle_id: VEHICLE + '\nx' }) });
    const v = verdictOf(history([a], { store: [storedFrom(a, { vehicleId: VEHICLE + '\\nx' })] }));
    expect(fired(v)).toEqual({ corrupted: 1 });
    expect(sampleOf(v, 0).details.join()).toMatch(/stored under vehicle_id/);
    expect(v.unexpected).toEqual([]);
  });
  it('corrupted: an empty vehicle_id stored as a point without tag', () => {
    const a = req(0, { body: payload(0, { vehicle_id: '' }) });
    const v = verdictOf(history([a], { store: [storedFrom(a, { vehicleId: null })] }));
    expect(fired(v)).toEqual({ corrupted: 1 });
    expect(sampleOf(v, 0).details.join()).toMatch(/\(no tag\)/);
  });
  it('late: first seen after the lag bound; exactly at the bound is fine', () => {
    const a = req(0);
    const b = req(1);
    const v = verdictOf(history([a, b], { store: [storedFrom(a, { lagMs: 5001 }), storedFrom(b, { lagMs: 5000 })] }));
    expect(fired(v)).toEqual({ late: 1 });
    expect(sampleOf(v, 0).lagMs).toBe(5001);
    expect(lagWithinBound(v).ok).toBe(false);
    expect(ackImpliesStored(v).ok).toBe(true);
    expect(verdictOf(history([a], { store: [storedFrom(a, { lagMs: 5001 })] }), contractFrom({ lagBoundMs: 6000 })).counts.late).toBe(0);
  });
  it('stored_after_reject: refused, yet stored', () => {
    const a = req(0, { reply: 400, replyBody: '{"message":"x"}' });
    const ok = req(1);
    const v = verdictOf(history([a, ok], { store: [storedFrom(a), storedFrom(ok)] }));
    expect(v.counts.stored_after_reject).toBe(1);
    expect(rejectedNeverStored(v).ok).toBe(false);
    expect(nothingUnexpected(v).ok).toBe(true);
    expect(rejectedNeverStored(verdictOf(history([a, ok], { store: [storedFrom(ok)] }))).ok).toBe(true);
  });
  it('a 503 listed as definite refusal counts as rejected; a 500 does not', () => {
    const a = req(0, { reply: 503 });
    const b = req(1, { reply: 500 });
    const v = verdictOf(history([a, b], { store: [storedFrom(a), storedFrom(b)] }));
    expect(v.counts.stored_after_reject).toBe(1);
    expect(v.counts.recovered).toBe(1);
  });
});

describe('HTTP ledger', () => {
  it('conservation: a planned request never sent', () => {
    const h = cleanHistory(2);
    h.plannedRequestCount = 3;
    const v = verdictOf(h);
    expect(fired(v)).toEqual({ conservation: 1 });
    expect(conservationHolds(v).ok).toBe(false);
    expect(conservationHolds(verdictOf(cleanHistory(2))).ok).toBe(true);
  });
  it('exactly_one_outcome: no outcome recorded, or a request recorded twice', () => {
    const a = req(0, { reply: null });
    const b = req(1);
    const v = verdictOf(history([a, b, { ...b, outcome: { kind: 'response', status: 400, body: '', atMs: T0 } }], { store: [storedFrom(b)], plannedRequestCount: 2 }));
    expect(v.counts.exactly_one_outcome).toBe(2);
    expect(v.tally.noOutcome).toBe(1);
    expect(conservationHolds(v).ok).toBe(false);
  });
  it('model_disagreement: acknowledged an invalid request', () => {
    const a = req(0, { body: payload(0, { pose: 'bad' }) });
    const v = verdictOf(history([a], { store: [] }));
    expect(v.counts.model_disagreement).toBe(1);
    expect(validationAgreesWithModel(v).ok).toBe(false);
  });
  it('model_disagreement: refused a valid request (e.g. 413 on a realistic body)', () => {
    const a = req(0, { reply: 413, replyBody: '<html>too large</html>' });
    const v = verdictOf(history([a]));
    expect(fired(v)).toEqual({ model_disagreement: 1 });
    expect(validationAgreesWithModel(v).details.join()).toMatch(/refused with 413/);
  });
  it('model_disagreement: a refusal with the wrong status or the wrong message', () => {
    const bad = payload(0, { pose: 'bad' });
    const wrongStatus = req(0, { body: bad, reply: 401 });
    const wrongMsg = req(1, { body: bad, reply: 400, replyBody: '{"message":"Invalid control structure"}' });
    const right = req(2, { body: bad, reply: 400, replyBody: '{"message":"Invalid pose structure"}' });
    const v = verdictOf(history([wrongStatus, wrongMsg, right]));
    expect(v.counts.model_disagreement).toBe(2);
    expect(sampleOf(v, 2).categories).toEqual([]);
    expect(verdictOf(history([wrongMsg]), contractFrom({ checkRejectMessages: false })).counts.model_disagreement).toBe(0);
  });
  it('no disagreement when an "either" goes either way', () => {
    const edge = payload(10_001);
    const acc = req(0, { body: edge });
    const rej = req(1, { body: edge, sentAtMs: 0, reply: 400, replyBody: '{"message":"Timestamp skew too large: 10.00s"}' });
    const v = verdictOf(history([acc, rej], { store: [storedFrom(acc)] }));
    expect(v.counts.model_disagreement).toBe(0);
  });
  it('server_error_on_client_error: a 500 for 1e309 (seed behaviour)', () => {
    const body = `{"vehicle_id":"${VEHICLE}","timestamp":${T0 / 1000},"pose":{"x":1e309,"z":1}}`;
    const v = verdictOf(history([req(0, { body, reply: 500 })]));
    expect(fired(v)).toEqual({ server_error_on_client_error: 1 });
    expect(noServerErrorOnClientError(v).ok).toBe(false);
  });
  it('no server_error_on_client_error for a 500 on a valid request or a 503 on an invalid one', () => {
    const v = verdictOf(history([req(0, { reply: 500 }), req(1, { body: payload(100, { pose: 1 }), reply: 503 })]));
    expect(v.counts.server_error_on_client_error).toBe(0);
    expect(v.counts.model_disagreement).toBe(0);
  });
});

describe('SSE ledger', () => {
  const base = () => cleanHistory(3);
  it('sse_missing: an acknowledged sample never delivered to a connected client', () => {
    const h = base();
    h.sseEvents = h.sseEvents.filter((_, i) => i !== 1);
    const v = verdictOf(h);
    expect(fired(v)).toEqual({ sse_missing: 1 });
    expect(sampleOf(v, 1).sse.missing).toEqual(['c0']);
    expect(sseDeliversOnceInOrder(v).ok).toBe(false);
  });
  it('not missing for a client that connected after the sample was sent', () => {
    const h = base();
    h.sseClients.push({ clientId: 'late', connectedAtMs: T0 + 150 });
    h.sseEvents.push(sseFrom(h.requests[2]!, 'late'));
    expect(fired(verdictOf(h))).toEqual({});
  });
  it('sse_duplicated: one sample delivered twice', () => {
    const h = base();
    h.sseEvents.push(sseFrom(h.requests[0]!, 'c0', 50));
    const v = verdictOf(h);
    expect(fired(v)).toEqual({ sse_duplicated: 1 });
    expect(sampleOf(v, 0).sse.duplicated).toEqual(['c0']);
  });
  it('sse_out_of_order: b answered before a was sent, yet a arrives first', () => {
    const h = base();
    const [e0, e1, e2] = h.sseEvents;
    h.sseEvents = [e0!, { ...e2!, atMs: e1!.atMs - 1 }, { ...e1!, atMs: e2!.atMs }];
    const v = verdictOf(h);
    expect(fired(v)).toEqual({ sse_out_of_order: 1 });
    expect(sampleOf(v, 1).sse.outOfOrder).toEqual(['c0']);
  });
  it('no out_of_order for concurrent requests', () => {
    const a = req(0, { sentAtMs: 0, reply: { kind: 'response', status: 200, body: '{}', atMs: T0 + 50 } });
    const b = req(1, { sentAtMs: 10 });
    const h = history([a, b], {
      store: [storedFrom(a), storedFrom(b)],
      sseClients: [{ clientId: 'c0', connectedAtMs: T0 - 1 }],
      sseEvents: [sseFrom(b, 'c0', 1), sseFrom(a, 'c0', 40)],
    });
    expect(fired(verdictOf(h))).toEqual({});
  });
  it('sse_unexpected: a refused sample broadcast, a payload nobody sent, garbage', () => {
    const h = base();
    const refused = req(3, { body: payload(300, { pose: 'bad' }), reply: 400, replyBody: '{"message":"Invalid pose structure"}' });
    h.requests.push(refused);
    h.plannedRequestCount = 4;
    h.sseEvents.push(sseFrom(refused), { clientId: 'c0', atMs: T0 + 5, data: JSON.stringify(payload(42, { pose: { x: 3, z: 3 } })) }, { clientId: 'c0', atMs: T0 + 6, data: 'oops' });
    const v = verdictOf(h);
    expect(fired(v)).toEqual({ sse_unexpected: 3 });
    expect(v.sseUnexpected).toHaveLength(3);
  });
  it('key order and serverReceiveTime do not matter when matching events', () => {
    const h = base();
    h.sseEvents = h.sseEvents.map((e) => {
      const p = JSON.parse(e.data) as Record<string, unknown>;
      return { ...e, data: JSON.stringify(Object.fromEntries(Object.entries(p).reverse())) };
    });
    expect(fired(verdictOf(h))).toEqual({});
  });
});

describe('property helpers isolate their own property', () => {
  it('each helper fails only on its own crafted history', () => {
    const lost = cleanHistory(1); lost.store = [];
    lost.probeEndedAtMs = lost.requests[0]!.sentAtMs + 1000;
    const checks = [ackImpliesStored, rejectedNeverStored, nothingUnexpected, lagWithinBound, validationAgreesWithModel, noServerErrorOnClientError, sseDeliversOnceInOrder, conservationHolds];
    const failing = checks.filter((f) => !f(verdictOf(lost)).ok);
    expect(failing).toEqual([ackImpliesStored]);
  });
});

describe('reply messages', () => {
  it('accept the seed wording, alone or followed by ": <detail>", and nothing else', () => {
    const body = '{"vehicle_id":"' + VEHICLE + '","timestamp":1e309,"pose":{"x":1,"z":1}}';
    const withMessage = (m: string) => verdictOf(history([req(0, { body, reply: 400, replyBody: JSON.stringify({ message: m }) })]));
    expect(validationAgreesWithModel(withMessage('Timestamp skew too large: Infinitys')).ok).toBe(true);
    expect(validationAgreesWithModel(withMessage('Missing or invalid timestamp')).ok).toBe(true);
    expect(validationAgreesWithModel(withMessage('Missing or invalid timestamp: must be a finite number of seconds')).ok).toBe(true);
    expect(validationAgreesWithModel(withMessage('Missing or invalid timestamps')).ok).toBe(false);
    expect(validationAgreesWithModel(withMessage('bad request')).ok).toBe(false);
  });
});

describe('a sample with no pose and no control', () => {
  it('is lost for ack_implies_stored and late for the lag bound however short the watch (it can never be stored)', () => {
    const r = req(0, { body: payload(0, { pose: undefined, control: undefined }) });
    const h = history([r], { probeEndedAtMs: r.sentAtMs + 200 });
    const v = verdictOf(h);
    expect(ackImpliesStored(v).details.join()).toMatch(/no pose or control/);
    expect(lagWithinBound(v).ok).toBe(false);
    expect(v.notes).toEqual([]);
  });
});
