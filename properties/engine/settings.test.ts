import { describe, expect, it } from 'vitest';
import { PROFILES, SettingsError, drainFor, propertySettings } from './settings';

const problems = (env: NodeJS.ProcessEnv): string[] => {
  try {
    propertySettings(env);
  } catch (e) {
    expect(e).toBeInstanceOf(SettingsError);
    return (e as SettingsError).problems;
  }
  throw new Error('expected a SettingsError');
};

describe('propertySettings', () => {
  it('defaults to the quick profile with a fresh 32-bit seed', () => {
    const s = propertySettings({});
    expect(s).toMatchObject({ profile: 'quick', numRuns: PROFILES.quick.numRuns, repeats: PROFILES.quick.repeats, timeBudgetMs: PROFILES.quick.timeBudgetMs, fileIssues: false });
    expect(Number.isInteger(s.seed)).toBe(true);
    expect(s.seed).toBe(s.seed | 0);
    expect(s.path).toBeUndefined();
    expect(s.drainBoundMs).toBeUndefined();
  });

  it('thorough is a switch: more runs, more repeats, a longer budget', () => {
    const s = propertySettings({ TP_PROFILE: 'thorough' });
    expect(s.profile).toBe('thorough');
    expect(s.numRuns).toBeGreaterThan(PROFILES.quick.numRuns);
    expect(s.timeBudgetMs).toBeGreaterThan(PROFILES.quick.timeBudgetMs);
  });

  it('replays a seed and path: one run, exactly that counterexample', () => {
    const s = propertySettings({ TP_SEED: '-12345', TP_PATH: '3:1:0', TP_NUM_RUNS: '50' });
    expect(s).toMatchObject({ seed: -12345, path: '3:1:0', numRuns: 1 });
  });

  it('takes explicit overrides', () => {
    const s = propertySettings({ TP_SEED: '7', TP_NUM_RUNS: '100', TP_REPEATS: '3', TP_TIME_BUDGET_MS: '5000', TP_DRAIN_MS: '1200', TP_FILE_ISSUES: 'true' });
    expect(s).toMatchObject({ seed: 7, numRuns: 100, repeats: 3, timeBudgetMs: 5000, drainBoundMs: 1200, fileIssues: true });
  });

  it('ignores empty values (unset in a shell)', () => {
    expect(propertySettings({ TP_SEED: '', TP_PATH: '', TP_PROFILE: '' }).profile).toBe('quick');
  });

  it('names the variable and what it must be for every bad value, all at once', () => {
    const p = problems({ TP_SEED: 'abc', TP_PATH: '3;1', TP_PROFILE: 'fast', TP_NUM_RUNS: '0', TP_REPEATS: '11', TP_FILE_ISSUES: 'yes', TP_DRAIN_MS: '-1' });
    expect(p).toEqual(expect.arrayContaining([
      expect.stringMatching(/^TP_PROFILE="fast": must be one of quick, thorough/),
      expect.stringMatching(/^TP_SEED="abc": must be a 32-bit integer/),
      expect.stringMatching(/^TP_PATH="3;1": must look like 3:1:0/),
      expect.stringMatching(/^TP_NUM_RUNS="0": must be a positive integer/),
      expect.stringMatching(/^TP_REPEATS="11": must be an integer from 1 to 10/),
      expect.stringMatching(/^TP_FILE_ISSUES="yes"/),
      expect.stringMatching(/^TP_DRAIN_MS="-1"/),
    ]));
  });

  it('rejects seeds fast-check cannot take and non-integers', () => {
    expect(problems({ TP_SEED: '4294967296' })[0]).toMatch(/TP_SEED/);
    expect(problems({ TP_SEED: '1.5' })[0]).toMatch(/TP_SEED/);
    expect(problems({ TP_SEED: '1e3' })[0]).toMatch(/TP_SEED/);
  });

  it('TP_PATH requires TP_SEED', () => {
    expect(problems({ TP_PATH: '0:1' })).toEqual([expect.stringMatching(/TP_PATH .*only together with TP_SEED/)]);
    expect(() => propertySettings({ TP_PATH: '0:1' })).toThrow(/invalid property settings/);
  });

  it('drain: explicit, else the lag bound plus the profile margin', () => {
    expect(drainFor({ drainMarginMs: 500 }, 5000)).toBe(5500);
    expect(drainFor({ drainBoundMs: 800, drainMarginMs: 500 }, 5000)).toBe(800);
  });
});
