/**
 * Append -> stored lag of durable mode with a healthy InfluxDB: samples are
 * appended to the write-ahead log at a fixed rate (10 Hz, 100 Hz, 1 kHz) and
 * each one's lag is measured from the append call until InfluxDB answered 204
 * for the batch that carried it. Also reports the ack latency (append ->
 * durable) of the same samples.
 *
 *   npx tsx backend/bench/ship-lag.ts [--seconds 10] [--influx http://127.0.0.1:8086 --db bench]
 *
 * Without --influx it starts its own `influxd` (1.x) in a temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxd } from '../../runners/stack/influxd';
import { InfluxWriter, type WriteOutcome } from '../src/durable/influxWriter';
import { Shipper, type LineWriter } from '../src/durable/shipper';
import { WriteAheadLog } from '../src/durable/wal';

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const SECONDS = Number(arg('seconds', '10'));

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

async function run(url: string, db: string, hz: number, dir: string): Promise<string> {
  const wal = new WriteAheadLog({ dir });
  await wal.open();
  const appendAt = new Map<string, number>();
  const lags: number[] = [];
  const inner = new InfluxWriter({ url, org: 'app-org', bucket: db });
  const writer: LineWriter = {
    async write(lines, signal): Promise<WriteOutcome> {
      const r = await inner.write(lines, signal);
      if (r.kind === 'ok') {
        const t = performance.now();
        for (const l of lines) {
          const a = appendAt.get(l);
          if (a !== undefined) {
            lags.push(t - a);
            appendAt.delete(l);
          }
        }
      }
      return r;
    },
  };
  const shipper = new Shipper({ wal, writer, rejectedDir: join(dir, 'rejected') });
  shipper.start();
  const acks: number[] = [];
  const total = Math.round(hz * SECONDS);
  const t0 = performance.now();
  const base = Date.now();
  const inflight: Promise<void>[] = [];
  for (let n = 0; n < total; ) {
    while (n < total && t0 + (n * 1000) / hz <= performance.now()) {
      const line = `telemetry,vehicle_id=tp-lag-${hz}hz pose_x=${n},pose_z=0,steering=0,throttle=0 ${base + n}`;
      const s = performance.now();
      appendAt.set(line, s);
      inflight.push(
        wal.append(line).then((r) => {
          if (!r.ok) throw new Error(r.reason);
          acks.push(performance.now() - s);
        }),
      );
      n++;
    }
    const wait = t0 + (n * 1000) / hz - performance.now();
    await new Promise((r) => (wait > 1 ? setTimeout(r, Math.min(wait, 50)) : setImmediate(r)));
  }
  await Promise.all(inflight);
  for (let i = 0; i < 3000 && wal.stats().unshippedSamples > 0; i++) await new Promise((r) => setTimeout(r, 10));
  await shipper.stop();
  await wal.close();
  lags.sort((a, b) => a - b);
  acks.sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(1);
  return [`${hz} Hz`, total, lags.length, f(pct(acks, 50)), f(pct(acks, 99)), f(pct(lags, 50)), f(pct(lags, 99)), f(lags[lags.length - 1] ?? NaN)].join('\t');
}

async function main(): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'ship-lag-'));
  let stop: (() => Promise<unknown>) | null = null;
  try {
    let url = arg('influx');
    const db = arg('db', 'bench')!;
    if (!url) {
      const h = await startInfluxd({ runDir, logsDir: runDir, databases: [db] });
      url = h.url;
      stop = () => h.process.stop(5000);
    }
    console.log(`# append -> InfluxDB-confirmed lag, ${SECONDS} s per rate, InfluxDB ${url}`);
    console.log(['rate', 'samples', 'confirmed', 'ack p50 ms', 'ack p99 ms', 'lag p50 ms', 'lag p99 ms', 'lag max ms'].join('\t'));
    for (const hz of [10, 100, 1000]) console.log(await run(url, db, hz, join(runDir, `wal-${hz}`)));
  } finally {
    await stop?.();
    rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
