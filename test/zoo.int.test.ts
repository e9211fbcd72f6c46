/**
 * The mutant zoo in CI, reduced: a change that blinds the framework (a
 * property that stops seeing lost, corrupted, mis-validated, unauthenticated
 * or mis-broadcast samples) fails here. Four fast mutants fixed — one per
 * ledger the checker keeps (store values, replies, auth, SSE) — plus one that
 * rotates by day over the other property-detected mutants, through the
 * zoo's property checks; and the correct durable backend through the same
 * checks (no false alarm). Shrinking is cut to 15 s per check: CI asserts
 * detection; `npx telemetry-proof zoo` measures minimal cases.
 * The full zoo: `npx telemetry-proof zoo` (reports/zoo.md).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { MutantName } from '../backend/src/mutants';
import { EXPECTATIONS, runZoo, targetLabel } from '../runners/zoo/zoo';

const CHECKS = ['valid-stream', 'hostile-input', 'auth', 'skew-edge'];
const FIXED: MutantName[] = ['float-rounded', 'ack-before-validate', 'api-key-prefix', 'sse-skip-multi-client'];
const ROTATING: MutantName[] = ['skew-window-11s', 'sse-before-validate', 'tag-escaping-broken', 'timestamp-whole-seconds', 'drop-one-in-n'];

/** Day of the year (UTC): TP_ZOO_DAY overrides it to replay another day's subset. */
function zooDay(env: NodeJS.ProcessEnv = process.env, now = new Date()): number {
  if (env.TP_ZOO_DAY && /^\d+$/.test(env.TP_ZOO_DAY)) return Number(env.TP_ZOO_DAY);
  return Math.floor((Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - Date.UTC(now.getUTCFullYear(), 0, 1)) / 86_400_000);
}

describe('mutant zoo (CI subset)', () => {
  it('detects the fixed and today\'s rotating mutants with the expected properties, and the correct durable backend passes the same checks', async () => {
    const rotating = ROTATING[zooDay() % ROTATING.length]!;
    const mutants = [...FIXED, rotating];
    console.log(`[zoo ci] mutants: ${mutants.join(', ')} (rotating: ${rotating}, day ${zooDay()}; TP_ZOO_DAY=<n> replays another day)`);
    const run = await runZoo({
      shared: inject('stack'),
      mutants,
      modes: ['durable'],
      baselineSeeds: 1,
      legacyBaselineSeeds: 0,
      checks: CHECKS,
      budgetMs: 15_000,
      failuresDir: mkdtempSync(join(tmpdir(), 'tp-zoo-ci-')),
      onResult: (r) => console.log(`[zoo ci] ${targetLabel(r)}: ${r.failed ? `failed ${r.detectedBy?.check} (${r.detectedBy?.property}) after ${r.timeToDetectMs} ms` : 'passed'}${r.errors.length ? `; errors: ${r.errors.join('; ')}` : ''} [${r.totalMs} ms]`),
    });
    for (const r of run.mutants) {
      expect(r.errors, targetLabel(r)).toEqual([]);
      expect(r.failed, `${targetLabel(r)} was not detected: the framework is blind to it`).toBe(true);
      expect(r.detectedBy?.property.split('+'), targetLabel(r)).toContain(EXPECTATIONS[r.mutant!].property);
    }
    expect(run.baseline).toHaveLength(1);
    const ok = run.baseline[0]!;
    expect(ok.errors).toEqual([]);
    expect(ok.failed, `false alarm on the correct durable backend: ${ok.detectedBy?.check} ${ok.detectedBy?.property}\n${ok.checks.flatMap((c) => c.details ?? []).join('\n')}`).toBe(false);
    expect(ok.checks.map((c) => c.check)).toEqual(CHECKS);
    console.log(`[zoo ci] ${run.mutants.length} mutants detected, correct backend passed; ${Math.round(run.totalMs / 1000)} s`);
  }, 360_000);
});
