/**
 * One property over generated plans against a live stack: generate, run,
 * check, and on failure shrink — where a shrink step counts only if the
 * failure repeats (real I/O is noisy) — then write the minimal case out.
 */
import fc from 'fast-check';
import { rekeyPlan, type Plan } from '../../models/plan';
import type { Contract } from '../../models/contract';
import { check, type PropertyResult, type Verdict } from '../../models/checker';
import { executePlan, type ExecuteOptions } from '../../runners/executePlan';
import type { StackInfo } from '../../runners/stack/types';
import { drainFor, type PropertySettings } from './settings';
import { writeFailureCase, type FailureCase, type RecordedExecuteOptions } from './failureCase';
import type { Attempt } from './attempt';
import { budgetedPredicate } from './budgetedPredicate';

export type { Attempt } from './attempt';

type PlanExecuteOptions = Partial<Omit<ExecuteOptions, 'target' | 'contract' | 'runId'>>;

export interface PlanProperty {
  /** Stable name, e.g. "ack_implies_stored"; used in reports. */
  name: string;
  /** The vitest file holding the property (for the replay command). */
  file: string;
  /** The vitest test name (for `-t`; matched at the end of the full name). */
  testName: string;
  arbitrary: fc.Arbitrary<Plan>;
  judge: (verdict: Verdict) => PropertyResult;
  contract: Contract;
  /** Backend and stack the plans run against. */
  target: () => StackInfo;
  /** What the backend is, for the issue text. */
  backendLabel: string;
  execute?: PlanExecuteOptions;
  /** Per-plan hook (e.g. a nemesis) deciding execute options from the plan. */
  executeFor?: (plan: Plan) => PlanExecuteOptions;
  /** Where the minimal case is written (default: TP_FAILURES_DIR, else reports/failures). */
  failuresDir?: string;
}

export interface PropertyOutcome {
  ok: boolean;
  name: string;
  seed: number;
  path?: string;
  numRuns: number;
  /** Executions of plans (each repeat counts). */
  executions: number;
  /** Mean wall time of one execution (send + drain), ms. */
  meanExecutionMs: number;
  elapsedMs: number;
  replay: string;
  /** On failure: the minimal plan and its last failing attempt. */
  failure?: { attempt?: Attempt; caseDir?: string; error?: string };
  interrupted: boolean;
}

/** Configuration a replay needs besides seed and path (never secrets such as API keys). */
export const REPLAY_ENV = ['TP_PROFILE', 'TP_TARGET', 'TP_CONFIG', 'TP_BACKEND_MODE', 'TP_FLUSH_INTERVAL_MS', 'TP_CONTRACT', 'TP_DRAIN_MS', 'TP_REPEATS'] as const;

export function shellQuote(s: string): string {
  return /^[\w./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** vitest -t takes a regex matched against the full test name: match this name exactly at its end. */
export function testNamePattern(testName: string): string {
  return `${testName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

/** One line that re-runs the property from the failing case: seed, path, and the configuration it ran with. */
export function replayCommand(p: Pick<PlanProperty, 'file' | 'testName'>, seed: number, path?: string, env: NodeJS.ProcessEnv = {}): string {
  const vars = [
    `TP_SEED=${seed}`,
    ...(path ? [`TP_PATH=${path}`] : []),
    ...REPLAY_ENV.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => `${k}=${shellQuote(env[k]!)}`),
  ];
  return `${vars.join(' ')} npx vitest run ${shellQuote(p.file)} -t ${shellQuote(testNamePattern(p.testName))}`;
}

/**
 * What decides how a plan executes: its requests, clocks and contract. Not
 * the run id (replaced per execution) nor the descriptive rate/jitter.
 */
export function executionKey(plan: Plan): string {
  return JSON.stringify({
    requests: plan.requests,
    clocks: plan.vehicles.map((v) => [v.clockOffsetMs, v.driftMsPerSec]),
    contract: plan.contract ?? null,
  });
}

/** Versions of the system under test, best effort (never fails a run). */
async function targetVersions(t: StackInfo): Promise<Record<string, string>> {
  const out: Record<string, string> = { influxdb: t.influx.version };
  try {
    const res = await fetch(`${t.backend.url}/api/v1/healthz`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { version?: unknown };
    if (typeof body.version === 'string') out.backend = body.version;
  } catch {
    // The backend may be down (that may be the bug); versions stay partial.
  }
  return out;
}

export async function runPlanProperty(prop: PlanProperty, settings: PropertySettings): Promise<PropertyOutcome> {
  const started = Date.now();
  let executions = 0;
  let executionMs = 0;
  const drainBoundMs = drainFor(settings, prop.contract.lagBoundMs);
  const optionsFor = (plan: Plan): PlanExecuteOptions & { drainBoundMs: number } => ({
    drainBoundMs,
    ...prop.execute,
    ...prop.executeFor?.(plan),
  });

  const runOnce = async (plan: Plan): Promise<Attempt> => {
    try {
      return await executeOnce(plan);
    } catch (err) {
      // Infrastructure (probe, SSE connect), not a verdict: one retry, then it is an error.
      console.log(`[property ${prop.name}] execution error, retrying once: ${(err as Error).message}`);
      return await executeOnce(plan);
    }
  };
  const executeOnce = async (plan: Plan): Promise<Attempt> => {
    executions++;
    const t0 = Date.now();
    const history = await executePlan(plan, { ...optionsFor(plan), target: prop.target(), contract: prop.contract });
    executionMs += Date.now() - t0;
    const verdict = check(history, prop.contract);
    // Keep the plan under the run id it was executed with, so reports match the history.
    return { plan: rekeyPlan(plan, history.runId), history, verdict, result: prop.judge(verdict) };
  };

  /** The failing attempt if the plan fails `repeats` times in a row, else undefined. */
  const confirmFailure = async (plan: Plan): Promise<Attempt | undefined> => {
    let attempt = await runOnce(plan);
    if (attempt.result.ok) return undefined;
    // Count the failure only if it repeats every time (noise must not steer shrinking).
    for (let i = 1; i < settings.repeats; i++) {
      const again = await runOnce(plan);
      if (again.result.ok) return undefined;
      attempt = again;
    }
    return attempt;
  };

  const { predicate, failureOf, settled } = budgetedPredicate<Plan, Attempt>({
    key: executionKey,
    deadline: started + settings.timeBudgetMs,
    judge: confirmFailure,
  });

  console.log(
    `[property ${prop.name}] seed=${settings.seed} path=${settings.path ?? '(none)'} runs=${settings.numRuns} ` +
      `repeats=${settings.repeats} drain=${prop.execute?.drainBoundMs ?? drainBoundMs}ms budget=${settings.timeBudgetMs}ms profile=${settings.profile} backend=${prop.backendLabel}`,
  );
  const details = await fc.check(fc.asyncProperty(prop.arbitrary, predicate), {
    seed: settings.seed,
    ...(settings.path ? { path: settings.path } : {}),
    numRuns: settings.numRuns,
    interruptAfterTimeLimit: settings.timeBudgetMs,
    markInterruptAsFailure: false,
    endOnFailure: false,
  });
  await settled();
  const elapsedMs = Date.now() - started;
  const path = details.counterexamplePath ?? undefined;
  const replay = replayCommand(prop, details.seed, path ?? settings.path, process.env);
  const meanExecutionMs = executions ? Math.round(executionMs / executions) : 0;
  const outcome: PropertyOutcome = {
    ok: !details.failed,
    name: prop.name,
    seed: details.seed,
    ...(path ? { path } : {}),
    numRuns: details.numRuns,
    executions,
    meanExecutionMs,
    elapsedMs,
    replay,
    interrupted: details.interrupted,
  };
  const cost = `${executions} execution(s), mean ${meanExecutionMs} ms, ${elapsedMs} ms in all`;
  if (details.failed) {
    const plan = details.counterexample?.[0];
    const attempt = plan ? failureOf(plan) : undefined;
    if (plan && attempt) {
      const { drainBoundMs: d, sseClients, requestTimeoutMs, pollIntervalMs } = optionsFor(plan);
      const execute: RecordedExecuteOptions = {
        drainBoundMs: d,
        ...(sseClients !== undefined ? { sseClients } : {}),
        ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
        ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
      };
      const target = prop.target();
      const fcase: FailureCase = {
        property: prop.name,
        backend: prop.backendLabel,
        seed: details.seed,
        ...(path ? { path } : {}),
        replay,
        contract: prop.contract,
        attempt,
        shrinkSteps: details.numShrinks,
        testFile: prop.file,
        testName: prop.testName,
        ...(target.backend.spec ? { backendSpec: target.backend.spec } : {}),
        execute,
        versions: await targetVersions(target),
        stats: { numRuns: details.numRuns, executions, elapsedMs },
      };
      const caseDir = await writeFailureCase(fcase, { fileIssue: settings.fileIssues, ...(prop.failuresDir ? { dir: prop.failuresDir } : {}) });
      outcome.failure = { attempt, caseDir };
      console.log(
        `[property ${prop.name}] FAILED after ${details.numRuns} run(s), ${details.numShrinks} shrink step(s)` +
          `${details.interrupted ? ' (time budget reached while shrinking)' : ''}; ${cost}; minimal case (${attempt.plan.requests.length} request(s)): ${caseDir}`,
      );
    } else {
      // The predicate threw (infrastructure, not a verdict): report the error.
      outcome.failure = { error: String(details.errorInstance ?? 'unknown error') };
      console.log(`[property ${prop.name}] ERROR: ${outcome.failure.error}`);
    }
    console.log(`[property ${prop.name}] replay: ${replay}`);
  } else {
    console.log(`[property ${prop.name}] passed ${details.numRuns} run(s) (seed=${details.seed}); ${cost}${details.interrupted ? ' (time budget reached)' : ''}`);
  }
  return outcome;
}
