import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from './clock';
import { startSseListeners, type SseEvent } from './sse';
import { SseParser, type ParsedSseEvent } from './sseParser';
import { startTestServer, type TestServer } from './testing/httpTestServer';

describe('SseParser', () => {
  function parse(chunks: string[]): ParsedSseEvent[] {
    const out: ParsedSseEvent[] = [];
    const p = new SseParser((e) => out.push(e));
    for (const c of chunks) p.push(Buffer.from(c));
    return out;
  }

  it('joins data lines, ignores comments and handles every line ending', () => {
    const whole = 'retry: 10000\n\n: comment\ndata: {"a":1}\n\nevent: tick\r\ndata: x\r\ndata: y\r\n\r\ndata:z\r\rid: 7\ndata: w\n\n';
    const expected = [
      { event: 'message', data: '{"a":1}', id: null },
      { event: 'tick', data: 'x\ny', id: null },
      { event: 'message', data: 'z', id: null },
      { event: 'message', data: 'w', id: '7' },
    ];
    expect(parse([whole])).toEqual(expected);
    // The same stream cut at every position (so \r\n and UTF-8 are split) parses identically.
    for (let i = 1; i < whole.length; i++) expect(parse([whole.slice(0, i), whole.slice(i)])).toEqual(expected);
  });

  it('decodes multi-byte UTF-8 split across chunks and records retry', () => {
    const bytes = Buffer.from('data: {"v":"é✓"}\n\n');
    const out: ParsedSseEvent[] = [];
    const p = new SseParser((e) => out.push(e));
    p.push(Buffer.from('retry: 250\n\n'));
    for (let i = 0; i < bytes.length; i++) p.push(bytes.subarray(i, i + 1));
    expect(out).toEqual([{ event: 'message', data: '{"v":"é✓"}', id: null }]);
    expect(p.retryMs).toBe(250);
  });

  it('drops an event larger than the limit and counts it', () => {
    const out: ParsedSseEvent[] = [];
    const p = new SseParser((e) => out.push(e), { maxEventChars: 10 });
    p.push('data: 0123456789abc\n\ndata: ok\n\n');
    expect(out.map((e) => e.data)).toEqual(['ok']);
    expect(p.oversized).toBe(1);
  });
});

/** A stream endpoint like the backend's: keeps every client, ignores back-pressure. */
function sseRoute(server: TestServer): { clients: http.ServerResponse[]; auth: (string | undefined)[]; broadcast: (o: object) => void } {
  const clients: http.ServerResponse[] = [];
  const auth: (string | undefined)[] = [];
  server.route((req, res) => {
    if (req.url !== '/stream') return false;
    auth.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write('retry: 10000\n\n');
    clients.push(res);
    return true;
  });
  return { clients, auth, broadcast: (o) => { for (const c of clients) c.write(`data: ${JSON.stringify(o)}\n\n`); } };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(10);
}

describe('startSseListeners', () => {
  let server: TestServer | undefined;
  afterEach(async () => { await server?.close(); server = undefined; });

  it('receives every event on every client with its sample key and bearer token', async () => {
    server = await startTestServer();
    const route = sseRoute(server);
    const events: SseEvent[] = [];
    const l = startSseListeners({ url: `${server.origin}/stream`, clients: 2, token: 'tok', onEvent: (e) => events.push(e), durationMs: 5000 });
    await l.ready;
    await until(() => route.clients.length === 2);
    for (let i = 0; i < 10; i++) route.broadcast({ vehicle_id: 'v1', timestamp: 1700000000.001 + i, serverReceiveTime: 1700000000.5 + i });
    await until(() => events.length === 20);
    const stats = await l.close();
    expect(events).toHaveLength(20);
    expect(route.auth).toEqual(['Bearer tok', 'Bearer tok']);
    for (const c of [0, 1]) {
      const mine = events.filter((e) => e.client === c);
      expect(mine.map((e) => e.timestamp)).toEqual(Array.from({ length: 10 }, (_, i) => 1700000000.001 + i));
      expect(mine.every((e) => e.vehicleId === 'v1' && e.serverReceiveTime !== null)).toBe(true);
      expect(mine.every((e, i) => i === 0 || e.receivedMs >= mine[i - 1]!.receivedMs)).toBe(true);
    }
    expect(stats.map((s) => [s.status, s.events, s.endedBy])).toEqual([[200, 10, 'client'], [200, 10, 'client']]);
  });

  it('a stalled reader makes the server buffer while a normal reader keeps up', async () => {
    server = await startTestServer();
    const route = sseRoute(server);
    const l = startSseListeners({
      url: `${server.origin}/stream`, clients: 2, durationMs: 10_000,
      reader: (i) => (i === 0 ? { kind: 'normal' } : { kind: 'stalled' }),
    });
    await l.ready;
    await until(() => route.clients.length === 2);
    const big = 'x'.repeat(16 * 1024);
    const n = 400; // ≈ 6.5 MB per client: far more than the socket buffers hold
    for (let i = 0; i < n; i++) {
      route.broadcast({ vehicle_id: 'v', timestamp: i, pad: big });
      if (i % 50 === 0) await sleep(1);
    }
    await until(() => l.stats()[0]!.events === n, 8000);
    // Order of clients on the server follows connection order, not index: find the stalled one by buffer size.
    const buffered = route.clients.map((c) => c.writableLength).sort((a, b) => a - b);
    const stats = await l.close();
    expect(stats[0]!.events).toBe(n);
    expect(stats[1]!.events).toBe(0);
    expect(stats[1]!.bytes).toBe(0);
    expect(buffered[0]).toBe(0);
    expect(buffered[1]).toBeGreaterThan(1024 * 1024);
  });

  it('a slow reader consumes no faster than its byte rate', async () => {
    server = await startTestServer();
    const route = sseRoute(server);
    const l = startSseListeners({ url: `${server.origin}/stream`, clients: 1, reader: { kind: 'slow', bytesPerSec: 2000 }, durationMs: 5000 });
    await l.ready;
    await until(() => route.clients.length === 1);
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) route.broadcast({ vehicle_id: 'v', timestamp: i, pad: 'y'.repeat(200) });
    await sleep(800);
    const s = l.stats()[0]!;
    const elapsed = (Date.now() - t0) / 1000;
    await l.close();
    expect(s.bytes).toBeGreaterThan(0);
    expect(s.bytes).toBeLessThanOrEqual(2000 * elapsed + 200);
    expect(s.events).toBeLessThan(200);
  });

  it('records a refused or rejected stream and reconnects a bounded number of times', async () => {
    server = await startTestServer({ kind: 'reply', status: 401, body: '{"message":"Unauthorized"}' });
    const l = startSseListeners({ url: `${server.origin}/stream`, clients: 1, maxReconnects: 2, reconnectDelayMs: 20, durationMs: 5000 });
    const stats = await l.done;
    await l.close();
    expect(stats[0]!.status).toBe(401);
    expect(stats[0]!.reconnects).toBe(2);
    expect(stats[0]!.endedBy).toBe('error');
    expect(stats[0]!.lastError).toBe('HTTP 401');
    expect(server.received).toHaveLength(3);
  });
});
