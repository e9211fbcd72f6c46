/**
 * Backend configuration from environment variables, validated with zod.
 * Every bad value yields one message naming the variable and what is wrong;
 * all of them are reported at once (BackendConfigError.problems).
 *
 * Durable mode's own variables are not parsed here: its factory receives the
 * raw env (see modes.ts) and parses what it needs.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export type IngestMode = 'legacy' | 'durable';

export interface BackendConfig {
  port: number;
  host: string;
  apiKey: string;
  influxUrl: string;
  influxToken: string;
  influxOrg: string;
  /** 2.x bucket; for InfluxDB 1.x the database name. */
  influxBucket: string;
  ingestMode: IngestMode;
  influxFlushIntervalMs: number;
  influxBatchSize: number;
  /**
   * The WriteApi's retry options (library defaults unless set): the chaos
   * suites scale them down to reach "outage longer than the retry budget"
   * in seconds instead of minutes.
   */
  influxRetry: InfluxRetryOptions;
  /** express/body-parser syntax, e.g. '100kb'. */
  bodyLimit: string;
  /** The same limit in bytes (for reports and metrics). */
  bodyLimitBytes: number;
  /** When set, GET /api/v1/telemetry/stream needs `Authorization: Bearer <token>`. */
  sseToken?: string;
  dataDir?: string;
  backendVersion: string;
  /** |now - timestamp| above this is rejected (seconds); the contract says 10. */
  skewWindowSec: number;
  /** How long start-up waits for InfluxDB's /ping before giving up. */
  influxStartupTimeoutMs: number;
  /** SIGTERM/SIGINT: exit 1 if the graceful shutdown takes longer than this. */
  shutdownTimeoutMs: number;
}

export interface InfluxRetryOptions {
  /** INFLUX_MAX_RETRIES (library default 5). */
  maxRetries: number;
  /** INFLUX_MAX_RETRY_TIME_MS: a batch is dropped this long after its first attempt (default 180 000). */
  maxRetryTimeMs: number;
  /** INFLUX_MIN_RETRY_DELAY_MS / INFLUX_MAX_RETRY_DELAY_MS (defaults 5 000 / 125 000). */
  minRetryDelayMs: number;
  maxRetryDelayMs: number;
  /** INFLUX_MAX_BUFFER_LINES: retry buffer size; the oldest lines are dropped beyond it (default 32 000). */
  maxBufferLines: number;
}

/** @influxdata/influxdb-client 1.35's DEFAULT_WriteOptions for the same fields. */
export const LIBRARY_RETRY_DEFAULTS: InfluxRetryOptions = {
  maxRetries: 5,
  maxRetryTimeMs: 180_000,
  minRetryDelayMs: 5_000,
  maxRetryDelayMs: 125_000,
  maxBufferLines: 32_000,
};

export class BackendConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid backend configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'BackendConfigError';
  }
}

/** body-parser delegates to the `bytes` package; this mirrors its grammar. */
const BYTES_RE = /^((-|\+)?(\d+(?:\.\d+)?)) *(b|kb|mb|gb|tb|pb)?$/i;
const UNIT: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4, pb: 1024 ** 5 };

export function parseByteSize(text: string): number | null {
  const m = BYTES_RE.exec(text.trim());
  if (!m || m[1] === undefined) return null;
  const unit = (m[4] ?? 'b').toLowerCase();
  const n = Math.floor(Number(m[1]) * (UNIT[unit] ?? 1));
  return Number.isFinite(n) && n > 0 ? n : null;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Integer env var with bounds; '' counts as unset (default applies). */
function intVar(def: number, min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      if (!/^[+-]?\d+$/.test(v.trim())) {
        ctx.addIssue({ code: 'custom', message: `must be an integer, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      const n = Number(v);
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });
}

function numberVar(def: number, minExclusive: number) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= minExclusive) {
        ctx.addIssue({ code: 'custom', message: `must be a number greater than ${minExclusive}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    });
}

function stringVar(def: string) {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? def : v));
}

function optionalString() {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v));
}

function requiredString() {
  return z
    .string({ error: 'is required' })
    .refine((v) => v.trim() !== '', { message: 'is required and must not be empty' });
}

const EnvSchema = z.object({
  PORT: intVar(3000, 0, 65535),
  HOST: stringVar('127.0.0.1'),
  API_KEY: requiredString(),
  INFLUX_URL: requiredString().transform((v, ctx) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be an absolute http(s) URL, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `must use http or https, got ${JSON.stringify(url.protocol)}` });
      return z.NEVER;
    }
    return v.replace(/\/+$/, '');
  }),
  INFLUX_TOKEN: stringVar(''),
  INFLUX_ORG: stringVar('app-org'),
  INFLUX_BUCKET: stringVar('telemetry'),
  INGEST_MODE: z
    .string()
    .optional()
    .transform((v, ctx): IngestMode => {
      if (v === undefined || v === '') return 'legacy';
      if (v === 'legacy' || v === 'durable') return v;
      ctx.addIssue({ code: 'custom', message: `must be 'legacy' or 'durable', got ${JSON.stringify(v)}` });
      return z.NEVER;
    }),
  // 60 000 ms and 1 000 lines are the client library's defaults; lowering the
  // flush interval is the config-only fix the seed team can apply.
  INFLUX_FLUSH_INTERVAL_MS: intVar(60_000, 0, 24 * 3600_000),
  INFLUX_BATCH_SIZE: intVar(1000, 1, 1_000_000),
  INFLUX_MAX_RETRIES: intVar(LIBRARY_RETRY_DEFAULTS.maxRetries, 0, 1_000),
  INFLUX_MAX_RETRY_TIME_MS: intVar(LIBRARY_RETRY_DEFAULTS.maxRetryTimeMs, 1, 24 * 3600_000),
  INFLUX_MIN_RETRY_DELAY_MS: intVar(LIBRARY_RETRY_DEFAULTS.minRetryDelayMs, 1, 24 * 3600_000),
  INFLUX_MAX_RETRY_DELAY_MS: intVar(LIBRARY_RETRY_DEFAULTS.maxRetryDelayMs, 1, 24 * 3600_000),
  INFLUX_MAX_BUFFER_LINES: intVar(LIBRARY_RETRY_DEFAULTS.maxBufferLines, 1, 100_000_000),
  BODY_LIMIT: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const text = v === undefined || v === '' ? '100kb' : v;
      const bytes = parseByteSize(text);
      if (bytes === null) {
        ctx.addIssue({ code: 'custom', message: `must be a positive size like '100kb' or '1mb', got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return { text, bytes };
    }),
  SSE_TOKEN: optionalString(),
  DATA_DIR: optionalString(),
  BACKEND_VERSION: optionalString(),
  SKEW_WINDOW_SEC: numberVar(10, 0),
  INFLUX_STARTUP_TIMEOUT_MS: intVar(30_000, 0, 3600_000),
  SHUTDOWN_TIMEOUT_MS: intVar(10_000, 100, 3600_000),
});

/** Parse and check the environment; throws BackendConfigError listing every problem. */
export function loadBackendConfig(env: Record<string, string | undefined> = process.env): BackendConfig {
  const parsed = EnvSchema.refine((e) => e.INFLUX_MIN_RETRY_DELAY_MS <= e.INFLUX_MAX_RETRY_DELAY_MS, {
    path: ['INFLUX_MIN_RETRY_DELAY_MS'],
    message: 'must not be greater than INFLUX_MAX_RETRY_DELAY_MS',
  }).safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(env)');
      // zod's own messages for a missing var are generic; say it plainly.
      const msg = issue.code === 'invalid_type' && env[name] === undefined ? 'is required' : issue.message;
      return `${name} ${msg}`;
    });
    throw new BackendConfigError(problems);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    apiKey: e.API_KEY,
    influxUrl: e.INFLUX_URL,
    influxToken: e.INFLUX_TOKEN,
    influxOrg: e.INFLUX_ORG,
    influxBucket: e.INFLUX_BUCKET,
    ingestMode: e.INGEST_MODE,
    influxFlushIntervalMs: e.INFLUX_FLUSH_INTERVAL_MS,
    influxBatchSize: e.INFLUX_BATCH_SIZE,
    influxRetry: {
      maxRetries: e.INFLUX_MAX_RETRIES,
      maxRetryTimeMs: e.INFLUX_MAX_RETRY_TIME_MS,
      minRetryDelayMs: e.INFLUX_MIN_RETRY_DELAY_MS,
      maxRetryDelayMs: e.INFLUX_MAX_RETRY_DELAY_MS,
      maxBufferLines: e.INFLUX_MAX_BUFFER_LINES,
    },
    bodyLimit: e.BODY_LIMIT.text,
    bodyLimitBytes: e.BODY_LIMIT.bytes,
    sseToken: e.SSE_TOKEN,
    dataDir: e.DATA_DIR,
    backendVersion: e.BACKEND_VERSION ?? packageVersion(),
    skewWindowSec: e.SKEW_WINDOW_SEC,
    influxStartupTimeoutMs: e.INFLUX_STARTUP_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}
