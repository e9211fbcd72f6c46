/**
 * Run settings of the property suites, from the environment: profile, seed
 * and path for replay, runs, repeats per shrink step, budgets. Every bad
 * value is reported with the variable it came from, all at once.
 */

export const PROFILES = {
  /**
   * The default for `npm test`: a few runs per property, each a few seconds
   * (plans of at most ~1.5 s, drain ends as soon as everything expected is
   * stored), and a budget that leaves room to shrink.
   */
  quick: { numRuns: 10, repeats: 2, timeBudgetMs: 60_000, drainMarginMs: 500 },
  /** `TP_PROFILE=thorough`: many more runs, a longer budget, a longer watch. */
  thorough: { numRuns: 100, repeats: 3, timeBudgetMs: 30 * 60_000, drainMarginMs: 5_000 },
} as const;

export type ProfileName = keyof typeof PROFILES;

export interface PropertySettings {
  profile: ProfileName;
  seed: number;
  path?: string;
  numRuns: number;
  /** A failure (and every shrink step) counts only if it repeats this many times in a row. */
  repeats: number;
  /** fast-check's interruptAfterTimeLimit: generation and shrinking together. */
  timeBudgetMs: number;
  /**
   * How long to watch the store after the last reply (ends early once every
   * expected point is there). Unset: the contract's lag bound + drainMarginMs,
   * so that "lost" always means "not stored within the lag bound".
   */
  drainBoundMs?: number;
  drainMarginMs: number;
  fileIssues: boolean;
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid property settings:\n  ${problems.join('\n  ')}`);
    this.name = 'SettingsError';
  }
}

/** fast-check seeds are 32-bit signed integers. */
const INT32 = { min: -0x80000000, max: 0x7fffffff };

/** The drain used for a run: explicit, or lag bound + margin. */
export function drainFor(settings: Pick<PropertySettings, 'drainBoundMs' | 'drainMarginMs'>, lagBoundMs: number): number {
  return settings.drainBoundMs ?? lagBoundMs + settings.drainMarginMs;
}

export function propertySettings(env: NodeJS.ProcessEnv = process.env): PropertySettings {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, min: number, max: number, what: string): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`${name}=${JSON.stringify(v)}: must be ${what}`);
      return undefined;
    }
    return Number(v);
  };

  const profileRaw = get('TP_PROFILE') ?? 'quick';
  const profile = (Object.keys(PROFILES) as ProfileName[]).find((p) => p === profileRaw);
  if (!profile) problems.push(`TP_PROFILE=${JSON.stringify(profileRaw)}: must be one of ${Object.keys(PROFILES).join(', ')}`);

  const seed = int('TP_SEED', INT32.min, INT32.max, 'a 32-bit integer (the seed a run printed)');
  const path = get('TP_PATH');
  if (path !== undefined && !/^\d+(:\d+)*$/.test(path)) {
    problems.push(`TP_PATH=${JSON.stringify(path)}: must look like 3:1:0 (the path a failing run printed)`);
  }
  if (path !== undefined && get('TP_SEED') === undefined) {
    problems.push('TP_PATH replays a counterexample only together with TP_SEED (copy both from the replay command)');
  }
  const numRuns = int('TP_NUM_RUNS', 1, 1_000_000, 'a positive integer');
  const repeats = int('TP_REPEATS', 1, 10, 'an integer from 1 to 10');
  const timeBudgetMs = int('TP_TIME_BUDGET_MS', 1, Number.MAX_SAFE_INTEGER, 'a positive integer (ms)');
  const drainBoundMs = int('TP_DRAIN_MS', 0, 10 * 60_000, 'an integer from 0 to 600000 (ms)');
  const fileRaw = get('TP_FILE_ISSUES');
  if (fileRaw !== undefined && !['0', '1', 'true', 'false'].includes(fileRaw)) {
    problems.push(`TP_FILE_ISSUES=${JSON.stringify(fileRaw)}: must be 1/true or 0/false`);
  }
  if (problems.length > 0 || !profile) throw new SettingsError(problems);

  const p = PROFILES[profile];
  return {
    profile,
    // A fresh seed per run unless replaying; always printed.
    seed: seed ?? freshSeed(),
    ...(path !== undefined ? { path } : {}),
    // A path names one counterexample: replay it, do not search again.
    numRuns: path !== undefined ? 1 : (numRuns ?? p.numRuns),
    repeats: repeats ?? p.repeats,
    timeBudgetMs: timeBudgetMs ?? p.timeBudgetMs,
    ...(drainBoundMs !== undefined ? { drainBoundMs } : {}),
    drainMarginMs: p.drainMarginMs,
    fileIssues: fileRaw === '1' || fileRaw === 'true',
  };
}

export function freshSeed(): number {
  return (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
}
