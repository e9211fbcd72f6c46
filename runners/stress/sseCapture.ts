/**
 * SSE clients for a scenario: N listeners on the backend's stream, and the
 * first time any of them saw each of this run's samples (by point key), for
 * send→SSE lag and "did the dashboards see it".
 */
import { pointKey, timestampToMs } from '../../models/payload';
import { startSseListeners, type SseClientStats, type SseReaderMode } from '../load/sse';
import type { Scenario } from '../scenarios/schema';

export interface SseCapture {
  ready: Promise<void>;
  firstSeen: Map<string, number>;
  close(): Promise<SseClientStats[]>;
}

export function readerMode(reader: Scenario['sseReader']): SseReaderMode {
  switch (reader) {
    case 'normal': return { kind: 'normal' };
    // 2 kB/s: a dashboard on a bad link; a typical sample is ~10 kB.
    case 'slow': return { kind: 'slow', bytesPerSec: 2048 };
    case 'stalled': return { kind: 'stalled', afterMs: 0 };
  }
}

export function startSseCapture(o: { url: string; clients: number; reader: Scenario['sseReader']; prefix: string; token?: string; durationMs: number }): SseCapture {
  const firstSeen = new Map<string, number>();
  const listeners = startSseListeners({
    url: o.url,
    clients: o.clients,
    token: o.token,
    reader: readerMode(o.reader),
    // A hard bound: never outlive the run by much even if close() were missed.
    durationMs: o.durationMs,
    onEvent: (e) => {
      if (e.vehicleId === null || e.timestamp === null || !e.vehicleId.startsWith(o.prefix)) return;
      const key = pointKey(e.vehicleId, timestampToMs(e.timestamp));
      if (!firstSeen.has(key)) firstSeen.set(key, e.receivedMs);
    },
  });
  return { ready: listeners.ready, firstSeen, close: () => listeners.close() };
}
