import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  decideJetson,
  decideRetry,
  isRetryable,
  jetsonPolicy,
  JETSON_DEFAULTS,
  outcomeFromError,
  outcomeFromStatus,
  parseRetryAfter,
  policyByName,
  retryPolicy,
  RETRY_DEFAULTS,
  type SendOutcome,
} from './publisherPolicy';

const ok: SendOutcome = { kind: 'ok', status: 200 };
const s500: SendOutcome = { kind: 'http', status: 500 };
const timeout: SendOutcome = { kind: 'timeout' };
const refused: SendOutcome = { kind: 'network', code: 'ECONNREFUSED' };

const outcomeArb: fc.Arbitrary<SendOutcome> = fc.oneof(
  fc.constant(ok),
  fc.integer({ min: 400, max: 599 }).map((status) => ({ kind: 'http' as const, status })),
  fc.constant(timeout),
  fc.constant(refused),
);

describe('backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40].map((k) => backoffMs(JETSON_DEFAULTS, k))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(backoffMs({ baseMs: 10, capMs: 300 }, 3)).toBe(80);
    expect(backoffMs({ baseMs: 10, capMs: 300 }, 5000)).toBe(300);
  });
});

describe('jetson policy', () => {
  it('never resends, backs off 1, 2, 4 ... 30 s on failures in a row, and resets on success', () => {
    const p = jetsonPolicy();
    let s = p.initial();
    const delays: number[] = [];
    for (const o of [s500, timeout, refused, { kind: 'http', status: 400 } as const, s500, s500, s500]) {
      const d = p.decide(s, o, 0);
      expect(d.action).toBe('next');
      expect(d.dropped).toBe(true);
      delays.push(d.delayMs);
      s = d.state;
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    const d = p.decide(s, ok, 0);
    expect(d).toMatchObject({ action: 'next', delayMs: 0, dropped: false, state: { consecutiveFailures: 0 } });
    expect(p.decide(d.state, s500, 0).delayMs).toBe(1_000);
  });

  it('scales for a compressed run', () => {
    const p = jetsonPolicy({ baseMs: 10, capMs: 300 });
    let s = p.initial();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const d = p.decide(s, timeout, 0);
      delays.push(d.delayMs);
      s = d.state;
    }
    expect(delays).toEqual([10, 20, 40, 80, 160, 300, 300]);
  });

  it('property: the action is always next, and only failures are dropped and delayed', () => {
    fc.assert(
      fc.property(fc.array(outcomeArb, { maxLength: 50 }), (outcomes) => {
        let s = jetsonPolicy().initial();
        for (const o of outcomes) {
          const d = decideJetson(JETSON_DEFAULTS, s, o);
          expect(d.action).toBe('next');
          expect(d.dropped).toBe(o.kind !== 'ok');
          expect(d.delayMs).toBe(o.kind === 'ok' ? 0 : Math.min(30_000, 1_000 * 2 ** s.consecutiveFailures));
          s = d.state;
        }
      }),
      { seed: 3 },
    );
  });
});

describe('retry policy', () => {
  it('resends on 5xx, timeouts and network errors with back-off, then moves on after success', () => {
    const p = retryPolicy();
    let s = p.initial();
    const seen: [string, number][] = [];
    for (const o of [s500, timeout, refused]) {
      const d = p.decide(s, o, 0);
      seen.push([d.action, d.delayMs]);
      s = d.state;
    }
    expect(seen).toEqual([
      ['resend', 1_000],
      ['resend', 2_000],
      ['resend', 4_000],
    ]);
    const d = p.decide(s, ok, 7_000);
    expect(d).toMatchObject({ action: 'next', delayMs: 0, dropped: false, state: { attempts: 0, consecutiveFailures: 0 } });
  });

  it('does not resend a 4xx rejection (but does resend 408 and 429)', () => {
    const p = retryPolicy();
    for (const status of [400, 401, 404, 413, 422]) {
      expect(p.decide(p.initial(), { kind: 'http', status }, 0)).toMatchObject({ action: 'next', dropped: true, delayMs: 0 });
    }
    for (const status of [408, 429, 502, 503, 504]) expect(p.decide(p.initial(), { kind: 'http', status }, 0).action).toBe('resend');
    expect(isRetryable(ok)).toBe(false);
  });

  it('honours Retry-After seconds when longer than the back-off, and ignores it when told to', () => {
    const p = retryPolicy();
    const d = p.decide(p.initial(), { kind: 'http', status: 503, retryAfter: '7' }, 0);
    expect(d).toMatchObject({ action: 'resend', delayMs: 7_000 });
    expect(p.decide(p.initial(), { kind: 'http', status: 503, retryAfter: '0' }, 0).delayMs).toBe(1_000);
    expect(retryPolicy({ honourRetryAfter: false }).decide(p.initial(), { kind: 'http', status: 503, retryAfter: '7' }, 0).delayMs).toBe(1_000);
    // A compressed run reads Retry-After seconds on its own scale.
    expect(retryPolicy({ baseMs: 10, retryAfterScale: 10 }).decide(p.initial(), { kind: 'http', status: 429, retryAfter: '3' }, 0).delayMs).toBe(30);
    const date = new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString();
    expect(p.decide(p.initial(), { kind: 'http', status: 503, retryAfter: date }, Date.UTC(2030, 0, 1)).delayMs).toBe(10_000);
  });

  it('gives a payload up after maxAttempts attempts and goes on with the next one', () => {
    const p = retryPolicy({ maxAttempts: 3, baseMs: 10, capMs: 1_000 });
    let s = p.initial();
    const actions: string[] = [];
    for (let i = 0; i < 4; i++) {
      const d = p.decide(s, s500, i * 100);
      actions.push(`${d.action}${d.dropped ? '!' : ''}:${d.delayMs}`);
      s = d.state;
    }
    // attempts 1, 2 fail -> resend; attempt 3 fails -> give up (back-off kept); next payload fails -> resend
    expect(actions).toEqual(['resend:10', 'resend:20', 'next!:40', 'resend:80']);
    expect(s.attempts).toBe(1);
  });

  it('gives up when the next attempt would blow the time budget', () => {
    const p = retryPolicy({ maxAttempts: 100, maxElapsedMs: 5_000 });
    const d1 = p.decide(p.initial(), s500, 1_000);
    expect(d1.action).toBe('resend');
    const d2 = p.decide(d1.state, { kind: 'http', status: 503, retryAfter: '10' }, 2_000);
    expect(d2).toMatchObject({ action: 'next', dropped: true });
    expect(d2.reason).toMatch(/budget/);
  });

  it('property: attempts per payload are bounded, order is kept, delays are within bounds', () => {
    const cfg = { ...RETRY_DEFAULTS, maxAttempts: 4, baseMs: 5, capMs: 100, maxElapsedMs: 1_000 };
    fc.assert(
      fc.property(fc.array(fc.tuple(outcomeArb, fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined })), { maxLength: 80 }), (steps) => {
        let s = retryPolicy(cfg).initial();
        let attemptsOfThisPayload = 0;
        let now = 0;
        for (const [o0, ra] of steps) {
          const o: SendOutcome = o0.kind === 'http' && ra !== undefined ? { ...o0, retryAfter: String(ra) } : o0;
          attemptsOfThisPayload++;
          const d = decideRetry(cfg, s, o, now);
          expect(d.delayMs).toBeGreaterThanOrEqual(0);
          expect(d.delayMs).toBeLessThanOrEqual(Math.max(cfg.capMs, 5_000));
          if (d.action === 'resend') {
            expect(isRetryable(o)).toBe(true);
            expect(d.dropped).toBe(false);
          } else {
            attemptsOfThisPayload = 0;
          }
          expect(attemptsOfThisPayload).toBeLessThan(cfg.maxAttempts);
          now += d.delayMs + 1;
          s = d.state;
        }
      }),
      { seed: 4 },
    );
  });

  it('refuses a policy with no attempt at all', () => {
    expect(() => retryPolicy({ maxAttempts: 0 })).toThrow();
    expect(policyByName('jetson').name).toBe('jetson');
    expect(policyByName('retry', { baseMs: 1 }).name).toBe('retry');
  });
});

describe('outcomes', () => {
  it('parses Retry-After', () => {
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(' 3 ', 0, 10)).toBe(30);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
    expect(parseRetryAfter('-1', 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2015, 9, 21, 7, 27, 0))).toBe(60_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.UTC(2016, 0, 1))).toBe(0);
  });

  it('classifies statuses and client errors', () => {
    expect(outcomeFromStatus(204)).toEqual({ kind: 'ok', status: 204 });
    expect(outcomeFromStatus(503, '2')).toEqual({ kind: 'http', status: 503, retryAfter: '2' });
    expect(outcomeFromError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).toEqual({ kind: 'timeout', code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(outcomeFromError(new DOMException('t', 'TimeoutError'))).toMatchObject({ kind: 'timeout' });
    expect(outcomeFromError(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))).toEqual({ kind: 'network', code: 'ECONNREFUSED' });
    expect(outcomeFromError(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }))).toEqual({ kind: 'network', code: 'UND_ERR_SOCKET' });
  });
});
