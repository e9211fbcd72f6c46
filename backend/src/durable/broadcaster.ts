/**
 * Bounded SSE fan-out for the durable mode.
 *
 * Each client may have at most `maxBufferBytes` of events waiting in memory
 * (Node's own socket write buffer, `res.writableLength`, is that buffer:
 * res.write() returning false means it is above the high-water mark), and
 * all clients together at most `maxTotalBufferBytes` (so memory stays bounded
 * however many slow dashboards connect). An event that would take a client
 * that is already behind past its bound disconnects that client instead; one
 * that would take the total past its bound first disconnects the clients
 * furthest behind (counted in telemetry_sse_dropped_clients_total): a slow reader can
 * never make memory grow without bound, and it reconnects (EventSource does
 * so by itself, after the `retry:` delay) to a live stream. Fast clients are
 * unaffected. The app calls broadcast() only after the ingest promise
 * resolved, so only acknowledged samples are sent.
 *
 * A comment heartbeat every `heartbeatMs` keeps proxies from timing out an
 * idle stream and finds dead peers.
 */
import type { Response } from 'express';
import type { Broadcaster, ReceivedPayload } from '../interfaces';
import { SSE_RETRY_FRAME, sseDataFrame } from '../legacyBroadcaster';
import type { LogSink } from '../jsonLog';
import { mutantUnboundedSse } from '../mutants';
import { promMetric } from '../promText';

export interface BoundedBroadcasterOptions {
  /** Per-client bound on bytes waiting to be sent. */
  maxBufferBytes?: number;
  /** Bound on bytes waiting for all clients together (default: maxBufferBytes). */
  maxTotalBufferBytes?: number;
  /** 0 disables the heartbeat. */
  heartbeatMs?: number;
  log?: LogSink;
}

export interface BoundedBroadcaster extends Broadcaster {
  metrics(): string;
  stats(): { clients: number; droppedClients: number; events: number; bufferedBytes: number; maxBufferBytes: number; maxTotalBufferBytes: number };
}

export function createBoundedBroadcaster(opts: BoundedBroadcasterOptions = {}): BoundedBroadcaster {
  const maxBufferBytes = opts.maxBufferBytes ?? 1024 * 1024;
  const maxTotalBufferBytes = opts.maxTotalBufferBytes ?? maxBufferBytes;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const log = opts.log ?? (() => {});
  const clients = new Set<Response>();
  let droppedClients = 0;
  let events = 0;
  let heartbeat: NodeJS.Timeout | null = null;

  function remove(res: Response): void {
    clients.delete(res);
    if (clients.size === 0 && heartbeat) {
      clearInterval(heartbeat);
      heartbeat = null;
    }
  }

  function drop(res: Response, needed: number): void {
    droppedClients++;
    remove(res);
    log('sse_client_dropped', { buffered: res.writableLength, needed, maxBufferBytes });
    // destroy(): do not wait to flush what it could not take anyway.
    res.destroy();
  }

  function send(res: Response, frame: string, bytes: number): void {
    if (res.destroyed || res.writableEnded) {
      remove(res);
      return;
    }
    // One frame always fits into an empty buffer (a frame is bounded by the body limit).
    if (res.writableLength > 0 && res.writableLength + bytes > maxBufferBytes && !mutantUnboundedSse()) { // mutant zoo #11 (off by default)
      drop(res, bytes);
      return;
    }
    res.write(frame);
  }

  /** Make room for `bytes` more under the total bound: drop the clients furthest behind. */
  function makeRoom(bytes: number): void {
    if (mutantUnboundedSse()) return;
    let total = 0;
    for (const res of clients) total += res.writableLength;
    for (let guard = clients.size; guard > 0 && total + bytes > maxTotalBufferBytes; guard--) {
      let worst: Response | null = null;
      for (const res of clients) if (res.writableLength > 0 && (!worst || res.writableLength > worst.writableLength)) worst = res;
      if (!worst) return; // nobody is behind: in-flight frames of clients that keep up
      total -= worst.writableLength;
      drop(worst, bytes);
    }
  }

  function ensureHeartbeat(): void {
    if (heartbeat || heartbeatMs <= 0) return;
    heartbeat = setInterval(() => {
      for (const res of [...clients]) send(res, ': ping\n\n', 8);
    }, heartbeatMs);
    heartbeat.unref();
  }

  return {
    addClient(res: Response): void {
      res.setHeader('Content-Type', 'text/event-stream');
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('Connection', 'keep-alive');
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      res.write(SSE_RETRY_FRAME);
      clients.add(res);
      ensureHeartbeat();
      res.on('close', () => remove(res));
    },

    broadcast(payload: ReceivedPayload): void {
      events++;
      if (clients.size === 0) return;
      const frame = sseDataFrame(payload);
      const bytes = Buffer.byteLength(frame);
      makeRoom(bytes);
      for (const res of [...clients]) send(res, frame, bytes);
    },

    clientCount(): number {
      return clients.size;
    },

    closeAll(): void {
      const all = [...clients];
      clients.clear();
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      for (const res of all) res.end();
    },

    stats() {
      let bufferedBytes = 0;
      for (const res of clients) bufferedBytes += res.writableLength;
      return { clients: clients.size, droppedClients, events, bufferedBytes, maxBufferBytes, maxTotalBufferBytes };
    },

    metrics(): string {
      const s = this.stats();
      return [
        promMetric('telemetry_sse_clients', 'gauge', 'Connected SSE clients.', s.clients),
        promMetric('telemetry_sse_dropped_clients_total', 'counter', 'SSE clients disconnected for falling behind (buffer bound reached).', s.droppedClients),
        promMetric('telemetry_sse_events_total', 'counter', 'Acknowledged payloads broadcast to SSE clients.', s.events),
        promMetric('telemetry_sse_buffered_bytes', 'gauge', 'Bytes waiting in memory for SSE clients (bounded per client and in total).', s.bufferedBytes),
        promMetric('telemetry_sse_client_buffer_limit_bytes', 'gauge', 'Per-client bound on waiting bytes.', s.maxBufferBytes),
        promMetric('telemetry_sse_buffer_limit_total_bytes', 'gauge', 'Bound on waiting bytes for all SSE clients together.', s.maxTotalBufferBytes),
      ].join('');
    },
  };
}
