/**
 * The framework's self-tests: each property is aimed at a bug the legacy
 * backend really has, must find it, and must shrink it to the expected
 * minimal case; and on a configuration without that bug it must pass.
 * Seeds are fixed so CI is repeatable (TP_SEED/TP_PATH from a printed replay
 * command override them); the user-facing suite uses fresh seeds every run.
 * Minimal cases are written to a temporary folder (printed), or TP_FAILURES_DIR.
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
import { arbPlan, arbPlanOf, arbValidDraft, draft, hostileCatalogue, payloadBody, QUICK_PROFILE, realisticDraft } from '../properties/arbitraries';
import { payloadOf, runSelfTest, type SelfTestCase } from '../properties/engine/selfTest';
import { planFromGroups } from '../properties/arbitraries/plan';
import { authEnforced, storedCorrupted } from '../properties/judges';

const FILE = 'test/selftest-legacy.int.test.ts';
const FAST_FLUSH = { kind: 'reference', mode: 'legacy', flushIntervalMs: 250 } as const;
const DEFAULT_FLUSH = { kind: 'reference', mode: 'legacy' } as const;
const hostile = hostileCatalogue(DEFAULT_CONTRACT);
/** A valid request alone in its group: the innocent company of each hostile case. */
const valid = arbValidDraft().map((d) => [d]);

function base(name: string, testName: string, over: Partial<SelfTestCase> & Pick<SelfTestCase, 'arbitrary' | 'judge'>): SelfTestCase {
  return {
    name,
    file: FILE,
    testName,
    backend: FAST_FLUSH,
    contract: DEFAULT_CONTRACT,
    seed: 42,
    numRuns: 20,
    // Failing executions end once every expected point is accounted for; this
    // only bounds the wait for a point that never comes.
    drainBoundMs: 1_500,
    ...over,
  };
}

describe('self-test: properties find the legacy backend\'s bugs and shrink them', () => {
  it('a payload with neither pose nor control is acknowledged and never stored (minimal: 1 payload)', async ({ task }) => {
    const out = await runSelfTest(
      inject('stack'),
      base('no-field payload', task.name, {
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
    expect(out.failure!.attempt!.history.requests[0]!.outcome).toMatchObject({ kind: 'response', status: 200 });
  });

  it('two samples in the same vehicle and millisecond collapse into one point (minimal: 2 payloads)', async ({ task }) => {
    const out = await runSelfTest(
      inject('stack'),
      base('same-millisecond collapse', task.name, {
        arbitrary: arbPlanOf(fc.oneof(hostile.duplicateMillisecond, valid), { maxGroups: 4, spacingMs: 40 }),
        judge: ackImpliesStored,
      }),
    );
    expect(out.ok).toBe(false);
    const a = out.failure!.attempt!;
    expect(a.plan.requests).toHaveLength(2);
    expect(a.verdict.counts.collapsed).toBeGreaterThanOrEqual(1);
    expect(a.verdict.counts.lost + a.verdict.counts.corrupted).toBe(0);
    const [r0, r1] = a.history.requests.map((r) => JSON.parse(r.body) as { vehicle_id: string; timestamp: number });
    expect(r1!.vehicle_id).toBe(r0!.vehicle_id);
    expect(Math.trunc(r1!.timestamp * 1000)).toBe(Math.trunc(r0!.timestamp * 1000));
  });

  it('with the default 60 s flush an acknowledged sample is not stored within the 5 s lag bound (minimal: 1 payload); with a 1 s flush it is', async ({ task }) => {
    // The payload's content is irrelevant to the lag: keep it fixed so that
    // shrinking (each step ≥ one lag bound of watching) only removes requests.
    const storable = fc.constantFrom(
      draft('valid', payloadBody({ pose: { x: 1, z: 2 } })),
      draft('valid', payloadBody({ control: { steering: 0.1, throttle: 0.5 } })),
    ).map((d) => [d]);
    const arbitrary = arbPlanOf(storable, { maxGroups: 4, spacingMs: 100 });
    const contract = DEFAULT_CONTRACT;
    const slow = await runSelfTest(inject('stack'), base('lag, default flush', task.name, {
      backend: DEFAULT_FLUSH, arbitrary, judge: lagWithinBound, contract, numRuns: 3, drainBoundMs: contract.lagBoundMs + 500,
    }));
    expect(slow.ok).toBe(false);
    const a = slow.failure!.attempt!;
    expect(a.plan.requests).toHaveLength(1);
    expect(a.verdict.counts.lost).toBe(1);
    expect(a.history.probeEndedAtMs - a.history.requests[0]!.sentAtMs).toBeGreaterThanOrEqual(contract.lagBoundMs);
    const fast = await runSelfTest(inject('stack'), base('lag, 1 s flush', task.name, {
      backend: { kind: 'reference', mode: 'legacy', flushIntervalMs: 1_000 }, arbitrary, judge: lagWithinBound, contract, numRuns: 5, drainBoundMs: contract.lagBoundMs + 500,
    }));
    expect(fast.ok, fast.failure?.attempt?.result.details.join('\n')).toBe(true);
  });

  it('a realistic Jetson payload is refused with 413: the shrinker finds the smallest track that trips the 100 kB limit', async ({ task }) => {
    const out = await runSelfTest(
      inject('stack'),
      base('realistic payload size', task.name, {
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
    // Minimal: one point fewer on each boundary fits under the limit.
    const sent = JSON.parse(rec.body) as { track: { outer: unknown[]; inner: unknown[] } };
    const trackPoints = sent.track.outer.length;
    const smaller = JSON.stringify({ ...sent, track: { outer: sent.track.outer.slice(0, -1), inner: sent.track.inner.slice(0, -1) } });
    expect(Buffer.byteLength(smaller)).toBeLessThanOrEqual(DEFAULT_CONTRACT.bodyLimitBytes);
    console.log(`[self-test] smallest realistic payload refused: track ${trackPoints} points per boundary, body ${bytes} bytes`);
  });

  it('1e309 in a float field gives a 5xx (minimal: 1 request)', async ({ task }) => {
    const out = await runSelfTest(
      inject('stack'),
      base('non-finite field', task.name, {
        arbitrary: arbPlanOf(fc.oneof(hostile.nonFiniteField, valid), { maxGroups: 4, spacingMs: 40 }),
        judge: noServerErrorOnClientError,
      }),
    );
    expect(out.ok).toBe(false);
    const a = out.failure!.attempt!;
    expect(a.plan.requests).toHaveLength(1);
    expect(a.history.requests[0]!.body).toMatch(/1e309/i);
    expect(a.history.requests[0]!.outcome).toMatchObject({ kind: 'response', status: 500 });
  });

  it('an empty vehicle_id is acknowledged but stored without its tag (minimal: 1 request)', async ({ task }) => {
    const out = await runSelfTest(
      inject('stack'),
      base('empty vehicle_id', task.name, {
        arbitrary: arbPlanOf(fc.oneof(hostile.vehicleIdEmpty, valid), { maxGroups: 4, spacingMs: 40 }),
        judge: ackImpliesStored,
      }),
    );
    expect(out.ok).toBe(false);
    const a = out.failure!.attempt!;
    expect(a.plan.requests).toHaveLength(1);
    expect(JSON.parse(a.history.requests[0]!.body).vehicle_id).toBe('');
    expect(a.verdict.counts.corrupted).toBe(1);
    expect(a.history.store.map((s) => s.vehicleId)).toEqual([null]);
  });

  it('an exotic vehicle_id is stored under a mangled id (minimal: 1 request, one newline, CR or tab)', async ({ task }) => {
    const out = await runSelfTest(
      inject('stack'),
      base('exotic vehicle_id', task.name, {
        arbitrary: arbPlanOf(fc.oneof(hostile.vehicleIdExotic, valid), { maxGroups: 4, spacingMs: 40 }),
        judge: storedCorrupted,
      }),
    );
    expect(out.ok).toBe(false);
    const a = out.failure!.attempt!;
    expect(a.plan.requests).toHaveLength(1);
    const body = a.plan.requests[0]!.body;
    const suffix = body.kind === 'payload' && body.vehicleId.kind === 'suffix' ? body.vehicleId.suffix : undefined;
    expect(['\n', '\r', '\t']).toContain(suffix);
    const sentId = JSON.parse(a.history.requests[0]!.body).vehicle_id as string;
    // Stored as the two characters "\" + "n" (or r, t) instead of the control character.
    const escaped = sentId.replace('\n', '\\n').replace('\r', '\\r').replace('\t', '\\t');
    expect(a.history.store.map((s) => s.vehicleId)).toEqual([escaped]);
  });

  it('auth: a missing or wrong API key is refused with 401 and never stored (passes on legacy)', async ({ task }) => {
    const out = await runSelfTest(
      inject('stack'),
      base('auth', task.name, {
        arbitrary: arbPlanOf(fc.oneof(hostile.apiKeyMissing, hostile.apiKeyWrong, valid), { maxGroups: 6, spacingMs: 20 }),
        judge: authEnforced,
        numRuns: 8,
        sseClients: 1,
      }),
    );
    expect(out.ok, out.failure?.attempt?.result.details.join('\n') ?? out.failure?.error).toBe(true);
    expect(out.numRuns).toBe(8);
  });

  it('the properties legacy does satisfy pass on mixed and hostile plans (no false alarms)', async ({ task }) => {
    for (const [name, judge] of [
      ['conservation', conservationHolds],
      ['rejected_never_stored', rejectedNeverStored],
      ['auth_enforced', authEnforced],
    ] as const) {
      const out = await runSelfTest(
        inject('stack'),
        base(name, task.name, { arbitrary: arbPlan({ ...QUICK_PROFILE, hostile: 'all', maxRequests: 30 }), judge, numRuns: 4, seed: 7, sseClients: 1 }),
      );
      expect(out.ok, out.failure?.attempt?.result.details.join('\n') ?? out.failure?.error).toBe(true);
    }
  });
});
