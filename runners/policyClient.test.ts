/**
 * The policy publisher against an in-process loopback HTTP server that
 * answers from a script: what is sent, resent, skipped and recorded.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONTRACT } from '../models/contract';
import type { Plan } from '../models/plan';
import { publishWithPolicy, type PolicyClientOptions } from './policyClient';

interface Arrival { atMs: number; body: string; timestamp: number }
type Answer = { status: number; delayMs?: number; headers?: Record<string, string> };

let server: http.Server;
let base = '';
let arrivals: Arrival[] = [];
let script: (n: number) => Answer = () => ({ status: 200 });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const n = arrivals.length;
      arrivals.push({ atMs: Date.now(), body, timestamp: (JSON.parse(body) as { timestamp: number }).timestamp });
      const a = script(n);
      setTimeout(() => {
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
        res.end(JSON.stringify({ message: a.status === 200 ? 'Telemetry received' : 'nope' }));
      }, a.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  arrivals = [];
  script = () => ({ status: 200 });
});

/** One vehicle, `n` valid payloads `spacingMs` apart. */
function plan(n: number, spacingMs: number): Plan {
  return {
    runId: 'policy0test',
    vehicles: [{ clockOffsetMs: 0, driftMsPerSec: 0, rateHz: 1000 / spacingMs, jitterMs: 0 }],
    requests: Array.from({ length: n }, (_, i) => ({
      atMs: i * spacingMs, vehicle: 0, label: 'valid', apiKey: 'valid' as const, contentType: 'application/json',
      body: { kind: 'payload' as const, payload: { pose: { x: i, z: -i } }, vehicleId: { kind: 'vehicle' as const }, timestamp: { kind: 'device' as const } },
    })),
  };
}

const publish = (p: Plan, o: PolicyClientOptions) =>
  publishWithPolicy({ plan: p, runStartMs: Date.now() + 10, contract: DEFAULT_CONTRACT, backendUrl: base, apiKey: 'k' }, o);

describe('publishWithPolicy: jetson', () => {
  // Timing-robust: the assertions are the policy's invariants, read off the recorded times.
  it('drops the ticks that fall in its back-off after a failure, never resends', async () => {
    script = (n) => ({ status: n === 1 ? 500 : 200 });
    const out = await publish(plan(10, 50), { policy: 'jetson', backoff: { baseMs: 300, capMs: 1_000 } });
    const failed = out.records.find((r) => r.outcome?.kind === 'response' && r.outcome.status === 500)!;
    const until = failed.outcome!.atMs + 300;
    expect(out.neverSent.length).toBeGreaterThan(0);
    for (const n of out.neverSent) {
      expect(n.reason).toBe('backoff');
      expect(n.plannedAtMs).toBeLessThan(until + 5);
    }
    for (const r of out.records.filter((x) => x.planIndex > failed.planIndex)) expect(r.sentAtMs).toBeGreaterThanOrEqual(until);
    expect(out.records.every((r) => r.attempts === undefined)).toBe(true);
    expect(arrivals).toHaveLength(out.records.length); // nothing resent
    expect(out.records.length + out.neverSent.length).toBe(10);
  });

  it('skips ticks while its previous request is still in flight (one at a time)', async () => {
    script = (n) => ({ status: 200, delayMs: n === 0 ? 180 : 0 });
    const out = await publish(plan(6, 50), { policy: 'jetson' });
    const first = out.records[0]!;
    expect(out.neverSent.length).toBeGreaterThan(0);
    for (const n of out.neverSent) {
      expect(n.reason).toBe('busy');
      expect(n.plannedAtMs).toBeLessThanOrEqual(first.outcome!.atMs + 5);
    }
    expect(out.records.length + out.neverSent.length).toBe(6);
  });
});

describe('publishWithPolicy: retry', () => {
  it('resends the same body until acknowledged, keeping the vehicle\'s order, and records every attempt', async () => {
    script = (n) => ({ status: n < 2 ? 503 : 200 });
    const out = await publish(plan(3, 30), { policy: 'retry', backoff: { baseMs: 20, capMs: 100 } });
    expect(out.neverSent).toEqual([]);
    const first = out.records[0]!;
    expect(first.attempts!.map((a) => (a.outcome?.kind === 'response' ? a.outcome.status : a.outcome?.kind))).toEqual([503, 503, 200]);
    expect(first.outcome).toMatchObject({ status: 200 });
    expect(arrivals.slice(0, 3).map((a) => a.body)).toEqual([first.body, first.body, first.body]);
    // Order kept: the server saw the samples' timestamps in order.
    const ts = arrivals.map((a) => a.timestamp);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(out.records.map((r) => r.outcome)).toEqual(out.records.map(() => expect.objectContaining({ status: 200 })));
  });

  it('honours Retry-After (seconds, scaled for a compressed run) when it is longer than the back-off', async () => {
    script = (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 });
    const out = await publish(plan(1, 10), { policy: 'retry', backoff: { baseMs: 10, capMs: 20 }, retry: { retryAfterScale: 100 } });
    const [a, b] = out.records[0]!.attempts!;
    expect(b!.sentAtMs - a!.outcome!.atMs).toBeGreaterThanOrEqual(195);
  });

  it('does not resend a validation refusal', async () => {
    script = () => ({ status: 400 });
    const out = await publish(plan(2, 20), { policy: 'retry', backoff: { baseMs: 10, capMs: 20 } });
    expect(out.records.map((r) => r.attempts!.length)).toEqual([1, 1]);
    expect(arrivals).toHaveLength(2);
  });

  it('gives samples up when its queue overflows or the run ends; sent + never sent = planned', async () => {
    script = () => ({ status: 503 });
    const out = await publish(plan(8, 10), {
      policy: 'retry', backoff: { baseMs: 40, capMs: 40 }, retry: { maxAttempts: 100, maxElapsedMs: 60_000 }, maxQueuePerVehicle: 3, catchUpMs: 100,
    });
    const reasons = new Set(out.neverSent.map((n) => n.reason));
    expect(reasons.has('queue_full')).toBe(true);
    expect(out.neverSent.every((n) => n.body !== undefined)).toBe(true);
    expect(out.records.length + out.neverSent.length).toBe(8);
    expect(new Set([...out.records.map((r) => r.planIndex), ...out.neverSent.map((n) => n.planIndex)]).size).toBe(8);
    expect(out.records[0]!.attempts!.length).toBeGreaterThan(1);
  });
});
