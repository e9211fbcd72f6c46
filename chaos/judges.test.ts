import { describe, expect, it } from 'vitest';
import { cleanHistory, history, req, storedFrom, T0 } from '../models/testing/history-builder';
import { ackStoredAfterHealing, allOf, backendSurvives, noUnexpectedPoints, recoversWithinBound, slowConsumerBounded } from './judges';
import { attemptOf } from './testing';

const MB = 1024 * 1024;

describe('chaos judges', () => {
  it('ack stored after healing: passes a clean run, fails a lost sample, and always says where samples went', () => {
    const ok = ackStoredAfterHealing(attemptOf(cleanHistory(2)));
    expect(ok).toMatchObject({ ok: true, property: 'ack_stored_after_healing' });
    expect(ok.details[0]).toBe('stages: planned 2: stored 2');
    const lost = ackStoredAfterHealing(attemptOf(history([req(0), req(1)], { store: [storedFrom(req(0))], backendEvents: [{ atMs: T0 + 150, kind: 'process_exit', reason: 'kill' }] })));
    expect(lost.ok).toBe(false);
    expect(lost.details[0]).toBe('stages: planned 2: stored 1, lost in backend 1 (crash 1)');
    expect(lost.details.join('\n')).toMatch(/\[lost\]/);
  });

  it('no unexpected points', () => {
    const h = cleanHistory(1);
    const extra = { ...storedFrom(req(5)), vehicleId: 'tp-testrun1-v9' };
    expect(noUnexpectedPoints(attemptOf(h)).ok).toBe(true);
    expect(noUnexpectedPoints(attemptOf({ ...h, store: [...h.store, extra] })).ok).toBe(false);
  });

  it('recovery: backend back within the bound, and what it acknowledges after the last fault is stored in time', () => {
    const h = history([req(0), req(1), req(2)], { store: [storedFrom(req(0)), storedFrom(req(1), { lagMs: 9_000 })] });
    const judge = recoversWithinBound({ lagBoundMs: 5_000 });
    expect(judge(attemptOf(h, { recovery: { boundMs: 5_000, recovered: true, afterHealMs: 5, lastFaultEndedAt: T0 + 50 } })).details.slice(1)).toEqual([
      expect.stringMatching(/#1: acknowledged after the last fault ended, stored 9000 ms later/),
      expect.stringMatching(/#2: acknowledged 150 ms after the last fault ended, never stored/),
    ]);
    expect(judge(attemptOf(h, { recovery: { boundMs: 5_000, recovered: true, afterHealMs: 5, lastFaultEndedAt: T0 + 500 } })).ok).toBe(true);
    expect(judge(attemptOf(cleanHistory(1), { recovery: { boundMs: 5_000, recovered: false, afterHealMs: 5_000, lastFaultEndedAt: null } })).ok).toBe(false);
  });

  it('backend survives: no unexplained restart, RSS under its bounds', () => {
    const judge = backendSurvives({ maxRssMB: 500, maxRssSlopeMBPerMin: 10 });
    const base = attemptOf(cleanHistory(1));
    expect(judge(base).ok).toBe(true);
    expect(judge({ ...base, unexpectedBackendStarts: 1 }).ok).toBe(false);
    expect(judge({ ...base, crashEvidence: ['uncaught_exception: boom'] }).details).toContain('crash: uncaught_exception: boom');
    expect(judge({ ...base, resources: { ...base.resources, maxRssBytes: 600 * MB } }).ok).toBe(false);
    expect(judge({ ...base, resources: { ...base.resources, rssSlopeBytesPerMin: 20 * MB } }).details.join()).toMatch(/RSS grew 20.0 MB\/min/);
  });

  it('slow consumer: SSE buffer and reply p99 bounded', () => {
    const judge = slowConsumerBounded({ maxSseBufferedBytes: MB, maxReplyP99Ms: 500, maxRssSlopeMBPerMin: 100 });
    const base = attemptOf(cleanHistory(1));
    expect(judge({ ...base, resources: { ...base.resources, maxSseBufferedBytes: MB / 2 } }).ok).toBe(true);
    expect(judge({ ...base, resources: { ...base.resources, maxSseBufferedBytes: 3 * MB } }).details.join()).toMatch(/buffered 3072 KiB/);
    expect(judge({ ...base, latency: { count: 1, p50Ms: 600, p99Ms: 600, maxMs: 600 } }).ok).toBe(false);
  });

  it('allOf: fails when any fails, naming the failing properties', () => {
    const lostRun = attemptOf(history([req(0)]));
    const j = allOf(ackStoredAfterHealing, noUnexpectedPoints)(lostRun);
    expect(j.ok).toBe(false);
    expect(j.property).toBe('ack_stored_after_healing');
    expect(j.details[0]).toMatch(/^stages: /);
    expect(allOf(ackStoredAfterHealing, noUnexpectedPoints)(attemptOf(cleanHistory(1))).property).toBe('ack_stored_after_healing+no_unexpected_points');
  });
});
