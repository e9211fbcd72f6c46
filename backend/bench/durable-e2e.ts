/**
 * End-to-end check of durable mode against a real InfluxDB 1.x (`influxd`),
 * with the real backend process (`node --import tsx backend/src/server.ts`):
 *
 *  A. tag escaping: vehicle_ids full of commas, spaces, '=', quotes,
 *     backslashes and non-ASCII go in over HTTP and must come back from
 *     InfluxDB unchanged (ids durable validation refuses must get 400);
 *  B. SIGKILL at random moments while publishers run (--cycles, default 100);
 *  C. an InfluxDB stall (SIGSTOP/SIGCONT) with a kill in the middle;
 *  D. an InfluxDB outage (influxd stopped, restarted later) with kills;
 *  E. drain, graceful SIGTERM, then compare what InfluxDB holds with what was
 *     acknowledged: lost = acknowledged but not stored (must be 0),
 *     unexpected = stored but never sent (must be 0).
 *
 *   npx tsx backend/bench/durable-e2e.ts [--cycles 100] [--workers 8] [--interval-ms 5] [--stall-sec 8] [--outage-sec 15]
 *
 * Everything runs on loopback in a temp dir; every process is stopped at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { timestampToMs } from '../../models/payload';
import { startInfluxd } from '../../runners/stack/influxd';
import { ManagedProcess } from '../../runners/stack/managedProcess';
import { freePort, httpAnswers, pollUntil } from '../../runners/stack/net';
import { vehicleIdProblem } from '../src/durable/validate';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const CYCLES = Number(arg('cycles', '100'));
const WORKERS = Number(arg('workers', '8'));
const INTERVAL_MS = Number(arg('interval-ms', '5'));
const STALL_SEC = Number(arg('stall-sec', '8'));
const OUTAGE_SEC = Number(arg('outage-sec', '15'));
const KEEP = process.argv.includes('--keep');

const API_KEY = 'e2e-key';
const DB = 'e2e';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const key = (id: string, ms: number) => `${id}\u0000${ms}`;

interface Ledger {
  attempted: Set<string>;
  acked: Map<string, number>; // key -> pose_x sent
  statuses: Map<number, number>;
  networkErrors: number;
}

async function post(base: string, body: unknown): Promise<number> {
  const res = await fetch(`${base}/api/v1/telemetry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  await res.arrayBuffer();
  return res.status;
}

async function queryAll(url: string): Promise<Map<string, number>> {
  const stored = new Map<string, number>();
  const res = await fetch(`${url}/query?db=${DB}&epoch=ms`, {
    method: 'POST',
    body: new URLSearchParams({ q: 'SELECT pose_x FROM telemetry GROUP BY vehicle_id' }),
  });
  const json = (await res.json()) as {
    results: Array<{ error?: string; series?: Array<{ tags: { vehicle_id: string }; values: Array<[number, number]> }> }>;
  };
  const r0 = json.results[0]!;
  if (r0.error) throw new Error(`query failed: ${r0.error}`);
  for (const s of r0.series ?? []) for (const [t, x] of s.values) stored.set(key(s.tags.vehicle_id, t), x);
  return stored;
}

async function metric(base: string, name: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'durable-e2e-'));
  const t0 = Date.now();
  const influx = await startInfluxd({ runDir, logsDir: runDir, databases: [DB] });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const backend = new ManagedProcess({
    name: 'backend',
    command: process.execPath,
    args: ['--import', 'tsx', join(ROOT, 'backend/src/server.ts')],
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      API_KEY,
      INFLUX_URL: influx.url,
      INFLUX_BUCKET: DB,
      INGEST_MODE: 'durable',
      DATA_DIR: join(runDir, 'backend-data'),
      INFLUX_WRITE_TIMEOUT_MS: '3000',
    },
    logFile: join(runDir, 'backend.log'),
    waitReady: (signal) => pollUntil(() => httpAnswers(`${base}/api/v1/healthz`, [200]), signal, 20),
  });
  const ledger: Ledger = { attempted: new Set(), acked: new Map(), statuses: new Map(), networkErrors: 0 };
  const restartMs: number[] = [];
  let stopPublishers = false;
  try {
    await backend.start();
    console.log(`influxd ${influx.version} at ${influx.url}; backend at ${base}; run dir ${runDir}`);

    // A. escaping ------------------------------------------------------------
    const tricky = ['a b,c=d', 'quote"x', 'mid\\back', 'dbl\\\\back', 'ünï€😀', 'x=1,y=2 z', ' lead', 'trail ', '#hash', "it's", 'end\\', 'a\\ b', 'nl\nx', ''];
    const generated = fc.sample(fc.string({ unit: fc.constantFrom('a', ' ', ',', '=', '"', '\\', 'é', '😀', '\n', "'", 'Z'), minLength: 0, maxLength: 12 }), { numRuns: 300, seed: 42 });
    const ids = [...new Set([...tricky, ...generated])];
    let escOk = 0;
    let escBadStatus = 0;
    let msBase = Date.now() - 5000;
    for (const id of ids) {
      const ms = msBase++;
      const body = { vehicle_id: id, timestamp: (ms + 0.5) / 1000, pose: { x: ms % 1000, z: 0 } };
      const status = await post(base, body);
      const expected = vehicleIdProblem(id) === null ? 200 : 400;
      if (status !== expected) {
        escBadStatus++;
        console.log(`escaping: ${JSON.stringify(id)} answered ${status}, expected ${expected}`);
      }
      if (status === 200) {
        ledger.attempted.add(key(id, ms));
        ledger.acked.set(key(id, ms), ms % 1000);
        escOk++;
      }
    }
    console.log(`A. escaping: ${ids.length} ids, ${escOk} accepted, ${ids.length - escOk} refused (400), status mismatches: ${escBadStatus}`);

    // B-D. publishers ---------------------------------------------------------
    const workers = Array.from({ length: WORKERS }, async (_, w) => {
      const id = `e2e-w${w}`;
      let last = 0;
      let seq = 0;
      for (let i = 0; i < 100_000_000 && !stopPublishers; i++) {
        const ms = Math.max(last + 1, Date.now());
        last = ms;
        const ts = (ms + 0.5) / 1000;
        if (timestampToMs(ts) !== ms) throw new Error('timestamp conversion drift');
        const x = seq++;
        const k = key(id, ms);
        ledger.attempted.add(k);
        try {
          const status = await post(base, { vehicle_id: id, timestamp: ts, pose: { x, z: -x }, control: { steering: 0.1, throttle: 0.2 } });
          ledger.statuses.set(status, (ledger.statuses.get(status) ?? 0) + 1);
          if (status === 200) ledger.acked.set(k, x);
          else await sleep(20);
        } catch {
          ledger.networkErrors++;
          await sleep(20);
        }
        if (INTERVAL_MS > 0) await sleep(INTERVAL_MS);
      }
    });

    const kill = async () => {
      await backend.crash();
      const s = Date.now();
      await backend.start();
      restartMs.push(Date.now() - s);
    };

    // B. random SIGKILLs
    for (let c = 1; c <= CYCLES; c++) {
      await sleep(100 + Math.random() * 500);
      await kill();
      if (c % 25 === 0) console.log(`B. ${c}/${CYCLES} kill/restart cycles, ${ledger.acked.size} acknowledged so far`);
    }

    // C. InfluxDB stall, with a kill in the middle
    influx.process.signal('SIGSTOP');
    await sleep((STALL_SEC * 1000) / 2);
    await kill();
    await sleep((STALL_SEC * 1000) / 2);
    const depthStall = await metric(base, 'telemetry_wal_depth_samples');
    influx.process.signal('SIGCONT');
    console.log(`C. stall ${STALL_SEC}s done (log depth at the end of the stall: ${depthStall})`);

    // D. InfluxDB outage, with kills
    await influx.process.stop();
    for (let i = 0; i < 3; i++) {
      await sleep((OUTAGE_SEC * 1000) / 3);
      await kill();
    }
    const depthOutage = await metric(base, 'telemetry_wal_depth_samples');
    const age = await metric(base, 'telemetry_wal_oldest_unshipped_age_seconds');
    await influx.process.start();
    console.log(`D. outage ${OUTAGE_SEC}s done (log depth ${depthOutage}, oldest unshipped ${age?.toFixed(1)} s)`);

    await sleep(2000);
    stopPublishers = true;
    await Promise.all(workers);

    // E. drain, graceful stop, verify
    const drainStart = Date.now();
    for (let i = 0; i < 1200; i++) {
      if ((await metric(base, 'telemetry_wal_depth_samples')) === 0) break;
      await sleep(100);
    }
    const drainMs = Date.now() - drainStart;
    const termStart = Date.now();
    const code = await backend.stop(15_000);
    console.log(`E. drained in ${drainMs} ms; SIGTERM -> exit code ${code} in ${Date.now() - termStart} ms`);

    const stored = await queryAll(influx.url);
    let lost = 0;
    let wrongValue = 0;
    for (const [k, x] of ledger.acked) {
      const got = stored.get(k);
      if (got === undefined) lost++;
      else if (got !== x) wrongValue++;
    }
    let unexpected = 0;
    for (const k of stored.keys()) if (!ledger.attempted.has(k)) unexpected++;
    const sortedRestart = [...restartMs].sort((a, b) => a - b);
    console.log('--- result ---');
    console.log(`kill/restart cycles: ${restartMs.length}; restart-to-ready ms p50 ${sortedRestart[Math.floor(sortedRestart.length / 2)]} max ${sortedRestart[sortedRestart.length - 1]}`);
    console.log(`sent ${ledger.attempted.size}, acknowledged ${ledger.acked.size}, statuses ${JSON.stringify(Object.fromEntries(ledger.statuses))}, network errors ${ledger.networkErrors}`);
    console.log(`stored ${stored.size}; LOST (acked, not stored) ${lost}; wrong value ${wrongValue}; UNEXPECTED (stored, never sent) ${unexpected}`);
    console.log(`elapsed ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    if (lost || wrongValue || unexpected || escBadStatus) process.exitCode = 1;
  } finally {
    stopPublishers = true;
    await backend.stop(5000).catch(() => {});
    influx.process.signal('SIGCONT');
    await influx.process.stop(5000).catch(() => {});
    if (!KEEP) rmSync(runDir, { recursive: true, force: true });
    else console.log(`kept ${runDir}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

