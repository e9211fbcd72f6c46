/**
 * Ready-made `onRecord` sinks for the publisher: per-request records are
 * optional, so a run keeps exactly what it needs and memory stays bounded.
 */
import { createWriteStream } from 'node:fs';
import { pointKey, timestampToMs } from '../../models/payload';
import type { RequestRecord } from './publisher';

export type RecordSink = (r: RequestRecord) => void;

/** Keep the first `max` records; count the rest. */
export function boundedCollector(max: number): { sink: RecordSink; records: RequestRecord[]; dropped: () => number } {
  const records: RequestRecord[] = [];
  let dropped = 0;
  return {
    records,
    dropped: () => dropped,
    sink: (r) => { if (records.length < max) records.push(r); else dropped++; },
  };
}

/** What a storage probe needs per sent sample, keyed by the store's point key. */
export interface SentKey {
  vehicleId: string;
  /** Store time: timestamp truncated to whole ms (models/payload timestampToMs). */
  timeMs: number;
  intendedMs: number;
  sentMs: number;
  completedMs: number;
  status: number | null;
  errorClass: RequestRecord['errorClass'];
}

/**
 * Index of every sent sample by point key (vehicle_id + ms), for matching
 * against what InfluxDB holds. ~150 bytes a key: fine for a stress run; a
 * soak should stream records to a file instead.
 */
export function sentKeyIndex(): { sink: RecordSink; keys: Map<string, SentKey>; unkeyed: () => number } {
  const keys = new Map<string, SentKey>();
  let unkeyed = 0;
  return {
    keys,
    unkeyed: () => unkeyed,
    sink: (r) => {
      if (r.vehicleId === null || r.timestamp === null) { unkeyed++; return; }
      const timeMs = timestampToMs(r.timestamp);
      keys.set(pointKey(r.vehicleId, timeMs), {
        vehicleId: r.vehicleId, timeMs, intendedMs: r.intendedMs, sentMs: r.sentMs,
        completedMs: r.completedMs, status: r.status, errorClass: r.errorClass,
      });
    },
  };
}

/**
 * Stream records as NDJSON to a file. Lines are queued in memory while the
 * disk lags; `maxQueuedBytes` bounds that (beyond it records are counted as
 * dropped rather than growing the heap).
 */
export function ndjsonFileSink(path: string, maxQueuedBytes = 64 * 1024 * 1024): {
  sink: RecordSink; written: () => number; dropped: () => number; close: () => Promise<void>;
} {
  const out = createWriteStream(path, { flags: 'w' });
  let written = 0;
  let dropped = 0;
  let failed: Error | null = null;
  out.on('error', (e) => { failed = e; });
  return {
    written: () => written,
    dropped: () => dropped,
    sink: (r) => {
      if (failed || out.writableLength > maxQueuedBytes) { dropped++; return; }
      out.write(JSON.stringify(r) + '\n');
      written++;
    },
    close: () => new Promise<void>((resolve, reject) => {
      out.end(() => (failed ? reject(failed) : resolve()));
    }),
  };
}
