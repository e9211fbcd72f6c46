/**
 * Ships the write-ahead log to InfluxDB.
 *
 * One batch at a time, oldest first: read durable records from the cursor,
 * POST them, and only when InfluxDB answered 2xx for them advance the cursor
 * (which deletes shipped segments). Retriable failures (network, timeout,
 * 429, 5xx, 401/403, 404) are retried forever with exponential back-off and
 * jitter; a Retry-After (seconds or HTTP-date) replaces the back-off for that
 * wait (capped by `retryAfterMaxSec`). Permanent rejections (400, 413, other
 * 4xx) are narrowed down by splitting the batch in halves until the offending
 * lines are alone; those lines go to `rejected/rejected.lp` with the reason,
 * are counted, and do not block the log. Re-sending lines that InfluxDB had
 * already stored is harmless: same series + timestamp + fields is a no-op.
 */
import { appendFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, type LogSink } from '../jsonLog';
import { mutantRetryLines, mutantSwallows4xx, mutantTruncatesBeforeConfirm } from '../mutants';
import { FAILURE_CLASSES, type FailureClass, type WriteOutcome } from './influxWriter';
import type { WalBatch, WriteAheadLog } from './wal';

export interface LineWriter {
  write(lines: readonly string[], signal?: AbortSignal): Promise<WriteOutcome>;
}

export interface ShipperOptions {
  wal: WriteAheadLog;
  writer: LineWriter;
  /** Where permanently rejected lines are recorded (created on demand). */
  rejectedDir: string;
  batchMaxLines?: number;
  batchMaxBytes?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  retryAfterMaxSec?: number;
  /** The rejected file stops growing beyond this (lines still counted). */
  rejectedFileMaxBytes?: number;
  /** Safety poll when idle, in case a wake-up is missed. */
  idlePollMs?: number;
  log?: LogSink;
  random?: () => number;
  now?: () => number;
}

export interface ShipperStats {
  batchesShipped: number;
  linesShipped: number;
  failures: Record<FailureClass, number>;
  rejectedLines: number;
  rejectedByStatus: Record<string, number>;
  rejectedNotRecorded: number;
  consecutiveFailures: number;
  lastError: string | null;
  /** ms epoch until which the shipper waits before the next attempt (0 = not waiting). */
  retryAt: number;
  /** now - appendedAt of the oldest line in the last shipped batch (ms): its largest append-to-confirmed lag. */
  lastShipLagMs: number | null;
  lastShippedAt: number | null;
  running: boolean;
}

type ShipResult = { done: true } | { done: false; outcome: Extract<WriteOutcome, { kind: 'retry' }> };

export class Shipper {
  private readonly wal: WriteAheadLog;
  private readonly writer: LineWriter;
  private readonly rejectedFile: string;
  private readonly batchMaxLines: number;
  private readonly batchMaxBytes: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  private readonly retryAfterMaxSec: number;
  private readonly rejectedFileMaxBytes: number;
  private readonly idlePollMs: number;
  private readonly log: LogSink;
  private readonly random: () => number;
  private readonly now: () => number;

  private loop: Promise<void> | null = null;
  private stopping = false;
  private abort = new AbortController();
  private wake: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  private rejectedBytes: number | null = null;

  private readonly s: ShipperStats = {
    batchesShipped: 0,
    linesShipped: 0,
    failures: Object.fromEntries(FAILURE_CLASSES.map((c) => [c, 0])) as Record<FailureClass, number>,
    rejectedLines: 0,
    rejectedByStatus: {},
    rejectedNotRecorded: 0,
    consecutiveFailures: 0,
    lastError: null,
    retryAt: 0,
    lastShipLagMs: null,
    lastShippedAt: null,
    running: false,
  };

  constructor(opts: ShipperOptions) {
    this.wal = opts.wal;
    this.writer = opts.writer;
    this.rejectedFile = join(opts.rejectedDir, 'rejected.lp');
    this.batchMaxLines = opts.batchMaxLines ?? 5000;
    this.batchMaxBytes = opts.batchMaxBytes ?? 1024 * 1024;
    this.backoffMinMs = opts.backoffMinMs ?? 100;
    this.backoffMaxMs = opts.backoffMaxMs ?? 5000;
    this.retryAfterMaxSec = opts.retryAfterMaxSec ?? 300;
    this.rejectedFileMaxBytes = opts.rejectedFileMaxBytes ?? 64 * 1024 * 1024;
    this.idlePollMs = opts.idlePollMs ?? 1000;
    this.log = opts.log ?? (() => {});
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.loop) return;
    this.s.running = true;
    this.unsubscribe = this.wal.onDurable(() => this.poke());
    this.loop = this.run().finally(() => {
      this.s.running = false;
      this.unsubscribe?.();
      this.unsubscribe = null;
    });
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Sleep until poked, stopped, or `ms` elapsed. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        if (self.wake === done) self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    let backoff = this.backoffMinMs;
    while (!this.stopping) {
      let batch: WalBatch | null;
      try {
        batch = await this.wal.readBatch(this.batchMaxLines, this.batchMaxBytes);
      } catch (err) {
        this.log('ship_read_failed', { error: describeError(err) });
        await this.pause(this.backoffMaxMs);
        continue;
      }
      if (!batch) {
        if (this.wal.isClosed) break;
        await this.pause(this.idlePollMs);
        continue;
      }
      if (mutantTruncatesBeforeConfirm()) { await this.wal.ack(batch); await this.ship(batch.lines); continue; } // mutant zoo #14
      const result = await this.ship(mutantRetryLines(batch.lines, this.s.consecutiveFailures)); // mutant zoo #7 (off by default)
      if (result.done) {
        const t = this.now();
        this.s.batchesShipped++;
        this.s.linesShipped += batch.lines.length;
        this.s.lastShipLagMs = t - batch.firstAppendedAt;
        this.s.lastShippedAt = t;
        if (this.s.consecutiveFailures > 0) {
          this.log('ship_recovered', { afterFailures: this.s.consecutiveFailures });
        }
        this.s.consecutiveFailures = 0;
        this.s.retryAt = 0;
        backoff = this.backoffMinMs;
        await this.wal.ack(batch);
        continue;
      }
      this.wal.release(batch);
      if (this.stopping) break;
      const o = result.outcome;
      this.s.consecutiveFailures++;
      this.s.lastError = o.message;
      let waitMs: number;
      if (o.retryAfterSec !== undefined) {
        waitMs = Math.max(this.backoffMinMs, Math.min(o.retryAfterSec, this.retryAfterMaxSec) * 1000);
      } else {
        // Full back-off with +-20 % jitter.
        waitMs = backoff * (0.8 + 0.4 * this.random());
        backoff = Math.min(backoff * 2, this.backoffMaxMs);
      }
      this.s.retryAt = this.now() + waitMs;
      if (this.s.consecutiveFailures === 1 || this.s.consecutiveFailures % 10 === 0) {
        this.log('ship_retry', {
          class: o.class,
          status: o.status,
          error: o.message,
          attempt: this.s.consecutiveFailures,
          waitMs: Math.round(waitMs),
          lines: batch.lines.length,
        });
      }
      await this.sleepUnlessStopping(waitMs);
    }
  }

  private sleepUnlessStopping(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.stopping) return resolve();
      const t = setTimeout(finish, ms);
      const onAbort = () => finish();
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
      const signal = this.abort.signal;
      function finish() {
        clearTimeout(t);
        signal.removeEventListener('abort', onAbort);
        resolve();
      }
    });
  }

  /** Send lines; on a permanent rejection split them until the bad ones are alone. */
  private async ship(lines: readonly string[]): Promise<ShipResult> {
    const outcome = await this.writer.write(lines, this.abort.signal);
    if (outcome.kind === 'ok' || mutantSwallows4xx(outcome)) return { done: true }; // mutant zoo #8 (off by default)
    this.s.failures[outcome.class]++;
    if (outcome.kind === 'retry') return { done: false, outcome };
    if (lines.length > 1) {
      const mid = Math.ceil(lines.length / 2);
      const a = await this.ship(lines.slice(0, mid));
      if (!a.done) return a;
      return this.ship(lines.slice(mid));
    }
    await this.recordRejected(lines, outcome.status, outcome.message);
    return { done: true };
  }

  private async recordRejected(lines: readonly string[], status: number, message: string): Promise<void> {
    this.s.rejectedLines += lines.length;
    this.s.rejectedByStatus[String(status)] = (this.s.rejectedByStatus[String(status)] ?? 0) + lines.length;
    this.log('ship_line_rejected', { status, error: message, line: lines[0]?.slice(0, 300) });
    const text = `# ${new Date(this.now()).toISOString()} status=${status} ${message.replace(/\s+/g, ' ')}\n${lines.join('\n')}\n`;
    try {
      if (this.rejectedBytes === null) {
        await mkdir(join(this.rejectedFile, '..'), { recursive: true });
        this.rejectedBytes = await stat(this.rejectedFile).then((s) => s.size, () => 0);
      }
      if (this.rejectedBytes + text.length > this.rejectedFileMaxBytes) {
        this.s.rejectedNotRecorded += lines.length;
        return;
      }
      await appendFile(this.rejectedFile, text, { flush: true });
      this.rejectedBytes += Buffer.byteLength(text);
    } catch (err) {
      this.s.rejectedNotRecorded += lines.length;
      this.log('ship_rejected_record_failed', { error: describeError(err) });
    }
  }

  /**
   * Keep shipping until the log is empty or `timeoutMs` passed, then stop
   * (an in-flight request is aborted: its batch stays in the log).
   * Returns true when the log was drained.
   */
  async drainAndStop(timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    let drained = false;
    if (this.loop) {
      for (let guard = 0; guard < 1_000_000; guard++) {
        if (this.wal.stats().unshippedSamples === 0) {
          drained = true;
          break;
        }
        const left = deadline - this.now();
        if (left <= 0) break;
        this.poke();
        await new Promise((r) => setTimeout(r, Math.min(20, left)));
      }
    } else {
      drained = this.wal.stats().unshippedSamples === 0;
    }
    await this.stop();
    return drained;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort(new Error('shipper stopping'));
    this.poke();
    await this.loop;
    this.loop = null;
  }

  stats(): ShipperStats {
    return { ...this.s, failures: { ...this.s.failures }, rejectedByStatus: { ...this.s.rejectedByStatus } };
  }
}
