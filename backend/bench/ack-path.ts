/**
 * Which acknowledgement path for durable mode? Measures, for the same stream
 * of samples, the ack latency and throughput of:
 *
 *   wal          append to the write-ahead log + fdatasync, group commit (chosen);
 *   influx-each  one InfluxDB write per sample, ack on its 204;
 *   influx-group concurrent samples share one InfluxDB write (group commit
 *                against InfluxDB instead of the disk), ack on its 204.
 *
 * against a real InfluxDB 1.x it starts itself (`influxd` on PATH) or the one
 * given with --influx URL --db NAME.
 *
 *   npx tsx backend/bench/ack-path.ts [--seconds 3] [--influx http://127.0.0.1:8086 --db bench]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxd } from '../../runners/stack/influxd';
import { InfluxWriter } from '../src/durable/influxWriter';
import { WriteAheadLog } from '../src/durable/wal';

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const SECONDS = Number(arg('seconds', '3'));

type Ack = (line: string) => Promise<void>;

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

let seq = 0;
function nextLine(): string {
  const n = seq++;
  return `telemetry,vehicle_id=tp-ackpath pose_x=${n},pose_z=${-n},steering=0.1,throttle=0.2 ${1_600_000_000_000 + n}`;
}

/** Group commit against InfluxDB: whatever arrives while a write is in flight goes in the next one. */
function influxGroup(writer: InfluxWriter): Ack {
  let pending: Array<{ line: string; done: (err?: Error) => void }> = [];
  let busy = false;
  const pump = async () => {
    if (busy || pending.length === 0) return;
    busy = true;
    const batch = pending;
    pending = [];
    const r = await writer.write(batch.map((p) => p.line));
    for (const p of batch) p.done(r.kind === 'ok' ? undefined : new Error(r.kind));
    busy = false;
    void pump();
  };
  return (line) =>
    new Promise<void>((resolve, reject) => {
      pending.push({ line, done: (err) => (err ? reject(err) : resolve()) });
      setImmediate(() => void pump());
    });
}

async function closedLoop(ack: Ack, c: number): Promise<{ perSec: number; p50: number; p99: number }> {
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      for (let i = 0; i < 10_000_000 && performance.now() < end; i++) {
        const s = performance.now();
        await ack(nextLine());
        lat.push(performance.now() - s);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { perSec: lat.length / ((performance.now() - t0) / 1000), p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function openLoop(ack: Ack, hz: number): Promise<{ p50: number; p99: number }> {
  const lat: number[] = [];
  const total = Math.max(20, Math.round(hz * SECONDS));
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let n = 0; n < total; ) {
    while (n < total && t0 + (n * 1000) / hz <= performance.now()) {
      const s = performance.now();
      inflight.push(ack(nextLine()).then(() => void lat.push(performance.now() - s)));
      n++;
    }
    const wait = t0 + (n * 1000) / hz - performance.now();
    await new Promise((r) => (wait > 1 ? setTimeout(r, Math.min(wait, 50)) : setImmediate(r)));
  }
  await Promise.all(inflight);
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function main(): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'ack-path-'));
  let stopInflux: (() => Promise<unknown>) | null = null;
  try {
    let url = arg('influx');
    const db = arg('db', 'bench')!;
    if (!url) {
      const h = await startInfluxd({ runDir, logsDir: runDir, databases: [db] });
      url = h.url;
      stopInflux = () => h.process.stop(5000);
    }
    const wal = new WriteAheadLog({ dir: join(runDir, 'wal'), maxSamples: 1e9, maxBytes: 8 * 1024 ** 3 });
    await wal.open();
    const writer = new InfluxWriter({ url, org: 'app-org', bucket: db });
    const paths: Record<string, Ack> = {
      wal: async (line) => {
        const r = await wal.append(line);
        if (!r.ok) throw new Error(r.reason);
      },
      'influx-each': async (line) => {
        const r = await writer.write([line]);
        if (r.kind !== 'ok') throw new Error(`${r.kind}: ${r.message}`);
      },
      'influx-group': influxGroup(writer),
    };
    const f = (n: number) => n.toFixed(2);
    console.log(`# ack path comparison, ${SECONDS} s per load, InfluxDB ${url} (${writer.version ?? 'version detected on first write'})`);
    console.log(['path', 'C=1 acks/s', 'C=64 acks/s', 'C=64 p99 ms', '10 Hz p99 ms', '100 Hz p99 ms', '1 kHz p50 ms', '1 kHz p99 ms'].join('\t'));
    for (const [name, ack] of Object.entries(paths)) {
      await ack(nextLine()); // warm-up (and /ping)
      const c1 = await closedLoop(ack, 1);
      const c64 = await closedLoop(ack, 64);
      const o10 = await openLoop(ack, 10);
      const o100 = await openLoop(ack, 100);
      const o1k = await openLoop(ack, 1000);
      console.log([name, c1.perSec.toFixed(0), c64.perSec.toFixed(0), f(c64.p99), f(o10.p99), f(o100.p99), f(o1k.p50), f(o1k.p99)].join('\t'));
    }
    await wal.close();
  } finally {
    await stopInflux?.();
    rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
