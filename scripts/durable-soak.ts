/**
 * Durable-mode soaks with the framework's own chaos runner (minutes each,
 * not part of `npm test`). Each starts a stack of its own (influxd,
 * toxiproxy-server, the durable reference backend), plays one long chaos plan
 * and judges it with the chaos properties; every count comes from the
 * checker (models/checker.ts) and the stage attribution (models/stages.ts).
 *
 *   npx tsx scripts/durable-soak.ts kills [--cycles 110] [--rate 20] [--vehicles 2] [--policy jetson|retry] [--seed 1]
 *     SIGKILL the backend at random moments (seeded), restart it, repeat.
 *
 *   npx tsx scripts/durable-soak.ts outage [--outage-sec 200] [--kills 3] [--stall-sec 8] [--rate 20] [--policy retry|jetson]
 *     an InfluxDB outage (its proxy disabled) longer than legacy's 180 s
 *     retry budget with SIGKILLs inside it, then an influxd stall (SIGSTOP)
 *     with a SIGKILL of the backend in the middle.
 *
 * Prints the per-stage loss table and the verdict's counts; exits 1 if any
 * acknowledged sample was lost or anything unexpected was stored.
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { buildChaosPlan, type ChaosPlan } from '../chaos/chaosPlan';
import type { Fault } from '../chaos/faults';
import { chaosJudge, DEFAULT_BOUNDS } from '../chaos/profiles';
import type { PolicyName } from '../chaos/publisherPolicy';
import { DEFAULT_CONTRACT } from '../models/contract';
import { describeStages, lossTable } from '../models/stages';
import { ownChaosTarget } from '../properties/engine/chaosSelfTest';
import { executeChaosPlan, type ChaosAttempt, type ChaosRunOptions } from '../runners/chaosRun';

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** The car: compressed back-off, but a retry budget long enough to ride out a restart. */
const PUBLISHER: NonNullable<ChaosRunOptions['publisher']> = {
  backoff: { baseMs: 100, capMs: 2_000 },
  retry: { maxAttempts: 50, maxElapsedMs: 8_000 },
  requestTimeoutMs: 2_000,
  catchUpMs: 10_000,
};

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function stream(o: { rate: number; vehicles: number; seconds: number; policy: PolicyName; faults: Fault[] }): ChaosPlan {
  const n = Math.floor(o.rate * o.seconds);
  return buildChaosPlan({
    runId: 'dursoak0', payloadSeed: 42, trajectoryPoints: 20, policy: o.policy, stalledSseClients: 0,
    vehicles: Array.from({ length: o.vehicles }, (_, v) => ({ rateHz: o.rate, startDelayMs: Math.round((v * 1000) / o.rate / o.vehicles), slots: Array.from({ length: n }, (_, i) => i) })),
    faults: o.faults,
  });
}

function report(label: string, a: ChaosAttempt): boolean {
  const c = a.verdict.counts;
  const j = chaosJudge({ ...DEFAULT_BOUNDS, maxRssSlopeMBPerMin: 1e6 })(a);
  const recs = a.nemesis?.records ?? [];
  const byKind = (k: string) => recs.filter((r) => r.fault.kind === k);
  const verified = (k: string) => byKind(k).filter((r) => r.startVerified && r.endVerified).length;
  const t = a.verdict.tally;
  console.log(`\n## ${label}\n`);
  console.log(`plan: ${a.chaos.plan.requests.length} samples, ${recs.length} faults (${['kill', 'outage', 'pause'].map((k) => `${k} ${verified(k)}/${byKind(k).length} verified`).join(', ')}), ran ${Math.round(a.durationMs / 1000)} s, policy ${a.chaos.policy}`);
  console.log(`replies: sent ${t.sent}, acknowledged ${t.acknowledged}, refused ${t.rejected}, no reply ${t.unknown}; never sent ${a.history.neverSent?.length ?? 0}`);
  console.log(`verdict: lost ${c.lost}, unexpected ${c.unexpected}, collapsed ${c.collapsed}, corrupted ${c.corrupted}, stored after reject ${c.stored_after_reject}, recovered (unknown reply, stored) ${c.recovered}`);
  console.log(`backend: max RSS ${((a.resources.maxRssBytes ?? 0) / 2 ** 20).toFixed(0)} MB, unexpected restarts ${a.unexpectedBackendStarts}, reply p99 ${a.latency.p99Ms} ms, recovered after final heal in ${a.recovery.afterHealMs} ms`);
  const refusals = new Map<string, number>();
  for (const r of a.history.requests) {
    for (const t of r.attempts ?? [{ sentAtMs: r.sentAtMs, outcome: r.outcome }]) {
      if (t.outcome?.kind !== 'response' || t.outcome.status < 300) continue;
      const k = `${t.outcome.status} ${t.outcome.body.replace(/[\d.]+s"/, 'N s"').slice(0, 70)}`;
      refusals.set(k, (refusals.get(k) ?? 0) + 1);
    }
  }
  if (refusals.size) console.log(`refused tries by reply: ${[...refusals].map(([k, n]) => `${n} × ${k}`).join('; ')}`);
  const odd = a.verdict.perSample.filter((v) => v.categories.some((c) => c !== 'recovered')).slice(0, 10);
  for (const v of odd) console.log(`  ${v.requestId} ${v.categories.join(',')}: ${v.details.join('; ')}`);
  if (process.env.SOAK_DUMP) writeFileSync(process.env.SOAK_DUMP, JSON.stringify({ history: a.history, verdict: a.verdict }) + '\n');
  console.log(`stages: ${describeStages(a.stages)}\n`);
  console.log(lossTable([{ label, report: a.stages }]));
  console.log(`\nchaos properties: ${j.ok ? 'PASS' : 'FAIL'}${j.ok ? '' : `\n  ${j.details.slice(0, 20).join('\n  ')}`}`);
  return j.ok && c.lost === 0 && c.unexpected === 0 && c.collapsed === 0 && c.corrupted === 0;
}

async function killsCmd(o: { cycles: number; rate: number; vehicles: number; policy: PolicyName; seed: number }): Promise<boolean> {
  const rnd = mulberry32(o.seed);
  // Random moments: each kill 2–5 s after the previous one's planned end; down 0–500 ms.
  const faults: Fault[] = [];
  let at = 1_000;
  for (let i = 0; i < o.cycles; i++) {
    const duration = Math.round(rnd() * 500);
    faults.push({ kind: 'kill', target: 'backend', at, duration, params: {} });
    at += duration + 2_000 + Math.round(rnd() * 3_000);
  }
  const seconds = at / 1000 + 1;
  const t = await ownChaosTarget({ kind: 'reference', mode: 'durable' });
  try {
    log(`kills: ${o.cycles} SIGKILLs over ${seconds.toFixed(0)} s, ${o.vehicles} × ${o.rate} Hz, policy ${o.policy}, seed ${o.seed}`);
    const a = await executeChaosPlan(stream({ ...o, seconds, faults }), t.env, {
      contract: DEFAULT_CONTRACT, publisher: PUBLISHER, recoveryBoundMs: 10_000, drainBoundMs: 20_000, pollIntervalMs: 1_000,
      onEvent: (l) => { if (!l.startsWith('[nemesis] ')) log(l); },
    });
    const starts = t.env.backend?.starts?.length ?? 0;
    console.log(`backend process starts during the stack's life: ${starts}`);
    return report(`durable, ${o.cycles} SIGKILLs (${o.policy})`, a);
  } finally {
    await t.stop();
  }
}

async function outageCmd(o: { outageSec: number; kills: number; stallSec: number; rate: number; vehicles: number; policy: PolicyName }): Promise<boolean> {
  const faults: Fault[] = [];
  const outageAt = 2_000;
  const outageMs = o.outageSec * 1_000;
  faults.push({ kind: 'outage', target: 'influx', at: outageAt, duration: outageMs, params: {} });
  for (let k = 1; k <= o.kills; k++) faults.push({ kind: 'kill', target: 'backend', at: outageAt + Math.round((k * outageMs) / (o.kills + 1)), duration: 300, params: {} });
  // Then the influxd stall, a kill of the backend in its middle.
  const stallAt = outageAt + outageMs + 10_000;
  if (o.stallSec > 0) {
    faults.push({ kind: 'pause', target: 'influxd', at: stallAt, duration: o.stallSec * 1_000, params: {} });
    faults.push({ kind: 'kill', target: 'backend', at: stallAt + Math.round((o.stallSec * 1_000) / 2), duration: 300, params: {} });
  }
  const seconds = (stallAt + o.stallSec * 1_000 + 10_000) / 1000;
  const t = await ownChaosTarget({ kind: 'reference', mode: 'durable' });
  try {
    log(`outage: InfluxDB away ${o.outageSec} s with ${o.kills} SIGKILLs inside, then influxd SIGSTOP ${o.stallSec} s with a SIGKILL inside; ${o.vehicles} × ${o.rate} Hz for ${seconds.toFixed(0)} s, policy ${o.policy}`);
    const a = await executeChaosPlan(stream({ ...o, seconds, faults }), t.env, {
      contract: DEFAULT_CONTRACT, publisher: PUBLISHER, recoveryBoundMs: 15_000, drainBoundMs: 60_000, pollIntervalMs: 1_000,
      onEvent: (l) => { if (!l.startsWith('[nemesis] ')) log(l); },
    });
    return report(`durable, ${o.outageSec} s InfluxDB outage + ${o.stallSec} s stall (${o.policy})`, a);
  } finally {
    await t.stop();
  }
}

const program = new Command().name('durable-soak');
program.command('kills')
  .option('--cycles <n>', 'SIGKILL/restart cycles', '110')
  .option('--rate <hz>', 'per vehicle', '20')
  .option('--vehicles <n>', 'vehicles', '2')
  .option('--policy <p>', 'jetson or retry', 'jetson')
  .option('--seed <n>', 'seed of the kill moments', '1')
  .action(async (f: Record<string, string>) => {
    process.exitCode = (await killsCmd({ cycles: Number(f.cycles), rate: Number(f.rate), vehicles: Number(f.vehicles), policy: f.policy as PolicyName, seed: Number(f.seed) })) ? 0 : 1;
  });
program.command('outage')
  .option('--outage-sec <s>', 'InfluxDB outage length', '200')
  .option('--kills <n>', 'SIGKILLs of the backend during the outage', '3')
  .option('--stall-sec <s>', 'influxd SIGSTOP length afterwards (0: none)', '8')
  .option('--rate <hz>', 'per vehicle', '20')
  .option('--vehicles <n>', 'vehicles', '2')
  .option('--policy <p>', 'jetson or retry', 'retry')
  .action(async (f: Record<string, string>) => {
    process.exitCode = (await outageCmd({ outageSec: Number(f.outageSec), kills: Number(f.kills), stallSec: Number(f.stallSec), rate: Number(f.rate), vehicles: Number(f.vehicles), policy: f.policy as PolicyName })) ? 0 : 1;
  });
program.parseAsync().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 2;
});
