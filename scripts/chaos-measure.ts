/**
 * One-off chaos measurements (minutes each, not part of `npm test`):
 *
 *   npx tsx scripts/chaos-measure.ts loss-table [--seconds 60] [--outage 20] [--rate 10]
 *     the per-stage loss table of an N Hz run with an InfluxDB outage, under
 *     both publisher policies, for the legacy backend with the library's
 *     defaults (60 s flush), with a 1 s flush, and with the CI's scaled budget;
 *
 *   npx tsx scripts/chaos-measure.ts shortest-outage [--outages 60,90,120,150] [--rate 10]
 *     the shortest InfluxDB outage that loses acknowledged samples with the
 *     library's default retry options (5 retries, 5..125 s apart, 180 s,
 *     32 000 lines), a 1 s flush; each outage on a stack of its own, in
 *     parallel; with the loss split by the backend's evidence.
 *
 *   npx tsx scripts/chaos-measure.ts finding <name> [--seed 1] [--minutes 5]
 *     one catalogue finding against the legacy backend (CI-scaled retry
 *     budget), shrunk to its minimal case: influx-blackhole, influxd-pause,
 *     restart-during-outage (names listed by --help).
 *
 * Each run starts its own stack(s) and stops them, whatever happens.
 */
import { Command } from 'commander';
import { buildChaosPlan, chaosPlanArb, describeChaosPlan, type ChaosPlan, type ChaosPlanOptions } from '../chaos/chaosPlan';
import { ackStoredAfterHealing } from '../chaos/judges';
import { COMPRESSED_PUBLISHER } from '../chaos/profiles';
import { chaosSettings, runChaosProperty } from '../properties/engine/chaosProperty';
import { labelOf } from '../properties/engine/selfTest';
import type { Fault } from '../chaos/faults';
import { REAL_PUBLISHER } from '../chaos/profiles';
import type { PolicyName } from '../chaos/publisherPolicy';
import { DEFAULT_CONTRACT } from '../models/contract';
import { describeStages, lossTable, type StageReport } from '../models/stages';
import { ownChaosTarget } from '../properties/engine/chaosSelfTest';
import { executeChaosPlan, type ChaosAttempt } from '../runners/chaosRun';
import type { BackendSpec } from '../runners/stack/backendProcess';

const SCALED: Record<string, string> = {
  INFLUX_MAX_RETRIES: '2', INFLUX_MIN_RETRY_DELAY_MS: '100', INFLUX_MAX_RETRY_DELAY_MS: '300', INFLUX_MAX_RETRY_TIME_MS: '1500', INFLUX_MAX_BUFFER_LINES: '30',
};

function stream(rateHz: number, seconds: number, faults: Fault[], policy: PolicyName): ChaosPlan {
  const n = Math.floor(rateHz * seconds);
  return buildChaosPlan({
    runId: 'measure0', payloadSeed: 42, trajectoryPoints: 0, policy, stalledSseClients: 0,
    vehicles: [{ rateHz, startDelayMs: 0, slots: Array.from({ length: n }, (_, i) => i) }],
    faults,
  });
}

async function onOwnStack<T>(spec: BackendSpec, fn: (t: Awaited<ReturnType<typeof ownChaosTarget>>) => Promise<T>): Promise<T> {
  const t = await ownChaosTarget(spec);
  try {
    return await fn(t);
  } finally {
    await t.stop();
  }
}

/** Lost samples per piece of evidence reason (retries_exhausted / max_retry_time / buffer_overflow / crash...). */
function lossReasons(a: ChaosAttempt): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of a.stages.perSample) {
    if (s.stage !== 'lost_in_backend') continue;
    const m = s.evidence ? /^(\w+)(?: \(([^)]+)\))?/.exec(s.evidence) : null;
    const key = m ? (m[2] ?? m[1]!) : String(s.cause);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function lossTableCmd(o: { seconds: number; outage: number; rate: number; at: number; config?: string }): Promise<void> {
  const configs: Array<{ label: string; spec: BackendSpec; drainMs: number }> = [
    { label: 'legacy, library defaults (flush 60 s)', spec: { kind: 'reference', mode: 'legacy' }, drainMs: 90_000 },
    { label: 'legacy, flush 1 s', spec: { kind: 'reference', mode: 'legacy', flushIntervalMs: 1_000 }, drainMs: 30_000 },
    { label: 'legacy, flush 200 ms, CI-scaled retry budget', spec: { kind: 'reference', mode: 'legacy', flushIntervalMs: 200, env: SCALED }, drainMs: 10_000 },
  ];
  const outage: Fault = { kind: 'outage', target: 'influx', at: o.at * 1_000, duration: o.outage * 1_000, params: {} };
  // One config per process keeps the publisher's event loop free (a late reply handler reads as "busy").
  const chosen = o.config === undefined ? configs : [configs[Number(o.config)]!];
  const results = await Promise.all(chosen.map((c) => onOwnStack(c.spec, async (t) => {
    const cols: Array<{ label: string; report: StageReport; reasons: Record<string, number> }> = [];
    for (const policy of ['jetson', 'retry'] as const) {
      log(`${c.label}, ${policy}: ${o.rate} Hz for ${o.seconds} s, InfluxDB outage ${o.outage} s at ${o.at} s`);
      const a = await executeChaosPlan(stream(o.rate, o.seconds, [outage], policy), t.env, {
        contract: DEFAULT_CONTRACT, publisher: REAL_PUBLISHER, recoveryBoundMs: 10_000, drainBoundMs: c.drainMs, pollIntervalMs: 500,
      });
      log(`${c.label}, ${policy}: ${describeStages(a.stages)} (${Math.round(a.durationMs / 1000)} s)`);
      cols.push({ label: policy, report: a.stages, reasons: lossReasons(a) });
    }
    return { config: c.label, cols };
  })));
  console.log(`\n## ${o.rate} Hz for ${o.seconds} s, InfluxDB outage of ${o.outage} s at t = ${o.at} s (real publisher timings: 1 s .. 30 s back-off, 2 s timeout)\n`);
  for (const r of results) {
    console.log(`### ${r.config}\n`);
    console.log(lossTable(r.cols));
    for (const c of r.cols) if (Object.keys(c.reasons).length) console.log(`\n${c.label}: lost in backend by evidence: ${JSON.stringify(c.reasons)}`);
    console.log('');
  }
}

async function shortestOutageCmd(o: { outages: number[]; rate: number; drain: number }): Promise<void> {
  const spec: BackendSpec = { kind: 'reference', mode: 'legacy', flushIntervalMs: 1_000 };
  const rows = await Promise.all(o.outages.map((secs) => onOwnStack(spec, async (t) => {
    const at = 2_000;
    const plan = stream(o.rate, at / 1000 + secs + 5, [{ kind: 'outage', target: 'influx', at, duration: secs * 1_000, params: {} }], 'jetson');
    log(`outage ${secs} s: ${plan.plan.requests.length} samples, drain up to ${o.drain / 1000} s after the heal`);
    const a = await executeChaosPlan(plan, t.env, {
      contract: DEFAULT_CONTRACT, publisher: REAL_PUBLISHER, recoveryBoundMs: 10_000, drainBoundMs: o.drain, pollIntervalMs: 1_000,
    });
    const reasons = lossReasons(a);
    log(`outage ${secs} s: ${describeStages(a.stages)}; by evidence ${JSON.stringify(reasons)}`);
    return { secs, lost: a.stages.counts.lost_in_backend, acked: a.stages.acknowledged, reasons, causes: a.stages.backendCauses };
  })));
  console.log('\n| InfluxDB outage | acknowledged | lost in backend | retries exhausted (count / max retry time) | buffer overflow |');
  console.log('| ---: | ---: | ---: | --- | ---: |');
  for (const r of rows) {
    console.log(`| ${r.secs} s | ${r.acked} | ${r.lost} | ${r.causes.retries_exhausted} (${r.reasons.retries_exhausted ?? 0} / ${r.reasons.max_retry_time ?? 0}) | ${r.causes.buffer_overflow} |`);
  }
  const losing = rows.filter((r) => r.lost > 0).sort((a, b) => a.secs - b.secs)[0];
  console.log(`\nshortest losing outage among those tried: ${losing ? `${losing.secs} s` : 'none'}`);
}

/** Catalogue findings beyond the CI self-tests, each shrunk to a minimal case. */
interface Finding {
  what: string;
  plans: ChaosPlanOptions;
  /** Default: legacy, flush 200 ms, the CI-scaled retry budget. */
  backend?: BackendSpec;
  drainMs?: number;
}

const FINDINGS: Record<string, Finding> = {
  'influx-blackhole': {
    what: 'InfluxDB link blackholed (timeout toxic, data dropped, connection held) longer than the retry budget',
    plans: { windowMs: 3_000, faults: { kinds: ['blackhole'], targets: ['influx'], minFaults: 1, maxFaults: 1, minDurationMs: 500, maxDurationMs: 3_000 } },
  },
  'influxd-pause': {
    // A stall shorter than the client's 10 s request timeout is absorbed: the held write completes on SIGCONT.
    what: 'influxd stalled (SIGSTOP) past the client\'s 10 s request timeout and the retry budget',
    plans: { windowMs: 14_000, maxSlots: 5, faults: { kinds: ['pause'], targets: ['influxd'], minFaults: 1, maxFaults: 1, minDurationMs: 2_000, maxDurationMs: 13_000 } },
  },
  'restart-during-outage': {
    // With the library's own retry budget an outage of a second is harmless, unless the backend restarts meanwhile.
    what: 'a graceful backend restart (SIGTERM) during a short InfluxDB outage, library retry defaults',
    plans: { windowMs: 2_000, faults: { kinds: ['outage', 'restart'], targets: ['influx', 'backend'], minFaults: 1, maxFaults: 3, maxDurationMs: 1_000, params: { restartGraceMs: { min: 2_000, max: 2_000 } } } },
    backend: { kind: 'reference', mode: 'legacy', flushIntervalMs: 200 },
    drainMs: 12_000,
  },
};

async function findingCmd(name: string, o: { seed: number; minutes: number }): Promise<void> {
  const f = FINDINGS[name];
  if (!f) throw new Error(`unknown finding ${JSON.stringify(name)}: one of ${Object.keys(FINDINGS).join(', ')}`);
  const spec: BackendSpec = f.backend ?? { kind: 'reference', mode: 'legacy', flushIntervalMs: 200, env: SCALED };
  const t = await ownChaosTarget(spec);
  try {
    const out = await runChaosProperty({
      name: `finding ${name}`, file: 'scripts/chaos-measure.ts', testName: name,
      arbitrary: chaosPlanArb(f.plans), judge: ackStoredAfterHealing, env: () => t.env,
      run: { contract: DEFAULT_CONTRACT, publisher: COMPRESSED_PUBLISHER, recoveryBoundMs: 5_000, drainBoundMs: f.drainMs ?? 1_500, pollIntervalMs: 100 },
      backendLabel: labelOf(spec), log,
      replay: (seed, path) => `${path ? `TP_PATH=${path} ` : ''}npx tsx scripts/chaos-measure.ts finding ${name} --seed ${seed}`,
    }, { ...chaosSettings({ numRuns: 20, repeats: 2, timeBudgetMs: o.minutes * 60_000, seed: o.seed }) });
    console.log(`\n## ${f.what}\n`);
    const a = out.failure?.attempt;
    if (!a) { console.log(out.ok ? `held over ${out.numRuns} plan(s): no finding` : `error: ${out.failure?.error}`); return; }
    console.log(`minimal case after ${out.failure!.shrinkSteps} shrink step(s) (seed ${o.seed}):\n${describeChaosPlan(a.chaos)}\n${describeStages(a.stages)}`);
    console.log(a.stages.perSample.filter((x) => x.stage !== 'stored').map((x) => `  ${x.requestId}: ${x.stage}${x.cause ? ` (${x.cause})` : ''}${x.evidence ? ` — ${x.evidence}` : ''}`).join('\n'));
    console.log(`case: ${out.failure!.caseDir}`);
  } finally {
    await t.stop();
  }
}

const program = new Command().name('chaos-measure');
program.command('finding <name>')
  .description(`one of: ${Object.keys(FINDINGS).join(', ')}`)
  .option('--seed <n>', 'fast-check seed', '1').option('--minutes <n>', 'time budget', '5')
  .action(async (name: string, x) => findingCmd(name, { seed: Number(x.seed), minutes: Number(x.minutes) }));
program.command('loss-table')
  .option('--seconds <n>', 'run length', '60').option('--outage <n>', 'outage length (s)', '20').option('--at <n>', 'outage start (s)', '20').option('--rate <hz>', 'publish rate', '10')
  .option('--config <i>', 'only backend config i (0 library defaults, 1 flush 1 s, 2 CI-scaled budget)')
  .action(async (x) => lossTableCmd({ seconds: Number(x.seconds), outage: Number(x.outage), at: Number(x.at), rate: Number(x.rate), ...(x.config !== undefined ? { config: String(x.config) } : {}) }));
program.command('shortest-outage')
  .option('--outages <list>', 'outage lengths to try (s)', '60,90,120,150').option('--rate <hz>', 'publish rate', '10').option('--drain <s>', 'store watch after the heal (s)', '200')
  .action(async (x) => shortestOutageCmd({ outages: String(x.outages).split(',').map(Number), rate: Number(x.rate), drain: Number(x.drain) * 1_000 }));
await program.parseAsync();
