import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, type AppDeps } from './app';
import { createHttpMetrics, type HttpMetrics } from './httpMetrics';
import type { Broadcaster, IngestResult, Ingestor, ReceivedPayload } from './interfaces';
import { memoryLog } from './jsonLog';
import { createLegacyBroadcaster } from './legacyBroadcaster';
import { toPoint } from './point';
import { validatePayload } from './validate';

const NOW = 1_700_000_000;
const KEY = 'test-key';

interface Running {
  base: string;
  ingested: ReceivedPayload[];
  broadcast: ReceivedPayload[];
  broadcaster: Broadcaster;
  log: ReturnType<typeof memoryLog>;
}

let servers: Server[] = [];
let metricsToStop: HttpMetrics[] = [];
afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  servers = [];
  for (const m of metricsToStop) m.stop();
  metricsToStop = [];
});

/** A fake ingestor that records payloads and builds the real point (so non-finite values throw like legacy). */
function recordingIngestor(ingested: ReceivedPayload[], result: () => IngestResult = () => ({ kind: 'accepted' })): Ingestor {
  return {
    ingest(p) {
      toPoint(p);
      ingested.push(structuredClone(p));
      return result();
    },
    close: async () => {},
    metrics: () => 'fake_ingestor_metric 1\n',
  };
}

async function start(over: Partial<AppDeps> & { ingestResult?: () => IngestResult } = {}): Promise<Running> {
  const ingested: ReceivedPayload[] = [];
  const broadcast: ReceivedPayload[] = [];
  const real = createLegacyBroadcaster();
  const broadcaster: Broadcaster = over.broadcaster ?? {
    ...real,
    broadcast(p) {
      broadcast.push(structuredClone(p));
      real.broadcast(p);
    },
  };
  const log = memoryLog();
  const httpMetrics = createHttpMetrics();
  metricsToStop.push(httpMetrics);
  let clock = NOW;
  const app = createApp({
    config: { apiKey: KEY, bodyLimit: '100kb', sseToken: undefined, backendVersion: '1.2.3' },
    ingestor: over.ingestor ?? recordingIngestor(ingested, over.ingestResult),
    broadcaster,
    validate: (body, now) => validatePayload(body, now),
    // Each call advances 1 ms: validation sees NOW, serverReceiveTime NOW + 0.001.
    now: over.now ?? (() => (clock += 0.001) - 0.001),
    httpMetrics,
    log,
    ...over,
  });
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, ingested, broadcast, broadcaster, log };
}

function payload(over: Record<string, unknown> = {}) {
  return { vehicle_id: 'car-1', timestamp: NOW, pose: { x: 1, z: 2 }, control: { steering: 0, throttle: 0.5 }, ...over };
}

function post(base: string, body: unknown, headers: Record<string, string> = { 'x-api-key': KEY }) {
  return fetch(`${base}/api/v1/telemetry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('POST /api/v1/telemetry', () => {
  it('200 "Telemetry received", ingests and broadcasts the payload with serverReceiveTime', async () => {
    const r = await start();
    const res = await post(r.base, payload({ extra: 'kept' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ message: 'Telemetry received' });
    expect(r.ingested).toHaveLength(1);
    expect(r.ingested[0]).toMatchObject({ vehicle_id: 'car-1', timestamp: NOW, extra: 'kept' });
    expect(r.ingested[0]?.serverReceiveTime).toBeCloseTo(NOW + 0.001, 6);
    expect(r.broadcast).toEqual(r.ingested);
  });

  it.each([
    ['missing', {}],
    ['wrong', { 'x-api-key': 'nope' }],
    ['empty', { 'x-api-key': '' }],
  ])('401 with a %s API key, nothing ingested', async (_name, headers) => {
    const r = await start();
    const res = await post(r.base, payload(), headers);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: 'Unauthorized: Invalid or missing API Key' });
    expect(r.ingested).toHaveLength(0);
  });

  it('checks the API key before validating', async () => {
    const r = await start();
    const res = await post(r.base, { nonsense: true }, {});
    expect(res.status).toBe(401);
  });

  it('400 with the validation message', async () => {
    const r = await start();
    const res = await post(r.base, payload({ pose: { x: 'one', z: 2 } }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: 'Invalid pose structure' });
    expect(r.ingested).toHaveLength(0);
    expect(r.broadcast).toHaveLength(0);
  });

  it('400 skew, against the injected clock', async () => {
    const r = await start();
    const res = await post(r.base, payload({ timestamp: NOW - 10.5 }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: 'Timestamp skew too large: 10.50s' });
  });

  it('a top-level array reaches validation (arrays are objects)', async () => {
    const r = await start();
    const res = await post(r.base, [payload()]);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: 'Missing or invalid vehicle_id' });
  });

  it('500 "Internal Server Error" when the point cannot be built (1e400 = Infinity)', async () => {
    const r = await start();
    const body = JSON.stringify(payload()).replace('"x":1', '"x":1e400');
    const res = await post(r.base, body);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    expect(r.broadcast).toHaveLength(0);
    expect(r.log.events).toEqual([expect.objectContaining({ event: 'ingest_error', error: expect.stringMatching(/invalid float value/) })]);
  });

  it('500 when broadcasting throws (after the point was queued)', async () => {
    const ingested: ReceivedPayload[] = [];
    const throwing: Broadcaster = {
      addClient: () => {},
      broadcast: () => {
        throw new Error('boom');
      },
      clientCount: () => 0,
      closeAll: () => {},
    };
    const r = await start({ ingestor: recordingIngestor(ingested), broadcaster: throwing });
    const res = await post(r.base, payload());
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    expect(ingested).toHaveLength(1);
  });

  it('503 with Retry-After when the ingestor sheds load, and no broadcast', async () => {
    const r = await start({ ingestResult: () => ({ kind: 'unavailable', retryAfterSec: 1.2, message: 'Busy' }) });
    const res = await post(r.base, payload());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toEqual({ message: 'Busy' });
    expect(r.broadcast).toHaveLength(0);
  });

  it('503 with Retry-After before the body is read while the shedder says overloaded; the connection stays usable', async () => {
    let overloaded = true;
    const shedder = { overloaded: () => overloaded, retryAfterSec: 1, stop: () => {} };
    const r = await start({ shedder });
    const big = payload({ trajectory: Array.from({ length: 2000 }, (_, i) => [i, i]) });
    const shed = await post(r.base, big);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(await shed.json()).toEqual({ message: 'Service Unavailable: overloaded, retry later' });
    expect(r.ingested).toHaveLength(0);
    expect(r.broadcast).toHaveLength(0);

    // Two requests on one raw socket: a shed one with a 300 kB body, then one that is
    // not shed. The unread body must be discarded, not parsed as the next request.
    const replies: string[] = [];
    const sock = connect(Number(new URL(r.base).port), '127.0.0.1');
    await once(sock, 'connect');
    let text = '';
    sock.on('data', (d: Buffer) => { text += d.toString(); });
    const request = (body: string) =>
      `POST /api/v1/telemetry HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nx-api-key: ${KEY}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    sock.write(request(JSON.stringify({ ...big, trajectory: Array.from({ length: 20_000 }, (_, i) => [i, i]) })));
    const deadline = Date.now() + 5_000;
    while (!text.includes('overloaded') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    overloaded = false;
    sock.write(request(JSON.stringify(payload())));
    while (!text.includes('Telemetry received') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    sock.destroy();
    for (const m of text.matchAll(/HTTP\/1\.1 (\d{3}) /g)) replies.push(m[1]!);
    expect(replies).toEqual(['503', '200']);
    expect(r.ingested).toHaveLength(1);
    const metrics = await (await fetch(`${r.base}/metrics`)).text();
    expect(metrics).toContain('telemetry_requests_total{outcome="shed"} 2');
    expect(metrics).toContain('telemetry_requests_total{outcome="accepted"} 1');
  });

  it('awaits an async ingestor', async () => {
    const ingested: ReceivedPayload[] = [];
    const slow: Ingestor = {
      ingest: async (p) => {
        await new Promise((res) => setTimeout(res, 20));
        ingested.push(p);
        return { kind: 'accepted' };
      },
      close: async () => {},
    };
    const r = await start({ ingestor: slow });
    expect((await post(r.base, payload())).status).toBe(200);
    expect(ingested).toHaveLength(1);
  });

  it('413 for a body over the limit, before the API key is checked', async () => {
    const r = await start();
    const big = payload({ trajectory: Array.from({ length: 10_000 }, (_, i) => [i, i]) });
    expect(JSON.stringify(big).length).toBeGreaterThan(100 * 1024);
    const res = await post(r.base, big, {}); // no API key at all
    expect(res.status).toBe(413);
    expect(r.ingested).toHaveLength(0);
  });

  it('accepts a body just under the limit', async () => {
    const r = await start();
    const base = JSON.stringify(payload({ pad: '' }));
    const body = JSON.stringify(payload({ pad: 'x'.repeat(100 * 1024 - base.length) }));
    expect(Buffer.byteLength(body)).toBe(100 * 1024);
    expect((await post(r.base, body)).status).toBe(200);
  });

  it('400 from body-parser for malformed JSON, before the API key is checked', async () => {
    const r = await start();
    const res = await post(r.base, '{"vehicle_id":', {});
    expect(res.status).toBe(400);
    // Express's default error handler answers, not the route: not the contract's JSON.
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('a top-level JSON string is a body-parser 400 (strict mode)', async () => {
    const r = await start();
    const res = await post(r.base, '"hello"');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('without a JSON content type the body is not parsed: "Missing or invalid vehicle_id"', async () => {
    const r = await start();
    const res = await fetch(`${r.base}/api/v1/telemetry`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'text/plain' },
      body: JSON.stringify(payload()),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: 'Missing or invalid vehicle_id' });
  });
});

describe('GET /api/v1/healthz and /metrics', () => {
  it('healthz answers status, uptime and version', async () => {
    const r = await start();
    const res = await fetch(`${r.base}/api/v1/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; uptime: number; version: string };
    expect(body.status).toBe('ok');
    expect(body.version).toBe('1.2.3');
    expect(body.uptime).toBeGreaterThan(0);
  });

  it('metrics combine ingestor, broadcaster, request outcomes and event-loop delay', async () => {
    const r = await start();
    await post(r.base, payload());
    await post(r.base, payload(), {});
    await post(r.base, payload({ vehicle_id: 5 }));
    await post(r.base, '{bad', {});
    await post(r.base, payload({ pad: 'x'.repeat(200_000) }), {});
    const res = await fetch(`${r.base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('fake_ingestor_metric 1\n');
    expect(text).toContain('telemetry_sse_clients 0\n');
    expect(text).toContain('telemetry_requests_total{outcome="accepted"} 1\n');
    expect(text).toContain('telemetry_requests_total{outcome="unauthorized"} 1\n');
    expect(text).toContain('telemetry_requests_total{outcome="invalid"} 1\n');
    expect(text).toContain('telemetry_requests_total{outcome="body_malformed"} 1\n');
    expect(text).toContain('telemetry_requests_total{outcome="body_too_large"} 1\n');
    expect(text).toContain('telemetry_requests_total{outcome="error"} 0\n');
    expect(text).toMatch(/^nodejs_eventloop_delay_seconds\{quantile="0.99"\} [\d.e+-]+$/m);
    expect(text).toMatch(/^nodejs_eventloop_delay_seconds_count \d+$/m);
  });
});

/** Reads an SSE response body chunk by chunk until `predicate(text so far)` holds. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, acc: { text: string }, predicate: (t: string) => boolean) {
  const decoder = new TextDecoder();
  while (!predicate(acc.text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended; got ${JSON.stringify(acc.text)}`);
    acc.text += decoder.decode(value, { stream: true });
  }
}

describe('GET /api/v1/telemetry/stream (SSE)', () => {
  it('sends the headers and retry frame, then one data frame per accepted payload', async () => {
    const r = await start();
    const ac = new AbortController();
    const res = await fetch(`${r.base}/api/v1/telemetry/stream`, { signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');

    const reader = res.body!.getReader();
    const acc = { text: '' };
    await readUntil(reader, acc, (t) => t.length >= 'retry: 10000\n\n'.length);
    expect(acc.text).toBe('retry: 10000\n\n');
    expect(r.broadcaster.clientCount()).toBe(1);

    // A rejected payload is not broadcast; the accepted one is.
    await post(r.base, payload({ vehicle_id: 7 }));
    await post(r.base, payload({ seq: 42 }));
    await readUntil(reader, acc, (t) => t.split('\n\n').length >= 3);
    const frames = acc.text.split('\n\n').filter(Boolean);
    expect(frames).toHaveLength(2);
    expect(frames[1]).toMatch(/^data: \{.*\}$/);
    const event = JSON.parse(frames[1]!.slice('data: '.length)) as Record<string, unknown>;
    expect(event).toMatchObject({ vehicle_id: 'car-1', seq: 42, timestamp: NOW });
    expect(typeof event.serverReceiveTime).toBe('number');

    ac.abort();
    await vi.waitFor(() => expect(r.broadcaster.clientCount()).toBe(0));
  });

  it('fans out to every client, and closeAll ends their streams', async () => {
    const r = await start();
    const readers = await Promise.all(
      [1, 2].map(async () => {
        const res = await fetch(`${r.base}/api/v1/telemetry/stream`);
        const reader = res.body!.getReader();
        const acc = { text: '' };
        await readUntil(reader, acc, (t) => t.includes('retry: 10000\n\n'));
        return { reader, acc };
      }),
    );
    await post(r.base, payload());
    for (const { reader, acc } of readers) {
      await readUntil(reader, acc, (t) => t.includes('data: '));
      expect(acc.text).toMatch(/^retry: 10000\n\ndata: \{"vehicle_id":"car-1".*\}\n\n$/);
    }
    r.broadcaster.closeAll();
    expect(r.broadcaster.clientCount()).toBe(0);
    for (const { reader } of readers) expect((await reader.read()).done).toBe(true);
  });

  it('needs "Authorization: Bearer <SSE_TOKEN>" when a token is configured', async () => {
    const r = await start({ config: { apiKey: KEY, bodyLimit: '100kb', sseToken: 's3cret', backendVersion: 'x' } });
    const denied = await fetch(`${r.base}/api/v1/telemetry/stream`);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ message: 'Unauthorized: Invalid or missing token' });
    const wrong = await fetch(`${r.base}/api/v1/telemetry/stream`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    await wrong.text();

    const ac = new AbortController();
    const ok = await fetch(`${r.base}/api/v1/telemetry/stream`, { headers: { authorization: 'Bearer s3cret' }, signal: ac.signal });
    expect(ok.status).toBe(200);
    const acc = { text: '' };
    await readUntil(ok.body!.getReader(), acc, (t) => t.includes('\n\n'));
    expect(acc.text).toBe('retry: 10000\n\n');
    ac.abort();
  });
});
