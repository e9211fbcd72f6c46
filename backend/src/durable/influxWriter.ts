/**
 * A small InfluxDB line-protocol writer over fetch (undici), for the shipper.
 *
 * - 1.x before 1.8: POST /write?db=<db>&precision=ms
 * - 2.x (and 1.8+):  POST /api/v2/write?org=&bucket=&precision=ms,
 *   `Authorization: Token <t>` when a token is configured.
 * The API is chosen from GET /ping's `X-Influxdb-Version` (helpers shared
 * with legacy mode, ../influxTarget.ts), detected lazily and re-detected after
 * a 404, so the backend starts and keeps accepting while InfluxDB is down.
 *
 * Every failure is classified; the shipper decides what to do with it:
 *   network / timeout / throttled (429) / server (5xx) / auth (401, 403) /
 *   not_found (404: database or bucket missing) -> retry, forever, with back-off
 *   (auth and not_found are configuration problems: keeping the data in the
 *   log until someone fixes them beats throwing it away);
 *   too_large (413) and rejected (other 4xx) -> about the lines themselves: the
 *   shipper splits the batch to isolate the bad lines and records those.
 */
import { needsV1Write, pingInflux, v1WritePath, v2WritePath } from '../influxTarget';
import { describeError } from '../jsonLog';

export type FailureClass = 'network' | 'timeout' | 'throttled' | 'server' | 'auth' | 'not_found' | 'too_large' | 'rejected';
export const FAILURE_CLASSES: readonly FailureClass[] = ['network', 'timeout', 'throttled', 'server', 'auth', 'not_found', 'too_large', 'rejected'];

export type WriteOutcome =
  | { kind: 'ok'; status: number }
  | { kind: 'retry'; class: Exclude<FailureClass, 'too_large' | 'rejected'>; status?: number; retryAfterSec?: number; message: string }
  | { kind: 'permanent'; class: 'too_large' | 'rejected'; status: number; message: string };

export type InfluxApi = 'v1' | 'v2';

export interface InfluxWriterOptions {
  url: string;
  token?: string;
  org: string;
  /** 2.x bucket or 1.x database. */
  bucket: string;
  /** Force an API instead of asking /ping. */
  api?: InfluxApi;
  /** Per request (ping or write). */
  timeoutMs?: number;
}

/**
 * Retry-After: delta-seconds or an HTTP-date; null when absent or unparsable.
 * A date in the past gives 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | null {
  if (value == null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  if (/^\d+\.\d+$/.test(v)) return Number(v);
  const date = Date.parse(v);
  if (Number.isNaN(date)) return null;
  return Math.max(0, (date - nowMs) / 1000);
}

/** HTTP status -> outcome class (2xx is success and not classified). */
export function classifyStatus(status: number): FailureClass {
  if (status === 429) return 'throttled';
  if (status >= 500) return 'server';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 408) return 'timeout';
  if (status === 413) return 'too_large';
  return 'rejected';
}

export class InfluxWriter {
  private api: InfluxApi | null;
  private readonly forcedApi: InfluxApi | undefined;
  private readonly timeoutMs: number;
  /** Version header seen on the last successful /ping. */
  version: string | null = null;

  constructor(private readonly opts: InfluxWriterOptions) {
    this.forcedApi = opts.api;
    this.api = opts.api ?? null;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  get detectedApi(): InfluxApi | null {
    return this.api;
  }

  private writeUrl(api: InfluxApi): string {
    const path = api === 'v1' ? v1WritePath(this.opts.bucket, 'ms') : v2WritePath(this.opts.org, this.opts.bucket, 'ms');
    return `${this.opts.url}${path}`;
  }

  /** Write the lines (one request). Never throws. */
  async write(lines: readonly string[], signal?: AbortSignal): Promise<WriteOutcome> {
    if (this.api === null) {
      try {
        this.version = await pingInflux(this.opts.url, this.timeoutMs);
        this.api = needsV1Write(this.version) ? 'v1' : 'v2';
      } catch (err) {
        return { kind: 'retry', class: isTimeout(err) ? 'timeout' : 'network', message: `ping: ${describeError(err)}` };
      }
    }
    const api = this.api;
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (this.opts.token) headers.authorization = `Token ${this.opts.token}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    let text = '';
    try {
      res = await fetch(this.writeUrl(api), {
        method: 'POST',
        headers,
        body: lines.join('\n'),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await res.text();
    } catch (err) {
      return { kind: 'retry', class: isTimeout(err) ? 'timeout' : 'network', message: describeError(err) };
    }
    if (res.status >= 200 && res.status < 300) return { kind: 'ok', status: res.status };
    const cls = classifyStatus(res.status);
    const message = `HTTP ${res.status}: ${(res.headers.get('x-influxdb-error') ?? text).slice(0, 500)}`;
    if (cls === 'too_large' || cls === 'rejected') return { kind: 'permanent', class: cls, status: res.status, message };
    if (cls === 'not_found' && !this.forcedApi) this.api = null; // maybe another server now: ask /ping again
    const retryAfterSec = parseRetryAfter(res.headers.get('retry-after'));
    return { kind: 'retry', class: cls, status: res.status, message, ...(retryAfterSec !== null ? { retryAfterSec } : {}) };
  }
}

function isTimeout(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === 'TimeoutError' || (name === 'AbortError' && /timeout/i.test(describeError(err)));
}
