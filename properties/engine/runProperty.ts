/**
 * One property over generated plans against a live stack: generate, run,
 * check, and on failure shrink — where a shrink step counts only if the
 * failure repeats (real I/O is noisy) — then write the minimal case out.
 */
import fc from 'fast-check';
import { rekeyPlan, type Plan } from '../../models/plan';
import type { Contract } from '../../models/contract';
import type { History } from '../../models/history';
import { check, type PropertyResult, type Verdict } from '../../models/checker';
import { executePlan, type ExecuteOptions } from '../../runners/executePlan';
import type { StackInfo } from '../../runners/stack/types';
import type { PropertySettings } from './settings';
import { writeFailureCase, type FailureCase } from './failureCase';

export interface PlanProperty {
  /** Stable name, e.g. "ack_implies_stored"; used in the replay command. */
  name: string;
  /** The vitest file holding the property (for the replay command). */
  file: string;
  /** The vitest test name (for `-t`). */
  testName: string;
  arbitrary: fc.Arbitrary<Plan>;
  judge: (verdict: Verdict) => PropertyResult;
  contract: Contract;
  /** Backend and stack the plans run against. */
  target: () => StackInfo;
  /** What the backend is, for the issue text. */
  backendLabel: string;
  execute?: Partial<Omit<ExecuteOptions, 'target' | 'contract' | 'runId'>>;
  /** Per-plan hook (e.g. a nemesis) deciding execute options from the plan. */
  executeFor?: (plan: Plan) => Partial<Omit<ExecuteOptions, 'target' | 'contract' | 'runId'>>;
}

export interface Attempt {
  plan: Plan;
  history: History;
  verdict: Verdict;
  result: PropertyResult;
}

export interface PropertyOutcome {
  ok: boolean;
  name: string;
  seed: number;
  path?: string;
  numRuns: number;
  /** Executions of plans (each repeat counts). */
  executions: number;
  elapsedMs: number;
  replay: string;
  /** On failure: the minimal plan and its last failing attempt. */
  failure?: { attempt?: Attempt; caseDir?: string; error?: string };
  interrupted: boolean;
}

export function replayCommand(p: Pick<PlanProperty, 'file' | 'testName'>, seed: number, path?: string): string {
  const env = [`TP_SEED=${seed}`, path ? `TP_PATH=${path}` : undefined].filter(Boolean).join(' ');
  return `${env} npx vitest run ${p.file} -t ${JSON.stringify(p.testName)}`;
}

export async function runPlanProperty(prop: PlanProperty, settings: PropertySettings): Promise<PropertyOutcome> {
  const started = Date.now();
  let executions = 0;
  // The last failing attempt for each plan object fast-check hands us.
  const failures = new WeakMap<Plan, Attempt>();

  const runOnce = async (plan: Plan): Promise<Attempt> => {
    executions++;
    const history = await executePlan(plan, {
      drainBoundMs: settings.drainBoundMs,
      ...prop.execute,
      ...prop.executeFor?.(plan),
      target: prop.target(),
      contract: prop.contract,
    });
    const verdict = check(history, prop.contract);
    // Keep the plan under the run id it was executed with, so reports match the history.
    return { plan: rekeyPlan(plan, history.runId), history, verdict, result: prop.judge(verdict) };
  };

  const predicate = async (plan: Plan): Promise<boolean> => {
    let attempt = await runOnce(plan);
    if (attempt.result.ok) return true;
    // Count the failure only if it repeats every time (noise must not steer shrinking).
    for (let i = 1; i < settings.repeats; i++) {
      const again = await runOnce(plan);
      if (again.result.ok) return true;
      attempt = again;
    }
    failures.set(plan, attempt);
    return false;
  };

  console.log(
    `[property ${prop.name}] seed=${settings.seed}${settings.path ? ` path=${settings.path}` : ''} runs=${settings.numRuns} ` +
      `repeats=${settings.repeats} profile=${settings.profile} backend=${prop.backendLabel}`,
  );
  const details = await fc.check(fc.asyncProperty(prop.arbitrary, predicate), {
    seed: settings.seed,
    path: settings.path,
    numRuns: settings.numRuns,
    interruptAfterTimeLimit: settings.timeBudgetMs,
    markInterruptAsFailure: false,
    endOnFailure: false,
  });
  const elapsedMs = Date.now() - started;
  const replay = replayCommand(prop, details.seed, details.counterexamplePath ?? settings.path);
  const outcome: PropertyOutcome = {
    ok: !details.failed,
    name: prop.name,
    seed: details.seed,
    path: details.counterexamplePath ?? undefined,
    numRuns: details.numRuns,
    executions,
    elapsedMs,
    replay,
    interrupted: details.interrupted,
  };
  if (details.failed) {
    const plan = details.counterexample?.[0];
    const attempt = plan ? failures.get(plan) : undefined;
    if (attempt) {
      const fcase: FailureCase = {
        property: prop.name,
        backend: prop.backendLabel,
        seed: details.seed,
        path: details.counterexamplePath ?? undefined,
        replay,
        contract: prop.contract,
        attempt,
        shrinkSteps: details.numShrinks,
        testFile: prop.file,
        testName: prop.testName,
        backendSpec: prop.target().backend.spec,
      };
      const caseDir = await writeFailureCase(fcase, { fileIssue: settings.fileIssues });
      outcome.failure = { attempt, caseDir };
      console.log(`[property ${prop.name}] FAILED after ${details.numRuns} run(s), ${details.numShrinks} shrink step(s); minimal case: ${caseDir}`);
    } else {
      // The predicate threw (infrastructure, not a verdict): report the error.
      outcome.failure = { error: String(details.errorInstance ?? 'unknown error') };
      console.log(`[property ${prop.name}] ERROR: ${outcome.failure.error}`);
    }
    console.log(`[property ${prop.name}] replay: ${replay}`);
  } else {
    console.log(`[property ${prop.name}] passed ${details.numRuns} run(s) in ${elapsedMs} ms${details.interrupted ? ' (time budget reached)' : ''}`);
  }
  return outcome;
}
