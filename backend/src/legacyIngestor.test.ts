import { Log } from '@influxdata/influxdb-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { InfluxTarget } from './influxTarget';
import type { ReceivedPayload } from './interfaces';
import { memoryLog } from './jsonLog';
import type { InfluxRetryOptions } from './config';
import { createLegacyIngestor, dropReasonAfterFailure, lineTimeRange, type LegacyIngestor } from './legacyIngestor';
import { FAKE_INFLUX_URL, createFakeInflux } from './testing/fakeInflux';

const fake = createFakeInflux();
beforeAll(() => fake.start());
afterAll(() => fake.stop());

const V1: InfluxTarget = { url: FAKE_INFLUX_URL, version: '1.6.7~rc0', writeApi: 'v1' };
const V2: InfluxTarget = { url: FAKE_INFLUX_URL, version: 'v2.7.11', writeApi: 'v2' };

let open: LegacyIngestor[] = [];
afterEach(async () => {
  // Close anything a test left open (close is idempotent; failures don't matter here).
  await Promise.allSettled(open.map((i) => i.close()));
  open = [];
  fake.reset();
  vi.restoreAllMocks();
});

function make(target: InfluxTarget, over: { batchSize?: number; token?: string; flushIntervalMs?: number; retry?: Partial<InfluxRetryOptions> } = {}) {
  const log = memoryLog();
  const ingestor = createLegacyIngestor({
    target,
    token: over.token ?? '',
    org: 'app-org',
    bucket: 'telemetry',
    flushIntervalMs: over.flushIntervalMs ?? 60_000,
    batchSize: over.batchSize ?? 1000,
    ...(over.retry ? { retry: over.retry } : {}),
    log,
  });
  open.push(ingestor);
  return { ingestor, log };
}

function payload(over: Partial<ReceivedPayload> = {}): ReceivedPayload {
  return {
    vehicle_id: 'car-1',
    timestamp: 1_700_000_000.1239,
    pose: { x: 1.5, z: -2 },
    control: { steering: 0.1, throttle: 0.5 },
    serverReceiveTime: 1_700_000_000.2,
    ...over,
  };
}

const eventsNamed = (log: ReturnType<typeof memoryLog>, name: string) => log.events.filter((e) => e.event === name);

describe('legacy ingestor: what reaches InfluxDB 1.6', () => {
  it('queues without sending (fire and forget) and flushes one line on close', async () => {
    const { ingestor, log } = make(V1);
    expect(ingestor.writePath).toBe('/write?db=telemetry&precision=ms');

    const result = ingestor.ingest(payload());
    expect(result).toEqual({ kind: 'accepted' });
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.writes).toHaveLength(0); // a 200 would only mean "in memory"

    await ingestor.close();
    expect(fake.writes).toHaveLength(1);
    expect(fake.writes[0]).toMatchObject({ path: '/write', query: { db: 'telemetry', precision: 'ms' }, authorization: null });
    // Fields sorted by name, time truncated to whole ms.
    expect(fake.writes[0]?.body).toBe('telemetry,vehicle_id=car-1 pose_x=1.5,pose_z=-2,steering=0.1,throttle=0.5 1700000000123');
    expect(eventsNamed(log, 'influx_write_ok')).toEqual([{ event: 'influx_write_ok', lines: 1, minTimeMs: 1700000000123, maxTimeMs: 1700000000123 }]);
    expect(ingestor.counters).toMatchObject({ linesWritten: 1, writeBatchesOk: 1, pointsQueued: 1, writeFailures: 0 });
  });

  it('sends a batch as soon as batchSize lines are queued', async () => {
    const { ingestor } = make(V1, { batchSize: 2 });
    ingestor.ingest(payload({ timestamp: 1_700_000_000 }));
    ingestor.ingest(payload({ timestamp: 1_700_000_001 }));
    await vi.waitFor(() => expect(fake.writes).toHaveLength(1));
    expect(fake.writes[0]?.body.split('\n')).toHaveLength(2);
  });

  it('silently drops a point without fields, yet reports it accepted', async () => {
    const { ingestor } = make(V1);
    const { pose: _p, control: _c, ...bare } = payload();
    expect(ingestor.ingest(bare as ReceivedPayload)).toEqual({ kind: 'accepted' });
    await ingestor.close();
    expect(fake.writes).toHaveLength(0);
    expect(ingestor.counters).toMatchObject({ pointsQueued: 1, pointsWithoutFields: 1 });
    expect(ingestor.metrics()).toContain('telemetry_points_without_fields_total 1\n');
  });

  it('throws on a non-finite field value (the route answers 500)', () => {
    const { ingestor } = make(V1);
    expect(() => ingestor.ingest(payload({ pose: { x: Infinity, z: 0 } }))).toThrow(/invalid float value for field 'pose_x'/);
    expect(ingestor.counters.pointsQueued).toBe(0);
  });

  it('writes an empty vehicle_id without any tag', async () => {
    const { ingestor } = make(V1);
    ingestor.ingest(payload({ vehicle_id: '' }));
    await ingestor.close();
    expect(fake.writes[0]?.body).toBe('telemetry pose_x=1.5,pose_z=-2,steering=0.1,throttle=0.5 1700000000123');
  });
});

describe('legacy ingestor: InfluxDB 2.7', () => {
  it('posts to /api/v2/write with the token', async () => {
    const { ingestor } = make(V2, { token: 'dev-token' });
    expect(ingestor.writePath).toBe('/api/v2/write?org=app-org&bucket=telemetry&precision=ms');
    ingestor.ingest(payload());
    await ingestor.close();
    expect(fake.writes[0]).toMatchObject({
      path: '/api/v2/write',
      query: { org: 'app-org', bucket: 'telemetry', precision: 'ms' },
      authorization: 'Token dev-token',
    });
  });
});

describe('legacy ingestor: back-pressure symptoms are logged, retry semantics unchanged', () => {
  it('a 400 is logged as a failed write and as a library error, and not retried', async () => {
    fake.writeStatus = 400;
    const { ingestor, log } = make(V1);
    ingestor.ingest(payload());
    // The final flush failed: close() rejects (the server then exits 1).
    await expect(ingestor.close()).rejects.toThrow(/fake influx says 400/);
    expect(fake.writes).toHaveLength(1);

    const failed = eventsNamed(log, 'influx_write_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ lines: 1, attempt: 1, statusCode: 400, error: 'fake influx says 400' });
    expect(typeof failed[0]?.expires).toBe('string');
    expect(eventsNamed(log, 'influx_client_log')).toEqual([
      expect.objectContaining({ level: 'error', message: 'Write to InfluxDB failed.' }),
    ]);
    expect(ingestor.metrics()).toContain('telemetry_influx_write_failures_total 1\n');
    expect(ingestor.metrics()).toContain('telemetry_influx_client_errors_total 1\n');
  });

  it('a 503 goes to the retry buffer (warn), and closing abandons it (error)', async () => {
    fake.writeStatus = 503;
    const { ingestor, log } = make(V1);
    ingestor.ingest(payload());
    await expect(ingestor.close()).rejects.toThrow();

    const messages = eventsNamed(log, 'influx_client_log').map((e) => `${String(e.level)}: ${String(e.message)}`);
    expect(messages).toEqual([
      'warn: Write to InfluxDB failed (attempt: 1).',
      'error: Retry buffer closed with 1 items that were not written to InfluxDB!',
    ]);
    expect(eventsNamed(log, 'influx_write_failed')).toHaveLength(1);
    expect(ingestor.counters).toMatchObject({ writeFailures: 1, writeFailedLines: 1, clientWarnings: 1, clientErrors: 1, linesWritten: 0 });
  });

  it('with scaled retry options, a batch is retried then dropped, and the log says which lines and why', async () => {
    fake.writeStatus = 503;
    const { ingestor, log } = make(V1, { flushIntervalMs: 20, retry: { maxRetries: 1, minRetryDelayMs: 10, maxRetryDelayMs: 20, maxRetryTimeMs: 5_000 } });
    ingestor.ingest(payload({ timestamp: 1_700_000_000.5 }));
    ingestor.ingest(payload({ timestamp: 1_700_000_000.75 }));
    await vi.waitFor(() => expect(eventsNamed(log, 'influx_write_failed')).toHaveLength(2), { timeout: 2_000 });
    const [first, last] = eventsNamed(log, 'influx_write_failed');
    expect(first).toMatchObject({ attempt: 1, willRetry: true, lines: 2, minTimeMs: 1_700_000_000_500, maxTimeMs: 1_700_000_000_750 });
    expect(first).not.toHaveProperty('dropped');
    expect(last).toMatchObject({ attempt: 2, willRetry: false, dropped: 'retries_exhausted', lines: 2 });
    expect(ingestor.counters.droppedRetriesExhaustedLines).toBe(2);
    expect(ingestor.metrics()).toContain('telemetry_influx_dropped_lines_total{reason="retries_exhausted"} 2\n');
  });

  it('a full retry buffer drops its oldest lines and logs their time range', async () => {
    fake.writeStatus = 503;
    const { ingestor, log } = make(V1, { batchSize: 2, retry: { maxBufferLines: 3, minRetryDelayMs: 60_000, maxRetryDelayMs: 60_000 } });
    for (let i = 0; i < 6; i++) ingestor.ingest(payload({ timestamp: 1_700_000_000 + i }));
    await vi.waitFor(() => expect(eventsNamed(log, 'influx_retry_skipped').length).toBeGreaterThan(0), { timeout: 2_000 });
    expect(eventsNamed(log, 'influx_retry_skipped')[0]).toMatchObject({ lines: 2, minTimeMs: 1_700_000_000_000, maxTimeMs: 1_700_000_001_000 });
    expect(ingestor.counters.retrySkippedLines).toBeGreaterThanOrEqual(2);
  });

  it('restores the previous library logger on close', async () => {
    const { ingestor, log } = make(V1);
    await ingestor.close();
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    Log.error('after close', undefined);
    expect(consoleError).toHaveBeenCalledWith('ERROR: after close', '');
    expect(eventsNamed(log, 'influx_client_log')).toHaveLength(0);
  });
});

describe('drop evidence helpers', () => {
  it('reads the time range of line-protocol lines', () => {
    expect(lineTimeRange(['telemetry,vehicle_id=a\\ b pose_x=1 1700000000123', 'telemetry,vehicle_id=c pose_x=2 1700000000100'])).toEqual({ minTimeMs: 1700000000100, maxTimeMs: 1700000000123 });
    expect(lineTimeRange([])).toBeUndefined();
  });

  it('follows the library: retry while retries are left, except a 4xx below 429 and an expired batch', () => {
    const http = (statusCode: number) => Object.assign(new Error('x'), { statusCode });
    expect(dropReasonAfterFailure(new Error('ECONNREFUSED'), 1, 5)).toBeUndefined();
    expect(dropReasonAfterFailure(new Error('ECONNREFUSED'), 6, 5)).toBe('retries_exhausted');
    expect(dropReasonAfterFailure(http(503), 5, 5)).toBeUndefined();
    expect(dropReasonAfterFailure(http(429), 1, 0)).toBe('retries_exhausted');
    expect(dropReasonAfterFailure(http(400), 1, 5)).toBe('rejected');
    expect(dropReasonAfterFailure(new Error('Max retry time exceeded.'), 2, 5)).toBe('max_retry_time');
  });
});

describe('legacy ingestor metrics', () => {
  it('exposes every counter in Prometheus text', async () => {
    const { ingestor } = make(V1);
    ingestor.ingest(payload());
    await ingestor.close();
    const text = ingestor.metrics();
    for (const name of [
      'telemetry_influx_write_failures_total',
      'telemetry_influx_write_failed_lines_total',
      'telemetry_influx_write_batches_total',
      'telemetry_influx_lines_written_total',
      'telemetry_influx_retry_skipped_lines_total',
      'telemetry_influx_client_errors_total',
      'telemetry_influx_client_warnings_total',
      'telemetry_points_queued_total',
      'telemetry_points_without_fields_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} counter\n`);
    }
    expect(text).toContain('telemetry_influx_lines_written_total 1\n');
  });
});
