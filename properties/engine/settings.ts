/**
 * Run settings of the property suites, from the environment (validated):
 * profile, seed and path for replay, runs, repeats per shrink step.
 */
import { z } from 'zod';

export const PROFILES = {
  /** The default for `npm test`: a few runs per property, seconds each. */
  quick: { numRuns: 5, repeats: 2, timeBudgetMs: 90_000, drainBoundMs: 3_000 },
  /** `TP_PROFILE=thorough`: many more runs, longer budget. */
  thorough: { numRuns: 100, repeats: 3, timeBudgetMs: 30 * 60_000, drainBoundMs: 6_000 },
} as const;

const Env = z.object({
  TP_PROFILE: z.enum(['quick', 'thorough']).default('quick'),
  TP_SEED: z.coerce.number().int().optional(),
  /** fast-check counterexample path, e.g. "3:1:0:2" (needs TP_SEED). */
  TP_PATH: z.string().regex(/^\d+(:\d+)*$/, 'must look like 3:1:0').optional(),
  TP_NUM_RUNS: z.coerce.number().int().positive().optional(),
  /** A shrink step counts only if the failure repeats this many times. */
  TP_REPEATS: z.coerce.number().int().positive().max(10).optional(),
  TP_TIME_BUDGET_MS: z.coerce.number().int().positive().optional(),
  /** File each minimal failure with `gh issue create` (opt-in). */
  TP_FILE_ISSUES: z.enum(['0', '1', 'true', 'false']).optional(),
});

export interface PropertySettings {
  profile: keyof typeof PROFILES;
  seed: number;
  path?: string;
  numRuns: number;
  repeats: number;
  timeBudgetMs: number;
  drainBoundMs: number;
  fileIssues: boolean;
}

export function propertySettings(env: NodeJS.ProcessEnv = process.env): PropertySettings {
  const parsed = Env.safeParse(Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('TP_') && v !== '')));
  if (!parsed.success) {
    throw new Error(`invalid property settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  if (e.TP_PATH && e.TP_SEED === undefined) throw new Error('TP_PATH replays a counterexample only together with TP_SEED');
  const p = PROFILES[e.TP_PROFILE];
  return {
    profile: e.TP_PROFILE,
    // A fresh seed per run unless replaying; always printed.
    seed: e.TP_SEED ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0,
    path: e.TP_PATH,
    numRuns: e.TP_PATH ? 1 : (e.TP_NUM_RUNS ?? p.numRuns),
    repeats: e.TP_REPEATS ?? p.repeats,
    timeBudgetMs: e.TP_TIME_BUDGET_MS ?? p.timeBudgetMs,
    drainBoundMs: p.drainBoundMs,
    fileIssues: e.TP_FILE_ISSUES === '1' || e.TP_FILE_ISSUES === 'true',
  };
}
