/**
 * Legacy SSE fan-out, as the seed does it: every client sits in a list and
 * each broadcast is written to all of them with res.write(), whose return
 * value (back-pressure) is ignored. A slow client therefore makes Node buffer
 * its events in memory without bound; `telemetry_sse_buffered_bytes` shows
 * how much.
 */
import type { Response } from 'express';
import type { Broadcaster, ReceivedPayload } from './interfaces';
import { promMetric } from './promText';

/** First frame: tells EventSource to reconnect after 10 s. */
export const SSE_RETRY_FRAME = 'retry: 10000\n\n';

export function sseDataFrame(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export function createLegacyBroadcaster(): Broadcaster {
  let clients: Response[] = [];
  let eventsBroadcast = 0;
  let writesReturnedFalse = 0;

  return {
    addClient(res: Response): void {
      res.setHeader('Content-Type', 'text/event-stream');
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('Connection', 'keep-alive');
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      res.write(SSE_RETRY_FRAME);
      clients.push(res);
      res.on('close', () => {
        clients = clients.filter((c) => c !== res);
      });
    },

    broadcast(payload: ReceivedPayload): void {
      const frame = sseDataFrame(payload);
      eventsBroadcast++;
      for (const res of clients) {
        // false = the socket buffer is full; the seed ignores it, so do we.
        if (!res.write(frame)) writesReturnedFalse++;
      }
    },

    clientCount(): number {
      return clients.length;
    },

    closeAll(): void {
      const all = clients;
      clients = [];
      for (const res of all) res.end();
    },

    metrics(): string {
      const buffered = clients.reduce((sum, res) => sum + res.writableLength, 0);
      return [
        promMetric('telemetry_sse_clients', 'gauge', 'Connected SSE clients.', clients.length),
        promMetric('telemetry_sse_events_total', 'counter', 'Payloads broadcast to SSE clients.', eventsBroadcast),
        promMetric('telemetry_sse_backpressured_writes_total', 'counter', 'SSE writes that hit a full socket buffer (ignored).', writesReturnedFalse),
        promMetric('telemetry_sse_buffered_bytes', 'gauge', 'Bytes queued in memory for SSE clients.', buffered),
      ].join('');
    },
  };
}
