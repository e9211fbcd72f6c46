import { buildChaosPlan } from './chaos/chaosPlan';
import { DEFAULT_CONTRACT } from './models/contract';
import { ownChaosTarget } from './properties/engine/chaosSelfTest';
import { executeChaosPlan } from './runners/chaosRun';
const t = await ownChaosTarget({ kind: 'reference', mode: 'durable' });
const t0 = Date.now();
let stop = false;
const poll = (async () => {
  while (!stop) {
    try {
      const m = await (await fetch(`${t.env.info.backend.directUrl}/metrics`, { signal: AbortSignal.timeout(1000) })).text();
      const g = (n: string) => (new RegExp(`^${n} (\\S+)$`, 'm').exec(m)?.[1] ?? '?');
      const f = [...m.matchAll(/^telemetry_influx_write_failures_total\{class="(\w+)"\} (\d+)$/gm)].filter((x) => x[2] !== '0').map((x) => `${x[1]}=${x[2]}`).join(',');
      console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s depth=${g('telemetry_wal_depth_samples')} written=${g('telemetry_influx_lines_written_total')} fails=${f} retryIn=${g('telemetry_influx_retry_in_seconds')}`);
    } catch (e) { console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s metrics: ${(e as Error).message}`); }
    await new Promise((r) => setTimeout(r, 1000));
  }
})();
try {
  const slots = Array.from({ length: 300 }, (_, i) => i);
  const cp = buildChaosPlan({ runId: 'diag0000', payloadSeed: 1, trajectoryPoints: 0, policy: 'retry', stalledSseClients: 0,
    vehicles: [{ rateHz: 10, startDelayMs: 0, slots }],
    faults: [{ kind: 'pause', target: 'influxd', at: 3000, duration: 8000, params: {} }, { kind: 'kill', target: 'backend', at: 7000, duration: 300, params: {} }] });
  const a = await executeChaosPlan(cp, t.env, { contract: DEFAULT_CONTRACT, recoveryBoundMs: 10_000, drainBoundMs: 60_000, pollIntervalMs: 1000 });
  const h = a.history; const st = new Map(h.store.map((s) => [s.timeMs, s.firstSeenAtMs]));
  const rows = h.requests.filter((_, i) => i % 10 === 0).map((r) => { const b = JSON.parse(r.body); return `${((r.sentAtMs - h.startedAtMs) / 1000).toFixed(1)}->${(((st.get(Math.trunc(b.timestamp * 1000)) ?? NaN) - h.startedAtMs) / 1000).toFixed(1)}`; });
  console.log('run start offset', ((h.startedAtMs - t0) / 1000).toFixed(1), 'sent->firstSeen (s from run start):', rows.join(' '));
  console.log('lost', a.verdict.counts.lost, 'late', a.verdict.counts.late);
} finally { stop = true; await poll; await t.stop(); }
