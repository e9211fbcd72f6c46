/**
 * Group-commit benchmark of the durable mode's write-ahead log (no HTTP, no
 * InfluxDB): how many appends per second can be acknowledged durably, and at
 * what latency, on this machine's disk.
 *
 *   npx tsx backend/bench/group-commit.ts [--seconds 3] [--dir /path/on/the/disk/to/test] [--sync-delay-ms 5]
 *
 * Two kinds of load:
 *  - closed loop: C concurrent writers, each appends, waits for the ack,
 *    appends again (C = 1 is "one fdatasync per sample");
 *  - open loop: a fixed arrival rate (10 Hz, 100 Hz, 1 kHz, 5 kHz), the way a
 *    fleet of Jetsons sends, latency measured from the scheduled arrival.
 * Figures: acks/s, p50/p99/max ack latency (ms), records per fdatasync.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteAheadLog } from '../src/durable/wal';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const SECONDS = Number(arg('seconds', '3'));
const BASE = arg('dir', tmpdir());
/** Emulate slower storage (e.g. a Jetson's eMMC/SD card): extra ms added to every fdatasync. */
const SYNC_DELAY_MS = Number(arg('sync-delay-ms', '0'));

const LINE = 'telemetry,vehicle_id=tp-bench-v0 pose_x=12.345678,pose_z=-98.7654321,steering=0.125,throttle=0.75 1700000000123';

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Row {
  load: string;
  acks: number;
  acksPerSec: number;
  p50: number;
  p99: number;
  max: number;
  perSync: number;
}

async function withWal<T>(commitDelayMs: number, fn: (wal: WriteAheadLog) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(BASE, 'gc-bench-'));
  // Big enough that capacity never interferes; the bench measures commit only.
  const wal = new WriteAheadLog({
    dir,
    maxBytes: 8 * 1024 ** 3,
    maxSamples: 1e9,
    commitDelayMs,
    ...(SYNC_DELAY_MS > 0 ? { beforeSync: () => new Promise<void>((r) => setTimeout(r, SYNC_DELAY_MS)) } : {}),
  });
  await wal.open();
  try {
    return await fn(wal);
  } finally {
    await wal.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function closedLoop(concurrency: number, commitDelayMs: number): Promise<Row> {
  return withWal(commitDelayMs, async (wal) => {
    const lat: number[] = [];
    const end = performance.now() + SECONDS * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = 0; i < 10_000_000 && performance.now() < end; i++) {
          const s = performance.now();
          const r = await wal.append(LINE);
          if (!r.ok) throw new Error(`append failed: ${r.reason}`);
          lat.push(performance.now() - s);
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    const st = wal.stats();
    return {
      load: `closed C=${concurrency}${commitDelayMs ? ` delay=${commitDelayMs}ms` : ''}`,
      acks: lat.length,
      acksPerSec: lat.length / secs,
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      max: lat[lat.length - 1] ?? NaN,
      perSync: st.syncedRecords / Math.max(1, st.syncs),
    };
  });
}

async function openLoop(rateHz: number, commitDelayMs: number): Promise<Row> {
  return withWal(commitDelayMs, async (wal) => {
    const lat: number[] = [];
    const total = Math.max(20, Math.round(rateHz * SECONDS));
    const interval = 1000 / rateHz;
    const t0 = performance.now();
    const inflight: Promise<void>[] = [];
    let next = 0;
    // Issue every arrival whose time has come; latency counts from the append call.
    while (next < total) {
      const now = performance.now();
      while (next < total && t0 + next * interval <= now) {
        const issued = performance.now();
        inflight.push(
          wal.append(LINE).then((r) => {
            if (!r.ok) throw new Error(`append failed: ${r.reason}`);
            lat.push(performance.now() - issued);
          }),
        );
        next++;
      }
      const wait = t0 + next * interval - performance.now();
      await new Promise((r) => (wait > 1 ? setTimeout(r, Math.min(wait, 50)) : setImmediate(r)));
    }
    await Promise.all(inflight);
    const secs = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    const st = wal.stats();
    return {
      load: `open ${rateHz} Hz${commitDelayMs ? ` delay=${commitDelayMs}ms` : ''}`,
      acks: lat.length,
      acksPerSec: lat.length / secs,
      p50: pct(lat, 50),
      p99: pct(lat, 99),
      max: lat[lat.length - 1] ?? NaN,
      perSync: st.syncedRecords / Math.max(1, st.syncs),
    };
  });
}

function print(rows: Row[]): void {
  const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  console.log(['load', 'acks', 'acks/s', 'p50 ms', 'p99 ms', 'max ms', 'records/fdatasync'].join('\t'));
  for (const r of rows) console.log([r.load, r.acks, f(r.acksPerSec, 0), f(r.p50), f(r.p99), f(r.max), f(r.perSync, 1)].join('\t'));
}

async function main(): Promise<void> {
  console.log(`# group commit: ${SECONDS} s per load, WAL in ${BASE}, extra fdatasync delay ${SYNC_DELAY_MS} ms, node ${process.version}`);
  const rows: Row[] = [];
  for (const c of [1, 4, 16, 64, 256]) rows.push(await closedLoop(c, 0));
  rows.push(await closedLoop(64, 2));
  for (const hz of [10, 100, 1000, 5000]) rows.push(await openLoop(hz, 0));
  rows.push(await openLoop(1000, 2));
  print(rows);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
