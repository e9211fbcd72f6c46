/**
 * Legacy ingestion, as the seed does it: one shared WriteApi with the
 * library's default write options (only flushInterval and batchSize come from
 * config, defaulting to the library's 60 000 ms / 1 000 lines), and
 * writePoint() without waiting for anything (fire and forget). A 200 reply
 * therefore proves only that a line sits in the library's memory buffer.
 *
 * Observability added without changing behaviour: the writeFailed,
 * writeSuccess and writeRetrySkipped hooks return undefined (so the library's
 * own retry logic runs unchanged), and the library logger is replaced so its
 * messages ("RetryBuffer: N oldest lines removed", "Retry buffer closed with N
 * items that were not written", "Write to InfluxDB failed") become JSON lines
 * and counters.
 */
import { setLogger, type Logger, type WriteApi, type WriteOptions } from '@influxdata/influxdb-client';
import { LIBRARY_RETRY_DEFAULTS, type InfluxRetryOptions } from './config';
import type { Ingestor, IngestResult, ReceivedPayload } from './interfaces';
import { createWriteApi, type InfluxTarget, type WritePrecision } from './influxTarget';
import { describeError, type LogSink } from './jsonLog';
import { mutantOnWriteFailed, mutantSkipsFinalFlush, mutantWriteLegacyPoint } from './mutants';
import { hasNoFields, toPoint } from './point';
import { promMetric } from './promText';

/** Whole-ms timestamps (the contract's time); the stored value is the same with 'ns'. */
export const LEGACY_PRECISION: WritePrecision = 'ms';

export interface LegacyIngestorOptions {
  target: InfluxTarget;
  token: string;
  org: string;
  bucket: string;
  flushIntervalMs: number;
  batchSize: number;
  /** Retry options; unset fields keep the library defaults. */
  retry?: Partial<InfluxRetryOptions>;
  log: LogSink;
}

export interface InfluxWriteCounters {
  /** Failed write attempts (each HTTP attempt that failed, retries included). */
  writeFailures: number;
  /** Lines carried by those failed attempts. */
  writeFailedLines: number;
  /** Successful write requests and the lines they carried. */
  writeBatchesOk: number;
  linesWritten: number;
  /** Lines the retry buffer threw away to stay under maxBufferLines. */
  retrySkippedLines: number;
  /** Lines given up after a failed attempt: retries or retry time exhausted, or refused (4xx). */
  droppedRetriesExhaustedLines: number;
  droppedRejectedLines: number;
  clientErrors: number;
  clientWarnings: number;
  /** writePoint() calls, and how many of those the library dropped for having no fields. */
  pointsQueued: number;
  pointsWithoutFields: number;
}

export interface LegacyIngestor extends Ingestor {
  /** The HTTP path (and query) the WriteApi posts to. */
  readonly writePath: string;
  readonly counters: Readonly<InfluxWriteCounters>;
  metrics(): string;
}

function firstLine(lines: string[]): string | undefined {
  return lines[0]?.slice(0, 200);
}

/**
 * Smallest and largest point time (ms, the last token of a line) of a batch:
 * lets a checker tell which acknowledged samples a dropped batch carried.
 */
export function lineTimeRange(lines: readonly string[]): { minTimeMs: number; maxTimeMs: number } | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const l of lines) {
    const t = Number(l.slice(l.lastIndexOf(' ') + 1));
    if (!Number.isFinite(t)) continue;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return min <= max ? { minTimeMs: min, maxTimeMs: max } : undefined;
}

export type DropReason = 'retries_exhausted' | 'max_retry_time' | 'rejected';

/**
 * What the library (1.35, WriteApiImpl.sendBatch) does after a failed
 * attempt: retry when retries are left and the error is not an HTTP status
 * below 429; "Max retry time exceeded." and everything else drop the lines.
 */
export function dropReasonAfterFailure(error: Error, attempt: number, maxRetries: number): DropReason | undefined {
  if (error.message === 'Max retry time exceeded.') return 'max_retry_time';
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status < 429) return 'rejected';
  return maxRetries + 1 - attempt > 0 ? undefined : 'retries_exhausted';
}

export function createLegacyIngestor(opts: LegacyIngestorOptions): LegacyIngestor {
  const { log } = opts;
  const counters: InfluxWriteCounters = {
    writeFailures: 0,
    writeFailedLines: 0,
    writeBatchesOk: 0,
    linesWritten: 0,
    retrySkippedLines: 0,
    droppedRetriesExhaustedLines: 0,
    droppedRejectedLines: 0,
    clientErrors: 0,
    clientWarnings: 0,
    pointsQueued: 0,
    pointsWithoutFields: 0,
  };

  const retry: InfluxRetryOptions = { ...LIBRARY_RETRY_DEFAULTS, ...opts.retry };
  const writeOptions: Partial<WriteOptions> = {
    flushInterval: opts.flushIntervalMs,
    batchSize: opts.batchSize,
    maxRetries: retry.maxRetries,
    maxRetryTime: retry.maxRetryTimeMs,
    minRetryDelay: retry.minRetryDelayMs,
    maxRetryDelay: retry.maxRetryDelayMs,
    maxBufferLines: retry.maxBufferLines,
    // Returning undefined (not a promise) tells the library to carry on with
    // its default handling: retry 429/5xx/network errors, drop other 4xx.
    writeFailed(error: Error, lines: string[], attempt: number, expires: number) {
      counters.writeFailures++;
      counters.writeFailedLines += lines.length;
      const dropped = dropReasonAfterFailure(error, attempt, retry.maxRetries);
      if (dropped === 'rejected') counters.droppedRejectedLines += lines.length;
      else if (dropped) counters.droppedRetriesExhaustedLines += lines.length;
      log('influx_write_failed', {
        lines: lines.length,
        attempt,
        willRetry: dropped === undefined,
        ...(dropped ? { dropped } : {}),
        ...lineTimeRange(lines),
        expires: new Date(expires).toISOString(),
        error: describeError(error),
        statusCode: (error as { statusCode?: number }).statusCode,
        sample: firstLine(lines),
      });
      mutantOnWriteFailed(writeApi, lines); // mutant zoo #7 (off unless BACKEND_MUTANT says so)
      return undefined;
    },
    writeSuccess(lines: string[]) {
      counters.writeBatchesOk++;
      counters.linesWritten += lines.length;
      log('influx_write_ok', { lines: lines.length, ...lineTimeRange(lines) });
    },
    writeRetrySkipped(entry: { lines: string[]; expires: number }) {
      counters.retrySkippedLines += entry.lines.length;
      log('influx_retry_skipped', { lines: entry.lines.length, ...lineTimeRange(entry.lines) });
    },
  };

  const writeApi: WriteApi = createWriteApi({
    target: opts.target,
    token: opts.token,
    org: opts.org,
    bucket: opts.bucket,
    precision: LEGACY_PRECISION,
    writeOptions,
  });

  // The library's logger is process-global; restore the previous one on close.
  const clientLogger: Logger = {
    error(message: string, err?: unknown) {
      counters.clientErrors++;
      log('influx_client_log', { level: 'error', message, ...(err ? { error: describeError(err) } : {}) });
    },
    warn(message: string, err?: unknown) {
      counters.clientWarnings++;
      log('influx_client_log', { level: 'warn', message, ...(err ? { error: describeError(err) } : {}) });
    },
  };
  const previousLogger = setLogger(clientLogger);

  let closed = false;

  return {
    writePath: writeApi.path,
    counters,

    ingest(payload: ReceivedPayload): IngestResult {
      // toPoint may throw (non-finite value); the route turns that into 500.
      const point = toPoint(payload);
      counters.pointsQueued++;
      if (hasNoFields(point)) counters.pointsWithoutFields++;
      if (!mutantWriteLegacyPoint(writeApi, point, payload.vehicle_id)) writeApi.writePoint(point); // fire and forget, exactly like the seed
      return { kind: 'accepted' };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        if (mutantSkipsFinalFlush()) writeApi.dispose(); // mutant zoo #6
        else await writeApi.close(); // flushes the write buffer; the retry buffer is abandoned (logged by the library)
      } finally {
        setLogger(previousLogger);
      }
    },

    metrics(): string {
      return [
        promMetric('telemetry_influx_write_failures_total', 'counter', 'Failed InfluxDB write attempts (retries included).', counters.writeFailures),
        promMetric('telemetry_influx_write_failed_lines_total', 'counter', 'Lines carried by failed InfluxDB write attempts.', counters.writeFailedLines),
        promMetric('telemetry_influx_write_batches_total', 'counter', 'Successful InfluxDB write requests.', counters.writeBatchesOk),
        promMetric('telemetry_influx_lines_written_total', 'counter', 'Lines InfluxDB acknowledged (204).', counters.linesWritten),
        promMetric('telemetry_influx_retry_skipped_lines_total', 'counter', 'Lines dropped from the retry buffer to respect maxBufferLines.', counters.retrySkippedLines),
        promMetric('telemetry_influx_dropped_lines_total', 'counter', 'Lines given up after a failed write attempt.', [
          { labels: { reason: 'retries_exhausted' }, value: counters.droppedRetriesExhaustedLines },
          { labels: { reason: 'rejected' }, value: counters.droppedRejectedLines },
        ]),
        promMetric('telemetry_influx_client_errors_total', 'counter', 'Error messages logged by the InfluxDB client library.', counters.clientErrors),
        promMetric('telemetry_influx_client_warnings_total', 'counter', 'Warning messages logged by the InfluxDB client library.', counters.clientWarnings),
        promMetric('telemetry_points_queued_total', 'counter', 'Points handed to WriteApi.writePoint().', counters.pointsQueued),
        promMetric('telemetry_points_without_fields_total', 'counter', 'Queued points the client library skipped silently (no fields).', counters.pointsWithoutFields),
      ].join('');
    },
  };
}
