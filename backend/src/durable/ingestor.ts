/**
 * Durable ingestion: a sample is acknowledged only once its line is in the
 * write-ahead log and fdatasync'ed (group commit). The shipper moves the log
 * to InfluxDB in the background. A full log, a failed disk write or a
 * shutdown in progress answer `unavailable` (503 + Retry-After): the sample
 * is refused, never dropped after being acknowledged.
 */
import type { Ingestor, IngestResult, ReceivedPayload } from '../interfaces';
import { describeError, type LogSink } from '../jsonLog';
import { promMetric } from '../promText';
import { FAILURE_CLASSES } from './influxWriter';
import { payloadToLine } from './lineProtocol';
import type { RecentKeyIndex } from './keyIndex';
import type { Shipper } from './shipper';
import { REJECT_REASONS, type RejectionCounter } from './validate';
import type { RecoveryReport, WriteAheadLog } from './wal';

export const UNAVAILABLE_REASONS = ['wal_full', 'wal_busy', 'wal_io_error', 'shutting_down', 'key_index_full'] as const;
export type UnavailableReason = (typeof UNAVAILABLE_REASONS)[number];

export const UNAVAILABLE_MESSAGES: Record<UnavailableReason, string> = {
  wal_full: 'Service Unavailable: write-ahead log full, retry later',
  wal_busy: 'Service Unavailable: overloaded (too many samples waiting for the disk), retry later',
  wal_io_error: 'Service Unavailable: could not persist the sample, retry later',
  shutting_down: 'Service Unavailable: shutting down',
  key_index_full: 'Service Unavailable: overloaded (too many recent samples to check for duplicates), retry later',
};

/** 409: InfluxDB keeps one point per vehicle and millisecond; a second, different sample would overwrite the first. */
export const DUPLICATE_KEY_MESSAGE =
  'Conflict: a different sample for this vehicle_id and millisecond timestamp was already received (only one can be stored; an identical resend is accepted)';

export interface DurableIngestorOptions {
  wal: WriteAheadLog;
  shipper: Shipper;
  /**
   * Recent store keys (keyIndex.ts): a different sample for an acknowledged
   * key gets 409, an identical one 200. Without it, the second sample
   * silently overwrites the first in InfluxDB.
   */
  keyIndex?: RecentKeyIndex;
  /** Validation rejections, counted by the validator (shown in metrics). */
  rejections?: RejectionCounter;
  recovery?: RecoveryReport;
  /** SIGTERM: keep shipping this long before closing. */
  drainMs: number;
  log?: LogSink;
  now?: () => number;
  /** Called after close() (e.g. release the data-dir lock). */
  onClosed?: () => void | Promise<void>;
}

export interface DurableIngestor extends Ingestor {
  ingest(payload: ReceivedPayload): Promise<IngestResult>;
  metrics(): string;
  readonly accepted: number;
  readonly unavailable: Readonly<Record<UnavailableReason, number>>;
}

export function createDurableIngestor(opts: DurableIngestorOptions): DurableIngestor {
  const { wal, shipper } = opts;
  const log = opts.log ?? (() => {});
  const now = opts.now ?? Date.now;
  let accepted = 0;
  const unavailable: Record<UnavailableReason, number> = { wal_full: 0, wal_busy: 0, wal_io_error: 0, shutting_down: 0, key_index_full: 0 };
  const keyIndex = opts.keyIndex;
  let closing = false;
  let closed: Promise<void> | null = null;

  function refuse(reason: UnavailableReason): IngestResult {
    unavailable[reason]++;
    return { kind: 'unavailable', retryAfterSec: retryAfterFor(reason), message: UNAVAILABLE_MESSAGES[reason] };
  }

  /** Seconds a client should wait: when the shipper is backing off, until its next attempt. */
  function retryAfterFor(reason: UnavailableReason): number {
    if (reason === 'shutting_down') return 5;
    if (reason === 'wal_io_error' || reason === 'wal_busy' || reason === 'key_index_full') return 1;
    const retryAt = shipper.stats().retryAt;
    const wait = retryAt > 0 ? Math.ceil((retryAt - now()) / 1000) : 1;
    return Math.min(30, Math.max(1, wait));
  }

  return {
    get accepted() {
      return accepted;
    },
    get unavailable() {
      return { ...unavailable };
    },

    async ingest(payload: ReceivedPayload): Promise<IngestResult> {
      if (closing) return refuse('shutting_down');
      const line = payloadToLine(payload);
      // Validation guarantees a storable field; reaching this is a bug (500).
      if (line === null) throw new Error('payload has no storable field (validation should have rejected it)');
      let settle: ((durable: boolean) => void) | undefined;
      if (keyIndex) {
        const k = await keyIndex.check(line);
        if (k.kind === 'identical') {
          // Already durable with the same fields: storing it again changes nothing.
          accepted++;
          return { kind: 'accepted' };
        }
        if (k.kind === 'conflict') return { kind: 'refused', status: 409, message: DUPLICATE_KEY_MESSAGE };
        if (k.kind === 'full') return refuse('key_index_full');
        settle = k.settle;
        if (closing) {
          settle(false);
          return refuse('shutting_down');
        }
      }
      let r: Awaited<ReturnType<WriteAheadLog['append']>>;
      try {
        r = await wal.append(line);
      } catch (err) {
        settle?.(false);
        throw err;
      }
      settle?.(r.ok);
      if (r.ok) {
        accepted++;
        return { kind: 'accepted' };
      }
      if (r.reason === 'full') return refuse('wal_full');
      if (r.reason === 'busy') return refuse('wal_busy');
      if (r.reason === 'io') return refuse('wal_io_error');
      return refuse('shutting_down');
    },

    close(): Promise<void> {
      if (closed) return closed;
      closing = true;
      closed = (async () => {
        const t0 = now();
        await wal.flush();
        const before = wal.stats().unshippedSamples;
        const drained = await shipper.drainAndStop(opts.drainMs);
        await wal.close();
        const left = wal.stats().unshippedSamples;
        log('durable_closed', { drained, unshippedBefore: before, unshippedLeftInLog: left, ms: now() - t0 });
        try {
          await opts.onClosed?.();
        } catch (err) {
          log('durable_close_hook_failed', { error: describeError(err) });
        }
      })();
      return closed;
    },

    metrics(): string {
      const w = wal.stats();
      const s = shipper.stats();
      const t = now();
      const rejected = [
        ...REJECT_REASONS.map((r) => ({ labels: { reason: r }, value: opts.rejections?.counts.get(r) ?? 0 })),
        ...UNAVAILABLE_REASONS.map((r) => ({ labels: { reason: r }, value: unavailable[r] })),
      ];
      const rejectedStatuses = Object.entries(s.rejectedByStatus).map(([status, value]) => ({ labels: { status }, value }));
      return [
        promMetric('telemetry_durable_accepted_total', 'counter', 'Samples acknowledged (200) after being made durable in the write-ahead log.', accepted),
        promMetric('telemetry_durable_rejected_total', 'counter', 'Samples refused, by reason (validation: 400; wal_full, wal_busy, wal_io_error, shutting_down: 503).', rejected),
        ...(keyIndex ? keyIndexMetrics(keyIndex) : []),
        promMetric('telemetry_wal_depth_samples', 'gauge', 'Acknowledged samples not yet confirmed by InfluxDB.', w.unshippedSamples),
        promMetric('telemetry_wal_depth_bytes', 'gauge', 'Log bytes not yet confirmed by InfluxDB.', w.unshippedBytes),
        promMetric('telemetry_wal_capacity_samples', 'gauge', 'Bound on unshipped samples (beyond it: 503).', wal.maxSamples),
        promMetric('telemetry_wal_capacity_bytes', 'gauge', 'Bound on unshipped bytes (beyond it: 503).', wal.maxBytes),
        promMetric('telemetry_wal_disk_bytes', 'gauge', 'Bytes in segment files on disk.', w.diskBytes),
        promMetric('telemetry_wal_segments', 'gauge', 'Segment files on disk.', w.segments),
        promMetric(
          'telemetry_wal_oldest_unshipped_age_seconds',
          'gauge',
          'Age of the oldest acknowledged sample not yet confirmed by InfluxDB (0 when none).',
          w.oldestUnshippedAt === null ? 0 : Math.max(0, (t - w.oldestUnshippedAt) / 1000),
        ),
        promMetric('telemetry_wal_syncs_total', 'counter', 'fdatasync calls (group commits).', w.syncs),
        promMetric('telemetry_wal_synced_records_total', 'counter', 'Records made durable by those syncs.', w.syncedRecords),
        promMetric('telemetry_wal_io_errors_total', 'counter', 'Failed log writes/syncs (their samples got 503).', w.ioErrors),
        promMetric('telemetry_wal_corrupt_records_total', 'counter', 'Records that failed their CRC after being verified (disk corruption).', w.corruptRecords),
        promMetric('telemetry_wal_recovered_samples', 'gauge', 'Unshipped samples found in the log at start-up.', opts.recovery?.unshippedSamples ?? 0),
        promMetric('telemetry_wal_recovery_truncated_bytes', 'gauge', 'Torn-tail bytes cut off at start-up.', opts.recovery?.truncatedBytes ?? 0),
        promMetric('telemetry_wal_recovery_seconds', 'gauge', 'Time the start-up scan of the log took.', (opts.recovery?.durationMs ?? 0) / 1000),
        promMetric('telemetry_influx_write_batches_total', 'counter', 'Batches InfluxDB confirmed (2xx).', s.batchesShipped),
        promMetric('telemetry_influx_lines_written_total', 'counter', 'Lines InfluxDB confirmed (2xx).', s.linesShipped),
        promMetric(
          'telemetry_influx_write_failures_total',
          'counter',
          'Failed InfluxDB write requests by class (network, timeout, throttled=429, server=5xx, auth=401/403, not_found=404: retried; too_large=413, rejected=other 4xx: split, then recorded).',
          FAILURE_CLASSES.map((c) => ({ labels: { class: c }, value: s.failures[c] })),
        ),
        promMetric('telemetry_influx_rejected_lines_total', 'counter', 'Lines InfluxDB permanently rejected (recorded in rejected/rejected.lp), by HTTP status.', rejectedStatuses),
        promMetric('telemetry_influx_rejected_lines_unrecorded_total', 'counter', 'Rejected lines counted but not written to the rejected file (file bound reached or write failed).', s.rejectedNotRecorded),
        promMetric('telemetry_influx_consecutive_failures', 'gauge', 'Failed attempts since the last confirmed batch.', s.consecutiveFailures),
        promMetric('telemetry_influx_retry_in_seconds', 'gauge', 'Time until the shipper retries (0 when not waiting).', s.retryAt > t ? (s.retryAt - t) / 1000 : 0),
        promMetric('telemetry_ship_lag_seconds', 'gauge', 'For the last confirmed batch: confirmation time minus log append time of its oldest line.', (s.lastShipLagMs ?? 0) / 1000),
      ].join('');
    },
  };
}

function keyIndexMetrics(index: RecentKeyIndex): string[] {
  const k = index.stats();
  return [
    promMetric('telemetry_key_index_keys', 'gauge', 'Recent store keys (vehicle_id + ms) remembered to refuse a different sample for the same key.', k.keys),
    promMetric('telemetry_key_index_capacity_keys', 'gauge', 'Bound on remembered keys (beyond it: 503).', k.maxKeys),
    promMetric('telemetry_duplicate_key_refused_total', 'counter', 'Different samples for an already acknowledged key, refused with 409.', k.conflicts),
    promMetric('telemetry_duplicate_key_identical_total', 'counter', 'Identical resends of an already acknowledged sample, acknowledged again without a new write.', k.identical),
  ];
}
