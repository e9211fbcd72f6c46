/**
 * Legacy vs durable over HTTP: closed-loop load against the real backend
 * process (same machine, same InfluxDB 1.x it starts itself), reporting
 * acknowledged requests per second and ack latency. Durable acknowledges
 * after fdatasync; legacy after queueing in memory.
 *
 *   npx tsx backend/bench/http-modes.ts [--seconds 10] [--connections 32] [--profile typical|minimal]
 *
 * Each request carries a fresh (vehicle, millisecond) key, so every
 * acknowledged sample is a distinct point.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startInfluxd } from '../../runners/stack/influxd';
import { ManagedProcess } from '../../runners/stack/managedProcess';
import { freePort, httpAnswers, pollUntil } from '../../runners/stack/net';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const SECONDS = Number(arg('seconds', '10'));
const CONNECTIONS = Number(arg('connections', '32'));
const PROFILE = arg('profile', 'typical');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

const trajectory = JSON.stringify(Array.from({ length: 500 }, (_, i) => [Number((i * 0.0137).toFixed(4)), Number((-i * 0.0211).toFixed(4))]));

async function load(base: string): Promise<string> {
  const pool = new Pool(base, { connections: CONNECTIONS, pipelining: 1 });
  const lat: number[] = [];
  const statuses = new Map<number, number>();
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, w) => {
      let last = 0;
      for (let i = 0; i < 10_000_000 && performance.now() < end; i++) {
        const ms = Math.max(last + 1, Date.now());
        last = ms;
        const extra = PROFILE === 'typical' ? `,"trajectory":${trajectory}` : '';
        const body = `{"vehicle_id":"bench-c${w}","timestamp":${(ms + 0.5) / 1000},"pose":{"x":${i},"z":1.5},"control":{"steering":0.1,"throttle":0.4}${extra}}`;
        const s = performance.now();
        try {
          const res = await pool.request({ path: '/api/v1/telemetry', method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'bench' }, body });
          await res.body.dump();
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode === 200) lat.push(performance.now() - s);
        } catch {
          errors++;
        }
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  await pool.close();
  lat.sort((a, b) => a - b);
  return [(lat.length / secs).toFixed(0), pct(lat, 50).toFixed(2), pct(lat, 99).toFixed(2), JSON.stringify(Object.fromEntries(statuses)), errors].join('\t');
}

async function main(): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'http-modes-'));
  const influx = await startInfluxd({ runDir, logsDir: runDir, databases: ['bench'] });
  try {
    console.log(`# HTTP closed loop, ${CONNECTIONS} connections, ${SECONDS} s, profile ${PROFILE}, InfluxDB ${influx.version}`);
    console.log(['mode', 'acks/s', 'p50 ms', 'p99 ms', 'statuses', 'errors'].join('\t'));
    for (const mode of ['legacy', 'durable']) {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const backend = new ManagedProcess({
        name: `backend-${mode}`,
        command: process.execPath,
        args: ['--import', 'tsx', join(ROOT, 'backend/src/server.ts')],
        cwd: ROOT,
        env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), API_KEY: 'bench', INFLUX_URL: influx.url, INFLUX_BUCKET: 'bench', INGEST_MODE: mode, DATA_DIR: join(runDir, `data-${mode}`) },
        logFile: join(runDir, `backend-${mode}.log`),
        waitReady: (signal) => pollUntil(() => httpAnswers(`${base}/api/v1/healthz`, [200]), signal, 50),
      });
      await backend.start();
      try {
        console.log(`${mode}\t${await load(base)}`);
      } finally {
        await backend.stop(15_000);
      }
    }
  } finally {
    await influx.process.stop(5000);
    rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
