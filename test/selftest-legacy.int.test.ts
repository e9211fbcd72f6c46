/**
 * The framework's self-tests: each property is aimed at a bug the legacy
 * backend really has, must find it, and must shrink it to the expected
 * minimal case; and on a configuration without that bug it must pass.
 * Seeds are fixed so CI is repeatable; the properties' own suites use fresh
 * seeds every run.
 */
import { describe, expect, inject, it } from 'vitest';
import fc from 'fast-check';
import { contractFrom, DEFAULT_CONTRACT } from '../models/contract';
import {
  ackImpliesStored,
  conservationHolds,
  lagWithinBound,
  noServerErrorOnClientError,
  rejectedNeverStored,
  validationAgreesWithModel,
} from '../models/checker';
import { arbPlan, arbPlanOf, arbValidDraft, hostileCatalogue, QUICK_PROFILE, realisticDraft } from '../properties/arbitraries';
import { payloadOf, runSelfTest, type SelfTestCase } from '../properties/engine/selfTest';
import { planFromGroups } from '../properties/arbitraries/plan';

const FILE = 'test/selftest-legacy.int.test.ts';
const FAST_FLUSH = { kind: 'reference', mode: 'legacy', flushIntervalMs: 250 } as const;
const DEFAULT_FLUSH = { kind: 'reference', mode: 'legacy' } as const;
const hostile = hostileCatalogue(DEFAULT_CONTRACT);

function base(name: string, over: Partial<SelfTestCase> & Pick<SelfTestCase, 'arbitrary' | 'judge'>): SelfTestCase {
  return {
    name,
    file: FILE,
    testName: name,
    backend: FAST_FLUSH,
    contract: DEFAULT_CONTRACT,
    seed: 42,
    numRuns: 20,
    drainBoundMs: 1_500,
    ...over,
  };
}

describe('self-test: properties find the legacy backend\'s bugs and shrink them', () => {
  it('a payload with neither pose nor control is acknowledged and never stored (minimal: 1 payload)', async () => {
    const out = await runSelfTest(
      inject('stack'),
      base('no-field payload', {
        arbitrary: arbPlanOf(arbValidDraft().map((d) => [d]), { maxGroups: 5, spacingMs: 40 }),
        judge: ackImpliesStored,
      }),
    );
    expect(out.ok).toBe(false);
    const plan = out.failure!.attempt!.plan;
    expect(plan.requests).toHaveLength(1);
    const p = payloadOf(plan, 0)!;
    expect(p.pose).toBeUndefined();
    expect(p.control).toBeUndefined();
    expect(out.failure!.attempt!.verdict.counts.lost).toBe(1);
  });

  it('two samples in the same vehicle and millisecond collapse into one point (minimal: 2 payloads)', async () => {
    const out = await runSelfTest(
      inject('stack'),
      base('same-millisecond collapse', {
        arbitrary: arbPlanOf(fc.oneof(hostile.duplicateMillisecond, arbValidDraft().map((d) => [d])), { maxGroups: 4, spacingMs: 40 }),
        judge: ackImpliesStored,
      }),
    );
    expect(out.ok).toBe(false);
    const a = out.failure!.attempt!;
    expect(a.plan.requests).toHaveLength(2);
    expect(a.verdict.counts.collapsed).toBe(1);
  });

  it('with the default 60 s flush an acknowledged sample is not stored within the lag bound (minimal: 1 payload); with 250 ms it is', async () => {
    const contract = contractFrom({ lagBoundMs: 1_500 });
    const storable = arbPlanOf(arbValidDraft({}).filter((d) => d.body.kind === 'payload' && ('pose' in d.body.payload || 'control' in d.body.payload)).map((d) => [d]), {
      maxGroups: 4,
      spacingMs: 40,
      contract: { lagBoundMs: 1_500 },
    });
    const slow = await runSelfTest(inject('stack'), base('lag, default flush', { backend: DEFAULT_FLUSH, arbitrary: storable, judge: lagWithinBound, contract, numRuns: 3 }));
    expect(slow.ok).toBe(false);
    expect(slow.failure!.attempt!.plan.requests).toHaveLength(1);
    const fast = await runSelfTest(inject('stack'), base('lag, 250 ms flush', { arbitrary: storable, judge: lagWithinBound, contract, numRuns: 4 }));
    expect(fast.ok, fast.failure?.attempt?.result.details.join('\n')).toBe(true);
  });

  it('a realistic Jetson payload is refused with 413: the shrinker finds the smallest track that trips the 100 kB limit', async () => {
    const out = await runSelfTest(
      inject('stack'),
      base('realistic payload size', {
        arbitrary: fc.integer({ min: 0, max: 4_000 }).map((n) => planFromGroups([[realisticDraft({ trackPoints: n })]], { runId: 'realsize0' })),
        judge: validationAgreesWithModel,
        numRuns: 10,
        repeats: 1,
      }),
    );
    expect(out.ok).toBe(false);
    const rec = out.failure!.attempt!.history.requests[0]!;
    expect(rec.outcome).toMatchObject({ kind: 'response', status: 413 });
    const bytes = Buffer.byteLength(rec.body);
    expect(bytes).toBeGreaterThan(DEFAULT_CONTRACT.bodyLimitBytes);
    // Minimal: one point fewer on the track fits under the limit.
    const trackPoints = (payloadOf(out.failure!.attempt!.plan, 0)!.track as { outer: unknown[] }).outer.length;
    const smaller = JSON.stringify({ ...JSON.parse(rec.body), track: { outer: (JSON.parse(rec.body).track.outer as unknown[]).slice(0, -1), inner: (JSON.parse(rec.body).track.inner as unknown[]).slice(0, -1) } });
    expect(Buffer.byteLength(smaller)).toBeLessThanOrEqual(DEFAULT_CONTRACT.bodyLimitBytes);
    console.log(`[self-test] smallest realistic payload refused: track ${trackPoints} points per boundary, body ${bytes} bytes`);
  });

  it('1e309 in a float field gives a 5xx (minimal: 1 request)', async () => {
    const out = await runSelfTest(
      inject('stack'),
      base('non-finite field', {
        arbitrary: arbPlanOf(fc.oneof(hostile.nonFiniteField, arbValidDraft().map((d) => [d])), { maxGroups: 4, spacingMs: 40 }),
        judge: noServerErrorOnClientError,
      }),
    );
    expect(out.ok).toBe(false);
    const a = out.failure!.attempt!;
    expect(a.plan.requests).toHaveLength(1);
    expect(a.history.requests[0]!.body).toMatch(/1e309/i);
    expect(a.history.requests[0]!.outcome).toMatchObject({ kind: 'response', status: 500 });
  });

  it('an empty vehicle_id is acknowledged but stored without its tag (minimal: 1 request)', async () => {
    const out = await runSelfTest(
      inject('stack'),
      base('empty vehicle_id', {
        arbitrary: arbPlanOf(fc.oneof(hostile.vehicleIdEmpty, arbValidDraft().map((d) => [d])), { maxGroups: 4, spacingMs: 40 }),
        judge: ackImpliesStored,
      }),
    );
    expect(out.ok).toBe(false);
    const a = out.failure!.attempt!;
    expect(a.plan.requests).toHaveLength(1);
    expect(JSON.parse(a.history.requests[0]!.body).vehicle_id).toBe('');
  });

  it('the properties legacy does satisfy pass on mixed and hostile plans (no false alarms)', async () => {
    for (const [name, judge] of [
      ['conservation', conservationHolds],
      ['rejected_never_stored', rejectedNeverStored],
    ] as const) {
      const out = await runSelfTest(
        inject('stack'),
        base(name, { arbitrary: arbPlan({ ...QUICK_PROFILE, hostile: 'all', maxRequests: 30 }), judge, numRuns: 4, seed: 7 }),
      );
      expect(out.ok, out.failure?.attempt?.result.details.join('\n') ?? out.failure?.error).toBe(true);
    }
  });
});
