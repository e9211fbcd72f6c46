/**
 * Which InfluxDB we talk to, and the write path it understands.
 *
 * Production runs InfluxDB 2.x and the client library posts to
 * `/api/v2/write?org=..&bucket=..&precision=..`. InfluxDB before 1.8 has no
 * v2 compatibility endpoint, only `/write?db=..&precision=..` (1.x spells the
 * precisions n/u/ms/s). WriteApi.path is a public property that the library
 * reads on every send (`transport.send(this.path, ...)` in 1.35's
 * dist/index.mjs), so re-pointing it is the smallest change and leaves
 * batching, retries and the retry buffer exactly as the seed has them.
 */
import http from 'node:http';
import https from 'node:https';
import { InfluxDB, type WriteApi, type WriteOptions } from '@influxdata/influxdb-client';
import { describeError, type LogSink } from './jsonLog';

export type WritePrecision = 'ns' | 'us' | 'ms' | 's';

export interface InfluxVersion {
  major: number;
  minor: number;
  patch: number;
  raw: string;
}

export interface InfluxTarget {
  url: string;
  /** X-Influxdb-Version from /ping, null when the header was absent. */
  version: string | null;
  /** 'v1' = post to /write?db=..; 'v2' = the library's own /api/v2/write path. */
  writeApi: 'v1' | 'v2';
}

/** '1.6.7~rc0', 'v2.7.11', '2.7.4' -> numbers; anything else -> null. */
export function parseInfluxVersion(header: string | null | undefined): InfluxVersion | null {
  if (!header) return null;
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(header.trim());
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), raw: header };
}

/**
 * 1.x below 1.8 lacks /api/v2/write. An unknown version is assumed to be
 * 2.x (what production runs and the library expects).
 */
export function needsV1Write(version: string | InfluxVersion | null | undefined): boolean {
  const v = typeof version === 'string' || version == null ? parseInfluxVersion(version) : version;
  return v !== null && v.major === 1 && v.minor < 8;
}

const V1_PRECISION: Record<WritePrecision, string> = { ns: 'n', us: 'u', ms: 'ms', s: 's' };

export function v1WritePath(db: string, precision: WritePrecision): string {
  return `/write?db=${encodeURIComponent(db)}&precision=${V1_PRECISION[precision]}`;
}

/** The path the library builds itself for 2.x (mirrors WriteApiImpl's constructor). */
export function v2WritePath(org: string, bucket: string, precision: WritePrecision): string {
  return `/api/v2/write?org=${encodeURIComponent(org)}&bucket=${encodeURIComponent(bucket)}&precision=${precision}`;
}

export class InfluxUnreachableError extends Error {
  constructor(url: string, timeoutMs: number, attempts: number, lastError: string) {
    super(`InfluxDB at ${url} did not answer GET /ping within ${timeoutMs} ms (${attempts} attempts; last error: ${lastError})`);
    this.name = 'InfluxUnreachableError';
  }
}

/**
 * One GET /ping; resolves to the version header, rejects on network error or
 * non-2xx. node:http rather than fetch(): fetch refuses the WHATWG "bad
 * ports" (6000, 6666, 10080...) that a proxy in front of InfluxDB may get.
 */
export function pingInflux(url: string, timeoutMs = 2000): Promise<string | null> {
  const get = url.startsWith('https:') ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(`${url}/ping`, { timeout: timeoutMs }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        reject(new Error(`GET /ping answered ${status}`));
        return;
      }
      const version = res.headers['x-influxdb-version'];
      resolve(typeof version === 'string' ? version : null);
    });
    req.on('timeout', () => req.destroy(new Error(`GET /ping timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export interface ResolveOptions {
  /** Give up after this long (start-up fails). */
  timeoutMs: number;
  log?: LogSink;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Ping until InfluxDB answers, with exponential back-off (250 ms doubling,
 * capped at 5 s) bounded by `timeoutMs`; then decide the write path.
 */
export async function resolveInfluxTarget(url: string, opts: ResolveOptions): Promise<InfluxTarget> {
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  const started = now();
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      const version = await pingInflux(url);
      return { url, version, writeApi: needsV1Write(version) ? 'v1' : 'v2' };
    } catch (err) {
      const elapsed = now() - started;
      const lastError = describeError(err);
      if (elapsed + delay > opts.timeoutMs) throw new InfluxUnreachableError(url, opts.timeoutMs, attempt, lastError);
      opts.log?.('influx_ping_failed', { url, attempt, error: lastError, retryInMs: delay });
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }
}

export interface WriteApiSettings {
  target: InfluxTarget;
  token: string;
  org: string;
  /** 2.x bucket, or 1.x database name. */
  bucket: string;
  precision: WritePrecision;
  writeOptions: Partial<WriteOptions>;
}

/** Re-point a WriteApi at the 1.x endpoint when the target needs it. Returns the path in use. */
export function adaptWriteApi(writeApi: WriteApi, target: InfluxTarget, bucket: string, precision: WritePrecision): string {
  if (target.writeApi === 'v1') writeApi.path = v1WritePath(bucket, precision);
  return writeApi.path;
}

/** A WriteApi for the target, with the library's defaults except `writeOptions`. */
export function createWriteApi(s: WriteApiSettings): WriteApi {
  // An empty token means "no Authorization header" in the library (1.x without auth).
  const influx = new InfluxDB({ url: s.target.url, token: s.token || undefined });
  const writeApi = influx.getWriteApi(s.org, s.bucket, s.precision, s.writeOptions);
  adaptWriteApi(writeApi, s.target, s.bucket, s.precision);
  return writeApi;
}
