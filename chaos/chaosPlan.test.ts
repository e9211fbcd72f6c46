import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validatePlan } from '../models/plan';
import { buildChaosPlan, chaosPayload, chaosPlanArb, chaosPlanDurationMs, describeChaosPlan, type ChaosPlan } from './chaosPlan';
import { scheduleProblems } from './faults';

const opts = { windowMs: 2_000, maxVehicles: 2, faults: { kinds: ['outage', 'kill'] as const, targets: ['influx', 'backend'] as const, maxFaults: 3 } };

/** A stand-in for "a sample acknowledged before a backend kill is lost". */
const killAfterSample = (c: ChaosPlan) =>
  c.faults.some((f) => f.kind === 'kill' && c.plan.requests.some((r) => r.atMs < f.at));

describe('chaosPlanArb', () => {
  it('makes sound plans: valid storable payloads on a grid, faults inside the window', () => {
    fc.assert(
      fc.property(chaosPlanArb(opts), (c) => {
        expect(validatePlan(c.plan)).toEqual([]);
        expect(scheduleProblems(c.faults, { windowMs: 2_000 })).toEqual([]);
        for (const r of c.plan.requests) {
          expect(r.body.kind).toBe('payload');
          if (r.body.kind === 'payload') expect(r.body.payload).toHaveProperty('pose');
        }
        expect(chaosPlanDurationMs(c)).toBeLessThanOrEqual(2_000);
        expect(['jetson', 'retry']).toContain(c.policy);
      }),
      { numRuns: 100, seed: 1 },
    );
  });

  it('shrinks stream and faults together to one sample and one kill', () => {
    const details = fc.check(fc.property(chaosPlanArb(opts), (c) => !killAfterSample(c)), { seed: 3, numRuns: 200 });
    expect(details.failed).toBe(true);
    const min = details.counterexample![0];
    expect(min.plan.requests).toHaveLength(1);
    expect(min.faults).toHaveLength(1);
    expect(min.faults[0]).toMatchObject({ kind: 'kill', target: 'backend' });
    expect(min.plan.vehicles).toHaveLength(1);
    expect(min.policy).toBe('jetson');
    expect(describeChaosPlan(min)).toMatch(/^1 sample\(s\) from 1 vehicle\(s\) at 10 Hz/);
  });

  it('a sample keeps its time when others are shrunk away', () => {
    const base = { runId: 'abcd1234', payloadSeed: 7, trajectoryPoints: 0, faults: [], policy: 'jetson' as const, stalledSseClients: 0 };
    const full = buildChaosPlan({ ...base, vehicles: [{ rateHz: 10, startDelayMs: 5, slots: [0, 1, 2, 3] }] });
    const some = buildChaosPlan({ ...base, vehicles: [{ rateHz: 10, startDelayMs: 5, slots: [3] }] });
    expect(some.plan.requests[0]!.atMs).toBe(full.plan.requests[3]!.atMs);
    expect(some.plan.requests[0]!.body).toEqual(full.plan.requests[3]!.body);
  });

  it('payloads are deterministic per seed, vehicle and slot', () => {
    expect(chaosPayload(1, 0, 5, 3)).toEqual(chaosPayload(1, 0, 5, 3));
    expect(chaosPayload(1, 0, 5, 0)).not.toEqual(chaosPayload(1, 0, 6, 0));
    expect((chaosPayload(1, 0, 5, 3).trajectory as unknown[]).length).toBe(3);
  });
});

describe('onGrid', () => {
  it('floors starts and lengths, keeping faults of one target apart', async () => {
    const { onGrid } = await import('./chaosPlan');
    const faults = [
      { kind: 'outage', target: 'influx', at: 0, duration: 149, params: {} },
      { kind: 'outage', target: 'influx', at: 149, duration: 60, params: {} },
    ] as const;
    const g = onGrid(faults, 50);
    expect(g.map((f) => [f.at, f.duration])).toEqual([[0, 100], [100, 50]]);
    expect(scheduleProblems(g)).toEqual([]);
    fc.assert(fc.property(chaosPlanArb({ ...opts, faultGridMs: 100 }), (c) => {
      expect(c.faults.every((f) => f.at % 100 === 0 && f.duration % 100 === 0)).toBe(true);
      expect(scheduleProblems(c.faults)).toEqual([]);
    }), { numRuns: 50, seed: 2 });
  });
});

describe('largest', () => {
  it('starts from every slot and the biggest payload, and still shrinks', () => {
    const arb = chaosPlanArb({ windowMs: 1_000, largest: true, maxTrackPoints: 100, faults: { maxFaults: 0 } });
    fc.assert(fc.property(arb, (c) => {
      expect(c.plan.requests).toHaveLength(10);
      const p = c.plan.requests[0]!.body;
      expect(p.kind === 'payload' && (p.payload.track as { outer: unknown[] }).outer.length).toBe(100);
    }), { numRuns: 5 });
    const d = fc.check(fc.property(arb, (c) => c.plan.requests.length < 4), { seed: 1 });
    expect(d.counterexample![0].plan.requests).toHaveLength(4);
    const p = d.counterexample![0].plan.requests[0]!.body;
    expect(p.kind === 'payload' && p.payload.track).toBeUndefined();
  });
});

describe('spaceProxyFaults', () => {
  it('keeps a quiet gap between faults on one proxy, leaves other targets and process faults alone', async () => {
    const { spaceProxyFaults } = await import('./chaosPlan');
    const faults = [
      { kind: 'latency', target: 'ingest', at: 0, duration: 1_000, params: { latencyMs: 10, jitterMs: 0, stream: 'downstream' } },
      { kind: 'slow_close', target: 'ingest', at: 1_000, duration: 500, params: { delayMs: 10, stream: 'both' } },
      { kind: 'outage', target: 'influx', at: 1_000, duration: 100, params: {} },
      { kind: 'kill', target: 'backend', at: 1_000, duration: 0, params: {} },
      { kind: 'outage', target: 'ingest', at: 1_700, duration: 500, params: {} },
    ] as const;
    const out = spaceProxyFaults(faults, 500, 2_500);
    expect(out.map((f) => [f.target, f.at, f.duration])).toEqual([
      ['ingest', 0, 1_000], ['influx', 1_000, 100], ['backend', 1_000, 0], ['ingest', 1_500, 500], ['ingest', 2_500, 0],
    ]);
    fc.assert(fc.property(chaosPlanArb({ windowMs: 3_000, faults: { targets: ['influx', 'ingest'], maxFaults: 4 } }), (c) => {
      for (const t of ['influx', 'ingest']) {
        const fs = c.faults.filter((f) => f.target === t).sort((a, b) => a.at - b.at);
        for (let i = 1; i < fs.length; i++) expect(fs[i]!.at - (fs[i - 1]!.at + fs[i - 1]!.duration)).toBeGreaterThanOrEqual(500);
      }
    }), { numRuns: 100, seed: 4 });
  });
});
