/**
 * The InfluxDB probe: reads back the points of one run over InfluxQL
 * (`GET /query`), which InfluxDB 1.x serves natively and 2.x serves as its
 * v1-compatible API (with `Authorization: Token …` and a DBRP-mapped
 * database). It never goes through a Toxiproxy toxic: it reads InfluxDB
 * directly, so faults on the backend's path never blind the observer.
 */
import { FIELD_NAMES, MEASUREMENT, VEHICLE_TAG, pointKey, type PointFields, type StoredPoint } from '../models/payload';

export interface ProbeTarget {
  /** InfluxDB base URL (direct, not through a proxy). */
  url: string;
  /** 1.x database, or the DBRP-mapped database of a 2.x bucket. */
  db: string;
  /** 2.x token (sent as `Authorization: Token <token>`). */
  token?: string;
  /** Retention policy; the database default when absent. */
  rp?: string;
}

/** Which points belong to this run. */
export interface ProbeFilter {
  /** Only series whose vehicle_id starts with this (run-unique) prefix. */
  vehiclePrefix?: string;
  /**
   * Also points stored without a vehicle_id tag (an empty id: the client
   * drops empty tags). They carry no run prefix, so a caller must tell its
   * own from older ones (e.g. by a snapshot taken before the run).
   */
  includeUntagged?: boolean;
  /** Only the points stored without a vehicle_id tag. */
  untaggedOnly?: boolean;
}

export class ProbeError extends Error {}

const REGEX_SPECIALS = /[.*+?^${}()|[\]\\/]/g;

/** InfluxQL regex literal matching a vehicle_id prefix. */
export function prefixRegex(prefix: string): string {
  return `/^${prefix.replace(REGEX_SPECIALS, '\\$&')}/`;
}

export function selectQuery(filter: ProbeFilter, rp?: string): string {
  const from = rp ? `"${rp}"."${MEASUREMENT}"` : `"${MEASUREMENT}"`;
  const conds: string[] = [];
  if (filter.vehiclePrefix !== undefined) conds.push(`"${VEHICLE_TAG}" =~ ${prefixRegex(filter.vehiclePrefix)}`);
  // In InfluxQL an absent tag compares equal to the empty string.
  if (filter.untaggedOnly) conds.splice(0, conds.length, `"${VEHICLE_TAG}" = ''`);
  else if (filter.includeUntagged && conds.length) conds.push(`"${VEHICLE_TAG}" = ''`);
  const where = conds.length ? ` WHERE ${conds.join(' OR ')}` : '';
  // GROUP BY the tag so its value comes back once per series, exactly as stored.
  return `SELECT ${FIELD_NAMES.map((f) => `"${f}"`).join(', ')} FROM ${from}${where} GROUP BY "${VEHICLE_TAG}"`;
}

interface SeriesJson {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}
interface ResultJson {
  statement_id?: number;
  series?: SeriesJson[];
  error?: string;
}

/** Parse a (possibly chunked: one JSON document per line) /query response. */
export function parseQueryResponse(text: string): StoredPoint[] {
  const points: StoredPoint[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let doc: { results?: ResultJson[]; error?: string };
    try {
      doc = JSON.parse(line) as typeof doc;
    } catch {
      throw new ProbeError(`InfluxDB answered something that is not JSON: ${line.slice(0, 200)}`);
    }
    if (doc.error) throw new ProbeError(`InfluxDB query error: ${doc.error}`);
    for (const result of doc.results ?? []) {
      if (result.error) throw new ProbeError(`InfluxDB query error: ${result.error}`);
      for (const series of result.series ?? []) {
        const vehicleId = series.tags?.[VEHICLE_TAG] ?? '';
        const timeIdx = series.columns.indexOf('time');
        for (const row of series.values) {
          const fields: PointFields = {};
          FIELD_NAMES.forEach((name) => {
            const idx = series.columns.indexOf(name);
            const v = idx >= 0 ? row[idx] : null;
            if (typeof v === 'number') fields[name] = v;
          });
          points.push({ vehicleId, timeMs: Number(row[timeIdx]), fields });
        }
      }
    }
  }
  return points;
}

export class InfluxProbe {
  constructor(readonly target: ProbeTarget) {}

  private headers(): Record<string, string> {
    return this.target.token ? { Authorization: `Token ${this.target.token}` } : {};
  }

  /** Run one InfluxQL statement; returns the raw response text. */
  async query(q: string, signal?: AbortSignal): Promise<string> {
    const params = new URLSearchParams({ db: this.target.db, q, epoch: 'ms', chunked: 'true', chunk_size: '10000' });
    if (this.target.rp) params.set('rp', this.target.rp);
    let res: Response;
    try {
      res = await fetch(`${this.target.url}/query?${params}`, {
        headers: this.headers(),
        signal: signal ?? AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new ProbeError(`cannot reach InfluxDB at ${this.target.url}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403)
      throw new ProbeError(`InfluxDB refused the probe (${res.status}): check the token and the database's DBRP mapping`);
    if (!res.ok) throw new ProbeError(`InfluxDB /query answered ${res.status}: ${text.slice(0, 300)}`);
    return text;
  }

  /** Every point of the run, as stored now. */
  async readPoints(filter: ProbeFilter = {}, signal?: AbortSignal): Promise<StoredPoint[]> {
    return parseQueryResponse(await this.query(selectQuery(filter, this.target.rp), signal));
  }

  async countPoints(filter: ProbeFilter = {}): Promise<number> {
    return (await this.readPoints(filter)).length;
  }
}

/**
 * Longest pause a slow read may stretch the poll interval to. The stretch
 * keeps a large run's reads from becoming load, but the poll interval is
 * also the resolution of every "first seen" time: past a second it would
 * turn into "late" verdicts of its own.
 */
export const MAX_POLL_STRETCH_MS = 1_000;

/**
 * The pause before the next read: a successful read that took `tookMs`
 * stretches the interval to 4× its time (at most MAX_POLL_STRETCH_MS); a
 * failed one (InfluxDB stalled, down or timing out) does not stretch it: that
 * time was spent waiting, not loading the store, and the store must be read
 * again as soon as it answers (a stalled read of 8–10 s used to push the next
 * one 30–40 s away, so everything stored meanwhile looked late).
 */
export function nextPollDelayMs(intervalMs: number, tookMs: number, ok: boolean): number {
  if (!ok) return intervalMs;
  return Math.max(intervalMs, Math.min(tookMs * 4, MAX_POLL_STRETCH_MS));
}

/** A point with the first time the probe saw its key. */
export interface ObservedPoint extends StoredPoint {
  key: string;
  firstSeenAtMs: number;
}

/**
 * Polls the store while a run lasts (and until a drain bound after it),
 * recording for each key the first time it was seen and its latest values.
 * The interval stretches when a read is slow, so a large run does not turn
 * the probe into load.
 */
export class StorePoller {
  private readonly seen = new Map<string, ObservedPoint>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private inflight: Promise<void> | undefined;
  private lastError: Error | undefined;
  readonly errors: { atMs: number; message: string }[] = [];

  constructor(
    readonly probe: InfluxProbe,
    readonly filter: ProbeFilter,
    readonly intervalMs = 200,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = this.now();
      this.inflight = this.pollOnce().then((ok) => {
        this.schedule(nextPollDelayMs(this.intervalMs, this.now() - started, ok));
      });
    }, delay);
  }

  /** One read; merges what it finds. Errors are recorded, not thrown (false). */
  async pollOnce(): Promise<boolean> {
    const at = this.now();
    try {
      const points = await this.probe.readPoints(this.filter);
      for (const p of points) {
        const key = pointKey(p.vehicleId, p.timeMs);
        const prev = this.seen.get(key);
        this.seen.set(key, { ...p, key, firstSeenAtMs: prev?.firstSeenAtMs ?? at });
      }
      return true;
    } catch (err) {
      this.lastError = err as Error;
      this.errors.push({ atMs: at, message: (err as Error).message });
      return false;
    }
  }

  /**
   * Keep polling until `done(size)` holds or `drainMs` passes, then stop and
   * do one final read (the values of record).
   */
  async drain(drainMs: number, done: (size: number) => boolean = () => false): Promise<ObservedPoint[]> {
    const deadline = this.now() + drainMs;
    while (this.now() < deadline && !done(this.seen.size)) await new Promise((r) => setTimeout(r, Math.min(this.intervalMs, 100)));
    await this.stop();
    await this.pollOnce();
    return this.points();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inflight;
  }

  points(): ObservedPoint[] {
    return [...this.seen.values()];
  }

  get error(): Error | undefined {
    return this.lastError;
  }
}
