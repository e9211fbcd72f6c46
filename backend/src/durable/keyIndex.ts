/**
 * Index of recent store keys: refuses a second, DIFFERENT sample for a key
 * (vehicle_id + millisecond) that is already acknowledged, instead of letting
 * InfluxDB overwrite the first one (a silent collapse: one point per series
 * and timestamp). An identical resend (same stored fields) is acknowledged
 * again: storing it twice is a no-op, so the answer stays idempotent.
 *
 * Why a window is enough: a sample is accepted only within the skew window
 * (|server now − timestamp| ≤ W). Two samples with one key carry the same
 * timestamp, so the second can only be accepted while that timestamp is
 * within W of the server's clock. An entry whose time is more than W (plus a
 * margin) behind the clock can never match an acceptable sample again and is
 * evicted. Memory is therefore about (accept rate × 2W) entries, and capped
 * by `maxKeys`: beyond the cap the ingestor sheds load (503) rather than
 * acknowledge a sample it could no longer protect.
 *
 * Keys and field sets are taken from the line-protocol line the sample is
 * logged as (the exact bytes InfluxDB will get), so the index is rebuilt from
 * the write-ahead log on start with the same functions.
 *
 * Concurrency: an entry is reserved before the log append starts. A sample
 * for a reserved key waits for that append: if it failed (503), the key is
 * free again; if it succeeded, the usual identical/different rule applies.
 */

/** Series (measurement + escaped tags), fields and time of one line. */
export interface LineKey {
  /** Series + time: the store's identity of a point. */
  key: string;
  /** The field set, as written (floats formatted to round-trip). */
  fields: string;
  timeMs: number;
}

/**
 * Split `telemetry,vehicle_id=<escaped> <fields> <ms>`. Fields never contain
 * a space (float fields only); escaped tag values may (`\ `), so the two
 * separators are the LAST two spaces. Returns null for anything else.
 */
export function splitLine(line: string): LineKey | null {
  const p2 = line.lastIndexOf(' ');
  if (p2 <= 0) return null;
  const p1 = line.lastIndexOf(' ', p2 - 1);
  if (p1 <= 0) return null;
  const ms = line.slice(p2 + 1);
  if (!/^-?\d+$/.test(ms)) return null;
  const timeMs = Number(ms);
  if (!Number.isSafeInteger(timeMs)) return null;
  return { key: `${line.slice(0, p1)} ${ms}`, fields: line.slice(p1 + 1, p2), timeMs };
}

export type KeyCheck =
  /** Key free: reserved for this sample; call `settle(true|false)` after the append. */
  | { kind: 'reserved'; settle: (durable: boolean) => void }
  /** The same fields are already durable (or being made durable and now are). */
  | { kind: 'identical' }
  /** Another sample with different fields holds the key. */
  | { kind: 'conflict' }
  /** The index is at its bound (even after evicting expired keys). */
  | { kind: 'full' };

interface Entry {
  fields: string;
  timeMs: number;
  /** While the append is in flight: resolves true once durable, false if refused. */
  pending: Promise<boolean> | null;
}

export interface KeyIndexOptions {
  /** The contract's skew window (seconds). */
  windowSec: number;
  /** Extra time an entry is kept beyond the window (ms): clock reading, rounding. */
  marginMs?: number;
  maxKeys?: number;
  now?: () => number;
}

export interface KeyIndexStats {
  keys: number;
  maxKeys: number;
  conflicts: number;
  identical: number;
  evicted: number;
  full: number;
}

const BUCKET_MS = 1000;

export class RecentKeyIndex {
  private readonly entries = new Map<string, Entry>();
  /** Keys by second of their sample time (eviction order). */
  private readonly buckets = new Map<number, string[]>();
  private readonly retainMs: number;
  readonly maxKeys: number;
  private readonly now: () => number;
  private lastCutoffBucket = -Infinity;
  private readonly s = { conflicts: 0, identical: 0, evicted: 0, full: 0 };

  constructor(opts: KeyIndexOptions) {
    this.retainMs = opts.windowSec * 1000 + (opts.marginMs ?? 2000);
    this.maxKeys = opts.maxKeys ?? 262_144;
    this.now = opts.now ?? Date.now;
  }

  /** Entries older than this (sample time, ms) are gone; younger ones are kept. */
  cutoffMs(): number {
    return this.now() - this.retainMs;
  }

  /**
   * Record a line found in the log at start-up (already durable). Lines
   * outside the window are skipped. Returns whether it was indexed.
   */
  restore(line: string): boolean {
    const k = splitLine(line);
    if (!k || k.timeMs < this.cutoffMs()) return false;
    if (this.entries.has(k.key)) return false;
    if (this.entries.size >= this.maxKeys) {
      this.evictExpired(true);
      if (this.entries.size >= this.maxKeys) return false;
    }
    this.insert(k.key, { fields: k.fields, timeMs: k.timeMs, pending: null });
    return true;
  }

  /**
   * Decide for a new sample's line. Waits only when the key's first sample
   * is still being made durable.
   */
  async check(line: string): Promise<KeyCheck> {
    const k = splitLine(line);
    if (!k) return { kind: 'reserved', settle: () => {} }; // not a line we index (never happens for validated payloads)
    this.evictExpired(false);
    for (let guard = 0; guard < 1000; guard++) {
      const e = this.entries.get(k.key);
      if (!e) break;
      if (e.pending) {
        await e.pending;
        continue; // re-read: the entry is either settled or gone
      }
      if (e.fields === k.fields) {
        this.s.identical++;
        return { kind: 'identical' };
      }
      this.s.conflicts++;
      return { kind: 'conflict' };
    }
    if (this.entries.has(k.key)) {
      // Pathological churn on one key: refuse rather than guess.
      this.s.conflicts++;
      return { kind: 'conflict' };
    }
    if (this.entries.size >= this.maxKeys) {
      this.evictExpired(true);
      if (this.entries.size >= this.maxKeys) {
        this.s.full++;
        return { kind: 'full' };
      }
    }
    let settle!: (durable: boolean) => void;
    const pending = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    const entry: Entry = { fields: k.fields, timeMs: k.timeMs, pending };
    this.insert(k.key, entry);
    return {
      kind: 'reserved',
      settle: (durable: boolean) => {
        if (this.entries.get(k.key) === entry) {
          if (durable) entry.pending = null;
          else this.entries.delete(k.key); // its bucket slot is skipped at eviction
        }
        settle(durable);
      },
    };
  }

  private insert(key: string, e: Entry): void {
    this.entries.set(key, e);
    const b = Math.floor(e.timeMs / BUCKET_MS);
    const list = this.buckets.get(b);
    if (list) list.push(key);
    else this.buckets.set(b, [key]);
  }

  /** Drop every entry whose sample time fell out of the window (at most once a second unless forced). */
  evictExpired(force: boolean): void {
    const cutoffBucket = Math.floor(this.cutoffMs() / BUCKET_MS);
    if (!force && cutoffBucket <= this.lastCutoffBucket) return;
    this.lastCutoffBucket = cutoffBucket;
    const cutoff = this.cutoffMs();
    for (const [b, keys] of this.buckets) {
      if ((b + 1) * BUCKET_MS > cutoff) continue; // some of the bucket may still be in the window
      for (const key of keys) {
        const e = this.entries.get(key);
        if (e && Math.floor(e.timeMs / BUCKET_MS) === b) {
          this.entries.delete(key);
          this.s.evicted++;
        }
      }
      this.buckets.delete(b);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  stats(): KeyIndexStats {
    return { keys: this.entries.size, maxKeys: this.maxKeys, ...this.s };
  }
}
