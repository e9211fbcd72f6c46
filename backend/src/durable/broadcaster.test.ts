import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReceivedPayload } from '../interfaces';
import { createBoundedBroadcaster, type BoundedBroadcaster } from './broadcaster';

let server: Server | null = null;
const clientsToClose: IncomingMessage[] = [];

afterEach(async () => {
  for (const c of clientsToClose.splice(0)) c.destroy();
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((r) => server!.close(() => r()));
    server = null;
  }
});

async function serve(b: BoundedBroadcaster): Promise<string> {
  server = createServer((_req, res) => b.addClient(res as unknown as Response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** Open a stream; returns the response (paused if `slow`) and a text accumulator. */
async function connect(url: string, slow: boolean): Promise<{ res: IncomingMessage; text: () => string; closed: Promise<void> }> {
  const req = request(url);
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  clientsToClose.push(res);
  let buf = '';
  const closed = new Promise<void>((resolve) => {
    res.on('close', () => resolve());
    res.on('error', () => resolve());
    res.on('aborted', () => resolve());
  });
  if (slow) {
    res.pause();
    // A tiny receive window so the backlog builds in the server's memory.
    res.socket.setNoDelay(true);
  } else {
    res.setEncoding('utf8');
    res.on('data', (c: string) => (buf += c));
  }
  return { res, text: () => buf, closed };
}

function payload(i: number, padding: number): ReceivedPayload {
  return { vehicle_id: 'car', timestamp: i, serverReceiveTime: i, pose: { x: i, z: 0 }, pad: 'x'.repeat(padding) };
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('bounded SSE broadcaster', () => {
  it('sends the retry frame and data frames to a client that keeps up', async () => {
    const b = createBoundedBroadcaster({ maxBufferBytes: 64 * 1024, heartbeatMs: 0 });
    const url = await serve(b);
    const c = await connect(url, false);
    await waitFor(() => b.clientCount() === 1);
    expect(c.res.headers['content-type']).toBe('text/event-stream');
    for (let i = 0; i < 20; i++) b.broadcast(payload(i, 10));
    await waitFor(() => (c.text().match(/^data: /gm) ?? []).length === 20);
    expect(c.text().startsWith('retry: 10000\n\n')).toBe(true);
    const events = c.text().split('\n\n').filter((f) => f.startsWith('data: ')).map((f) => JSON.parse(f.slice(6)) as { timestamp: number });
    expect(events.map((e) => e.timestamp)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(b.stats().droppedClients).toBe(0);
  });

  it('disconnects a client that does not read once its buffer bound is reached, and keeps memory bounded', async () => {
    const limit = 512 * 1024;
    const b = createBoundedBroadcaster({ maxBufferBytes: limit, heartbeatMs: 0 });
    const url = await serve(b);
    const slow = await connect(url, true);
    const fast = await connect(url, false);
    await waitFor(() => b.clientCount() === 2);
    let maxBuffered = 0;
    // 1000 x ~30 kB = 30 MB: more than loopback socket buffers can absorb.
    const frames = 1000;
    let sent = 0;
    for (let i = 0; i < frames; i++) {
      b.broadcast(payload(i, 30_000));
      sent++;
      maxBuffered = Math.max(maxBuffered, b.stats().bufferedBytes);
      // Let the fast client read between events (it keeps up at this pace).
      await new Promise((r) => setImmediate(r));
      if (b.stats().droppedClients > 0 && i > 0) break;
    }
    await waitFor(() => b.stats().droppedClients === 1);
    void slow;
    const s = b.stats();
    expect(s.droppedClients).toBe(1);
    expect(s.clients).toBe(1);
    // Never more than the bound (plus one frame) per client waiting in memory.
    expect(maxBuffered).toBeLessThanOrEqual(2 * (limit + 31_000));
    // The fast client got every event (it was never dropped).
    await waitFor(() => (fast.text().match(/^data: /gm) ?? []).length === sent);
    expect(b.metrics()).toContain('telemetry_sse_dropped_clients_total 1');
  });

  it('bounds all clients together: several stalled clients share the total bound, the one furthest behind goes first, a fast one stays', async () => {
    const perClient = 512 * 1024;
    const total = 600 * 1024;
    const b = createBoundedBroadcaster({ maxBufferBytes: perClient, maxTotalBufferBytes: total, heartbeatMs: 0 });
    const url = await serve(b);
    const stalled = [await connect(url, true), await connect(url, true), await connect(url, true)];
    const fast = await connect(url, false);
    await waitFor(() => b.clientCount() === 4);
    let maxBuffered = 0;
    let sent = 0;
    for (let i = 0; i < 1000 && b.stats().droppedClients < 3; i++) {
      b.broadcast(payload(i, 30_000));
      sent++;
      maxBuffered = Math.max(maxBuffered, b.stats().bufferedBytes);
      await new Promise((r) => setImmediate(r));
    }
    void stalled;
    await waitFor(() => b.stats().droppedClients === 3);
    expect(b.stats().clients).toBe(1);
    // The total bound, plus at most one frame per client in flight.
    expect(maxBuffered).toBeLessThanOrEqual(total + 4 * 31_000);
    await waitFor(() => (fast.text().match(/^data: /gm) ?? []).length === sent);
    expect(b.metrics()).toContain(`telemetry_sse_buffer_limit_total_bytes ${total}`);
  });

  it('sends one frame larger than the bound to a client whose buffer is empty', async () => {
    const b = createBoundedBroadcaster({ maxBufferBytes: 1000, heartbeatMs: 0 });
    const url = await serve(b);
    const c = await connect(url, false);
    await waitFor(() => b.clientCount() === 1);
    b.broadcast(payload(1, 5000));
    await waitFor(() => c.text().includes('"timestamp":1'));
    expect(b.stats().droppedClients).toBe(0);
  });

  it('forgets clients that went away and closes the rest on closeAll()', async () => {
    const b = createBoundedBroadcaster({ heartbeatMs: 0 });
    const url = await serve(b);
    const a = await connect(url, false);
    const c = await connect(url, false);
    await waitFor(() => b.clientCount() === 2);
    a.res.destroy();
    await waitFor(() => b.clientCount() === 1);
    b.closeAll();
    await c.closed;
    expect(b.clientCount()).toBe(0);
  });

  it('heartbeats an idle stream', async () => {
    const b = createBoundedBroadcaster({ heartbeatMs: 30 });
    const url = await serve(b);
    const c = await connect(url, false);
    await waitFor(() => c.text().includes(': ping'));
    b.closeAll();
  });
});
