import { describe, expect, it } from 'vitest';
import { cleanHistory, history, req, storedFrom, T0 } from '../models/testing/history-builder';
import { sumReports } from '../models/stages';
import type { ChaosOutcome } from '../properties/engine/chaosProperty';
import { releaseMinutes, releaseReport } from './release';
import { attemptOf } from './testing';

function outcome(name: string, ok: boolean): ChaosOutcome {
  const a = ok ? attemptOf(cleanHistory(2)) : attemptOf(history([req(0), req(1)], { store: [storedFrom(req(0))], backendEvents: [{ atMs: T0 + 150, kind: 'process_exit', reason: 'kill' }] }));
  const { perSample: _p, ...stages } = a.stages;
  return {
    ok, name, seed: 7, numRuns: 3, executions: 4, elapsedMs: 61_000, interrupted: false, replay: `TP_SEED=7 npx vitest run properties/chaos.prop.test.ts -t '${name}$'`,
    runs: [], totals: sumReports([stages]), byPolicy: { jetson: sumReports([stages]) }, unconfirmed: { count: 0 },
    ...(ok ? {} : { failure: { attempt: a, judgement: { ok: false, property: 'ack_stored_after_healing', details: ['stages: …', '[lost] testrun1#1'] }, caseDir: '/tmp/case', shrinkSteps: 3 } }),
  };
}

describe('chaos:release', () => {
  it('reads its budget from --minutes, then TP_CHAOS_MINUTES, default 30', () => {
    expect(releaseMinutes(undefined, {})).toBe(30);
    expect(releaseMinutes(undefined, { TP_CHAOS_MINUTES: '5' })).toBe(5);
    expect(releaseMinutes('2', { TP_CHAOS_MINUTES: '5' })).toBe(2);
    expect(() => releaseMinutes('soon', {})).toThrow(/--minutes/);
  });

  it('reports every property, the loss table per policy and each minimal case with its replay', () => {
    const text = releaseReport(
      [{ title: 'network', outcome: outcome('chaos_network_faults', true) }, { title: 'process', outcome: outcome('chaos_process_faults', false) }, { title: 'sse', skipped: 'no processes' }],
      { minutes: 30, backend: 'the reference backend (legacy)', seed: 7 },
    );
    expect(text).toContain('- PASS `chaos_network_faults`');
    expect(text).toContain('- FAIL `chaos_process_faults`');
    expect(text).toContain('- SKIP sse: no processes');
    expect(text).toContain('| stage | jetson |');
    expect(text).toContain('|   lost in backend: crash | 1 (25.0 %) |');
    expect(text).toContain('### chaos_process_faults');
    expect(text).toContain("TP_SEED=7 npx vitest run properties/chaos.prop.test.ts -t 'chaos_process_faults$'");
  });
});
