import { appendFileSync, closeSync, mkdtempSync, openSync, writeSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLog } from '../jsonLog';
import { decodeRecord, encodeRecord, RECORD_HEADER_BYTES, SEGMENT_MAGIC, segmentName, WriteAheadLog, type WalOptions } from './wal';

let dir: string;
const opened: WriteAheadLog[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wal-test-'));
});
afterEach(async () => {
  for (const w of opened.splice(0)) await w.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openWal(opts: Partial<WalOptions> = {}): Promise<WriteAheadLog> {
  const wal = new WriteAheadLog({ dir, ...opts });
  opened.push(wal);
  await wal.open();
  return wal;
}

/** Read and ack everything; returns the lines in order. */
async function drainAll(wal: WriteAheadLog, maxLines = 1000): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const b = await wal.readBatch(maxLines, 1 << 20);
    if (!b) return out;
    out.push(...b.lines);
    await wal.ack(b);
  }
  throw new Error('drainAll did not finish');
}

/** Everything a restarted shipper would send, in order (acked as it goes, with no size limits). */
async function peekAll(wal: WriteAheadLog): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const b = await wal.readBatch(1_000_000, 1 << 30);
    if (!b) return out;
    out.push(...b.lines);
    await wal.ack(b);
  }
  return out;
}

function segmentFiles(): string[] {
  return readdirSync(join(dir)).filter((n) => n.endsWith('.log')).sort();
}

describe('record encoding', () => {
  it('round-trips a line and its append time, including non-ASCII', () => {
    const line = 'telemetry,vehicle_id=ünï€😀 pose_x=1 1700000000000';
    const rec = encodeRecord(line, 1234.5);
    const d = decodeRecord(rec, 0);
    expect(d).toEqual({ line, appendedAt: 1234.5, size: rec.length });
  });

  it('reports a record cut short as short and a flipped bit as bad', () => {
    const rec = encodeRecord('abc', 1);
    expect(decodeRecord(rec.subarray(0, rec.length - 1), 0)).toBe('short');
    expect(decodeRecord(rec.subarray(0, 5), 0)).toBe('short');
    const flipped = Buffer.from(rec);
    flipped[rec.length - 1]! ^= 0x01;
    expect(decodeRecord(flipped, 0)).toBe('bad');
    const badLen = Buffer.from(rec);
    badLen.writeUInt32LE(4, 0); // shorter than the 8-byte time
    expect(decodeRecord(badLen, 0)).toBe('bad');
  });
});

describe('WriteAheadLog: append and replay', () => {
  it('acknowledges appends and replays them in order after reopening', async () => {
    const wal = await openWal();
    const lines = Array.from({ length: 50 }, (_, i) => `m,vehicle_id=v f=${i} ${1000 + i}`);
    const results = await Promise.all(lines.map((l) => wal.append(l)));
    expect(results.every((r) => r.ok)).toBe(true);
    await wal.close();

    const again = await openWal();
    expect(again.stats().unshippedSamples).toBe(50);
    expect(await drainAll(again, 7)).toEqual(lines);
  });

  it('group commit: many concurrent appends share few fdatasyncs', async () => {
    const wal = await openWal();
    const n = 500;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => wal.append(`m f=${i} ${i}`)));
    expect(results.every((r) => r.ok)).toBe(true);
    const s = wal.stats();
    expect(s.syncedRecords).toBe(n);
    // All 500 were queued in one turn of the event loop: one sync takes them all.
    expect(s.syncs).toBe(1);
  });

  it('group commit: appends arriving during a sync wait for the next sync, not one each', async () => {
    let syncs = 0;
    let release: (() => void) | null = null;
    const wal = await openWal({
      beforeSync: () => {
        syncs++;
        if (syncs === 1) return new Promise<void>((r) => (release = r));
      },
    });
    const first = wal.append('m f=0 0');
    await new Promise((r) => setTimeout(r, 20)); // the first sync is now blocked
    const later = Array.from({ length: 100 }, (_, i) => wal.append(`m f=${i + 1} ${i + 1}`));
    await new Promise((r) => setTimeout(r, 20));
    expect(release).not.toBeNull();
    release!();
    const all = await Promise.all([first, ...later]);
    expect(all.every((r) => r.ok)).toBe(true);
    expect(wal.stats().syncs).toBe(2);
    expect(wal.stats().syncedRecords).toBe(101);
  });

  it('syncMode dsync (O_DSYNC writes, no separate fdatasync) and no preallocation also replay correctly', async () => {
    const wal = await openWal({ syncMode: 'dsync', preallocateBytes: 0 });
    const lines = Array.from({ length: 20 }, (_, i) => `m f=${i} ${i}`);
    expect((await Promise.all(lines.map((l) => wal.append(l)))).every((r) => r.ok)).toBe(true);
    await wal.close();
    const again = await openWal();
    expect(await drainAll(again)).toEqual(lines);
  });

  it('preallocates the active segment with zeros ahead of the records, and recovery does not count them as torn', async () => {
    const wal = await openWal({ preallocateBytes: 64 * 1024 });
    await wal.append('m f=1 1');
    const files = segmentFiles();
    const path = join(dir, files[files.length - 1]!);
    expect(statSync(path).size).toBeGreaterThanOrEqual(64 * 1024);
    await wal.close();
    const again = new WriteAheadLog({ dir });
    opened.push(again);
    const report = await again.open();
    expect(report.truncatedBytes).toBe(0);
    expect(report.unshippedSamples).toBe(1);
  });

  it('commitDelayMs lets appends spread over a few ms share one sync', async () => {
    const wal = await openWal({ commitDelayMs: 30 });
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) {
      ps.push(wal.append(`m f=${i} ${i}`));
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(ps);
    expect(wal.stats().syncs).toBe(1);
  });

  it('does not resolve an append before its record is on disk', async () => {
    const wal = await openWal();
    const line = 'm,vehicle_id=durable f=1 1';
    const r = await wal.append(line);
    expect(r.ok).toBe(true);
    // Read the active segment straight from disk.
    const files = segmentFiles();
    const buf = readFileSync(join(dir, files[files.length - 1]!));
    const rec = decodeRecord(buf, SEGMENT_MAGIC.length);
    expect(rec).not.toBe('short');
    expect(rec).not.toBe('bad');
    expect((rec as { line: string }).line).toBe(line);
  });
});

describe('WriteAheadLog: torn tail after a crash', () => {
  it('truncates a half-written record and garbage, replaying only whole records', async () => {
    const wal = await openWal();
    const lines = ['m f=1 1', 'm f=2 2', 'm f=3 3'];
    for (const l of lines) await wal.append(l);
    // Simulate SIGKILL: no close(). Append half of a record plus garbage to the tail.
    const files = segmentFiles();
    const last = join(dir, files[files.length - 1]!);
    // Where the records end (the file continues with preallocated zeros).
    const sizeBefore = SEGMENT_MAGIC.length + lines.reduce((n, l) => n + encodeRecord(l, 0).length, 0);
    const torn = encodeRecord('m f=4 4', 4).subarray(0, 11);
    // SIGKILL mid-write: half a record plus garbage right after the last whole one.
    const fd = openSync(last, 'r+');
    writeSync(fd, Buffer.concat([torn, Buffer.from('garbage-garbage')]), 0, torn.length + 15, sizeBefore);
    closeSync(fd);
    opened.splice(opened.indexOf(wal), 1);

    const log = memoryLog();
    const again = new WriteAheadLog({ dir, log });
    opened.push(again);
    const report = await again.open();
    expect(report.unshippedSamples).toBe(3);
    expect(report.truncatedBytes).toBe(torn.length + 'garbage-garbage'.length);
    expect(statSync(last).size).toBe(sizeBefore);
    expect(log.events.some((e) => e.event === 'wal_torn_tail_truncated')).toBe(true);
    expect(await drainAll(again)).toEqual(lines);
    // await the closing of the crashed instance's handles
    await wal.close();
  });

  it('a zero-filled tail (file extended, data never written) is cut off', async () => {
    const wal = await openWal();
    await wal.append('m f=1 1');
    await wal.close();
    const files = segmentFiles();
    appendFileSync(join(dir, files[files.length - 1]!), Buffer.alloc(4096));
    const again = await openWal();
    expect(again.stats().unshippedSamples).toBe(1);
    expect(await drainAll(again)).toEqual(['m f=1 1']);
  });

  it('a segment whose header never reached the disk is discarded', async () => {
    writeFileSync(join(dir, segmentName(7)), Buffer.from('TPW'));
    const wal = await openWal();
    expect(wal.stats().unshippedSamples).toBe(0);
    expect(segmentFiles()).not.toContain(segmentName(7));
    expect(segmentFiles()).toEqual([segmentName(8)]);
  });

  it('property: cutting the log at any byte replays exactly the records that were whole', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }), { minLength: 1, maxLength: 20 }),
        fc.nat(),
        async (lines, cutSeed) => {
          const d = mkdtempSync(join(tmpdir(), 'wal-prop-'));
          try {
            const w = new WriteAheadLog({ dir: d });
            await w.open();
            for (const l of lines) await w.append(l);
            await w.close();
            const seg = readdirSync(d).filter((n) => n.endsWith('.log')).sort().pop()!;
            const path = join(d, seg);
            // Cut inside the records (the file also holds preallocated zeros after them).
            const size = SEGMENT_MAGIC.length + lines.reduce((n, l) => n + encodeRecord(l, 0).length, 0);
            expect(statSync(path).size).toBeGreaterThanOrEqual(size);
            const cut = SEGMENT_MAGIC.length + (cutSeed % (size - SEGMENT_MAGIC.length + 1));
            truncateSync(path, cut);
            // Expected: the records that end at or before the cut.
            let at = SEGMENT_MAGIC.length;
            let whole = 0;
            for (const l of lines) {
              const sz = encodeRecord(l, 0).length;
              if (at + sz > cut) break;
              at += sz;
              whole++;
            }
            const r = new WriteAheadLog({ dir: d });
            await r.open();
            const got: string[] = [];
            for (let i = 0; i < 100; i++) {
              const b = await r.readBatch(1000, 1 << 20);
              if (!b) break;
              got.push(...b.lines);
              await r.ack(b);
            }
            await r.close();
            expect(got).toEqual(lines.slice(0, whole));
          } finally {
            rmSync(d, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('WriteAheadLog: shipping cursor and truncation', () => {
  it('keeps records until ack(); release() hands the same batch out again', async () => {
    const wal = await openWal();
    await wal.append('m f=1 1');
    await wal.append('m f=2 2');
    const b1 = await wal.readBatch(10, 1 << 20);
    expect(b1?.lines).toEqual(['m f=1 1', 'm f=2 2']);
    wal.release(b1!);
    expect(wal.stats().unshippedSamples).toBe(2);
    const b2 = await wal.readBatch(10, 1 << 20);
    expect(b2?.lines).toEqual(['m f=1 1', 'm f=2 2']);
    await wal.ack(b2!);
    expect(wal.stats().unshippedSamples).toBe(0);
    expect(await wal.readBatch(10, 1 << 20)).toBeNull();
  });

  it('an unacked batch is shipped again after a restart; an acked one is not', async () => {
    const wal = await openWal();
    for (let i = 0; i < 10; i++) await wal.append(`m f=${i} ${i}`);
    const b = await wal.readBatch(4, 1 << 20);
    await wal.ack(b!);
    const unacked = await wal.readBatch(3, 1 << 20);
    expect(unacked?.lines).toEqual(['m f=4 4', 'm f=5 5', 'm f=6 6']);
    await wal.close(); // no ack for the second batch (crash before InfluxDB answered)

    const again = await openWal();
    expect(again.stats().unshippedSamples).toBe(6);
    expect(await peekAll(again)).toEqual([4, 5, 6, 7, 8, 9].map((i) => `m f=${i} ${i}`));
  });

  it('deletes a segment only once everything in it was acked', async () => {
    const wal = await openWal({ segmentMaxBytes: 200 });
    for (let i = 0; i < 30; i++) await wal.append(`m,vehicle_id=seg f=${i} ${i}`);
    const before = segmentFiles().length;
    expect(before).toBeGreaterThan(3);
    const first = await wal.readBatch(1, 1 << 20);
    expect(segmentFiles().length).toBe(before);
    await wal.ack(first!);
    expect(segmentFiles().length).toBe(before); // first segment still has unacked records
    const rest = await drainAll(wal);
    expect(rest.length).toBe(29);
    expect(segmentFiles().length).toBe(1); // only the active segment is left
    expect(wal.stats().unshippedBytes).toBe(0);
  });

  it('retainShippedMs keeps shipped segments (not re-shipped) and hands their records to open()\'s visitor', async () => {
    let now = 1_000_000;
    const wal = new WriteAheadLog({ dir, segmentMaxBytes: 100, retainShippedMs: 30_000, now: () => now });
    await wal.open();
    for (let i = 0; i < 12; i++) await wal.append(`m,vehicle_id=r f=${i} ${i}`);
    expect(await drainAll(wal)).toHaveLength(12);
    const kept = segmentFiles().length;
    expect(kept).toBeGreaterThan(2); // shipped, but younger than 30 s
    await wal.append('m,vehicle_id=r f=12 12'); // unshipped
    await wal.close();

    // Restart within the retention: every record is visited, only the unshipped one is shipped.
    const seen: string[] = [];
    const again = new WriteAheadLog({ dir, retainShippedMs: 30_000, now: () => now });
    opened.push(again);
    await again.open((l) => seen.push(l));
    expect(seen).toEqual(Array.from({ length: 13 }, (_, i) => `m,vehicle_id=r f=${i} ${i}`));
    expect(again.stats().unshippedSamples).toBe(1);
    expect(await peekAll(again)).toEqual(['m,vehicle_id=r f=12 12']);

    // Once older than the retention, shipped segments go (at the next ack or open).
    now += 31_000;
    await again.append('m,vehicle_id=r f=13 13');
    await drainAll(again);
    expect(segmentFiles().length).toBeLessThanOrEqual(2);
    await again.close();
    const seenLater: string[] = [];
    const third = new WriteAheadLog({ dir, retainShippedMs: 30_000, now: () => now + 31_000 });
    opened.push(third);
    await third.open((l) => seenLater.push(l));
    expect(seenLater).toEqual([]);
    expect(third.stats().unshippedSamples).toBe(0);
    expect(segmentFiles().length).toBe(1);
  });

  it('a batch never crosses a segment and respects maxLines / maxBytes', async () => {
    const wal = await openWal({ segmentMaxBytes: 300 });
    for (let i = 0; i < 20; i++) await wal.append(`m f=${i} ${i}`);
    const b = await wal.readBatch(3, 1 << 20);
    expect(b!.lines.length).toBe(3);
    wal.release(b!);
    const small = await wal.readBatch(100, RECORD_HEADER_BYTES + 30);
    expect(small!.lines.length).toBe(1);
    wal.release(small!);
    const all = await drainAll(wal);
    expect(all).toEqual(Array.from({ length: 20 }, (_, i) => `m f=${i} ${i}`));
  });

  it('after a crash (no close) a stale cursor re-ships recent batches but never skips an unconfirmed one', async () => {
    const wal = new WriteAheadLog({ dir, cursorPersistMs: 60_000 });
    await wal.open();
    for (let i = 0; i < 10; i++) await wal.append(`m f=${i} ${i}`);
    const first = await wal.readBatch(2, 1 << 20);
    await wal.ack(first!);
    const second = await wal.readBatch(3, 1 << 20);
    await wal.ack(second!); // within cursorPersistMs of the last cursor write: not persisted yet
    await new Promise((r) => setTimeout(r, 20));
    // Crash: abandon `wal` without close(); reopen the directory.
    const again = await openWal();
    const replayed = await peekAll(again);
    const all = Array.from({ length: 10 }, (_, i) => `m f=${i} ${i}`);
    // Some confirmed lines come again (harmless: idempotent), every unconfirmed one does.
    expect(replayed.length).toBeGreaterThan(5);
    expect(replayed).toEqual(all.slice(10 - replayed.length));
    await wal.close();
  });

  it('a corrupt cursor file means re-shipping from the oldest segment, never losing', async () => {
    const wal = await openWal();
    for (let i = 0; i < 5; i++) await wal.append(`m f=${i} ${i}`);
    const b = await wal.readBatch(2, 1 << 20);
    await wal.ack(b!);
    await wal.close();
    writeFileSync(join(dir, 'cursor'), 'nonsense');
    const again = await openWal();
    expect(again.stats().unshippedSamples).toBe(5);
  });
});

describe('WriteAheadLog: capacity and failures', () => {
  it('answers full (never drops) when the sample bound is reached, and accepts again after shipping', async () => {
    const wal = await openWal({ maxSamples: 3 });
    const r = await Promise.all([1, 2, 3, 4, 5].map((i) => wal.append(`m f=${i} ${i}`)));
    expect(r.map((x) => x.ok)).toEqual([true, true, true, false, false]);
    expect(r[3]).toMatchObject({ ok: false, reason: 'full' });
    expect(wal.stats().rejectedFull).toBe(2);
    const b = await wal.readBatch(10, 1 << 20);
    await wal.ack(b!);
    expect((await wal.append('m f=6 6')).ok).toBe(true);
  });

  it('answers busy when too many appends wait for the disk', async () => {
    let release: (() => void) | null = null;
    const wal = await openWal({ maxPending: 2, beforeSync: () => (release ? undefined : new Promise<void>((r) => (release = r))) });
    const first = wal.append('m f=0 0'); // its sync blocks
    await new Promise((r) => setTimeout(r, 20));
    const waiting = [wal.append('m f=1 1'), wal.append('m f=2 2')];
    expect(await wal.append('m f=3 3')).toMatchObject({ ok: false, reason: 'busy' });
    release!();
    expect((await Promise.all([first, ...waiting])).every((r) => r.ok)).toBe(true);
    expect(wal.stats().rejectedBusy).toBe(1);
    expect(wal.stats().unshippedSamples).toBe(3);
  });

  it('answers full when the byte bound is reached', async () => {
    const one = encodeRecord('m f=1 1', 0).length;
    const wal = await openWal({ maxBytes: one * 2 + 1 });
    expect((await wal.append('m f=1 1')).ok).toBe(true);
    expect((await wal.append('m f=2 2')).ok).toBe(true);
    expect(await wal.append('m f=3 3')).toMatchObject({ ok: false, reason: 'full' });
  });

  it('a failed sync answers io for that batch, continues in a new segment, and never ships the failed records', async () => {
    let fail = false;
    const wal = await openWal({
      beforeSync: () => {
        if (fail) throw new Error('EIO (simulated)');
      },
    });
    expect((await wal.append('m f=1 1')).ok).toBe(true);
    fail = true;
    expect(await wal.append('m f=2 2')).toMatchObject({ ok: false, reason: 'io' });
    fail = false;
    expect((await wal.append('m f=3 3')).ok).toBe(true);
    expect(wal.stats().ioErrors).toBe(1);
    expect(wal.stats().unshippedSamples).toBe(2);
    expect(await drainAll(wal)).toEqual(['m f=1 1', 'm f=3 3']);
    await wal.close();
    const again = await openWal();
    expect(again.stats().unshippedSamples).toBe(0);
  });

  it('answers closed after close(), and close() makes pending appends durable first', async () => {
    const wal = await openWal({ commitDelayMs: 50 });
    const p = wal.append('m f=1 1');
    await wal.close();
    expect((await p).ok).toBe(true);
    expect(await wal.append('m f=2 2')).toMatchObject({ ok: false, reason: 'closed' });
    const again = await openWal();
    expect(again.stats().unshippedSamples).toBe(1);
  });

  it('tracks the oldest unshipped append time', async () => {
    let t = 1000;
    const wal = await openWal({ now: () => t });
    expect(wal.stats().oldestUnshippedAt).toBeNull();
    await wal.append('m f=1 1');
    t = 2000;
    await wal.append('m f=2 2');
    expect(wal.stats().oldestUnshippedAt).toBe(1000);
    const b = await wal.readBatch(1, 1 << 20);
    await wal.ack(b!);
    const b2 = await wal.readBatch(1, 1 << 20);
    expect(wal.stats().oldestUnshippedAt).toBe(2000);
    await wal.ack(b2!);
    expect(wal.stats().oldestUnshippedAt).toBeNull();
  });
});
