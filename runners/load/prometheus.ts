/**
 * Prometheus text exposition format (version 0.0.4) → `name{labels}` → value,
 * and a scraper that samples an endpoint on the shared clock. The backend may
 * expose e.g. `nodejs_eventloop_delay_seconds` or InfluxDB write-failure
 * counters; InfluxDB 2.x exposes its own write statistics this way (it has no
 * SHOW STATS).
 */
import { nowMs } from './clock';
import { startIntervalSampler, type IntervalSampler } from './sampler';

/** Canonical key: `name` or `name{a="1",b="x"}` with labels sorted by name. */
export function metricKey(name: string, labels: Record<string, string> = {}): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return name;
  return `${name}{${names.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parse one sample line; null for comments, blank or malformed lines. */
export function parseSampleLine(line: string): ParsedSample | null {
  const s = line.trim();
  if (s === '' || s.startsWith('#')) return null;
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(s);
  if (!m) return null;
  const name = m[1]!;
  let i = name.length;
  const labels: Record<string, string> = {};
  if (s[i] === '{') {
    i++;
    for (;;) {
      while (s[i] === ' ' || s[i] === ',') i++;
      if (s[i] === '}') { i++; break; }
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(s.slice(i));
      if (!lm) return null;
      i += lm[0].length;
      let v = '';
      for (;;) {
        const c = s[i];
        if (c === undefined) return null;
        if (c === '\\') {
          const n = s[i + 1];
          v += n === 'n' ? '\n' : n ?? '';
          i += 2;
          continue;
        }
        if (c === '"') { i++; break; }
        v += c;
        i++;
      }
      labels[lm[1]!] = v;
    }
  }
  const rest = s.slice(i).trim().split(/\s+/);
  const value = parseValue(rest[0]);
  if (value === null) return null;
  return { name, labels, value };
}

function parseValue(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  if (v === '+Inf' || v === 'Inf') return Number.POSITIVE_INFINITY;
  if (v === '-Inf') return Number.NEGATIVE_INFINITY;
  if (v === 'NaN') return Number.NaN;
  const n = Number(v);
  return Number.isNaN(n) ? null : n;
}

/** Whole exposition → Map of canonical key → value (a later duplicate wins). */
export function parsePrometheusText(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    const p = parseSampleLine(line);
    if (p) out.set(metricKey(p.name, p.labels), p.value);
  }
  return out;
}

/** Sum of every series of `name` whose labels include `where` (undefined when none). */
export function sumMetric(metrics: ReadonlyMap<string, number> | Record<string, number>, name: string, where: Record<string, string> = {}): number | undefined {
  const entries = metrics instanceof Map ? metrics.entries() : Object.entries(metrics);
  const need = Object.entries(where).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  let sum: number | undefined;
  for (const [key, value] of entries) {
    if (key !== name && !key.startsWith(name + '{')) continue;
    if (need.some((n) => !key.includes(`{${n}`) && !key.includes(`,${n}`))) continue;
    sum = (sum ?? 0) + value;
  }
  return sum;
}

export interface MetricsSample {
  tMs: number;
  ok: boolean;
  error: string | null;
  /** Kept series (see `keep`), canonical key → value. */
  metrics: Record<string, number>;
}

export interface MetricsScraperOptions {
  url: string;
  intervalMs?: number;
  headers?: Record<string, string>;
  /** Per-scrape timeout (default min(intervalMs, 5000)). */
  timeoutMs?: number;
  /** Keep only series whose key passes (default: all). A soak should keep a few. */
  keep?: (key: string) => boolean;
  maxSamples?: number;
  onSample?: (s: MetricsSample) => void;
  signal?: AbortSignal;
}

export async function fetchMetrics(url: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<Map<string, number>> {
  const res = await fetch(url, { headers: { accept: 'text/plain', ...headers }, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return parsePrometheusText(text);
}

export function startMetricsScraper(o: MetricsScraperOptions): IntervalSampler<MetricsSample> {
  const intervalMs = o.intervalMs ?? 1000;
  const timeoutMs = o.timeoutMs ?? Math.min(intervalMs, 5000);
  return startIntervalSampler<MetricsSample>({
    intervalMs,
    maxSamples: o.maxSamples ?? 3600,
    onSample: o.onSample,
    signal: o.signal,
    sample: async () => {
      const tMs = nowMs();
      try {
        const m = await fetchMetrics(o.url, o.headers, timeoutMs);
        const metrics: Record<string, number> = {};
        for (const [k, v] of m) if (!o.keep || o.keep(k)) metrics[k] = v;
        return { tMs, ok: true, error: null, metrics };
      } catch (err) {
        // A failed scrape is data too (the backend may be down): record it.
        return { tMs, ok: false, error: err instanceof Error ? err.message : String(err), metrics: {} };
      }
    },
  });
}
