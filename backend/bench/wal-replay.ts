/**
 * WAL replay benchmark: a log holding N unshipped samples (default 100 000),
 * as a crashed backend leaves it, is reopened and shipped.
 *
 *   npx tsx backend/bench/wal-replay.ts [--samples 100000] [--influx http://127.0.0.1:8086 --db telemetry]
 *
 * Without --influx the samples go to an in-process node:http stand-in that
 * answers 204 (measures the backend's side only); with --influx to a real
 * InfluxDB (1.x: the database must exist; 2.x: add --token --org).
 * Figures:
 *   - recovery scan: open() verifying every record's length + CRC (start-up cost);
 *   - ship: from open() to the log being empty (every batch confirmed);
 *   - total replay = scan + ship, and samples/s.
 * A torn tail is appended before reopening so the truncation path is included.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeInflux } from '../src/durable/fakeInfluxServer';
import { InfluxWriter } from '../src/durable/influxWriter';
import { Shipper } from '../src/durable/shipper';
import { decodeRecord, encodeRecord, SEGMENT_MAGIC, WriteAheadLog } from '../src/durable/wal';

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const SAMPLES = Number(arg('samples', '100000'));
const INFLUX = arg('influx');
const DB = arg('db', 'telemetry')!;
const BATCH = Number(arg('batch', '5000'));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wal-replay-'));
  const runTag = Math.random().toString(36).slice(2, 8);
  const fake = INFLUX ? null : await startFakeInflux();
  const url = INFLUX ?? fake!.url;
  try {
    // 1. Fill the log as a running backend would (group commit), then "crash".
    const t0 = Date.now() - SAMPLES; // distinct ms timestamps per sample
    const fill = new WriteAheadLog({ dir, maxSamples: SAMPLES + 1, maxBytes: 4 * 1024 ** 3 });
    await fill.open();
    const tf = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const line = `telemetry,vehicle_id=tp-replay-${runTag}-v${i % 10} pose_x=${(i * 0.001).toFixed(3)},pose_z=${-i},steering=0.25,throttle=0.5 ${t0 + i}`;
      pending.push(fill.append(line));
      if (pending.length >= 512) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const fillMs = performance.now() - tf;
    await fill.close();
    // SIGKILL mid-write: half a record right after the last whole one (before the preallocated zeros).
    const segs = readdirSync(dir).filter((n) => n.endsWith('.log')).sort();
    let tornAt = -1;
    let tornSeg = '';
    for (const seg of segs) {
      const buf = readFileSync(join(dir, seg));
      let at = SEGMENT_MAGIC.length;
      for (let rec = decodeRecord(buf, at); typeof rec !== 'string'; rec = decodeRecord(buf, at)) at += rec.size;
      if (at > SEGMENT_MAGIC.length) {
        tornAt = at;
        tornSeg = seg;
      }
    }
    const fd = openSync(join(dir, tornSeg), 'r+');
    writeSync(fd, encodeRecord('torn', 0).subarray(0, 10), 0, 10, tornAt);
    closeSync(fd);

    // 2. Restart: recover, then ship everything.
    const wal = new WriteAheadLog({ dir, maxSamples: SAMPLES + 1, maxBytes: 4 * 1024 ** 3 });
    const ts = performance.now();
    const report = await wal.open();
    const scanMs = performance.now() - ts;
    if (report.unshippedSamples !== SAMPLES) throw new Error(`recovered ${report.unshippedSamples}, expected ${SAMPLES}`);
    const writer = new InfluxWriter({ url, org: arg('org', 'app-org')!, bucket: DB, token: arg('token', '') });
    const shipper = new Shipper({ wal, writer, rejectedDir: join(dir, 'rejected'), batchMaxLines: BATCH, batchMaxBytes: 4 * 1024 * 1024 });
    shipper.start();
    const deadline = Date.now() + 600_000;
    while (wal.stats().unshippedSamples > 0) {
      if (Date.now() > deadline) throw new Error('replay did not finish within 10 minutes');
      await new Promise((r) => setTimeout(r, 2));
    }
    const shipMs = performance.now() - ts - scanMs;
    const st = shipper.stats();
    await shipper.stop();
    await wal.close();
    const totalMs = scanMs + shipMs;
    console.log(`# WAL replay, ${SAMPLES} samples, batch ${BATCH} lines, target ${INFLUX ? `InfluxDB ${url} (db ${DB}, api ${writer.detectedApi}, version ${writer.version})` : 'in-process node:http stand-in (204)'}`);
    console.log(`fill (group commit)     ${fillMs.toFixed(0)} ms  (${((SAMPLES / fillMs) * 1000).toFixed(0)} samples/s)`);
    console.log(`log on disk             ${(report.unshippedBytes / 1024 / 1024).toFixed(1)} MiB in ${report.segments} segment(s); torn tail cut: ${report.truncatedBytes} bytes`);
    console.log(`recovery scan (open)    ${scanMs.toFixed(0)} ms`);
    console.log(`ship to empty           ${shipMs.toFixed(0)} ms  (${st.batchesShipped} batches, ${st.linesShipped} lines, failures ${JSON.stringify(Object.fromEntries(Object.entries(st.failures).filter(([, v]) => v > 0)))})`);
    console.log(`total replay            ${totalMs.toFixed(0)} ms  (${((SAMPLES / totalMs) * 1000).toFixed(0)} samples/s)`);
    if (fake) console.log(`stand-in stored         ${fake.stored.size} distinct lines`);
  } finally {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
