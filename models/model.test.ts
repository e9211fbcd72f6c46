import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTRACT, contractFrom } from './contract';
import { acceptedSizeBytes, expectedPoints, distinctCandidates, predictHistory, predictOutcome, refusalOptions, serverNowWindow, type Prediction, type SentRequest } from './model';
import { history, payload, req, T0 } from './testing/history-builder';

const C = DEFAULT_CONTRACT;
const NOW = { fromMs: T0, toMs: T0 + 5 };
const sent = (body: unknown, over: Partial<SentRequest> = {}): SentRequest => ({
  apiKey: 'valid', contentType: 'application/json', body: typeof body === 'string' ? body : JSON.stringify(body), ...over,
});
const predict = (body: unknown, over: Partial<SentRequest> = {}, now = NOW) => predictOutcome(sent(body, over), C, now);
const reasonOf = (p: Prediction) => (p.kind === 'reject' ? p.reason : p.kind);
const statuses = (p: Prediction) => [...new Set(refusalOptions(p).map((o) => o.status))].sort();

describe('predictOutcome: acceptance', () => {
  it('accepts a well-formed payload with pose and control', () => {
    expect(predict(payload(0))).toEqual({ kind: 'accept' });
  });
  it('accepts unknown extra fields, odd trajectory elements, huge and tiny finite floats', () => {
    expect(predict(payload(0, { extra: { a: [1] }, trajectory: ['x', null], pose: { x: 1.7976931348623157e308, z: 5e-324 } })).kind).toBe('accept');
  });
  it('accepts a realistic body above the 100 kB limit but under the realistic floor', () => {
    const body = JSON.stringify(payload(0, { pad: 'x'.repeat(200_000) }));
    expect(predict(body)).toEqual({ kind: 'accept' });
    expect(acceptedSizeBytes(C)).toBe(512 * 1024);
  });
});

describe('predictOutcome: definite refusals, in the seed order', () => {
  const cases: Array<[string, unknown, Partial<SentRequest>, string, number, string?]> = [
    ['missing key', payload(0), { apiKey: 'missing' }, 'unauthorized', 401, 'Unauthorized: Invalid or missing API Key'],
    ['wrong key', payload(0), { apiKey: 'wrong' }, 'unauthorized', 401],
    ['text/plain', payload(0), { contentType: 'text/plain' }, 'unsupported_media_type', 400],
    ['no content-type', payload(0), { contentType: null }, 'unsupported_media_type', 400],
    ['not JSON', 'not json', {}, 'malformed_json', 400],
    ['scalar body', '42', {}, 'malformed_json', 400],
    ['array body', '[]', {}, 'not_object', 400],
    ['empty body', '', {}, 'invalid_vehicle_id', 400, 'Missing or invalid vehicle_id'],
    ['numeric vehicle_id', payload(0, { vehicle_id: 5 }), {}, 'invalid_vehicle_id', 400, 'Missing or invalid vehicle_id'],
    ['string timestamp', payload(0, { timestamp: '1700000000' }), {}, 'invalid_timestamp', 400, 'Missing or invalid timestamp'],
    ['timestamp 20 s ahead', payload(20_000), {}, 'timestamp_skew', 400],
    ['timestamp in ms', payload(0, { timestamp: T0 }), {}, 'timestamp_skew', 400],
    ['pose as string', payload(0, { pose: 'p' }), {}, 'invalid_pose', 400, 'Invalid pose structure'],
    ['pose without z', payload(0, { pose: { x: 1 } }), {}, 'invalid_pose', 400],
    ['control as array', payload(0, { control: [1, 2] }), {}, 'invalid_control', 400, 'Invalid control structure'],
    ['trajectory object', payload(0, { trajectory: {} }), {}, 'invalid_trajectory', 400, 'Invalid trajectory format'],
    ['track.outer string', payload(0, { track: { outer: 's' } }), {}, 'invalid_track', 400, 'Invalid track outer/inner boundary'],
  ];
  for (const [name, body, over, reason, status, message] of cases) {
    it(`${name} → ${status} ${reason}`, () => {
      const p = predict(body, over);
      expect(p.kind).toBe('reject');
      if (p.kind !== 'reject') return;
      expect(p.reason).toBe(reason);
      expect(p.status).toBe(status);
      if (message) expect(p.message).toEqual({ exact: expect.arrayContaining([message]) });
    });
  }
  it('refuses 1e309 in a float field as a client error (the seed answers 500)', () => {
    const p = predict('{"vehicle_id":"v","timestamp":' + T0 / 1000 + ',"pose":{"x":1e309,"z":1}}');
    expect(reasonOf(p)).toBe('non_finite_number');
    expect(statuses(p)).toEqual([400, 422]);
  });
  it('refuses 1e309 as timestamp for skew (the seed), or as an invalid timestamp (as right)', () => {
    const p = predict('{"vehicle_id":"v","timestamp":1e309,"pose":{"x":1,"z":1}}');
    expect(reasonOf(p)).toBe('timestamp_skew');
    expect(refusalOptions(p)).toEqual(expect.arrayContaining([{ status: 400, reason: 'invalid_timestamp', message: { exact: ['Missing or invalid timestamp'] } }]));
  });
  it('checks the body before the key, and accepts any stacked fault\'s status', () => {
    const p = predict('not json', { apiKey: 'missing' });
    expect(reasonOf(p)).toBe('malformed_json');
    expect(statuses(p)).toEqual([400, 401, 403]);
  });
  it('lets the first validation failure win but allows the others\' messages', () => {
    const p = predict(payload(0, { vehicle_id: 1, pose: 's' }));
    expect(p.kind === 'reject' && p.reason).toBe('invalid_vehicle_id');
    expect(refusalOptions(p).map((o) => o.reason)).toEqual(expect.arrayContaining(['invalid_vehicle_id', 'invalid_pose']));
  });
});

describe('predictOutcome: "either"', () => {
  it('on the skew edge: the server clock may read either side of the window', () => {
    const p = predict(payload(10_003), {}, { fromMs: T0, toMs: T0 + 10 });
    expect(p).toMatchObject({ kind: 'either', why: ['skew_boundary'], clientFault: false });
    expect(statuses(p)).toEqual([400]);
  });
  it('just inside and just outside the uncertainty band are definite', () => {
    expect(predict(payload(9_990), {}, { fromMs: T0, toMs: T0 + 5 }).kind).toBe('accept');
    expect(predict(payload(10_006), {}, { fromMs: T0, toMs: T0 + 5 }).kind).toBe('reject');
    expect(predict(payload(-10_001), {}, { fromMs: T0, toMs: T0 + 5 }).kind).toBe('reject');
  });
  it('uses the contract\'s window and uncertainty via serverNowWindow', () => {
    const c = contractFrom({ skewWindowSec: 2, skewUncertaintySec: 0.5 });
    const r = req(0, { body: payload(2_300) });
    const w = serverNowWindow(r, c);
    expect(w).toEqual({ fromMs: r.sentAtMs - 500, toMs: r.sentAtMs + 2 + 500 });
    expect(predictOutcome(r, c, w).kind).toBe('either');
    expect(predictOutcome(req(0, { body: payload(3_000) }), c, serverNowWindow(req(0, { body: payload(3_000) }), c)).kind).toBe('reject');
  });
  it('for a payload with nothing to store: refuse, or accept and store it anyway', () => {
    const p = predict(payload(0, { pose: undefined, control: undefined, trajectory: [[1, 2]] }));
    expect(p).toMatchObject({ kind: 'either', why: ['no_storable_fields'], clientFault: true });
  });
  it('for an empty vehicle_id, null optionals and a non-object track', () => {
    expect(predict(payload(0, { vehicle_id: '' }))).toMatchObject({ kind: 'either', why: ['empty_vehicle_id'] });
    expect(predict(payload(0, { pose: null }))).toMatchObject({ kind: 'either', why: ['null_optional'] });
    expect(predict(payload(0, { track: 'loop' }))).toMatchObject({ kind: 'either', why: ['non_object_track'] });
  });
  it('for false, 0 or "" given as a structure: absent to a truthiness check, malformed to a literal one', () => {
    for (const v of [false, 0, '']) {
      const pose = predict(payload(0, { pose: v }));
      expect(pose).toMatchObject({ kind: 'either', why: ['falsy_optional'] });
      // Refusing is right too, with the contract's own message.
      expect(refusalOptions(pose)).toEqual(expect.arrayContaining([{ status: 400, reason: 'invalid_pose', message: { exact: ['Invalid pose structure'] } }]));
      expect(predict(payload(0, { control: v }))).toMatchObject({ kind: 'either', why: ['falsy_optional'] });
      expect(predict(payload(0, { trajectory: v }))).toMatchObject({ kind: 'either', why: ['falsy_optional'] });
      expect(predict(payload(0, { track: v }))).toMatchObject({ kind: 'either', why: ['falsy_optional'] });
      expect(predict(payload(0, { track: { outer: v } }))).toMatchObject({ kind: 'either', why: ['falsy_optional'] });
    }
    // Truthy non-structures stay definite refusals.
    expect(reasonOf(predict(payload(0, { pose: true })))).toBe('invalid_pose');
    expect(reasonOf(predict(payload(0, { trajectory: 1 })))).toBe('invalid_trajectory');
  });
  it('for a vehicle_id line protocol cannot carry unchanged: store it exactly, or refuse it as an invalid vehicle_id', () => {
    for (const bad of ['car\n1', 'car\r', 'tab\there', 'nul\u0000', 'del\u007f', 'lone\ud800', 'lone\udc00x', 'ends\\', 'back\\slash']) {
      const p = predict(payload(0, { vehicle_id: bad }));
      expect(p, JSON.stringify(bad)).toMatchObject({ kind: 'either', why: ['unstorable_vehicle_id'] });
      expect(refusalOptions(p)[0]).toEqual({ status: 400, reason: 'unstorable_vehicle_id', message: { exact: ['Missing or invalid vehicle_id'] } });
    }
    // Unusual but storable: must be accepted.
    for (const ok of ['car 1', 'a,b=c', 'quote"', 'é车🚗', 'zero\u200bwidth', '#/*${}']) {
      expect(predict(payload(0, { vehicle_id: ok })).kind, JSON.stringify(ok)).toBe('accept');
    }
    expect(predict(payload(0, { vehicle_id: '   ' }))).toMatchObject({ kind: 'either', why: ['empty_vehicle_id'] });
  });
  it('for a vehicle_id above the contract\'s floor (256 by default): refusing is allowed', () => {
    expect(predict(payload(0, { vehicle_id: 'x'.repeat(256) })).kind).toBe('accept');
    expect(predict(payload(0, { vehicle_id: 'x'.repeat(257) }))).toMatchObject({ kind: 'either', why: ['long_vehicle_id'] });
    const c = contractFrom({ vehicleIdFloorChars: 70_000 });
    expect(predictOutcome(sent(payload(0, { vehicle_id: 'x'.repeat(65_000) })), c, NOW).kind).toBe('accept');
  });
  it('a falsy pose with no control leaves nothing to store', () => {
    const p = predict(payload(0, { pose: 0, control: undefined }));
    expect(p).toMatchObject({ kind: 'either', why: expect.arrayContaining(['falsy_optional', 'no_storable_fields']) });
  });
  it('for a body beyond both the limit and the realistic floor (413 allowed)', () => {
    const p = predict(JSON.stringify(payload(0, { pad: 'x'.repeat(600_000) })));
    expect(p).toMatchObject({ kind: 'either', why: ['beyond_realistic_size'] });
    expect(statuses(p)).toEqual([413]);
  });
  it('a definite fault wins over an either', () => {
    expect(predict(payload(0, { vehicle_id: '', pose: 'x' })).kind).toBe('reject');
  });
});

describe('predictHistory and expectedPoints', () => {
  it('makes a second sample on an acknowledged key an "either" (409 allowed)', () => {
    const a = req(0, { body: payload(0) });
    const b = req(1, { body: payload(0, { pose: { x: 9, z: 9 } }), sentAtMs: 50 });
    const preds = predictHistory(history([a, b]), C);
    expect(preds.get(a.id)).toEqual({ kind: 'accept' });
    expect(preds.get(b.id)).toMatchObject({ kind: 'either', why: ['duplicate_key'] });
    expect(statuses(preds.get(b.id)!)).toEqual([400, 409, 422]);
  });
  it('does not when the earlier sample was refused', () => {
    const a = req(0, { body: payload(0), reply: 400 });
    const b = req(1, { body: payload(0), sentAtMs: 50 });
    expect(predictHistory(history([a, b]), C).get(b.id)).toEqual({ kind: 'accept' });
  });
  it('requests in flight together on one key may be refused in either order (the server may see the later-sent one first)', () => {
    // b is sent before a is answered: the server may handle b first and refuse a.
    const a = req(0, { body: payload(0), sentAtMs: 0, reply: { kind: 'response', status: 409, body: '{"message":"Conflict"}', atMs: T0 + 20 } });
    const b = req(1, { body: payload(0, { pose: { x: 9, z: 9 } }), sentAtMs: 1, reply: 200 });
    const preds = predictHistory(history([a, b]), C);
    expect(preds.get(a.id)).toMatchObject({ kind: 'either', why: ['duplicate_key'] });
    expect(statuses(preds.get(a.id)!)).toContain(409);
    // Not when the other one was sent only after this one was answered.
    const c = req(2, { body: payload(0, { pose: { x: 7, z: 7 } }), sentAtMs: 500, reply: 200 });
    const d = req(3, { body: payload(0), sentAtMs: 0 });
    expect(predictHistory(history([d, c]), C).get(d.id)).toEqual({ kind: 'accept' });
  });
  it('counts every try of a resent request: an earlier try that timed out may be stored even if the last got 503', () => {
    const a = req(0, { body: payload(0), sentAtMs: 0, reply: 503 });
    a.attempts = [
      { sentAtMs: T0, outcome: { kind: 'timeout', atMs: T0 + 2000 } },
      { sentAtMs: T0 + 2500, outcome: { kind: 'response', status: 503, body: '{}', atMs: T0 + 2502 } },
    ];
    a.sentAtMs = T0 + 2500;
    const b = req(1, { body: payload(0, { pose: { x: 9, z: 9 } }), sentAtMs: 3000 });
    expect(predictHistory(history([a, b]), C).get(b.id)).toMatchObject({ kind: 'either', why: ['duplicate_key'] });
  });
  it('lists one expected point per acknowledged key, with every candidate', () => {
    const a = req(0, { body: payload(0) });
    const b = req(1, { body: payload(0, { pose: { x: 9, z: 9 } }), sentAtMs: 50 });
    const c = req(2, { body: payload(500), reply: 400 });
    const d = req(3, { body: payload(700), reply: { kind: 'timeout', atMs: T0 + 3000 } });
    const points = expectedPoints(history([a, b, c, d]), C);
    expect(points.size).toBe(1);
    const [p] = [...points.values()];
    expect(p!.candidates.map((x) => x.requestId)).toEqual([a.id, b.id]);
    expect(distinctCandidates(p!)).toBe(2);
    expect(p!.timeMs).toBe(T0);
  });
});
