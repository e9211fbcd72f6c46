/**
 * A chaos property: fast-check generates chaos plans (stream + faults +
 * policy, one arbitrary), each runs against the live stack and is judged; a
 * failure is shrunk, a shrink step counting only when the failure repeats
 * (real I/O is noisy), and the minimal case is written out with its
 * per-stage loss table. Every execution's stage counts are kept, so a
 * passing property still reports where samples went.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { ChaosPlan } from '../../chaos/chaosPlan';
import { describeChaosPlan } from '../../chaos/chaosPlan';
import type { ChaosJudge, ChaosJudgement } from '../../chaos/judges';
import { describeStages, lossTable, sumReports, type StageReport } from '../../models/stages';
import { executeChaosPlan, type ChaosAttempt, type ChaosEnv, type ChaosRunOptions } from '../../runners/chaosRun';
import { PROJECT_ROOT } from '../../runners/stack/executables';
import { budgetedPredicate } from './budgetedPredicate';

export interface ChaosProperty {
  name: string;
  /** vitest file and test name, for the replay command. */
  file: string;
  testName: string;
  arbitrary: fc.Arbitrary<ChaosPlan>;
  judge: ChaosJudge;
  env: () => ChaosEnv;
  run: Omit<ChaosRunOptions, 'runId' | 'signal'>;
  backendLabel: string;
  /** Where minimal cases go (default TP_FAILURES_DIR, else reports/failures). */
  failuresDir?: string;
  log?: (line: string) => void;
  /** The replay command (default: the vitest file and test name with TP_SEED/TP_PATH). */
  replay?: (seed: number, path?: string) => string;
}

export interface ChaosSettings {
  seed: number;
  path?: string;
  numRuns: number;
  /** A failure (and each shrink step) counts only if it repeats this many times in a row. */
  repeats: number;
  /** Generation and shrinking together (fast-check's interruptAfterTimeLimit). */
  timeBudgetMs: number;
}

export type StageTotals = Omit<StageReport, 'perSample'>;

/** A failing execution and why it failed. */
export interface ChaosFailure {
  attempt: ChaosAttempt;
  judgement: ChaosJudgement;
}

export interface ChaosRunSummary {
  ok: boolean;
  policy: ChaosPlan['policy'];
  faults: number;
  samples: number;
  stages: StageTotals;
  durationMs: number;
}

export interface ChaosOutcome {
  ok: boolean;
  name: string;
  seed: number;
  path?: string;
  numRuns: number;
  executions: number;
  elapsedMs: number;
  interrupted: boolean;
  replay: string;
  /** Every execution, in order (shrink steps included). */
  runs: ChaosRunSummary[];
  /** Stage counts summed over every execution, and per policy. */
  totals: StageTotals;
  byPolicy: Partial<Record<ChaosPlan['policy'], StageTotals>>;
  failure?: { attempt?: ChaosAttempt; judgement?: ChaosJudgement; caseDir?: string; shrinkSteps: number; error?: string };
  /**
   * Executions that failed once but passed when repeated, so fast-check never
   * counted them (timing-dependent: e.g. a kill landing while a sample sat in
   * memory). A lost acknowledged sample is real even if it does not repeat:
   * the first one is written out as a (not minimal) case.
   */
  unconfirmed: { count: number; caseDir?: string; judgement?: ChaosJudgement };
}

const INT32 = { min: -0x80000000, max: 0x7fffffff };

/** Settings from the environment (TP_SEED, TP_PATH, TP_CHAOS_RUNS, TP_REPEATS, TP_CHAOS_BUDGET_MS) over the given defaults. */
export function chaosSettings(defaults: Omit<ChaosSettings, 'seed' | 'path'> & { seed?: number }, env: NodeJS.ProcessEnv = process.env): ChaosSettings {
  const problems: string[] = [];
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = env[name]?.trim();
    if (v === undefined || v === '') return undefined;
    if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) { problems.push(`${name}=${JSON.stringify(v)}: must be an integer in [${min}, ${max}]`); return undefined; }
    return Number(v);
  };
  const seed = int('TP_SEED', INT32.min, INT32.max);
  const path = env.TP_PATH?.trim() || undefined;
  if (path !== undefined && !/^\d+(:\d+)*$/.test(path)) problems.push(`TP_PATH=${JSON.stringify(path)}: must look like 3:1:0`);
  if (path !== undefined && seed === undefined) problems.push('TP_PATH needs TP_SEED (copy both from the replay command)');
  const numRuns = int('TP_CHAOS_RUNS', 1, 1_000_000);
  const repeats = int('TP_REPEATS', 1, 10);
  const budget = int('TP_CHAOS_BUDGET_MS', 1, Number.MAX_SAFE_INTEGER);
  if (problems.length) throw new Error(`invalid chaos settings:\n  ${problems.join('\n  ')}`);
  return {
    seed: seed ?? defaults.seed ?? ((Date.now() ^ (Math.random() * 0x7fffffff)) | 0),
    ...(path ? { path } : {}),
    numRuns: path ? 1 : (numRuns ?? defaults.numRuns),
    repeats: repeats ?? defaults.repeats,
    timeBudgetMs: budget ?? defaults.timeBudgetMs,
  };
}

/** What decides how a chaos plan executes (not the run id). */
export function chaosKey(c: ChaosPlan): string {
  return JSON.stringify({ r: c.plan.requests, f: c.faults, p: c.policy, s: c.stalledSseClients });
}

function shellQuote(s: string): string {
  return /^[\w./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function chaosReplayCommand(p: Pick<ChaosProperty, 'file' | 'testName'>, seed: number, path?: string): string {
  const pattern = `${p.testName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
  return `TP_SEED=${seed}${path ? ` TP_PATH=${path}` : ''} npx vitest run ${shellQuote(p.file)} -t ${shellQuote(pattern)}`;
}

export async function runChaosProperty(p: ChaosProperty, s: ChaosSettings): Promise<ChaosOutcome> {
  const started = Date.now();
  const log = p.log ?? ((line: string) => console.log(line));
  const runs: ChaosRunSummary[] = [];

  const seenFailing = new Map<string, ChaosFailure>();
  const executeOnce = async (c: ChaosPlan) => {
    const attempt = await executeChaosPlan(c, p.env(), p.run);
    const judgement = p.judge(attempt);
    if (!judgement.ok && !seenFailing.has(chaosKey(c))) seenFailing.set(chaosKey(c), { attempt, judgement });
    const { perSample: _ps, ...stages } = attempt.stages;
    runs.push({ ok: judgement.ok, policy: c.policy, faults: c.faults.length, samples: c.plan.requests.length, stages, durationMs: attempt.durationMs });
    log(`[chaos ${p.name}] #${runs.length} ${judgement.ok ? 'pass' : 'FAIL'} policy=${c.policy} faults=${c.faults.length} ${describeStages(stages)} (${attempt.durationMs} ms)`);
    return { attempt, judgement };
  };
  const runOnce = async (c: ChaosPlan) => {
    try {
      return await executeOnce(c);
    } catch (err) {
      // Infrastructure (a probe, a proxy), not a verdict: one retry, then it is an error.
      log(`[chaos ${p.name}] execution error, retrying once: ${(err as Error).message}`);
      return await executeOnce(c);
    }
  };
  /** The failing execution if `c` fails `repeats` times in a row, else undefined. */
  const confirmFailure = async (c: ChaosPlan) => {
    let last = await runOnce(c);
    for (let i = 1; i < s.repeats && !last.judgement.ok; i++) last = await runOnce(c);
    return last.judgement.ok ? undefined : last;
  };
  const { predicate, judged, failureOf, settled } = budgetedPredicate<ChaosPlan, ChaosFailure>({
    key: chaosKey,
    deadline: started + s.timeBudgetMs,
    judge: confirmFailure,
  });

  log(`[chaos ${p.name}] seed=${s.seed} path=${s.path ?? '(none)'} runs=${s.numRuns} repeats=${s.repeats} budget=${s.timeBudgetMs}ms backend=${p.backendLabel}`);
  const details = await fc.check(fc.asyncProperty(p.arbitrary, predicate), {
    seed: s.seed,
    ...(s.path ? { path: s.path } : {}),
    numRuns: s.numRuns,
    interruptAfterTimeLimit: s.timeBudgetMs,
    markInterruptAsFailure: false,
    endOnFailure: false,
  });
  await settled();
  const path = details.counterexamplePath ?? undefined;
  const byPolicyRuns = new Map<ChaosPlan['policy'], StageTotals[]>();
  for (const r of runs) byPolicyRuns.set(r.policy, [...(byPolicyRuns.get(r.policy) ?? []), r.stages]);
  const outcome: ChaosOutcome = {
    ok: !details.failed,
    name: p.name,
    seed: details.seed,
    ...(path ? { path } : {}),
    numRuns: details.numRuns,
    executions: runs.length,
    elapsedMs: Date.now() - started,
    interrupted: details.interrupted,
    replay: (p.replay ?? ((seed: number, at?: string) => chaosReplayCommand(p, seed, at)))(details.seed, path ?? s.path),
    runs,
    totals: sumReports(runs.map((r) => r.stages)),
    byPolicy: Object.fromEntries([...byPolicyRuns].map(([k, v]) => [k, sumReports(v)])),
    unconfirmed: { count: 0 },
  };
  // The budget ran out before fast-check saw a verdict (a plan longer than
  // the budget): report what the executions themselves found.
  const noVerdict = details.interrupted && !details.counterexample && details.errorInstance === undefined;
  if (noVerdict) {
    const failed = [...judged.values()].find((v): v is ChaosFailure => v !== 'passed');
    outcome.ok = failed === undefined;
    if (failed) {
      const caseDir = writeChaosCase(p, outcome, failed.attempt, failed.judgement, 0);
      outcome.failure = { ...failed, caseDir, shrinkSteps: 0 };
      log(`[chaos ${p.name}] FAILED (time budget reached before shrinking: the case is not minimal): ${describeChaosPlan(failed.attempt.chaos).replace(/\n/g, '; ')}; ${caseDir}`);
    } else {
      log(`[chaos ${p.name}] time budget reached after ${runs.length} execution(s) without a failure`);
    }
  } else if (details.failed) {
    const c = details.counterexample?.[0];
    const f = c ? failureOf(c) : undefined;
    if (f) {
      const caseDir = writeChaosCase(p, outcome, f.attempt, f.judgement, details.numShrinks);
      outcome.failure = { ...f, caseDir, shrinkSteps: details.numShrinks };
      log(`[chaos ${p.name}] FAILED after ${details.numRuns} run(s), ${details.numShrinks} shrink step(s)${details.interrupted ? ' (budget reached while shrinking)' : ''}; minimal case: ${describeChaosPlan(f.attempt.chaos).replace(/\n/g, '; ')}; ${caseDir}`);
    } else {
      outcome.failure = { error: String(details.errorInstance ?? 'unknown error'), shrinkSteps: details.numShrinks };
      log(`[chaos ${p.name}] ERROR: ${outcome.failure.error}`);
    }
    log(`[chaos ${p.name}] replay: ${outcome.replay}`);
  } else {
    log(`[chaos ${p.name}] passed ${details.numRuns} run(s) in ${outcome.elapsedMs} ms${details.interrupted ? ' (budget reached)' : ''}; ${describeStages(outcome.totals)}`);
  }
  const once = [...seenFailing].filter(([key]) => judged.get(key) === 'passed');
  if (once.length > 0) {
    const [, first] = once[0]!;
    outcome.unconfirmed = {
      count: once.length,
      judgement: first.judgement,
      ...(outcome.ok ? { caseDir: writeChaosCase(p, outcome, first.attempt, first.judgement, 0) } : {}),
    };
    log(`[chaos ${p.name}] WARNING: ${once.length} plan(s) failed once and passed when repeated (not counted by fast-check): ${first.judgement.details.slice(0, 3).join('; ')}${outcome.unconfirmed.caseDir ? `; first: ${outcome.unconfirmed.caseDir}` : ''}`);
  }
  return outcome;
}

/** Markdown of a minimal case: the plan, the verdict, the loss table, the replay. */
export function chaosCaseMarkdown(p: Pick<ChaosProperty, 'name' | 'backendLabel'>, o: Pick<ChaosOutcome, 'seed' | 'path' | 'replay'>, a: ChaosAttempt, j: ChaosJudgement, shrinkSteps: number): string {
  const faults = a.nemesis?.records ?? [];
  return [
    `# ${j.property} fails under chaos: ${p.backendLabel}`,
    '',
    `Property \`${p.name}\`, minimal case after ${shrinkSteps} shrink step(s) (seed ${o.seed}${o.path ? `, path ${o.path}` : ''}).`,
    '',
    '## Minimal plan',
    '',
    '```',
    describeChaosPlan(a.chaos),
    '```',
    '',
    '## Faults as played (verified start and end, ms after run start)',
    '',
    faults.length === 0 ? '(none)' : faults.map((r) => `- ${r.description}: started ${rel(r.startedAt, a)} (verified: ${r.startVerified}), ended ${rel(r.endedAt, a)} (verified: ${r.endVerified})${r.problems.length ? `; ${r.problems.join('; ')}` : ''}`).join('\n'),
    '',
    '## Where each sample went',
    '',
    lossTable([{ label: 'minimal case', report: a.stages }]),
    '',
    ...a.stages.perSample.filter((s) => s.stage !== 'stored').slice(0, 50).map((s) => `- ${s.requestId}: ${s.stage}${s.cause ? ` (${s.cause})` : ''}${s.evidence ? ` — ${s.evidence}` : ''}`),
    '',
    '## Verdict',
    '',
    ...j.details.slice(0, 50).map((d) => `- ${d}`),
    '',
    '## Replay',
    '',
    '```sh',
    o.replay,
    '```',
    '',
  ].join('\n');
}

function rel(t: number | undefined, a: ChaosAttempt): string {
  return t === undefined ? '—' : `+${(t - a.history.startedAtMs).toFixed(0)}`;
}

function writeChaosCase(p: ChaosProperty, o: ChaosOutcome, a: ChaosAttempt, j: ChaosJudgement, shrinkSteps: number): string {
  const base = p.failuresDir ?? process.env.TP_FAILURES_DIR ?? join(PROJECT_ROOT, 'reports', 'failures');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const dir = join(base, `chaos-${p.name.replace(/[^a-z0-9_-]/gi, '_').slice(0, 40)}-${stamp}-${a.history.runId}`);
  mkdirSync(dir, { recursive: true });
  const { series: _s, ...resources } = a.resources;
  writeFileSync(join(dir, 'case.json'), `${JSON.stringify({
    schemaVersion: 1, kind: 'chaos', property: p.name, backend: p.backendLabel, seed: o.seed, path: o.path, replay: o.replay, shrinkSteps,
    // How the plan was executed (publisher timings, bounds, SSE clients): a replay outside the suite needs them.
    run: { ...p.run, onEvent: undefined },
    chaos: a.chaos, judgement: j, stages: a.stages, nemesis: a.nemesis, resources, latency: a.latency, recovery: a.recovery,
    unexpectedBackendStarts: a.unexpectedBackendStarts, crashEvidence: a.crashEvidence, history: a.history, verdict: a.verdict,
    writtenAt: new Date().toISOString(),
  }, null, 2)}\n`);
  writeFileSync(join(dir, 'issue.md'), chaosCaseMarkdown(p, o, a, j, shrinkSteps));
  return dir;
}
