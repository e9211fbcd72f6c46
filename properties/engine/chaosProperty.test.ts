import { describe, expect, it } from 'vitest';
import { buildChaosPlan } from '../../chaos/chaosPlan';
import { attemptOf } from '../../chaos/testing';
import { history, req, storedFrom, T0 } from '../../models/testing/history-builder';
import { chaosCaseMarkdown, chaosKey, chaosReplayCommand, chaosSettings } from './chaosProperty';

const plan = (faultAt: number) => buildChaosPlan({
  runId: 'abcd1234', payloadSeed: 1, trajectoryPoints: 0, policy: 'jetson', stalledSseClients: 0,
  vehicles: [{ rateHz: 10, startDelayMs: 0, slots: [0] }],
  faults: [{ kind: 'kill', target: 'backend', at: faultAt, duration: 0, params: {} }],
});

describe('chaos property engine', () => {
  it('settings: defaults, replay from TP_SEED/TP_PATH, every bad value named', () => {
    const d = { numRuns: 3, repeats: 2, timeBudgetMs: 1_000, seed: 9 };
    expect(chaosSettings(d, {})).toEqual({ seed: 9, numRuns: 3, repeats: 2, timeBudgetMs: 1_000 });
    expect(chaosSettings(d, { TP_SEED: '-5', TP_PATH: '1:0:2' })).toEqual({ seed: -5, path: '1:0:2', numRuns: 1, repeats: 2, timeBudgetMs: 1_000 });
    expect(chaosSettings(d, { TP_CHAOS_RUNS: '50', TP_CHAOS_BUDGET_MS: '60000' })).toMatchObject({ numRuns: 50, timeBudgetMs: 60_000 });
    expect(() => chaosSettings(d, { TP_PATH: 'x', TP_REPEATS: '0' })).toThrow(/TP_PATH="x"[\s\S]*TP_REPEATS="0"/);
  });

  it('a plan\'s key ignores the run id but not the faults', () => {
    const a = plan(100);
    expect(chaosKey(a)).toBe(chaosKey({ ...a, plan: { ...a.plan, runId: 'other123' } }));
    expect(chaosKey(a)).not.toBe(chaosKey(plan(150)));
  });

  it('replay command and case text', () => {
    const cmd = chaosReplayCommand({ file: 'test/x.int.test.ts', testName: 'kill (one payload)' }, 42, '1:0');
    expect(cmd).toBe("TP_SEED=42 TP_PATH=1:0 npx vitest run test/x.int.test.ts -t 'kill \\(one payload\\)$'");
    const a = attemptOf(history([req(0)], { store: [], backendEvents: [{ atMs: T0 + 50, kind: 'process_exit', reason: 'kill' }] }), {}, plan(50));
    const md = chaosCaseMarkdown({ name: 'kill', backendLabel: 'legacy' }, { seed: 42, path: '1:0', replay: cmd }, a, { ok: false, property: 'ack_stored_after_healing', details: ['stages: planned 1: lost in backend 1 (crash 1)'] }, 4);
    expect(md).toContain('# ack_stored_after_healing fails under chaos: legacy');
    expect(md).toContain('faults: backend SIGKILL, restarted after 0s (at 0.05s)');
    expect(md).toContain('|   lost in backend: crash | 1 (100.0 %) |');
    expect(md).toContain('testrun1#0: lost_in_backend (crash)');
    expect(md).toContain(cmd);
    void storedFrom;
  });
});
