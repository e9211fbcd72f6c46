/**
 * Helpers for the framework's self-tests: run one property against a backend
 * of the test's own (a known bug, or a configuration without it) and hand
 * back the outcome, so the test can assert on the minimal case.
 */
import type fc from 'fast-check';
import type { Contract } from '../../models/contract';
import type { Plan } from '../../models/plan';
import type { PropertyResult, Verdict } from '../../models/checker';
import type { BackendSpec } from '../../runners/stack/backendProcess';
import { startSuiteBackend } from '../../runners/stack/suiteBackend';
import type { StackInfo } from '../../runners/stack/types';
import { runPlanProperty, type PropertyOutcome } from './runProperty';
import type { PropertySettings } from './settings';

export interface SelfTestCase {
  name: string;
  file: string;
  testName: string;
  backend: BackendSpec;
  arbitrary: fc.Arbitrary<Plan>;
  judge: (v: Verdict) => PropertyResult;
  contract: Contract;
  seed: number;
  numRuns: number;
  repeats?: number;
  drainBoundMs: number;
  timeBudgetMs?: number;
  sseClients?: number;
}

export async function runSelfTest(shared: StackInfo, c: SelfTestCase): Promise<PropertyOutcome> {
  const suite = await startSuiteBackend(shared, c.backend, { label: c.name.replace(/[^a-z0-9]/gi, '').slice(0, 16) });
  const settings: PropertySettings = {
    profile: 'quick',
    seed: c.seed,
    numRuns: c.numRuns,
    repeats: c.repeats ?? 2,
    timeBudgetMs: c.timeBudgetMs ?? 120_000,
    drainBoundMs: c.drainBoundMs,
    fileIssues: false,
  };
  try {
    return await runPlanProperty(
      {
        name: c.name,
        file: c.file,
        testName: c.testName,
        arbitrary: c.arbitrary,
        judge: c.judge,
        contract: c.contract,
        target: () => suite.info,
        backendLabel: labelOf(c.backend),
        execute: { sseClients: c.sseClients ?? 0 },
      },
      settings,
    );
  } finally {
    await suite.stop();
  }
}

export function labelOf(b: BackendSpec): string {
  if (b.kind === 'command') return `backend \`${b.run}\``;
  const extra = [b.flushIntervalMs ? `flush ${b.flushIntervalMs} ms` : 'default 60 s flush', ...Object.entries(b.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  return `the reference backend (${b.mode}, ${extra.join(', ')})`;
}

/** The payload object of a minimal plan's request, for assertions. */
export function payloadOf(plan: Plan, i: number): Record<string, unknown> | undefined {
  const b = plan.requests[i]?.body;
  return b?.kind === 'payload' ? b.payload : undefined;
}
