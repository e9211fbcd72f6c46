/**
 * The fast-check predicate both property runners share: it reuses verdicts
 * of executions already judged (shrinking often proposes a value that runs
 * exactly like an earlier one), never starts an execution past the time
 * budget, and lets the runner wait for the last execution.
 *
 * Why the wait: fast-check's time limit resolves `fc.check` while a predicate
 * may still be running; without it an execution could outlive the property
 * (and the stack it uses).
 */
export interface BudgetedPredicate<T, F> {
  /** Pass to `fc.asyncProperty`. */
  readonly predicate: (value: T) => Promise<boolean>;
  /** Verdicts by execution key: 'passed' or the failure found. */
  readonly judged: ReadonlyMap<string, F | 'passed'>;
  /** The failure behind each value the predicate answered false for. */
  readonly failureOf: (value: T) => F | undefined;
  /** Resolves when the last started execution has finished (never rejects). */
  readonly settled: () => Promise<void>;
}

export function budgetedPredicate<T extends object, F>(options: {
  /** Values with equal keys execute identically. */
  key: (value: T) => string;
  /** Epoch ms after which no new execution starts (the value counts as passing). */
  deadline: number;
  /** Execute and judge: the failure, or undefined when the value passes. */
  judge: (value: T) => Promise<F | undefined>;
}): BudgetedPredicate<T, F> {
  const judged = new Map<string, F | 'passed'>();
  const failures = new WeakMap<T, F>();
  let inflight: Promise<unknown> = Promise.resolve();

  const evaluate = async (value: T): Promise<boolean> => {
    const key = options.key(value);
    const known = judged.get(key);
    if (known === 'passed') return true;
    if (known !== undefined) { failures.set(value, known); return false; }
    // Past the budget: not run, counted as passing (the minimal case so far stands).
    if (Date.now() >= options.deadline) return true;
    const failed = await options.judge(value);
    judged.set(key, failed ?? 'passed');
    if (failed === undefined) return true;
    failures.set(value, failed);
    return false;
  };

  return {
    predicate: (value) => {
      const p = evaluate(value);
      inflight = p.catch(() => undefined);
      return p;
    },
    judged,
    failureOf: (value) => failures.get(value),
    settled: async () => { await inflight; },
  };
}
