/**
 * InfluxDB 1.x write statistics on the shared clock: `SHOW STATS` over
 * GET /query, sampled on an interval. The `write` module counts points the
 * engine accepted/failed, `httpd` the write requests the HTTP API served —
 * between them they show InfluxDB-side back-pressure (writeError, writeDrop,
 * writeTimeout, pointsWrittenFail, slow writeReqDurationNs).
 *
 * Beware: with `[monitor] store-enabled = true` (the 1.x default) influxd
 * writes its own statistics into `_internal` every 10 s and those points
 * count in the `write` module too; `shardByDatabase` separates them.
 *
 * InfluxDB 2.x has no SHOW STATS: scrape its /metrics with the Prometheus
 * scraper in resources.ts instead.
 */
import { nowMs } from './clock';
import { startIntervalSampler, type IntervalSampler } from './sampler';

/** `write` module counters (cumulative since influxd started). */
export interface InfluxWriteStats {
  pointReq: number;
  pointReqLocal: number;
  req: number;
  writeOk: number;
  writeError: number;
  writeDrop: number;
  writeTimeout: number;
  subWriteOk: number;
  subWriteDrop: number;
}

/** `httpd` module counters, summed over every bind address. */
export interface InfluxHttpdStats {
  req: number;
  reqActive: number;
  reqDurationNs: number;
  writeReq: number;
  writeReqActive: number;
  writeReqBytes: number;
  writeReqDurationNs: number;
  pointsWrittenOK: number;
  pointsWrittenFail: number;
  pointsWrittenDropped: number;
  clientError: number;
  serverError: number;
  authFail: number;
  queryReq: number;
  queryReqDurationNs: number;
}

export interface InfluxStatsSnapshot {
  write: InfluxWriteStats;
  httpd: InfluxHttpdStats;
  /** Shard write totals, summed over every shard. */
  shard: ShardWriteStats;
  /** The same per database (`telemetry`, `_internal`, …). */
  shardByDatabase: Record<string, ShardWriteStats>;
  /** Every numeric column of every module, summed over series of the same name (e.g. runtime.HeapAlloc). */
  modules: Record<string, Record<string, number>>;
}

export interface ShardWriteStats { writePointsOk: number; writePointsErr: number; writePointsDropped: number; writeReqErr: number }

const SHARD_KEYS: (keyof ShardWriteStats)[] = ['writePointsOk', 'writePointsErr', 'writePointsDropped', 'writeReqErr'];
const WRITE_KEYS: (keyof InfluxWriteStats)[] = ['pointReq', 'pointReqLocal', 'req', 'writeOk', 'writeError', 'writeDrop', 'writeTimeout', 'subWriteOk', 'subWriteDrop'];
const HTTPD_KEYS: (keyof InfluxHttpdStats)[] = ['req', 'reqActive', 'reqDurationNs', 'writeReq', 'writeReqActive', 'writeReqBytes', 'writeReqDurationNs', 'pointsWrittenOK', 'pointsWrittenFail', 'pointsWrittenDropped', 'clientError', 'serverError', 'authFail', 'queryReq', 'queryReqDurationNs'];

interface QuerySeries { name?: unknown; tags?: unknown; columns?: unknown; values?: unknown }

/** Parse the JSON of `GET /query?q=SHOW STATS` (InfluxDB 1.x). Throws on an error reply. */
export function parseShowStats(json: unknown): InfluxStatsSnapshot {
  const results = (json as { results?: unknown; error?: unknown })?.results;
  const topError = (json as { error?: unknown })?.error;
  if (typeof topError === 'string') throw new Error(`SHOW STATS failed: ${topError}`);
  if (!Array.isArray(results) || results.length === 0) throw new Error('SHOW STATS: no results');
  const r0 = results[0] as { error?: unknown; series?: unknown };
  if (typeof r0.error === 'string') throw new Error(`SHOW STATS failed: ${r0.error}`);
  const modules: Record<string, Record<string, number>> = {};
  const byDb: Record<string, Record<string, number>> = {};
  for (const s of (Array.isArray(r0.series) ? r0.series : []) as QuerySeries[]) {
    if (typeof s.name !== 'string' || !Array.isArray(s.columns) || !Array.isArray(s.values)) continue;
    const targets = [(modules[s.name] ??= {})];
    const db = (s.tags as { database?: unknown } | undefined)?.database;
    if (s.name === 'shard' && typeof db === 'string') targets.push((byDb[db] ??= {}));
    for (const row of s.values as unknown[]) {
      if (!Array.isArray(row)) continue;
      s.columns.forEach((col, i) => {
        const v = row[i];
        if (typeof col === 'string' && typeof v === 'number') for (const t of targets) t[col] = (t[col] ?? 0) + v;
      });
    }
  }
  const pick = <K extends string>(src: Record<string, number> | undefined, keys: K[]): Record<K, number> => {
    const out = {} as Record<K, number>;
    for (const k of keys) out[k] = src?.[k] ?? 0;
    return out;
  };
  const shardByDatabase: Record<string, ShardWriteStats> = {};
  for (const [db, cols] of Object.entries(byDb)) shardByDatabase[db] = pick(cols, SHARD_KEYS);
  return {
    write: pick(modules.write, WRITE_KEYS),
    httpd: pick(modules.httpd, HTTPD_KEYS),
    shard: pick(modules.shard, SHARD_KEYS),
    shardByDatabase,
    modules,
  };
}

/** What changed between two snapshots (counters), with the mean write-request duration. */
export interface InfluxStatsDelta {
  intervalMs: number;
  pointReq: number;
  writeOk: number;
  writeError: number;
  writeDrop: number;
  writeTimeout: number;
  httpWriteReq: number;
  httpPointsWrittenOK: number;
  httpPointsWrittenFail: number;
  httpPointsWrittenDropped: number;
  httpClientError: number;
  httpServerError: number;
  /** Mean duration of the write requests served in the interval (ms); null when none. */
  meanWriteReqMs: number | null;
  /** Write requests in progress at the later snapshot (a gauge). */
  writeReqActive: number;
  /** True when a counter went backwards: influxd restarted in between. */
  restarted: boolean;
}

export function diffShowStats(a: InfluxStatsSnapshot, b: InfluxStatsSnapshot, intervalMs: number): InfluxStatsDelta {
  const restarted = b.write.pointReq < a.write.pointReq || b.httpd.req < a.httpd.req;
  // After a restart the counters start from zero: the later value is the delta.
  const d = (x: number, y: number): number => (restarted ? y : y - x);
  const reqs = d(a.httpd.writeReq, b.httpd.writeReq);
  const dur = d(a.httpd.writeReqDurationNs, b.httpd.writeReqDurationNs);
  return {
    intervalMs,
    pointReq: d(a.write.pointReq, b.write.pointReq),
    writeOk: d(a.write.writeOk, b.write.writeOk),
    writeError: d(a.write.writeError, b.write.writeError),
    writeDrop: d(a.write.writeDrop, b.write.writeDrop),
    writeTimeout: d(a.write.writeTimeout, b.write.writeTimeout),
    httpWriteReq: reqs,
    httpPointsWrittenOK: d(a.httpd.pointsWrittenOK, b.httpd.pointsWrittenOK),
    httpPointsWrittenFail: d(a.httpd.pointsWrittenFail, b.httpd.pointsWrittenFail),
    httpPointsWrittenDropped: d(a.httpd.pointsWrittenDropped, b.httpd.pointsWrittenDropped),
    httpClientError: d(a.httpd.clientError, b.httpd.clientError),
    httpServerError: d(a.httpd.serverError, b.httpd.serverError),
    meanWriteReqMs: reqs > 0 ? dur / reqs / 1e6 : null,
    writeReqActive: b.httpd.writeReqActive,
    restarted,
  };
}

export interface InfluxStatsTarget {
  /** e.g. http://127.0.0.1:8086 (the direct URL, not through a fault proxy). */
  baseUrl: string;
  /** Sent as `Authorization: Token <token>`. */
  token?: string;
  timeoutMs?: number;
}

export async function fetchShowStats(t: InfluxStatsTarget): Promise<InfluxStatsSnapshot> {
  const url = new URL('/query', t.baseUrl);
  url.searchParams.set('q', 'SHOW STATS');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (t.token) headers.authorization = `Token ${t.token}`;
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(t.timeoutMs ?? 5000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`SHOW STATS: HTTP ${res.status} ${text.slice(0, 200)}`);
  return parseShowStats(JSON.parse(text));
}

export interface InfluxStatsSample {
  tMs: number;
  ok: boolean;
  error: string | null;
  snapshot: InfluxStatsSnapshot | null;
  /** Versus the previous successful sample (null for the first). */
  delta: InfluxStatsDelta | null;
}

export interface InfluxStatsSamplerOptions extends InfluxStatsTarget {
  intervalMs?: number;
  maxSamples?: number;
  /** Keep the full `modules` map in every sample (default false: the typed fields only). */
  keepModules?: boolean;
  onSample?: (s: InfluxStatsSample) => void;
  signal?: AbortSignal;
}

export function startInfluxStatsSampler(o: InfluxStatsSamplerOptions): IntervalSampler<InfluxStatsSample> {
  let prev: { tMs: number; snap: InfluxStatsSnapshot } | null = null;
  const intervalMs = o.intervalMs ?? 1000;
  return startIntervalSampler<InfluxStatsSample>({
    intervalMs,
    maxSamples: o.maxSamples ?? 100_000,
    onSample: o.onSample,
    signal: o.signal,
    sample: async () => {
      const tMs = nowMs();
      try {
        const snap = await fetchShowStats({ ...o, timeoutMs: o.timeoutMs ?? Math.min(intervalMs, 5000) });
        const delta: InfluxStatsDelta | null = prev ? diffShowStats(prev.snap, snap, tMs - prev.tMs) : null;
        prev = { tMs, snap };
        return { tMs, ok: true, error: null, snapshot: o.keepModules ? snap : { ...snap, modules: {} }, delta };
      } catch (err) {
        // InfluxDB unreachable is a finding, not a sampler failure.
        return { tMs, ok: false, error: err instanceof Error ? err.message : String(err), snapshot: null, delta: null };
      }
    },
  });
}
