/**
 * The user-facing property suite: judges whichever backend is configured
 * (the reference backend in the mode TP_BACKEND_MODE names, a command, or an
 * external stack; see README) against the contract, one named property per
 * test. `npx vitest properties`; `TP_PROFILE=thorough` for many more runs;
 * `TP_SEED=… TP_PATH=…` to replay a failure (every run prints both).
 * Also (properties/engine/settings.ts): TP_NUM_RUNS, TP_REPEATS (a shrink
 * step counts only if the failure repeats that often), TP_TIME_BUDGET_MS,
 * TP_DRAIN_MS, TP_FAILURES_DIR (default reports/failures), TP_FILE_ISSUES=1
 * (file each minimal case with `gh issue create`; TP_GH_REPO picks the repo),
 * TP_CONTRACT (JSON contract overrides).
 */
import { describe, expect, inject, it } from 'vitest';
import { DEFAULT_CONTRACT, contractFrom } from '../models/contract';
import { PROPERTY_CATALOGUE } from './catalogue';
import { runPlanProperty } from './engine/runProperty';
import { stackLabel } from './engine/selfTest';
import { propertySettings } from './engine/settings';

const settings = propertySettings();
// TP_CONTRACT: JSON overrides of the contract, to judge another backend.
const contract = process.env.TP_CONTRACT ? contractFrom(JSON.parse(process.env.TP_CONTRACT)) : DEFAULT_CONTRACT;

describe('contract properties', () => {
  for (const def of PROPERTY_CATALOGUE) {
    it(def.name, async () => {
      const stack = inject('stack');
      const outcome = await runPlanProperty(
        {
          name: def.name,
          file: 'properties/contract.prop.test.ts',
          testName: def.name,
          arbitrary: def.plans(contract),
          judge: def.judge,
          contract,
          target: () => stack,
          backendLabel: stackLabel(stack),
          // An explicit TP_DRAIN_MS wins over the property's own drain.
          ...(def.drainMs !== undefined && settings.drainBoundMs === undefined ? { execute: { drainBoundMs: def.drainMs } } : {}),
        },
        settings,
      );
      const why = outcome.failure?.attempt?.result.details.slice(0, 5).join('\n') ?? outcome.failure?.error;
      const size = outcome.failure?.attempt ? ` (${outcome.failure.attempt.plan.requests.length} request(s))` : '';
      expect(outcome.ok, `${def.title} failed:\n${why}\nminimal case${size}: ${outcome.failure?.caseDir}\nreplay: ${outcome.replay}`).toBe(true);
    }, settings.timeBudgetMs * 2 + 60_000);
  }
});
