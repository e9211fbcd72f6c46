import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  InfluxUnreachableError,
  createWriteApi,
  needsV1Write,
  parseInfluxVersion,
  resolveInfluxTarget,
  v1WritePath,
  v2WritePath,
  type InfluxTarget,
} from './influxTarget';
import { memoryLog } from './jsonLog';
import { FAKE_INFLUX_URL, createFakeInflux } from './testing/fakeInflux';

describe('parseInfluxVersion', () => {
  it('reads 1.x versions with build suffixes', () => {
    expect(parseInfluxVersion('1.6.7~rc0')).toEqual({ major: 1, minor: 6, patch: 7, raw: '1.6.7~rc0' });
  });
  it('reads 2.x versions with or without a leading v', () => {
    expect(parseInfluxVersion('v2.7.11')).toMatchObject({ major: 2, minor: 7, patch: 11 });
    expect(parseInfluxVersion('2.7.4')).toMatchObject({ major: 2, minor: 7, patch: 4 });
  });
  it('accepts major.minor without a patch', () => {
    expect(parseInfluxVersion('1.8')).toMatchObject({ major: 1, minor: 8, patch: 0 });
  });
  it('returns null for missing or unparseable headers', () => {
    expect(parseInfluxVersion(null)).toBeNull();
    expect(parseInfluxVersion(undefined)).toBeNull();
    expect(parseInfluxVersion('')).toBeNull();
    expect(parseInfluxVersion('OSS')).toBeNull();
  });
});

describe('needsV1Write', () => {
  it('is true for 1.x below 1.8 (no /api/v2/write there)', () => {
    expect(needsV1Write('1.6.7~rc0')).toBe(true);
    expect(needsV1Write('1.7.10')).toBe(true);
    expect(needsV1Write('1.0.0')).toBe(true);
  });
  it('is false from 1.8 on, for 2.x, and for unknown versions', () => {
    expect(needsV1Write('1.8.10')).toBe(false);
    expect(needsV1Write('1.11.0')).toBe(false);
    expect(needsV1Write('v2.7.11')).toBe(false);
    expect(needsV1Write(null)).toBe(false);
    expect(needsV1Write('garbage')).toBe(false);
  });
  it('accepts an already parsed version', () => {
    expect(needsV1Write({ major: 1, minor: 6, patch: 0, raw: '1.6' })).toBe(true);
  });
});

describe('write paths', () => {
  it('spells 1.x precisions n/u/ms/s', () => {
    expect(v1WritePath('telemetry', 'ns')).toBe('/write?db=telemetry&precision=n');
    expect(v1WritePath('telemetry', 'us')).toBe('/write?db=telemetry&precision=u');
    expect(v1WritePath('telemetry', 'ms')).toBe('/write?db=telemetry&precision=ms');
    expect(v1WritePath('telemetry', 's')).toBe('/write?db=telemetry&precision=s');
  });
  it('URL-encodes the database name', () => {
    expect(v1WritePath('my db&x', 'ms')).toBe('/write?db=my%20db%26x&precision=ms');
  });
  it('mirrors the library path for 2.x', () => {
    expect(v2WritePath('app-org', 'telemetry', 'ms')).toBe('/api/v2/write?org=app-org&bucket=telemetry&precision=ms');
  });
});

const INFLUX = FAKE_INFLUX_URL;
const fake = createFakeInflux();
const seen = fake.writes;

beforeAll(() => fake.start());
afterEach(() => fake.reset());
afterAll(() => fake.stop());

describe('resolveInfluxTarget', () => {
  it('picks the 1.x write API for InfluxDB 1.6', async () => {
    const target = await resolveInfluxTarget(INFLUX, { timeoutMs: 1000 });
    expect(target).toEqual({ url: INFLUX, version: '1.6.7~rc0', writeApi: 'v1' });
  });

  it('keeps the v2 write API for InfluxDB 2.7', async () => {
    fake.version = 'v2.7.11';
    expect(await resolveInfluxTarget(INFLUX, { timeoutMs: 1000 })).toEqual({ url: INFLUX, version: 'v2.7.11', writeApi: 'v2' });
  });

  it('assumes v2 when /ping carries no version header', async () => {
    fake.version = null;
    expect(await resolveInfluxTarget(INFLUX, { timeoutMs: 1000 })).toMatchObject({ version: null, writeApi: 'v2' });
  });

  it('retries with growing back-off, then succeeds', async () => {
    fake.pingFailuresLeft = 3;
    const sleeps: number[] = [];
    const log = memoryLog();
    const target = await resolveInfluxTarget(INFLUX, {
      timeoutMs: 30_000,
      log,
      sleep: async (ms) => void sleeps.push(ms),
      now: () => sleeps.reduce((a, b) => a + b, 0),
    });
    expect(target.writeApi).toBe('v1');
    expect(sleeps).toEqual([250, 500, 1000]);
    expect(log.events.map((e) => e.event)).toEqual(['influx_ping_failed', 'influx_ping_failed', 'influx_ping_failed']);
    expect(log.events[2]).toMatchObject({ attempt: 3, retryInMs: 1000 });
  });

  it('gives up after the bound with a clear error', async () => {
    fake.pingFailuresLeft = Number.POSITIVE_INFINITY;
    const sleeps: number[] = [];
    const attempt = resolveInfluxTarget(INFLUX, {
      timeoutMs: 3000,
      sleep: async (ms) => void sleeps.push(ms),
      now: () => sleeps.reduce((a, b) => a + b, 0),
    });
    await expect(attempt).rejects.toBeInstanceOf(InfluxUnreachableError);
    await expect(attempt).rejects.toThrow(/^InfluxDB at http:\/\/influx\.test:8086 did not answer GET \/ping within 3000 ms \(4 attempts; last error: /);
    // 250 + 500 + 1000 = 1750; the next 2000 ms would overshoot 3000.
    expect(sleeps).toEqual([250, 500, 1000]);
  });

  it('treats a non-2xx /ping as a failure', async () => {
    fake.pingStatus = 503;
    await expect(resolveInfluxTarget(INFLUX, { timeoutMs: 0 })).rejects.toThrow(/GET \/ping answered 503/);
  });
});

describe('createWriteApi (the real client library over msw)', () => {
  const v1: InfluxTarget = { url: INFLUX, version: '1.6.7~rc0', writeApi: 'v1' };
  const v2: InfluxTarget = { url: INFLUX, version: 'v2.7.11', writeApi: 'v2' };

  it('posts to /write?db=<bucket>&precision=ms on InfluxDB 1.6', async () => {
    const api = createWriteApi({ target: v1, token: '', org: 'app-org', bucket: 'telemetry', precision: 'ms', writeOptions: {} });
    expect(api.path).toBe('/write?db=telemetry&precision=ms');
    api.writeRecord('telemetry,vehicle_id=car-1 pose_x=1 1700000000000');
    await api.close();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual({
      path: '/write',
      query: { db: 'telemetry', precision: 'ms' },
      authorization: null, // empty token: the library sends no Authorization header
      body: 'telemetry,vehicle_id=car-1 pose_x=1 1700000000000',
    });
  });

  it('uses 1.x precision spelling for ns', async () => {
    const api = createWriteApi({ target: v1, token: '', org: 'o', bucket: 'db1', precision: 'ns', writeOptions: {} });
    api.writeRecord('m f=1 1');
    await api.close();
    expect(seen[0]?.query).toEqual({ db: 'db1', precision: 'n' });
  });

  it('keeps /api/v2/write with org, bucket and the token header on InfluxDB 2.7', async () => {
    const api = createWriteApi({ target: v2, token: 'dev-token', org: 'app-org', bucket: 'telemetry', precision: 'ms', writeOptions: {} });
    expect(api.path).toBe(v2WritePath('app-org', 'telemetry', 'ms'));
    api.writeRecord('telemetry,vehicle_id=car-1 pose_x=1 1700000000000');
    await api.close();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      path: '/api/v2/write',
      query: { org: 'app-org', bucket: 'telemetry', precision: 'ms' },
      authorization: 'Token dev-token',
    });
  });
});
