import { describe, expect, it } from 'vitest';
import { check } from '../models/checker';
import { DEFAULT_CONTRACT } from '../models/contract';
import { cleanHistory, history, payload, req, sseFrom, storedFrom, T0, VEHICLE } from '../models/testing/history-builder';
import { authEnforced, storedCorrupted } from './judges';

const C = DEFAULT_CONTRACT;

describe('authEnforced', () => {
  it('holds when a missing and a wrong key are refused with 401 and nothing of theirs is stored', () => {
    const h = history([req(0), req(1, { apiKey: 'missing', reply: 401 }), req(2, { apiKey: 'wrong', reply: 401 })]);
    h.store = [storedFrom(h.requests[0]!)];
    expect(authEnforced(check(h, C))).toMatchObject({ ok: true, details: [] });
  });

  it('negative control: a wrong key answered 200 and stored is caught', () => {
    const bad = req(0, { apiKey: 'wrong', reply: 200 });
    const v = check(history([bad], { store: [storedFrom(bad)] }), C);
    const r = authEnforced(v);
    expect(r.ok).toBe(false);
    expect(r.details.join('\n')).toMatch(/validation_agrees_with_model \[model_disagreement\] .*acknowledged with 200; model says reject 401 unauthorized/);
    expect(r.violations.map((x) => x.category)).toEqual(['model_disagreement']);
  });

  it('negative control: a missing key refused 401 but stored anyway is caught', () => {
    const bad = req(0, { apiKey: 'missing', reply: 401 });
    const r = authEnforced(check(history([bad], { store: [storedFrom(bad)] }), C));
    expect(r.ok).toBe(false);
    expect(r.violations.map((x) => x.category)).toEqual(['stored_after_reject']);
  });

  it('negative control: a refused unauthenticated sample broadcast on SSE is caught', () => {
    const bad = req(0, { apiKey: 'wrong', reply: 401 });
    const h = history([bad], { sseClients: [{ clientId: 'c0', connectedAtMs: T0 - 1000 }], sseEvents: [sseFrom(bad)] });
    const r = authEnforced(check(h, C));
    expect(r.violations.map((x) => x.category)).toEqual(['sse_unexpected']);
  });

  it('negative control: a 5xx or a wrong message for a bad key is caught', () => {
    expect(authEnforced(check(history([req(0, { apiKey: 'wrong', reply: 500 })]), C)).violations.map((x) => x.category)).toEqual(['server_error_on_client_error']);
    expect(authEnforced(check(history([req(0, { apiKey: 'missing', reply: 401, replyBody: '{"message":"nope"}' })]), C)).ok).toBe(false);
    // 403 is an acceptable refusal of a bad key.
    expect(authEnforced(check(history([req(0, { apiKey: 'wrong', reply: 403, replyBody: '{"message":"Forbidden"}' })]), C)).ok).toBe(true);
  });

  it('ignores violations about authenticated requests', () => {
    const h = cleanHistory(2);
    h.store = [];
    const v = check(h, C);
    expect(v.violations.length).toBeGreaterThan(0);
    expect(authEnforced(v).ok).toBe(true);
  });
});

describe('storedCorrupted', () => {
  it('keeps only corrupted samples (e.g. stored under a mangled vehicle_id), not lost or collapsed ones', () => {
    const mangled = req(0, { body: payload(0, { vehicle_id: `${VEHICLE}\n` }) });
    const lost = req(1);
    const h = history([mangled, lost], { store: [storedFrom(mangled, { vehicleId: `${VEHICLE}\\n` })] });
    const v = check(h, C);
    expect(v.counts).toMatchObject({ corrupted: 1, lost: 1 });
    const r = storedCorrupted(v);
    expect(r.violations.map((x) => [x.category, x.requestIds])).toEqual([['corrupted', [mangled.id]]]);
  });
});
