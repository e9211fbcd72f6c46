/**
 * `npm run chaos:soak [-- --kills 100 --outage-sec 200 --stalls 3 --seed N]`:
 * ONE long chaos plan against a stack of its own (the configured backend,
 * same TP_* configuration as `npm test`): many backend SIGKILL/restart
 * cycles at seeded random moments, one InfluxDB outage (the `influx` proxy
 * disabled) longer than the legacy client's 180 s retry budget, and
 * InfluxDB stalls (influxd SIGSTOP/SIGCONT), while vehicles publish
 * throughout. The history is judged with the chaos suite's core properties
 * (acknowledged ⇒ stored with exact values, nothing unexpected, recovery in
 * bound, backend survives) and the per-stage loss table is printed.
 *
 * A soak is one plan, not a property: it is not shrunk (minutes per
 * execution). The plan is a pure function of the options and the seed, so
 * the printed command replays it; the plan and the verdict are written to
 * reports/out/chaos-soak-<time>.{json,md}.
 *
 * Exit: 0 every property held, 1 a property failed, 2 bad options or the
 * harness itself failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { buildChaosPlan, chaosPlanDurationMs, type ChaosPlan } from './chaosPlan';
import { seededRandom } from './arbitraries';
import type { Fault } from './faults';
import { COMPRESSED_PUBLISHER, DEFAULT_BOUNDS, coreJudge } from './profiles';
import type { PolicyName } from './publisherPolicy';
import { DEFAULT_CONTRACT } from '../models/contract';
import { describeStages, lossTable } from '../models/stages';
import { executeChaosPlan, type ChaosAttempt } from '../runners/chaosRun';
import { ownChaosTarget } from '../properties/engine/chaosSelfTest';
import { REPLAY_ENV, shellQuote } from '../properties/engine/runProperty';
import { loadStackConfig } from '../runners/stack/config';
import { PROJECT_ROOT } from '../runners/stack/executables';

export interface SoakOptions {
  seed: number;
  /** Backend SIGKILL/restart cycles. */
  kills: number;
  /** Down time after each kill: uniform in [min, max] ms. */
  killDownMs: { min: number; max: number };
  /** Least time from one kill's restart to the next kill (the backend must come up in between). */
  killGapMs: number;
  /** The `influx` proxy disabled this long (0 = none), starting after the first tenth of the kills. */
  outageMs: number;
  /** influxd SIGSTOP stalls, each `stallMs` long, after the outage. */
  stalls: number;
  stallMs: number;
  vehicles: number;
  rateHz: number;
  policy: PolicyName;
}

export const DEFAULT_SOAK: Omit<SoakOptions, 'seed'> = {
  kills: 100,
  killDownMs: { min: 100, max: 1_500 },
  killGapMs: 2_500,
  outageMs: 200_000,
  stalls: 3,
  stallMs: 8_000,
  vehicles: 2,
  rateHz: 10,
  policy: 'jetson',
};

export class SoakOptionsError extends Error {
  override readonly name = 'SoakOptionsError';
}

export function validateSoak(o: SoakOptions): SoakOptions {
  const problems: string[] = [];
  const intIn = (name: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`--${name} ${v}: must be a whole number from ${min} to ${max}`);
  };
  intIn('kills', o.kills, 0, 10_000);
  intIn('kill-down-min-ms', o.killDownMs.min, 0, 60_000);
  intIn('kill-down-max-ms', o.killDownMs.max, o.killDownMs.min, 60_000);
  intIn('kill-gap-ms', o.killGapMs, 500, 600_000);
  intIn('outage-sec', o.outageMs / 1000, 0, 24 * 3600);
  intIn('stalls', o.stalls, 0, 1_000);
  intIn('stall-sec', o.stallMs / 1000, 1, 600);
  intIn('vehicles', o.vehicles, 1, 100);
  intIn('rate', o.rateHz, 1, 1_000);
  intIn('seed', o.seed, -0x80000000, 0x7fffffff);
  if (o.policy !== 'jetson' && o.policy !== 'retry') problems.push(`--policy ${String(o.policy)}: must be jetson or retry`);
  if (o.kills + o.stalls === 0 && o.outageMs === 0) problems.push('nothing to inject: give --kills, --outage-sec or --stalls');
  if (problems.length) throw new SoakOptionsError(`invalid soak options:\n  ${problems.join('\n  ')}`);
  return o;
}

/**
 * The soak plan, a pure function of its options: kills one after another
 * (each at a random moment within its own slot), the outage overlapping the
 * kills from the first tenth on (the backend crashes while InfluxDB is
 * away), then the stalls, each with a kill inside it; the vehicles publish
 * from start to end of faults plus 2 s.
 */
export function soakPlan(o: SoakOptions): ChaosPlan {
  const rnd = seededRandom(o.seed >>> 0);
  const between = (min: number, max: number) => Math.round(min + rnd() * (max - min));
  const faults: Fault[] = [];
  let t = 1_000;
  const kill = (at: number): number => {
    const duration = between(o.killDownMs.min, o.killDownMs.max);
    faults.push({ kind: 'kill', target: 'backend', at, duration, params: {} });
    return at + duration;
  };
  const outageAfterKill = Math.floor(o.kills / 10);
  let stallsLeft = o.stalls;
  let outageEnd = 0;
  for (let k = 0; k < o.kills; k++) {
    if (k === outageAfterKill && o.outageMs > 0) {
      faults.push({ kind: 'outage', target: 'influx', at: t, duration: o.outageMs, params: {} });
      outageEnd = t + o.outageMs;
    }
    // A random moment in a slot as long as the gap: crashes land anywhere in the request cycle.
    const end = kill(t + between(0, o.killGapMs));
    t = end + o.killGapMs;
    if (outageEnd > 0 && t > outageEnd && stallsLeft > 0 && k > outageAfterKill) {
      // A stall with a backend crash inside it: the WAL must not have been truncated for unconfirmed writes.
      const stallAt = Math.max(t, outageEnd + 1_000);
      faults.push({ kind: 'pause', target: 'influxd', at: stallAt, duration: o.stallMs, params: {} });
      kill(stallAt + Math.round(o.stallMs / 2));
      t = stallAt + o.stallMs + o.killGapMs;
      stallsLeft--;
    }
  }
  if (o.outageMs > 0 && outageEnd === 0) {
    faults.push({ kind: 'outage', target: 'influx', at: t, duration: o.outageMs, params: {} });
    t = outageEnd = t + o.outageMs + 1_000;
  }
  for (; stallsLeft > 0; stallsLeft--) {
    const stallAt = Math.max(t, outageEnd + 1_000);
    faults.push({ kind: 'pause', target: 'influxd', at: stallAt, duration: o.stallMs, params: {} });
    t = stallAt + o.stallMs + 1_000;
  }
  const endMs = Math.max(t, outageEnd) + 2_000;
  const slots = Math.floor((endMs * o.rateHz) / 1000);
  faults.sort((a, b) => a.at - b.at);
  return buildChaosPlan({
    runId: `soak${(o.seed >>> 0).toString(36)}`,
    vehicles: Array.from({ length: o.vehicles }, (_, v) => ({ rateHz: o.rateHz, startDelayMs: Math.round((v * 1000) / o.rateHz / o.vehicles), slots: Array.from({ length: slots }, (_, i) => i) })),
    payloadSeed: o.seed >>> 0,
    trajectoryPoints: 10,
    faults,
    policy: o.policy,
    stalledSseClients: 0,
  });
}

/** The one-line replay: the backend configuration it ran with (never secrets), then the options. */
export function soakCommand(o: SoakOptions, env: NodeJS.ProcessEnv = {}): string {
  const vars = REPLAY_ENV.filter((k) => k !== 'TP_PROFILE' && k !== 'TP_DRAIN_MS' && k !== 'TP_REPEATS' && env[k] !== undefined && env[k] !== '').map((k) => `${k}=${shellQuote(env[k]!)} `).join('');
  return `${vars}npm run chaos:soak -- --seed ${o.seed} --kills ${o.kills} --kill-down-min-ms ${o.killDownMs.min} --kill-down-max-ms ${o.killDownMs.max} --kill-gap-ms ${o.killGapMs} --outage-sec ${o.outageMs / 1000} --stalls ${o.stalls} --stall-sec ${o.stallMs / 1000} --vehicles ${o.vehicles} --rate ${o.rateHz} --policy ${o.policy}`;
}

/** The Markdown report of one soak. */
export function soakReport(o: SoakOptions, cp: ChaosPlan, a: ChaosAttempt, judged: { ok: boolean; details: string[] }, meta: { backend: string; wallMs: number }): string {
  const count = (kind: string, target: string) => cp.faults.filter((f) => f.kind === kind && f.target === target).length;
  const applied = (a.nemesis?.records ?? []).filter((r) => !r.skipped && r.startRequestedAt !== undefined);
  const problems = (a.nemesis?.records ?? []).flatMap((r) => r.problems.map((p) => `${r.description}: ${p}`));
  return [
    `# Chaos soak: ${meta.backend}`,
    '',
    `Replay: \`${soakCommand(o, process.env)}\``,
    '',
    `- Plan: ${cp.plan.requests.length} samples from ${o.vehicles} vehicle(s) at ${o.rateHz} Hz over ${(chaosPlanDurationMs(cp) / 1000).toFixed(0)} s, publisher policy ${o.policy}.`,
    `- Faults planned: ${count('kill', 'backend')} backend SIGKILL/restart, ${count('outage', 'influx')} InfluxDB outage(s) of ${o.outageMs / 1000} s, ${count('pause', 'influxd')} influxd stall(s) of ${o.stallMs / 1000} s; applied ${applied.length} of ${cp.faults.length}.`,
    `- Backend starts seen: ${a.history.backendEvents?.filter((e) => e.kind === 'process_exit').length ?? 0} exits recorded; unexpected starts (crashes): ${a.unexpectedBackendStarts}.`,
    `- Verdict: **${judged.ok ? 'PASS' : 'FAIL'}**. ${describeStages(a.stages)}.`,
    `- Reply latency of acknowledged requests: p50 ${a.latency.p50Ms ?? '–'} ms, p99 ${a.latency.p99Ms ?? '–'} ms, max ${a.latency.maxMs ?? '–'} ms; recovery after the last heal ${a.recovery.afterHealMs ?? '–'} ms.`,
    `- Backend RSS max ${a.resources.maxRssBytes !== null ? (a.resources.maxRssBytes / 2 ** 20).toFixed(0) : '–'} MB.`,
    `- Wall time ${(meta.wallMs / 60_000).toFixed(1)} min.`,
    '',
    '## Per-stage losses',
    '',
    lossTable([{ label: o.policy, report: a.stages }]),
    '',
    ...(judged.details.length ? ['## Property details', '', ...judged.details.slice(0, 30).map((d) => `- ${d}`), ''] : []),
    ...(problems.length ? ['## Nemesis problems', '', ...problems.slice(0, 30).map((p) => `- ${p}`), ''] : []),
  ].join('\n');
}

async function main(): Promise<void> {
  const program = new Command()
    .name('chaos:soak')
    .option('--seed <n>', 'seed of the kill moments and down times (default: fresh)')
    .option('--kills <n>', 'backend SIGKILL/restart cycles', String(DEFAULT_SOAK.kills))
    .option('--kill-down-min-ms <ms>', 'shortest down time after a kill', String(DEFAULT_SOAK.killDownMs.min))
    .option('--kill-down-max-ms <ms>', 'longest down time after a kill', String(DEFAULT_SOAK.killDownMs.max))
    .option('--kill-gap-ms <ms>', 'least time between a restart and the next kill', String(DEFAULT_SOAK.killGapMs))
    .option('--outage-sec <s>', 'InfluxDB outage (influx proxy disabled); 0 = none', String(DEFAULT_SOAK.outageMs / 1000))
    .option('--stalls <n>', 'influxd SIGSTOP stalls', String(DEFAULT_SOAK.stalls))
    .option('--stall-sec <s>', 'length of each stall', String(DEFAULT_SOAK.stallMs / 1000))
    .option('--vehicles <n>', 'publishing vehicles', String(DEFAULT_SOAK.vehicles))
    .option('--rate <hz>', 'samples per second per vehicle', String(DEFAULT_SOAK.rateHz))
    .option('--policy <p>', 'publisher policy: jetson | retry', DEFAULT_SOAK.policy)
    .option('--drain-sec <s>', 'store watch after the final heal', '90')
    .parse();
  const v = program.opts<Record<string, string>>();
  const seed = v.seed !== undefined ? Number(v.seed) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const o = validateSoak({
    seed,
    kills: Number(v.kills),
    killDownMs: { min: Number(v.killDownMinMs), max: Number(v.killDownMaxMs) },
    killGapMs: Number(v.killGapMs),
    outageMs: Number(v.outageSec) * 1000,
    stalls: Number(v.stalls),
    stallMs: Number(v.stallSec) * 1000,
    vehicles: Number(v.vehicles),
    rateHz: Number(v.rate),
    policy: v.policy as PolicyName,
  });
  const drainSec = Number(v.drainSec);
  if (!Number.isInteger(drainSec) || drainSec < 1 || drainSec > 3600) throw new SoakOptionsError(`--drain-sec ${v.drainSec}: must be a whole number from 1 to 3600`);
  const cp = soakPlan(o);
  console.log(`[chaos:soak] seed=${seed}; ${cp.plan.requests.length} samples, ${cp.faults.length} faults over ${(chaosPlanDurationMs(cp) / 1000).toFixed(0)} s\n[chaos:soak] replay: ${soakCommand(o, process.env)}`);

  const config = loadStackConfig();
  const backend = config.target === 'managed' ? `reference backend, ${config.managed.mode} mode` : 'the configured backend';
  const target = await ownChaosTarget(config);
  const started = Date.now();
  let fatal: unknown;
  try {
    let lastLog = 0;
    const attempt = await executeChaosPlan(cp, target.env, {
      contract: DEFAULT_CONTRACT,
      publisher: COMPRESSED_PUBLISHER,
      recoveryBoundMs: DEFAULT_BOUNDS.recoveryBoundMs,
      drainBoundMs: drainSec * 1000,
      pollIntervalMs: 500,
      onEvent: (line) => {
        // Fault lines always; anything else at most every 10 s.
        if (/fault|kill|outage|pause|heal/i.test(line) || Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          console.log(`[chaos:soak +${Math.round((Date.now() - started) / 1000)} s] ${line}`);
        }
      },
    });
    const judged = coreJudge({ ...DEFAULT_BOUNDS, lagBoundMs: DEFAULT_CONTRACT.lagBoundMs })(attempt);
    const report = soakReport(o, cp, attempt, judged, { backend, wallMs: Date.now() - started });
    const dir = join(PROJECT_ROOT, 'reports', 'out');
    mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    writeFileSync(join(dir, `chaos-soak-${stamp}.md`), report + '\n');
    writeFileSync(join(dir, `chaos-soak-${stamp}.json`), JSON.stringify({ options: o, replay: soakCommand(o, process.env), plan: cp, stages: { ...attempt.stages, perSample: undefined }, judgement: judged, faults: attempt.nemesis?.records ?? [] }, null, 2) + '\n');
    console.log(`\n${report}\n[chaos:soak] report: ${join(dir, `chaos-soak-${stamp}.md`)}`);
    process.exitCode = judged.ok ? 0 : 1;
  } catch (err) {
    fatal = err;
  } finally {
    await target.stop();
  }
  if (fatal !== undefined) throw fatal;
}

// Only when run as the script (tests import the pure helpers).
if (process.argv[1] && /chaos[/\\]soak\.ts$/.test(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(`[chaos:soak] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  });
}
