/**
 * Helpers for the framework's self-tests: run one property against a backend
 * of the test's own (a known bug, or a configuration without it) and hand
 * back the outcome, so the test can assert on the minimal case.
 *
 * Seeds are fixed per case so CI is repeatable; TP_SEED/TP_PATH (from a
 * printed replay command) override them, as in the user-facing suite.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type fc from 'fast-check';
import type { Contract } from '../../models/contract';
import type { Plan } from '../../models/plan';
import type { PropertyResult, Verdict } from '../../models/checker';
import type { BackendSpec } from '../../runners/stack/backendProcess';
import { startSuiteBackend } from '../../runners/stack/suiteBackend';
import type { StackInfo } from '../../runners/stack/types';
import { runPlanProperty, type PropertyOutcome } from './runProperty';
import { PROFILES, propertySettings, type PropertySettings } from './settings';

export interface SelfTestCase {
  name: string;
  file: string;
  /** The vitest test title (for the replay command's -t); defaults to name. */
  testName?: string;
  backend: BackendSpec;
  arbitrary: fc.Arbitrary<Plan>;
  judge: (v: Verdict) => PropertyResult;
  contract: Contract;
  seed: number;
  numRuns: number;
  repeats?: number;
  /** Default: the contract's lag bound + the quick margin. */
  drainBoundMs?: number;
  timeBudgetMs?: number;
  sseClients?: number;
}

/** The case's settings, with a replay's TP_SEED/TP_PATH taking over when given. */
export function selfTestSettings(c: SelfTestCase, env: NodeJS.ProcessEnv = process.env): PropertySettings {
  const fromEnv = propertySettings(env);
  const replaying = env.TP_SEED !== undefined && env.TP_SEED !== '';
  return {
    profile: 'quick',
    seed: replaying ? fromEnv.seed : c.seed,
    ...(replaying && fromEnv.path ? { path: fromEnv.path } : {}),
    numRuns: replaying && fromEnv.path ? 1 : c.numRuns,
    repeats: c.repeats ?? 2,
    timeBudgetMs: c.timeBudgetMs ?? 120_000,
    ...(c.drainBoundMs !== undefined ? { drainBoundMs: c.drainBoundMs } : {}),
    drainMarginMs: PROFILES.quick.drainMarginMs,
    fileIssues: false,
  };
}

/**
 * Self-tests fail on purpose: their minimal cases are evidence, not findings,
 * so they go to a temporary folder (printed) unless TP_FAILURES_DIR says
 * otherwise, never into reports/failures/ where `npm test` runs repros.
 */
function selfTestFailuresDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TP_FAILURES_DIR || (selfTestDir ??= mkdtempSync(join(tmpdir(), 'tp-selftest-failures-')));
}
let selfTestDir: string | undefined;

export async function runSelfTest(shared: StackInfo, c: SelfTestCase): Promise<PropertyOutcome> {
  const settings = selfTestSettings(c);
  const suite = await startSuiteBackend(shared, c.backend, { label: c.name.replace(/[^a-z0-9]/gi, '').slice(0, 16) });
  try {
    return await runPlanProperty(
      {
        name: c.name,
        file: c.file,
        testName: c.testName ?? c.name,
        arbitrary: c.arbitrary,
        judge: c.judge,
        contract: c.contract,
        target: () => suite.info,
        backendLabel: labelOf(c.backend),
        execute: { sseClients: c.sseClients ?? 0 },
        failuresDir: selfTestFailuresDir(),
      },
      settings,
    );
  } finally {
    await suite.stop();
  }
}

export function labelOf(b: BackendSpec): string {
  if (b.kind === 'command') return `backend \`${b.run}\``;
  // Only legacy mode has a WriteApi flush interval.
  const flush = b.mode === 'legacy' ? [b.flushIntervalMs ? `flush ${b.flushIntervalMs} ms` : 'default 60 s flush'] : [];
  const extra = [...flush, ...Object.entries(b.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  return `the reference backend (${[b.mode, ...extra].join(', ')})`;
}

/** How reports name the backend a shared stack runs. */
export function stackLabel(stack: StackInfo): string {
  if (stack.kind === 'external') return 'an external backend';
  return stack.backend.spec ? labelOf(stack.backend.spec) : 'the backend';
}

/** The payload object of a minimal plan's request, for assertions. */
export function payloadOf(plan: Plan, i: number): Record<string, unknown> | undefined {
  const b = plan.requests[i]?.body;
  return b?.kind === 'payload' ? b.payload : undefined;
}
