import { describe, expect, it } from 'vitest';
import { BackendConfigError, LIBRARY_RETRY_DEFAULTS, loadBackendConfig, parseByteSize } from './config';

const REQUIRED = { API_KEY: 'secret', INFLUX_URL: 'http://127.0.0.1:8086' };

function problemsFor(env: Record<string, string | undefined>): string[] {
  try {
    loadBackendConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(BackendConfigError);
    return (err as BackendConfigError).problems;
  }
  throw new Error('expected loadBackendConfig to throw');
}

describe('loadBackendConfig: defaults', () => {
  it('fills every default from the contract and the library', () => {
    const c = loadBackendConfig({ ...REQUIRED });
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      apiKey: 'secret',
      influxUrl: 'http://127.0.0.1:8086',
      influxToken: '',
      influxOrg: 'app-org',
      influxBucket: 'telemetry',
      ingestMode: 'legacy',
      influxFlushIntervalMs: 60_000,
      influxBatchSize: 1000,
      bodyLimit: '100kb',
      bodyLimitBytes: 102_400,
      skewWindowSec: 10,
      influxStartupTimeoutMs: 30_000,
      shutdownTimeoutMs: 10_000,
    });
    expect(c.sseToken).toBeUndefined();
    expect(c.dataDir).toBeUndefined();
    expect(c.backendVersion).toBe('0.1.0'); // package.json
  });

  it('treats empty strings as unset', () => {
    const c = loadBackendConfig({ ...REQUIRED, PORT: '', SSE_TOKEN: '', INGEST_MODE: '', BODY_LIMIT: '' });
    expect(c.port).toBe(3000);
    expect(c.sseToken).toBeUndefined();
    expect(c.ingestMode).toBe('legacy');
    expect(c.bodyLimit).toBe('100kb');
  });
});

describe('loadBackendConfig: explicit values', () => {
  it('reads every variable', () => {
    const c = loadBackendConfig({
      ...REQUIRED,
      PORT: '0',
      HOST: '::1',
      INFLUX_URL: 'http://influx:8086/',
      INFLUX_TOKEN: 'dev-token',
      INFLUX_ORG: 'o',
      INFLUX_BUCKET: 'b',
      INGEST_MODE: 'durable',
      INFLUX_FLUSH_INTERVAL_MS: '1000',
      INFLUX_BATCH_SIZE: '50',
      INFLUX_MAX_RETRIES: '1',
      INFLUX_MAX_RETRY_TIME_MS: '3000',
      INFLUX_MIN_RETRY_DELAY_MS: '100',
      INFLUX_MAX_RETRY_DELAY_MS: '400',
      INFLUX_MAX_BUFFER_LINES: '200',
      BODY_LIMIT: '1mb',
      SSE_TOKEN: 'tok',
      DATA_DIR: '/tmp/x',
      BACKEND_VERSION: '9.9.9',
      SKEW_WINDOW_SEC: '2.5',
      INFLUX_STARTUP_TIMEOUT_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '2000',
    });
    expect(c).toEqual({
      port: 0,
      host: '::1',
      apiKey: 'secret',
      influxUrl: 'http://influx:8086', // trailing slash removed
      influxToken: 'dev-token',
      influxOrg: 'o',
      influxBucket: 'b',
      ingestMode: 'durable',
      influxFlushIntervalMs: 1000,
      influxBatchSize: 50,
      influxRetry: { maxRetries: 1, maxRetryTimeMs: 3000, minRetryDelayMs: 100, maxRetryDelayMs: 400, maxBufferLines: 200 },
      bodyLimit: '1mb',
      bodyLimitBytes: 1024 * 1024,
      sseToken: 'tok',
      dataDir: '/tmp/x',
      backendVersion: '9.9.9',
      skewWindowSec: 2.5,
      influxStartupTimeoutMs: 0,
      shutdownTimeoutMs: 2000,
    });
  });

  it('keeps the client library\'s retry defaults unless told otherwise', () => {
    expect(loadBackendConfig(REQUIRED).influxRetry).toEqual(LIBRARY_RETRY_DEFAULTS);
    expect(LIBRARY_RETRY_DEFAULTS).toEqual({ maxRetries: 5, maxRetryTimeMs: 180_000, minRetryDelayMs: 5_000, maxRetryDelayMs: 125_000, maxBufferLines: 32_000 });
  });

  it('allows a flush interval of 0 (the library then flushes on batch size only)', () => {
    expect(loadBackendConfig({ ...REQUIRED, INFLUX_FLUSH_INTERVAL_MS: '0' }).influxFlushIntervalMs).toBe(0);
  });
});

describe('loadBackendConfig: each bad value names its variable', () => {
  it.each([
    [{ API_KEY: undefined }, /^API_KEY is required$/],
    [{ API_KEY: '  ' }, /^API_KEY is required and must not be empty$/],
    [{ INFLUX_URL: undefined }, /^INFLUX_URL is required$/],
    [{ INFLUX_URL: 'not a url' }, /^INFLUX_URL must be an absolute http\(s\) URL, got "not a url"$/],
    [{ INFLUX_URL: 'ftp://x' }, /^INFLUX_URL must use http or https/],
    [{ PORT: 'abc' }, /^PORT must be an integer, got "abc"$/],
    [{ PORT: '70000' }, /^PORT must be between 0 and 65535, got 70000$/],
    [{ PORT: '3.5' }, /^PORT must be an integer/],
    [{ INGEST_MODE: 'fast' }, /^INGEST_MODE must be 'legacy' or 'durable', got "fast"$/],
    [{ INFLUX_FLUSH_INTERVAL_MS: '-1' }, /^INFLUX_FLUSH_INTERVAL_MS must be between 0 and/],
    [{ INFLUX_BATCH_SIZE: '0' }, /^INFLUX_BATCH_SIZE must be between 1 and/],
    [{ INFLUX_BATCH_SIZE: 'lots' }, /^INFLUX_BATCH_SIZE must be an integer/],
    [{ INFLUX_MAX_RETRIES: '-1' }, /^INFLUX_MAX_RETRIES must be between 0 and/],
    [{ INFLUX_MAX_BUFFER_LINES: '0' }, /^INFLUX_MAX_BUFFER_LINES must be between 1 and/],
    [{ INFLUX_MIN_RETRY_DELAY_MS: '500', INFLUX_MAX_RETRY_DELAY_MS: '100' }, /^INFLUX_MIN_RETRY_DELAY_MS must not be greater than INFLUX_MAX_RETRY_DELAY_MS$/],
    [{ BODY_LIMIT: '100 kilobytes' }, /^BODY_LIMIT must be a positive size like '100kb'/],
    [{ BODY_LIMIT: '0' }, /^BODY_LIMIT must be a positive size/],
    [{ SKEW_WINDOW_SEC: '0' }, /^SKEW_WINDOW_SEC must be a number greater than 0/],
    [{ SKEW_WINDOW_SEC: 'ten' }, /^SKEW_WINDOW_SEC must be a number greater than 0, got "ten"$/],
    [{ SHUTDOWN_TIMEOUT_MS: '5' }, /^SHUTDOWN_TIMEOUT_MS must be between 100 and/],
  ])('%j', (over, expected) => {
    const problems = problemsFor({ ...REQUIRED, ...over });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  it('reports every problem at once, in the error message too', () => {
    const env = { PORT: 'x', INGEST_MODE: 'y' };
    const problems = problemsFor(env);
    expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(['API_KEY', 'INFLUX_URL', 'INGEST_MODE', 'PORT']);
    expect(() => loadBackendConfig(env)).toThrow(/Invalid backend configuration:\n {2}- /);
  });
});

describe('parseByteSize (express/bytes syntax)', () => {
  it.each([
    ['100kb', 102_400],
    ['100KB', 102_400],
    ['1mb', 1_048_576],
    ['1.5mb', 1_572_864],
    ['512', 512],
    ['512b', 512],
    ['2 gb', 2 * 1024 ** 3],
  ])('%s = %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['', 'kb', '10 kilobytes', '-5kb', '0', 'abc'])('rejects %j', (text) => {
    expect(parseByteSize(text)).toBeNull();
  });
});
