/**
 * Write-ahead log with group commit.
 *
 * Layout (all in `dir`):
 *   0000000001.log, 0000000002.log, ...   segment files, appended in order
 *   cursor                                 "<segmentId> <offset> <crc32>": every
 *                                          record before it was confirmed by InfluxDB
 *
 * A segment starts with the 8-byte magic `TPWAL001`, then records:
 *
 *   u32 LE  payloadLength
 *   u32 LE  crc32(lengthBytes ++ payload)
 *   payload = f64 LE appendedAtMs ++ UTF-8 line-protocol line
 *
 * Durability: append() only resolves after the record's bytes were written
 * and fdatasync'ed. Appends that arrive while a sync is in flight (or within
 * `commitDelayMs`) share the next write + fdatasync (group commit). A new
 * segment is fsynced together with its directory before any record in it is
 * acknowledged.
 *
 * Recovery (open): every segment is scanned; the first record whose length or
 * CRC does not check out ends the segment and the file is truncated there (a
 * torn tail after SIGKILL or power loss: those bytes were never acknowledged).
 * Nothing is ever shipped from unverified bytes. Appends then go to a fresh
 * segment.
 *
 * Truncation: ack(batch) is called by the shipper only after InfluxDB
 * confirmed the batch (204); it advances the cursor and deletes segments that
 * are entirely behind it. A lost or stale cursor only means records are
 * shipped again, which is harmless because writes are idempotent.
 *
 * Capacity: unshipped samples and bytes (pending + on disk) are bounded;
 * append() answers `full` beyond either bound instead of dropping anything.
 */
import { closeSync, constants as fsConstants, fsyncSync, openSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describeError, type LogSink } from '../jsonLog';
import { mutantWalReplayBuffer } from '../mutants';

export const SEGMENT_MAGIC = Buffer.from('TPWAL001', 'latin1');
export const RECORD_HEADER_BYTES = 8;
const TIME_BYTES = 8;
/** Larger records are treated as corruption (a line is a few hundred bytes). */
export const MAX_RECORD_PAYLOAD = 1024 * 1024;
const SEGMENT_RE = /^(\d{10})\.log$/;

export interface WalOptions {
  dir: string;
  /** Start a new segment once the active one is at least this large. */
  segmentMaxBytes?: number;
  /** Bound on unshipped record bytes (pending + on disk). */
  maxBytes?: number;
  /** Bound on unshipped samples (pending + on disk). */
  maxSamples?: number;
  /**
   * Group commit: how long the first append of a batch may wait for company
   * before the write + fdatasync starts (0 = next turn of the event loop).
   * Appends arriving while a sync is in flight always wait for the next one.
   */
  commitDelayMs?: number;
  /** Start the sync at once when this many appends are pending. */
  commitMaxBatch?: number;
  /**
   * Bound on appends waiting for a sync (memory: each holds its record and a
   * promise). Beyond it append() answers `busy` (the disk cannot keep up).
   */
  maxPending?: number;
  /**
   * Zero-fill the active segment this far ahead of the write position (0 =
   * off). fdatasync of an append that grows the file must commit file-system
   * metadata (size, allocation: an ext4 journal commit, shared with every
   * other process syncing on that disk); overwriting blocks that already
   * exist flushes data only. Same trick as PostgreSQL's pre-zeroed WAL.
   */
  preallocateBytes?: number;
  /**
   * 'datasync' (default): write, then fdatasync. 'dsync': the segment is
   * opened with O_DSYNC, so the write itself returns once the data is durable
   * (one thread-pool round trip instead of two). 'fsync': write, then fsync.
   * 'none' exists for benchmarks only: NOT durable.
   */
  syncMode?: 'datasync' | 'dsync' | 'fsync' | 'none';
  log?: LogSink;
  now?: () => number;
  /**
   * The shipping cursor is written at most this often (ms); in between, a
   * crash only means re-shipping what was confirmed since (idempotent).
   */
  cursorPersistMs?: number;
  /** Test hook: called before each sync; may throw to simulate an I/O error. */
  beforeSync?: () => void | Promise<void>;
  /**
   * Keep a fully shipped segment until its newest record is this old (ms;
   * 0 = delete at once). open() hands the records of kept segments to its
   * visitor too, so the recent-key index (keyIndex.ts) is rebuilt from the
   * samples acknowledged in that time, shipped or not.
   */
  retainShippedMs?: number;
}

export type AppendResult =
  | { ok: true }
  | { ok: false; reason: 'full' | 'busy' | 'closed' | 'io'; message: string };

export interface WalPosition {
  segmentId: number;
  offset: number;
}

export interface WalBatch {
  lines: string[];
  /** Bytes these records take in the log. */
  bytes: number;
  start: WalPosition;
  end: WalPosition;
  firstAppendedAt: number;
  lastAppendedAt: number;
}

export interface RecoveryReport {
  segments: number;
  /** Records behind the cursor (still to ship). */
  unshippedSamples: number;
  unshippedBytes: number;
  /** Bytes cut off torn or corrupt segment tails. */
  truncatedBytes: number;
  truncatedSegments: number;
  durationMs: number;
}

export interface WalStats {
  appended: number;
  syncs: number;
  syncedRecords: number;
  rejectedFull: number;
  rejectedBusy: number;
  ioErrors: number;
  unshippedSamples: number;
  unshippedBytes: number;
  diskBytes: number;
  segments: number;
  oldestUnshippedAt: number | null;
  corruptRecords: number;
}

interface Segment {
  id: number;
  path: string;
  /** Verified / synced bytes (a reader never goes past this). */
  size: number;
  sealed: boolean;
  /** Append time of its newest record (0 = none): shipped segments are kept until it is retainShippedMs old. */
  lastAppendedAt: number;
}

interface Pending {
  record: Buffer;
  appendedAt: number;
  resolve: (r: AppendResult) => void;
}

export function segmentName(id: number): string {
  return `${String(id).padStart(10, '0')}.log`;
}

export function encodeRecord(line: string, appendedAt: number): Buffer {
  const lineBytes = Buffer.byteLength(line, 'utf8');
  const payloadLen = TIME_BYTES + lineBytes;
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payloadLen);
  buf.writeUInt32LE(payloadLen, 0);
  buf.writeDoubleLE(appendedAt, RECORD_HEADER_BYTES);
  buf.write(line, RECORD_HEADER_BYTES + TIME_BYTES, 'utf8');
  buf.writeUInt32LE(recordCrc(buf, 0, payloadLen), 4);
  return buf;
}

function recordCrc(buf: Buffer, at: number, payloadLen: number): number {
  const lenCrc = crc32(buf.subarray(at, at + 4));
  return crc32(buf.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + payloadLen), lenCrc);
}

export interface DecodedRecord {
  line: string;
  appendedAt: number;
  /** Total bytes of the record (header included). */
  size: number;
}

/**
 * Decode the record at `at`. 'short' = the buffer ends inside the record,
 * 'bad' = length or CRC wrong (corrupt or torn).
 */
export function decodeRecord(buf: Buffer, at: number): DecodedRecord | 'short' | 'bad' {
  if (at + RECORD_HEADER_BYTES > buf.length) return 'short';
  const payloadLen = buf.readUInt32LE(at);
  if (payloadLen < TIME_BYTES || payloadLen > MAX_RECORD_PAYLOAD) return 'bad';
  const size = RECORD_HEADER_BYTES + payloadLen;
  if (at + size > buf.length) return 'short';
  if (recordCrc(buf, at, payloadLen) !== buf.readUInt32LE(at + 4)) return 'bad';
  const appendedAt = buf.readDoubleLE(at + RECORD_HEADER_BYTES);
  const line = buf.toString('utf8', at + RECORD_HEADER_BYTES + TIME_BYTES, at + size);
  return { line, appendedAt, size };
}

/** Fixed width, so an in-place overwrite never leaves old bytes behind. */
const CURSOR_BYTES = 64;

function encodeCursor(p: WalPosition): Buffer {
  const body = `${p.segmentId} ${p.offset}`;
  return Buffer.from(`${body} ${crc32(body)}`.padEnd(CURSOR_BYTES - 1, ' ') + '\n', 'latin1');
}

function decodeCursor(text: string): WalPosition | null {
  const m = /^(\d+) (\d+) (\d+)$/.exec(text.trim());
  if (!m) return null;
  const body = `${m[1]} ${m[2]}`;
  if (crc32(body) !== Number(m[3])) return null;
  return { segmentId: Number(m[1]), offset: Number(m[2]) };
}

function fsyncDir(dir: string): void {
  // Directory fsync makes a created/renamed/deleted entry durable.
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class WriteAheadLog {
  readonly dir: string;
  private readonly segmentMaxBytes: number;
  readonly maxBytes: number;
  readonly maxSamples: number;
  private readonly commitDelayMs: number;
  private readonly commitMaxBatch: number;
  private readonly maxPending: number;
  private readonly syncMode: 'datasync' | 'dsync' | 'fsync' | 'none';
  private readonly log: LogSink;
  private readonly now: () => number;
  private readonly beforeSync?: () => void | Promise<void>;
  private readonly cursorPersistMs: number;
  private cursorFh: FileHandle | null = null;
  private cursorWriting: Promise<void> = Promise.resolve();
  private cursorTimer: NodeJS.Timeout | null = null;
  private lastCursorWrite = 0;
  private cursorClosed = false;

  private segments: Segment[] = [];
  /** Ids only grow (an id at or below the cursor's would count as shipped). */
  private nextSegmentId = 1;
  private active: Segment | null = null;
  private activeFh: FileHandle | null = null;
  /** Bytes written to the active segment (synced or not). */
  private activeWritten = 0;
  /** End of the zero-filled region of the active segment. */
  private activeAllocated = 0;
  private readonly preallocateBytes: number;
  private zeros: Buffer | null = null;
  private readonly retainShippedMs: number;

  private pending: Pending[] = [];
  private pendingBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushImmediate: NodeJS.Immediate | null = null;
  private flushing: Promise<void> | null = null;

  /** Everything before this was confirmed by InfluxDB. */
  private cursor: WalPosition = { segmentId: 0, offset: SEGMENT_MAGIC.length };
  private readerFh: { id: number; fh: FileHandle } | null = null;
  private inFlight: WalBatch | null = null;

  private closed = false;
  private opened = false;
  private listeners = new Set<() => void>();

  private readonly s = {
    appended: 0,
    syncs: 0,
    syncedRecords: 0,
    rejectedFull: 0,
    rejectedBusy: 0,
    ioErrors: 0,
    unshippedSamples: 0,
    unshippedBytes: 0,
    corruptRecords: 0,
  };
  private oldestUnshippedAt: number | null = null;

  constructor(opts: WalOptions) {
    this.dir = opts.dir;
    this.segmentMaxBytes = opts.segmentMaxBytes ?? 16 * 1024 * 1024;
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.maxSamples = opts.maxSamples ?? 1_000_000;
    this.commitDelayMs = opts.commitDelayMs ?? 0;
    this.commitMaxBatch = opts.commitMaxBatch ?? 4096;
    this.maxPending = opts.maxPending ?? 65_536;
    this.syncMode = opts.syncMode ?? 'datasync';
    this.log = opts.log ?? (() => {});
    this.now = opts.now ?? Date.now;
    this.beforeSync = opts.beforeSync;
    this.cursorPersistMs = opts.cursorPersistMs ?? 200;
    this.preallocateBytes = opts.preallocateBytes ?? 1024 * 1024;
    this.retainShippedMs = opts.retainShippedMs ?? 0;
  }

  /**
   * Recover what the directory holds and open a fresh segment for appends.
   * `visit` sees every verified record still on disk, oldest first: the
   * unshipped ones and those of shipped segments kept by retainShippedMs.
   */
  async open(visit?: (line: string, appendedAt: number) => void): Promise<RecoveryReport> {
    if (this.opened) throw new Error('WAL already open');
    const t0 = performance.now();
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    for (const n of await readdir(this.dir)) {
      if (n.endsWith('.tmp')) await rm(join(this.dir, n), { force: true });
    }
    const cursor = await this.readCursor();
    let truncatedBytes = 0;
    let truncatedSegments = 0;
    let firstUnshippedAt: number | null = null;

    for (const name of names) {
      const id = Number(SEGMENT_RE.exec(name)![1]);
      const path = join(this.dir, name);
      const shipped = cursor !== null && id < cursor.segmentId;
      if (shipped && this.retainShippedMs <= 0) {
        // Shipped already; its deletion was interrupted.
        await rm(path, { force: true });
        continue;
      }
      let lastAppendedAt = 0;
      const records: Array<[line: string, appendedAt: number, unshipped: boolean]> = [];
      const buf = mutantWalReplayBuffer(await readFile(path), decodeRecord, SEGMENT_MAGIC.length); // mutant zoo #15 (off by default)
      let end: number;
      let unshippedFrom: number;
      if (buf.length < SEGMENT_MAGIC.length || !buf.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) {
        // Created but its header never made it to disk (or not ours): no records.
        end = 0;
        unshippedFrom = 0;
      } else {
        end = SEGMENT_MAGIC.length;
        unshippedFrom = shipped ? Infinity : cursor && id === cursor.segmentId ? cursor.offset : SEGMENT_MAGIC.length;
        for (;;) {
          const rec = decodeRecord(buf, end);
          if (typeof rec === 'string') break;
          lastAppendedAt = Math.max(lastAppendedAt, rec.appendedAt);
          if (visit) records.push([rec.line, rec.appendedAt, end >= unshippedFrom]);
          if (end >= unshippedFrom) {
            this.s.unshippedSamples++;
            this.s.unshippedBytes += rec.size;
            if (firstUnshippedAt === null) firstUnshippedAt = rec.appendedAt;
          }
          end += rec.size;
        }
        if (!shipped && unshippedFrom > end) {
          // The cursor points past the verified data (should not happen): trust the data.
          this.log('wal_cursor_beyond_data', { segment: name, cursor: unshippedFrom, end });
        }
      }
      if (end < buf.length) {
        // Zero-filled space (preallocation) is not a torn tail; anything else is.
        let last = buf.length - 1;
        while (last >= end && buf[last] === 0) last--;
        const torn = last + 1 - end;
        if (torn > 0) {
          truncatedBytes += torn;
          truncatedSegments++;
          this.log('wal_torn_tail_truncated', { segment: name, keptBytes: end, droppedBytes: torn });
        }
        const fh = await open(path, 'r+');
        try {
          await fh.truncate(end);
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
      if (end === 0 || (shipped && lastAppendedAt < this.now() - this.retainShippedMs)) {
        await rm(path, { force: true });
        continue;
      }
      this.segments.push({ id, path, size: end, sealed: true, lastAppendedAt });
      // Shipped records only while the segment is within the retention.
      const recent = this.retainShippedMs > 0 && lastAppendedAt >= this.now() - this.retainShippedMs;
      for (const [line, at, unshipped] of records) if (unshipped || recent) visit!(line, at);
    }

    if (cursor && this.segments.some((s) => s.id === cursor.segmentId)) {
      const seg = this.segments.find((s) => s.id === cursor.segmentId)!;
      this.cursor = { segmentId: cursor.segmentId, offset: Math.min(cursor.offset, seg.size) };
    } else {
      // Kept shipped segments sit below the cursor's segment: never read them again.
      const first = this.segments.find((s) => !cursor || s.id > cursor.segmentId);
      this.cursor = { segmentId: first ? first.id : (cursor?.segmentId ?? 0), offset: SEGMENT_MAGIC.length };
    }
    this.oldestUnshippedAt = firstUnshippedAt;
    // Never reuse an id: one at or below the cursor's would count as shipped.
    let lastId = cursor?.segmentId ?? 0;
    for (const name of names) lastId = Math.max(lastId, Number(SEGMENT_RE.exec(name)![1]));
    this.nextSegmentId = lastId + 1;
    await this.startSegment();
    fsyncDir(this.dir);
    this.opened = true;
    await this.dropShippedSegments();

    const report: RecoveryReport = {
      segments: this.segments.length,
      unshippedSamples: this.s.unshippedSamples,
      unshippedBytes: this.s.unshippedBytes,
      truncatedBytes,
      truncatedSegments,
      durationMs: performance.now() - t0,
    };
    this.log('wal_recovered', { ...report });
    return report;
  }

  private async readCursor(): Promise<WalPosition | null> {
    try {
      const text = await readFile(join(this.dir, 'cursor'), 'utf8');
      const c = decodeCursor(text);
      if (!c) this.log('wal_cursor_unreadable', { text: text.slice(0, 100) });
      return c;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log('wal_cursor_unreadable', { error: describeError(err) });
      return null;
    }
  }

  private async startSegment(): Promise<void> {
    const id = this.nextSegmentId++;
    const path = join(this.dir, segmentName(id));
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | (this.syncMode === 'dsync' ? fsConstants.O_DSYNC : 0);
    const fh = await open(path, flags, 0o644);
    try {
      await writeFully(fh, SEGMENT_MAGIC, 0);
      if (this.syncMode !== 'none') await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
    const seg: Segment = { id, path, size: SEGMENT_MAGIC.length, sealed: false, lastAppendedAt: 0 };
    this.segments.push(seg);
    this.active = seg;
    this.activeFh = fh;
    this.activeWritten = SEGMENT_MAGIC.length;
    this.activeAllocated = SEGMENT_MAGIC.length;
  }

  /** Seal the active segment and start the next one (directory synced). */
  private async rotate(): Promise<void> {
    const old = this.active!;
    const fh = this.activeFh!;
    old.sealed = true;
    this.active = null;
    this.activeFh = null;
    await fh.close().catch((err) => this.log('wal_close_failed', { error: describeError(err) }));
    await this.startSegment();
    if (this.syncMode !== 'none') fsyncDir(this.dir);
  }

  /**
   * Append one line. Resolves once it is durable ({ok:true}), or with the
   * reason it was not stored: `full` (capacity), `closed`, `io` (write/sync failed).
   */
  append(line: string): Promise<AppendResult> {
    if (this.closed || !this.opened) return Promise.resolve({ ok: false, reason: 'closed', message: 'Log closed' });
    if (this.pending.length >= this.maxPending) {
      this.s.rejectedBusy++;
      return Promise.resolve({ ok: false, reason: 'busy', message: 'Write-ahead log busy' });
    }
    const appendedAt = this.now();
    const record = encodeRecord(line, appendedAt);
    if (this.s.unshippedSamples + 1 > this.maxSamples || this.s.unshippedBytes + record.length > this.maxBytes) {
      this.s.rejectedFull++;
      return Promise.resolve({ ok: false, reason: 'full', message: 'Write-ahead log full' });
    }
    if (this.s.unshippedSamples === 0) this.oldestUnshippedAt = appendedAt;
    this.s.unshippedSamples++;
    this.s.unshippedBytes += record.length;
    this.s.appended++;
    return new Promise<AppendResult>((resolve) => {
      this.pending.push({ record, appendedAt, resolve });
      this.pendingBytes += record.length;
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing || this.flushImmediate) return;
    if (this.pending.length >= this.commitMaxBatch || this.commitDelayMs <= 0) {
      if (this.flushTimer) {
        clearTimeout(this.flushTimer);
        this.flushTimer = null;
      }
      this.flushImmediate = setImmediate(() => {
        this.flushImmediate = null;
        this.startFlush();
      });
      return;
    }
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.startFlush();
      }, this.commitDelayMs);
    }
  }

  private startFlush(): void {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = this.flushBatch().finally(() => {
      this.flushing = null;
      if (this.pending.length > 0) {
        // Whatever queued up during the sync goes out now: the bounded wait.
        this.flushImmediate = setImmediate(() => {
          this.flushImmediate = null;
          this.startFlush();
        });
      }
    });
  }

  private async flushBatch(): Promise<void> {
    const batch = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      if (!this.active) {
        await this.startSegment();
        if (this.syncMode !== 'none') fsyncDir(this.dir);
      } else if (this.activeWritten >= this.segmentMaxBytes) {
        await this.rotate();
      }
      const seg = this.active!;
      const fh = this.activeFh!;
      const buf = batch.length === 1 ? batch[0]!.record : Buffer.concat(batch.map((p) => p.record), bytes);
      const at = this.activeWritten;
      this.activeWritten += buf.length; // even if the write fails half way: see the catch
      if (this.preallocateBytes > 0 && this.activeWritten > this.activeAllocated) {
        // Grow in chunks: this sync commits the new size once per chunk, later ones overwrite.
        const target = this.activeWritten + this.preallocateBytes;
        this.zeros ??= Buffer.alloc(this.preallocateBytes);
        for (let pos = this.activeAllocated; pos < target; pos += this.zeros.length) {
          await writeFully(fh, this.zeros.subarray(0, Math.min(this.zeros.length, target - pos)), pos);
        }
        this.activeAllocated = target;
      }
      await writeFully(fh, buf, at);
      await this.beforeSync?.();
      if (this.syncMode === 'datasync') await fh.datasync();
      else if (this.syncMode === 'fsync') await fh.sync();
      this.s.syncs++;
      this.s.syncedRecords += batch.length;
      seg.size = at + buf.length;
      seg.lastAppendedAt = Math.max(seg.lastAppendedAt, batch[batch.length - 1]!.appendedAt);
      for (const p of batch) p.resolve({ ok: true });
      this.notify();
    } catch (err) {
      this.s.ioErrors++;
      this.s.unshippedSamples -= batch.length;
      this.s.unshippedBytes -= bytes;
      if (this.s.unshippedSamples === 0) this.oldestUnshippedAt = null;
      this.log('wal_write_failed', { records: batch.length, error: describeError(err) });
      // The file may now hold part of the batch after the last synced byte.
      // Those bytes were never acknowledged; seal the segment at its synced
      // size (readers stop there) and continue in a fresh segment. Best effort
      // truncate so a restart does not ship them either.
      await this.recoverFromWriteError();
      for (const p of batch) p.resolve({ ok: false, reason: 'io', message: 'Write-ahead log write failed' });
    }
  }

  private async recoverFromWriteError(): Promise<void> {
    const seg = this.active;
    const fh = this.activeFh;
    this.active = null;
    this.activeFh = null;
    if (seg && fh) {
      seg.sealed = true;
      await fh.truncate(seg.size).catch(() => {});
      await fh.close().catch(() => {});
    }
    try {
      await this.startSegment();
      if (this.syncMode !== 'none') fsyncDir(this.dir);
    } catch (err) {
      // No segment to write to: the next flush tries again (its appends fail
      // with `io` meanwhile); the process stays up.
      this.log('wal_segment_create_failed', { error: describeError(err) });
    }
  }

  /** Wait until everything appended so far is durable (or failed). */
  async flush(): Promise<void> {
    for (let i = 0; i < 1_000_000; i++) {
      if (this.flushTimer) {
        clearTimeout(this.flushTimer);
        this.flushTimer = null;
        this.startFlush();
      }
      if (this.flushImmediate) {
        clearImmediate(this.flushImmediate);
        this.flushImmediate = null;
        this.startFlush();
      }
      if (this.flushing) await this.flushing;
      else if (this.pending.length > 0) this.startFlush();
      else return;
    }
  }

  /** Called when new records became durable (wakes the shipper). */
  onDurable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  /**
   * The next durable, unshipped records from the cursor (at most one segment's
   * worth, `maxLines` lines, about `maxBytes` bytes), or null when there are
   * none. Only one batch may be outstanding: call ack() (after InfluxDB
   * confirmed) or release() (to read it again) before the next read.
   */
  async readBatch(maxLines: number, maxBytes: number): Promise<WalBatch | null> {
    if (this.inFlight) throw new Error('readBatch: previous batch not acked or released');
    for (let guard = 0; guard < 1_000_000; guard++) {
      const seg = this.segments.find((s) => s.id === this.cursor.segmentId) ?? this.segments.find((s) => s.id > this.cursor.segmentId);
      if (!seg) return null;
      if (seg.id !== this.cursor.segmentId) this.cursor = { segmentId: seg.id, offset: SEGMENT_MAGIC.length };
      const limit = seg.size;
      if (this.cursor.offset >= limit) {
        if (!seg.sealed) return null;
        const next = this.segments.find((s) => s.id > seg.id);
        if (!next) return null;
        this.cursor = { segmentId: next.id, offset: SEGMENT_MAGIC.length };
        await this.dropShippedSegments();
        continue;
      }
      const fh = await this.readerFor(seg);
      const available = limit - this.cursor.offset;
      let data = await readAt(fh, Math.min(available, Math.max(maxBytes, 4096)), this.cursor.offset);
      if (decodeRecord(data, 0) === 'short' && data.length >= RECORD_HEADER_BYTES) {
        // The first record is larger than the read: read exactly that record.
        const need = RECORD_HEADER_BYTES + data.readUInt32LE(0);
        if (need <= available && need <= RECORD_HEADER_BYTES + MAX_RECORD_PAYLOAD) data = await readAt(fh, need, this.cursor.offset);
      }
      const lines: string[] = [];
      let at = 0;
      let first = 0;
      let last = 0;
      while (lines.length < maxLines && at < data.length) {
        const rec = decodeRecord(data, at);
        if (rec === 'short') break;
        if (rec === 'bad') {
          // Verified bytes that no longer verify: disk corruption. Never ship
          // them; skip the rest of this segment (counted and logged loudly).
          this.s.corruptRecords++;
          this.log('wal_corrupt_record', { segment: segmentName(seg.id), offset: this.cursor.offset + at });
          break;
        }
        if (lines.length > 0 && at + rec.size > maxBytes) break;
        if (lines.length === 0) first = rec.appendedAt;
        last = rec.appendedAt;
        lines.push(rec.line);
        at += rec.size;
      }
      if (lines.length === 0) {
        if (at === 0 && seg.sealed) {
          // Corrupt at the cursor: move past this segment.
          const rest = limit - this.cursor.offset;
          this.s.unshippedBytes = Math.max(0, this.s.unshippedBytes - rest);
          const next = this.segments.find((s) => s.id > seg.id);
          if (!next) return null;
          this.cursor = { segmentId: next.id, offset: SEGMENT_MAGIC.length };
          continue;
        }
        return null;
      }
      const batch: WalBatch = {
        lines,
        bytes: at,
        start: { ...this.cursor },
        end: { segmentId: seg.id, offset: this.cursor.offset + at },
        firstAppendedAt: first,
        lastAppendedAt: last,
      };
      this.oldestUnshippedAt = first;
      this.inFlight = batch;
      return batch;
    }
    return null;
  }

  private async readerFor(seg: Segment): Promise<FileHandle> {
    if (this.readerFh && this.readerFh.id === seg.id) return this.readerFh.fh;
    if (this.readerFh) await this.readerFh.fh.close().catch(() => {});
    this.readerFh = null;
    const fh = await open(seg.path, 'r');
    this.readerFh = { id: seg.id, fh };
    return fh;
  }

  /** Give the in-flight batch back (it will be read again). */
  release(batch: WalBatch): void {
    if (this.inFlight === batch) this.inFlight = null;
  }

  /**
   * InfluxDB confirmed `batch` (or it was permanently rejected and recorded):
   * advance and persist the cursor, delete fully shipped segments.
   */
  async ack(batch: WalBatch): Promise<void> {
    if (this.inFlight !== batch) throw new Error('ack: not the batch in flight');
    this.inFlight = null;
    this.cursor = { ...batch.end };
    this.s.unshippedSamples -= batch.lines.length;
    this.s.unshippedBytes -= batch.bytes;
    if (this.s.unshippedSamples <= 0) {
      this.s.unshippedSamples = 0;
      this.oldestUnshippedAt = null;
    } else {
      this.oldestUnshippedAt = batch.lastAppendedAt;
    }
    await this.persistCursor();
    await this.dropShippedSegments();
  }

  /** Persist the cursor now (force) or within cursorPersistMs. */
  private persistCursor(force = false): Promise<void> {
    if (this.cursorClosed) return this.cursorWriting;
    const due = this.lastCursorWrite + this.cursorPersistMs - this.now();
    if (!force && due > 0) {
      if (!this.cursorTimer) {
        this.cursorTimer = setTimeout(() => {
          this.cursorTimer = null;
          void this.persistCursor(true);
        }, due);
        this.cursorTimer.unref();
      }
      return this.cursorWriting;
    }
    if (this.cursorTimer) {
      clearTimeout(this.cursorTimer);
      this.cursorTimer = null;
    }
    this.lastCursorWrite = this.now();
    // Serialised: one in-place write of a fixed-width record at a time.
    this.cursorWriting = this.cursorWriting.then(async () => {
      try {
        // O_RDWR | O_CREAT without O_APPEND: positional writes land at 0.
        this.cursorFh ??= await open(join(this.dir, 'cursor'), fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
        const buf = encodeCursor(this.cursor);
        await this.cursorFh.write(buf, 0, buf.length, 0);
      } catch (err) {
        // Not fatal: a stale cursor only means re-shipping (idempotent).
        this.log('wal_cursor_write_failed', { error: describeError(err) });
      }
    });
    return this.cursorWriting;
  }

  private async dropShippedSegments(): Promise<void> {
    // Move the cursor off finished sealed segments first.
    let moved = false;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const cur = this.segments.find((s) => s.id === this.cursor.segmentId);
      const next = this.segments.find((s) => s.id > this.cursor.segmentId);
      if (!next) break;
      if (cur && !(cur.sealed && this.cursor.offset >= cur.size)) break;
      this.cursor = { segmentId: next.id, offset: SEGMENT_MAGIC.length };
      moved = true;
    }
    if (moved) await this.persistCursor();
    const keepAfter = this.now() - this.retainShippedMs;
    const doomed = this.segments.filter((s) => s.sealed && s.id < this.cursor.segmentId && (this.retainShippedMs <= 0 || s.lastAppendedAt < keepAfter));
    if (doomed.length === 0) return;
    this.segments = this.segments.filter((s) => !doomed.includes(s));
    for (const s of doomed) {
      if (this.readerFh?.id === s.id) {
        await this.readerFh.fh.close().catch(() => {});
        this.readerFh = null;
      }
      await rm(s.path, { force: true }).catch((err) => this.log('wal_segment_delete_failed', { segment: s.path, error: describeError(err) }));
    }
  }

  /** Current unshipped depth and counters. */
  stats(): WalStats {
    let diskBytes = 0;
    for (const s of this.segments) diskBytes += s === this.active ? this.activeWritten : s.size;
    return {
      appended: this.s.appended,
      syncs: this.s.syncs,
      syncedRecords: this.s.syncedRecords,
      rejectedFull: this.s.rejectedFull,
      rejectedBusy: this.s.rejectedBusy,
      ioErrors: this.s.ioErrors,
      unshippedSamples: this.s.unshippedSamples,
      unshippedBytes: this.s.unshippedBytes,
      diskBytes,
      segments: this.segments.length,
      oldestUnshippedAt: this.s.unshippedSamples > 0 ? this.oldestUnshippedAt : null,
      corruptRecords: this.s.corruptRecords,
    };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stop accepting appends, make pending ones durable, release files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    if (this.activeFh) await this.activeFh.close().catch(() => {});
    this.activeFh = null;
    if (this.readerFh) await this.readerFh.fh.close().catch(() => {});
    this.readerFh = null;
    if (this.opened) await this.persistCursor(true);
    this.cursorClosed = true;
    await this.cursorWriting;
    await this.cursorFh?.close().catch(() => {});
    this.cursorFh = null;
    this.listeners.clear();
  }
}

async function readAt(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  for (let guard = 0; got < length && guard < 1_000_000; guard++) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead <= 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  for (let guard = 0; done < buf.length && guard < 1_000_000; guard++) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new Error('short write (0 bytes)');
    done += bytesWritten;
  }
  if (done < buf.length) throw new Error('short write');
}
