/**
 * What a failure case's repro.test.ts runs: the exact minimal plan from
 * case.json, against a backend configured like the one that failed (the
 * shared stack when it matches, else a suite backend of that spec), judged
 * on the properties the case violated.
 */
import { check, type PropertyName } from '../../models/checker';
import { contractFrom } from '../../models/contract';
import type { Plan } from '../../models/plan';
import { executePlan } from '../../runners/executePlan';
import type { BackendSpec } from '../../runners/stack/backendProcess';
import { startSuiteBackend } from '../../runners/stack/suiteBackend';
import type { StackInfo } from '../../runners/stack/types';
import type { CaseFile } from './failureCase';

/** The fields of case.json a repro reads. */
export type CaseFileLike = Pick<CaseFile, 'violated' | 'title' | 'plan' | 'contract' | 'execute'> & {
  environment: { backendSpec?: BackendSpec };
};

function sameSpec(a: BackendSpec | undefined, b: BackendSpec | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The violations of the case's properties on a fresh execution (empty: the bug is gone). */
export async function reproduce(shared: StackInfo, fcase: CaseFileLike): Promise<string[]> {
  const spec = fcase.environment.backendSpec;
  const own = spec && shared.kind === 'managed' && !sameSpec(spec, shared.backend.spec)
    ? await startSuiteBackend(shared, spec, { label: 'repro' })
    : undefined;
  try {
    const contract = contractFrom(fcase.contract);
    const history = await executePlan(fcase.plan as Plan, {
      ...fcase.execute,
      target: own?.info ?? shared,
      contract,
    });
    const verdict = check(history, contract);
    const props = new Set<PropertyName>(fcase.violated);
    return verdict.violations.filter((v) => props.has(v.property)).map((v) => `${v.property} [${v.category}] ${v.message}`);
  } finally {
    await own?.stop();
  }
}
