import { afterEach, describe, expect, it } from 'vitest';
import { timestampToMs } from '../../models/payload';
import { jetsonPayload } from './payloads';
import { resolveConfig, runPublisher as runWith, type PublisherOptions, type PublisherTransport, type RequestRecord, type SecondStats } from './publisher';
import { freePort, startTestServer, type Behaviour, type TestServer } from './testing/httpTestServer';

const PATH = '/api/v1/telemetry';
let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function collect(): { records: RequestRecord[]; sink: (r: RequestRecord) => void } {
  const records: RequestRecord[] = [];
  return { records, sink: (r) => records.push(r) };
}

// Every behaviour below must hold for both transports: same records, same outcomes.
describe.each<PublisherTransport>(['undici', 'raw'])('runPublisher (open model, %s transport)', (transport) => {
  const runPublisher = (o: PublisherOptions): ReturnType<typeof runWith> => runWith({ ...o, transport });
  it('keeps sending on schedule while replies take 300 ms', async () => {
    server = await startTestServer({ kind: 'reply', delayMs: 300 });
    const { records, sink } = collect();
    const res = await runPublisher({
      url: server.origin + PATH, apiKey: 'k', rateHz: 50, durationMs: 1000,
      payload: jetsonPayload({ profile: 'minimal' }), onRecord: sink,
    });

    expect(res.scheduled).toBe(50);
    expect(res.sent).toBe(50);
    expect(res.completed).toBe(50);
    expect(res.acknowledged).toBe(50);
    expect(server.received).toHaveLength(50);
    expect(records).toHaveLength(50);

    // Sends did not wait for replies: every send left far sooner than the 300 ms reply delay…
    const sendLags = records.map((r) => r.sentMs - r.intendedMs);
    expect(Math.min(...sendLags)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...sendLags)).toBeLessThan(150);
    // …and ~15 requests were already out before the first reply came back.
    const firstReply = Math.min(...records.map((r) => r.completedMs));
    expect(records.filter((r) => r.sentMs < firstReply).length).toBeGreaterThanOrEqual(12);
    // Intended slots are 20 ms apart.
    const intended = records.map((r) => r.intendedMs).sort((a, b) => a - b);
    for (let i = 1; i < intended.length; i++) expect(intended[i]! - intended[i - 1]!).toBeCloseTo(20, 6);

    // Corrected latency (from the intended time) is never below the uncorrected one.
    for (const r of records) expect(r.completedMs - r.intendedMs).toBeGreaterThanOrEqual(r.completedMs - r.sentMs);
    expect(res.latency.corrected.p50).toBeGreaterThanOrEqual(res.latency.uncorrected.p50);
    expect(res.latency.corrected.max).toBeGreaterThanOrEqual(res.latency.uncorrected.max);
    expect(res.latency.uncorrected.p50).toBeGreaterThanOrEqual(290);
    expect(res.latency.corrected.count).toBe(50);
    expect(res.maxInFlight).toBeGreaterThanOrEqual(12);
  });

  it('records the exact vehicle_id and timestamp that went on the wire', async () => {
    server = await startTestServer();
    const { records, sink } = collect();
    const res = await runPublisher({
      url: server.origin + PATH, apiKey: 'secret', rateHz: 20, vehicles: 3, durationMs: 500,
      payload: jetsonPayload({ profile: 'typical', runTag: 'abc123' }), onRecord: sink,
    });
    expect(res.sent).toBe(30);
    const wire = new Map(server.received.map((r) => {
      const b = JSON.parse(r.body) as { vehicle_id: string; timestamp: number };
      return [`${b.vehicle_id}|${b.timestamp}`, r];
    }));
    expect(wire.size).toBe(30);
    for (const r of records) {
      expect(r.vehicleId).toMatch(/^tp-abc123-v[012]$/);
      expect(typeof r.timestamp).toBe('number');
      expect(wire.has(`${r.vehicleId}|${r.timestamp}`)).toBe(true);
      expect(r.status).toBe(200);
      expect(r.body).toBe('{"message":"Telemetry received"}');
    }
    // Every (vehicle, ms) storage key is distinct.
    expect(new Set(records.map((r) => `${r.vehicleId}|${timestampToMs(r.timestamp!)}`)).size).toBe(30);
    expect(server.received.every((r) => r.headers['x-api-key'] === 'secret')).toBe(true);
    expect(server.received.every((r) => r.url === PATH && r.method === 'POST')).toBe(true);
  });

  it('classifies requests without a reply in time as timeouts', async () => {
    server = await startTestServer({ kind: 'hang' });
    const { records, sink } = collect();
    const res = await runPublisher({
      url: server.origin + PATH, rateHz: 10, maxRequests: 4, durationMs: 5000, timeoutMs: 250,
      payload: jetsonPayload({ profile: 'minimal' }), onRecord: sink,
    });
    expect(res.sent).toBe(4);
    expect(res.errorsByClass.timeout).toBe(4);
    expect(res.acknowledged).toBe(0);
    expect(records.map((r) => r.errorClass)).toEqual(['timeout', 'timeout', 'timeout', 'timeout']);
    for (const r of records) {
      expect(r.status).toBeNull();
      // Timed out by the 250 ms deadline, counted from dispatch (connect included,
      // like the Jetson's), not by the 2 s default.
      expect(r.completedMs - r.intendedMs).toBeGreaterThanOrEqual(249);
      expect(r.completedMs - r.intendedMs).toBeLessThan(1000);
    }
  });

  it('times out requests queued behind hung connections, never sends them past their deadline, and ends', async () => {
    server = await startTestServer({ kind: 'hang' });
    const { records, sink } = collect();
    const res = await runPublisher({
      url: server.origin + PATH, vehicles: 10, rateHz: 100, durationMs: 500, connections: 2, timeoutMs: 100,
      payload: jetsonPayload({ profile: 'minimal' }), onRecord: sink,
    });
    expect(res.sent).toBe(500);
    expect(res.errorsByClass.timeout).toBe(500);
    expect(res.unresolvedAtEnd).toBe(0);
    expect(records).toHaveLength(500);
    // Most waited for one of the 2 connections and timed out while waiting: never written.
    expect(server.received.length).toBeLessThan(250);
    const arrived = new Map(server.received.map((r) => [(JSON.parse(r.body) as { timestamp: number }).timestamp, r.atMs]));
    for (const r of records) {
      const at = arrived.get(r.timestamp!);
      if (at !== undefined) expect(at).toBeLessThanOrEqual(r.completedMs + 5);
    }
  });

  it('classifies a closed port as connection refused', async () => {
    const port = await freePort();
    const { records, sink } = collect();
    const res = await runPublisher({
      url: `http://127.0.0.1:${port}${PATH}`, rateHz: 20, maxRequests: 5, durationMs: 2000,
      payload: jetsonPayload({ profile: 'minimal' }), onRecord: sink,
    });
    expect(res.sent).toBe(5);
    expect(res.errorsByClass.refused).toBe(5);
    expect(records.every((r) => r.errorClass === 'refused' && r.errorCode === 'ECONNREFUSED')).toBe(true);
    expect(records.every((r) => r.vehicleId !== null && r.timestamp !== null)).toBe(true);
  });

  it('classifies a dropped connection as reset and counts non-2xx by status', async () => {
    server = await startTestServer();
    let n = 0;
    server.setBehaviour(() => (n++ % 2 === 0 ? { kind: 'reset' } : { kind: 'reply', status: 400, body: '{"message":"Invalid pose structure"}' }));
    const { records, sink } = collect();
    const res = await runPublisher({
      url: server.origin + PATH, rateHz: 20, maxRequests: 6, durationMs: 2000,
      payload: jetsonPayload({ profile: 'minimal' }), onRecord: sink,
    });
    expect(res.sent).toBe(6);
    expect(res.errorsByClass.reset).toBe(3);
    expect(res.non2xxByStatus).toEqual({ 400: 3 });
    expect(res.acknowledged).toBe(0);
    expect(records.filter((r) => r.status === 400).every((r) => r.body === '{"message":"Invalid pose structure"}')).toBe(true);
  });

  it('stops at maxRequests before the duration, and on abort', async () => {
    server = await startTestServer();
    const capped = await runPublisher({
      url: server.origin + PATH, rateHz: 100, maxRequests: 7, durationMs: 10_000,
      payload: jetsonPayload({ profile: 'minimal' }),
    });
    expect(capped.sent).toBe(7);
    expect(capped.endedAtMs - capped.startedAtMs).toBeLessThan(3000);

    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const aborted = await runPublisher({
      url: server.origin + PATH, rateHz: 10, durationMs: 10_000, signal: ac.signal,
      payload: jetsonPayload({ profile: 'minimal' }),
    });
    expect(aborted.aborted).toBe(true);
    expect(aborted.sent).toBeGreaterThanOrEqual(1);
    // Sends stop at the abort: at 10 Hz, one per 100 ms elapsed (the full run would be 100).
    expect(aborted.sent).toBeLessThanOrEqual(Math.ceil((aborted.endedAtMs - aborted.startedAtMs) / 100) + 1);
    expect(aborted.endedAtMs - aborted.startedAtMs).toBeLessThan(3000);
  });

  it('reports one SecondStats per elapsed second with the sends of that second', async () => {
    server = await startTestServer();
    const seconds: SecondStats[] = [];
    const res = await runPublisher({
      url: server.origin + PATH, rateHz: 10, vehicles: 2, durationMs: 2000,
      payload: jetsonPayload({ profile: 'minimal' }), onSecond: (s) => seconds.push(s),
    });
    expect(res.sent).toBe(40);
    expect(seconds.map((s) => s.second)).toEqual(seconds.map((_, i) => i));
    expect(seconds.length).toBeGreaterThanOrEqual(2);
    expect(seconds.reduce((a, s) => a + s.sent, 0)).toBe(40);
    expect(seconds.reduce((a, s) => a + s.acknowledged, 0)).toBe(40);
    // Sends are counted in the second they LEFT in: a busy box may push the last one of second 0 into second 1.
    expect(seconds[0]!.sent).toBeGreaterThanOrEqual(18);
    expect(seconds[0]!.sent).toBeLessThanOrEqual(20);
    expect(res.perSecond).toEqual(seconds);
  });

  it('counts sends it could not make on time and blames itself (the load tool was the bottleneck)', async () => {
    server = await startTestServer();
    const base = jetsonPayload({ profile: 'minimal' });
    // Building payload #3 blocks the publisher's event loop for 60 ms (3 slots at 50 Hz).
    const blocking = (v: number, seq: number, t: number): object => {
      if (seq === 3) { const end = Date.now() + 60; while (Date.now() < end) { /* busy */ } }
      return base(v, seq, t);
    };
    const sent = await runPublisher({ url: server.origin + PATH, rateHz: 50, durationMs: 1000, payload: blocking });
    expect(sent.scheduled).toBe(50);
    expect(sent.sent).toBe(50);
    expect(sent.schedulerLate).toBeGreaterThanOrEqual(2);
    expect(sent.late).toBeGreaterThanOrEqual(sent.schedulerLate);
    expect(sent.schedulerLag.max).toBeGreaterThanOrEqual(50);
    expect(sent.selfHealth.bottleneck).toBe(true);
    expect(sent.selfHealth.reasons.join(' ')).toMatch(/dispatched .* more than 10 ms after their slot/);

    const dropped = await runPublisher({ url: server.origin + PATH, rateHz: 50, durationMs: 1000, payload: blocking, dropLate: true });
    expect(dropped.scheduled).toBe(50);
    expect(dropped.droppedLate).toBeGreaterThanOrEqual(2);
    expect(dropped.sent + dropped.droppedLate).toBe(50);
    expect(dropped.acknowledged).toBe(dropped.sent);
  });

  it('refuses an unbounded or impossible run, and surfaces a throwing payload function', async () => {
    await expect(runPublisher({ url: 'http://127.0.0.1:9/x', rateHz: 1, payload: () => ({}) })).rejects.toThrow(/bounded/);
    await expect(runPublisher({ url: 'http://127.0.0.1:9/x', rateHz: 0, durationMs: 100, payload: () => ({}) })).rejects.toThrow(/rateHz/);
    server = await startTestServer();
    await expect(runPublisher({
      url: server.origin + PATH, rateHz: 50, durationMs: 1000,
      payload: (_v, seq) => { if (seq === 2) throw new Error('generator bug'); return { vehicle_id: 'v', timestamp: seq }; },
    })).rejects.toThrow('generator bug');
  });
});

describe('transports', () => {
  it('defaults to undici without pipelining, and validates both options', () => {
    const base = { url: 'http://127.0.0.1:1/x', rateHz: 1, durationMs: 100, payload: () => ({}) };
    expect(resolveConfig(base)).toMatchObject({ transport: 'undici', pipelining: 1, connections: 64 });
    expect(resolveConfig({ ...base, transport: 'raw', pipelining: 4 })).toMatchObject({ transport: 'raw', pipelining: 4 });
    expect(() => resolveConfig({ ...base, pipelining: 0 })).toThrow(/pipelining/);
    expect(() => resolveConfig({ ...base, pipelining: 1.5 })).toThrow(/pipelining/);
    expect(() => resolveConfig({ ...base, transport: 'fetch' as PublisherTransport })).toThrow(/transport/);
  });

  it('undici and raw give the same outcome, record for record, for the same server behaviour', async () => {
    server = await startTestServer();
    const script = (i: number): Behaviour => {
      switch (i % 4) {
        case 0: return { kind: 'reply' };
        case 1: return { kind: 'reply', status: 503, body: '{"message":"busy"}' };
        case 2: return { kind: 'reset' };
        default: return { kind: 'hang' };
      }
    };
    const outcomes: Record<PublisherTransport, string[]> = { undici: [], raw: [] };
    const results: Record<string, unknown> = {};
    for (const transport of ['undici', 'raw'] as const) {
      let n = 0;
      server.setBehaviour(() => script(n++));
      const { records, sink } = collect();
      const res = await runWith({
        url: server.origin + PATH, rateHz: 20, maxRequests: 8, durationMs: 2000, timeoutMs: 300, transport,
        payload: jetsonPayload({ profile: 'minimal', runTag: 'same' }), onRecord: sink,
      });
      // Replies come back in any order: compare the multiset of outcomes.
      outcomes[transport] = records.map((r) => `${r.status}|${r.errorClass}|${r.errorCode}|${r.body}`).sort();
      results[transport] = { sent: res.sent, acknowledged: res.acknowledged, non2xx: res.non2xxByStatus, errors: res.errorsByClass, unresolved: res.unresolvedAtEnd };
    }
    expect(outcomes.raw).toEqual(outcomes.undici);
    expect(results.raw).toEqual(results.undici);
    expect(results.undici).toEqual({
      sent: 8, acknowledged: 2, non2xx: { 503: 2 },
      errors: { timeout: 2, refused: 0, reset: 2, aborted: 0, other: 0 }, unresolved: 0,
    });
    expect(outcomes.undici.filter((o) => o.startsWith('503|'))).toEqual(['503|null|null|{"message":"busy"}', '503|null|null|{"message":"busy"}']);
  });

  it.each<PublisherTransport>(['undici', 'raw'])('pipelines when asked (%s), and counts without records or per-second callbacks', async (transport) => {
    server = await startTestServer({ kind: 'reply', delayMs: 50 });
    const res = await runWith({
      url: server.origin + PATH, rateHz: 200, durationMs: 500, connections: 2, pipelining: 4, transport,
      payload: jetsonPayload({ profile: 'minimal' }),
    });
    expect(res.sent).toBe(100);
    expect(res.acknowledged).toBe(100);
    expect(server.received).toHaveLength(100);
    expect(res.latency.corrected.count).toBe(100);
    expect(res.latency.uncorrected.count).toBe(100);
    // Each reply leaves ≥ 50 ms after its request arrived. Without pipelining,
    // 2 connections can never have more than 2 requests arrive within 50 ms;
    // pipelined, they do.
    const at = server.received.map((r) => r.atMs).sort((a, b) => a - b);
    const maxWithin50 = Math.max(...at.map((t, i) => at.slice(i).filter((u) => u - t < 50).length));
    expect(maxWithin50).toBeGreaterThan(2);
  });
});
