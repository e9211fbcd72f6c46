/**
 * Durable mode through the real stack (real influxd, Toxiproxy, the backend
 * as a process): the durable ingestion issue's guarantees, checked with the
 * framework's own runners and checker.
 *
 *  - acknowledged ⇒ stored exactly across SIGKILL/restart cycles under load;
 *  - an InfluxDB outage longer than a (scaled-down) legacy retry budget loses
 *    nothing on durable — and the same plan does lose on that legacy;
 *  - overload: a full log answers 503 with Retry-After, and the `retry`
 *    publisher policy then loses nothing; memory stays bounded; the same for
 *    an event loop far behind (shed before the body is parsed);
 *  - a stalled SSE consumer is disconnected, its buffer and RSS bounded;
 *  - the property self-tests the legacy file proves failing, PASSING here
 *    (no-field payload → 400, 1e309 → 400, empty id → 400, 150 kB payload
 *    accepted, and a second sample in the same vehicle + ms → 409, no collapse).
 */
import { describe, expect, inject, it } from 'vitest';
import fc from 'fast-check';
import { buildChaosPlan, type ChaosPlanDraft } from '../chaos/chaosPlan';
import { slowConsumerBounded } from '../chaos/judges';
import { coreJudge, DEFAULT_BOUNDS, runOptions } from '../chaos/profiles';
import { setProxyEnabled } from '../chaos/toxiproxyDriver';
import { ackImpliesStored, noServerErrorOnClientError, validationAgreesWithModel, type PropertyResult, type Verdict } from '../models/checker';
import { DEFAULT_CONTRACT } from '../models/contract';
import { lossTable } from '../models/stages';
import { arbPlanOf, arbValidDraft, hostileCatalogue, realisticDraft } from '../properties/arbitraries';
import { planFromGroups } from '../properties/arbitraries/plan';
import type { Plan } from '../models/plan';
import { runPlanProperty } from '../properties/engine/runProperty';
import { selfTestSettings } from '../properties/engine/selfTest';
import { selfTestFailuresDir, suiteChaosTarget } from '../properties/engine/chaosSelfTest';
import { executeChaosPlan, type ChaosAttempt, type ChaosRunOptions } from '../runners/chaosRun';
import type { BackendSpec } from '../runners/stack/backendProcess';
import { startSuiteBackend } from '../runners/stack/suiteBackend';

const FILE = 'test/durable.int.test.ts';
const DURABLE: BackendSpec = { kind: 'reference', mode: 'durable' };
/** The legacy WriteApi's retry budget scaled ~100x down (180 s → 1.5 s), as in selftest-chaos. */
const SCALED_LEGACY: BackendSpec = {
  kind: 'reference',
  mode: 'legacy',
  flushIntervalMs: 200,
  env: { INFLUX_MAX_RETRIES: '2', INFLUX_MIN_RETRY_DELAY_MS: '100', INFLUX_MAX_RETRY_DELAY_MS: '300', INFLUX_MAX_RETRY_TIME_MS: '1500', INFLUX_MAX_BUFFER_LINES: '30' },
};
const C = DEFAULT_CONTRACT;

function plan(over: Partial<ChaosPlanDraft> & Pick<ChaosPlanDraft, 'vehicles' | 'faults'>) {
  return buildChaosPlan({ runId: 'durable0', payloadSeed: 7, trajectoryPoints: 20, policy: 'jetson', stalledSseClients: 0, ...over });
}
const slots = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Zero lost / unexpected / collapsed / corrupted, and every core chaos property holds. */
function expectNothingLost(a: ChaosAttempt, label: string): void {
  const table = lossTable([{ label, report: a.stages }]);
  console.log(`[durable] ${label}: ${a.history.requests.length} sent, ${a.stages.acknowledged} acknowledged\n${table}`);
  const j = coreJudge(DEFAULT_BOUNDS)(a);
  expect(j.ok, j.details.join('\n')).toBe(true);
  const c = a.verdict.counts;
  expect({ lost: c.lost, unexpected: c.unexpected, collapsed: c.collapsed, corrupted: c.corrupted, stored_after_reject: c.stored_after_reject }).toEqual({
    lost: 0, unexpected: 0, collapsed: 0, corrupted: 0, stored_after_reject: 0,
  });
  expect(a.stages.counts.lost_in_backend).toBe(0);
}

/** The retry policy's promise: every planned sample sent, acknowledged and stored. */
function expectEverySampleAcknowledgedAndStored(a: ChaosAttempt, label: string): void {
  expect(a.history.neverSent ?? []).toEqual([]);
  expect(a.stages.acknowledged).toBe(a.chaos.plan.requests.length);
  expectNothingLost(a, label);
}

function run(drainBoundMs: number, over: Partial<ChaosRunOptions> = {}): ChaosRunOptions {
  return { ...runOptions(C, { drainBoundMs }), ...over };
}

/** The retrying car: honours Retry-After (in seconds), backs off, gives up only after 30 s. */
function retryRun(drainBoundMs: number, requestTimeoutMs: number): ChaosRunOptions {
  return run(drainBoundMs, {
    publisher: {
      backoff: { baseMs: 100, capMs: 1_000 },
      retry: { maxAttempts: 100, maxElapsedMs: 30_000, retryAfterScale: 1_000 },
      requestTimeoutMs,
      catchUpMs: 20_000,
    },
  });
}

/** Attempts answered 503 whose body contains `text`. */
function attempts503(a: ChaosAttempt, text = ''): number {
  return a.history.requests.flatMap((r) => r.attempts ?? [])
    .filter((t) => t.outcome?.kind === 'response' && t.outcome.status === 503 && t.outcome.body.includes(text)).length;
}

describe('durable mode: acknowledged ⇒ stored, through crashes, outages and overload', () => {
  it('three SIGKILL/restart cycles under load (2 × 50 Hz): every acknowledged sample is stored exactly, nothing unexpected', async () => {
    const target = await suiteChaosTarget(inject('stack'), DURABLE, 'durkill');
    try {
      // The retrying car keeps traffic flowing around every kill (the Jetson policy would be
      // backing off), and its resends of samples whose reply the kill swallowed are
      // identical resends: 200 again from the rebuilt key index, never a second point.
      const cp = plan({
        policy: 'retry',
        vehicles: [{ rateHz: 50, startDelayMs: 0, slots: slots(450) }, { rateHz: 50, startDelayMs: 10, slots: slots(450) }],
        // Far enough apart for each restart (tsx compiles on start: 1–3 s on a loaded box) to be over well before the next kill.
        faults: [700, 4_200, 7_700].map((at) => ({ kind: 'kill' as const, target: 'backend' as const, at, duration: 200, params: {} })),
      });
      const a = await executeChaosPlan(cp, target.env, run(8_000, {
        publisher: { backoff: { baseMs: 100, capMs: 1_000 }, retry: { maxAttempts: 100, maxElapsedMs: 15_000 }, requestTimeoutMs: 2_000, catchUpMs: 15_000 },
      }));
      expect(a.nemesis!.records.map((r) => r.startVerified && r.endVerified)).toEqual([true, true, true]);
      // Every kill landed under load: tries in flight at the kill, or acknowledged just before it.
      const tries = a.history.requests.flatMap((q) => q.attempts ?? [{ sentAtMs: q.sentAtMs, outcome: q.outcome }]);
      for (const r of a.nemesis!.records) {
        const k = r.startRequestedAt!;
        const busy = tries.filter((t) => t.sentAtMs < k && ((t.outcome?.atMs ?? Infinity) >= k || (t.outcome?.kind === 'response' && t.outcome.status === 200 && t.sentAtMs >= k - 2_000)));
        console.log(`[durable] kill at ${k - a.history.startedAtMs} ms (planned ${r.fault.at} ms): ${busy.length} tries in flight or acknowledged in the 2 s before; restarted by ${r.endedAt! - a.history.startedAtMs} ms`);
        expect(busy.length, `tries around the kill at ${k - a.history.startedAtMs} ms`).toBeGreaterThan(0);
      }
      const resent = a.history.requests.filter((q) => (q.attempts?.length ?? 1) > 1).length;
      // The only refusals: 409 for a second, different sample in one vehicle's millisecond (a late
      // publisher loop stamps overdue ticks with the same device ms; legacy would collapse them).
      const refused = a.history.requests.filter((q) => q.outcome?.kind === 'response' && q.outcome.status >= 400 && q.outcome.status < 500);
      console.log(`[durable] 3 kills: ${resent} sample(s) resent by the retry policy, ${refused.length} refused with 409`);
      expect([...new Set(refused.map((q) => (q.outcome as { status: number }).status))].filter((st) => st !== 409)).toEqual([]);
      expect(a.stages.acknowledged).toBeGreaterThan(200);
      expectNothingLost(a, 'durable, 3 kills');
    } finally {
      await target.stop();
    }
  }, 120_000);

  it('an InfluxDB outage (4 s) longer than the scaled legacy retry budget (1.5 s): durable loses nothing, that legacy loses samples', async () => {
    const cp = plan({
      vehicles: [{ rateHz: 20, startDelayMs: 0, slots: slots(100) }],
      faults: [{ kind: 'outage', target: 'influx', at: 500, duration: 4_000, params: {} }],
    });
    const durable = await suiteChaosTarget(inject('stack'), { ...DURABLE, env: { SHIP_BACKOFF_MAX_MS: '1000' } }, 'durout');
    let d: ChaosAttempt;
    try {
      d = await executeChaosPlan(cp, durable.env, run(8_000));
    } finally {
      await durable.stop();
    }
    expect(d.nemesis!.records[0]).toMatchObject({ startVerified: true, endVerified: true });
    // It kept acknowledging through the outage.
    const during = d.history.requests.filter((r) => r.sentAtMs > d.history.startedAtMs + 700 && r.sentAtMs < d.history.startedAtMs + 4_300 && r.outcome?.kind === 'response' && r.outcome.status === 200);
    expect(during.length).toBeGreaterThan(50);
    expectNothingLost(d, 'durable, 4 s InfluxDB outage');

    const legacy = await suiteChaosTarget(inject('stack'), SCALED_LEGACY, 'legout');
    try {
      const l = await executeChaosPlan(cp, legacy.env, run(3_000));
      console.log(`[durable] same plan on legacy (scaled retry budget):\n${lossTable([{ label: 'legacy', report: l.stages }, { label: 'durable', report: d.stages }])}`);
      expect(l.stages.counts.lost_in_backend).toBeGreaterThan(0);
    } finally {
      await legacy.stop();
    }
  }, 120_000);

  it('overload: a full log answers 503 with Retry-After, and the retry policy then loses nothing', async () => {
    const shared = inject('stack');
    const target = await suiteChaosTarget(shared, { ...DURABLE, env: { WAL_MAX_SAMPLES: '40', SHIP_BACKOFF_MAX_MS: '1000' } }, 'durfull');
    try {
      const info = target.env.info;
      const { Toxiproxy } = await import('toxiproxy-node-client');
      const toxiproxy = new Toxiproxy(info.toxiproxy!.url);
      const influxProxy = info.toxiproxy!.proxies.influx.name;
      // Direct check of the 503: InfluxDB away, the log fills up.
      await setProxyEnabled(toxiproxy, influxProxy, false);
      let shed: { status: number; retryAfter: string | null; message: string } | undefined;
      try {
        for (let i = 0; i < 60 && !shed; i++) {
          const res = await fetch(`${info.backend.directUrl}/api/v1/telemetry`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': info.backend.apiKey },
            body: JSON.stringify({ vehicle_id: `tp-durfull-probe`, timestamp: Date.now() / 1000 + i / 1000, pose: { x: i, z: 0 } }),
          });
          const body = (await res.json()) as { message: string };
          if (res.status !== 200) shed = { status: res.status, retryAfter: res.headers.get('retry-after'), message: body.message };
        }
      } finally {
        await setProxyEnabled(toxiproxy, influxProxy, true);
      }
      expect(shed).toMatchObject({ status: 503, message: 'Service Unavailable: write-ahead log full, retry later' });
      expect(Number(shed!.retryAfter)).toBeGreaterThanOrEqual(1);

      // The retrying car against the same bound: 2 × 20 Hz through a 3 s outage.
      const cp = plan({
        policy: 'retry',
        vehicles: [{ rateHz: 20, startDelayMs: 0, slots: slots(80) }, { rateHz: 20, startDelayMs: 25, slots: slots(80) }],
        faults: [{ kind: 'outage', target: 'influx', at: 500, duration: 3_000, params: {} }],
      });
      const a = await executeChaosPlan(cp, target.env, retryRun(8_000, 2_000));
      const shed503 = attempts503(a);
      console.log(`[durable] retry policy vs a 40-sample log: ${shed503} attempt(s) shed with 503, max RSS ${((a.resources.maxRssBytes ?? 0) / 2 ** 20).toFixed(0)} MB`);
      expect(shed503).toBeGreaterThan(0);
      expectEverySampleAcknowledgedAndStored(a, 'durable, retry policy, log bound 40');
    } finally {
      await target.stop();
    }
  }, 120_000);

  it('overload: an event loop far behind answers 503 + Retry-After before parsing, and the retry policy then loses nothing', async () => {
    // A SIGSTOP of the backend is the bluntest event-loop stall: requests pile
    // up in the kernel and, on SIGCONT, find the loop 800 ms behind. With a
    // 100 ms bound they must be shed (definite, cheap), not processed late.
    const target = await suiteChaosTarget(inject('stack'), { ...DURABLE, env: { SHED_EVENT_LOOP_DELAY_MS: '100' } }, 'durshed');
    try {
      const cp = plan({
        policy: 'retry',
        vehicles: [0, 10, 20, 30].map((startDelayMs) => ({ rateHz: 50, startDelayMs, slots: slots(100) })),
        faults: [
          { kind: 'pause', target: 'backend', at: 600, duration: 800, params: {} },
          { kind: 'pause', target: 'backend', at: 1_600, duration: 400, params: {} },
        ],
      });
      const a = await executeChaosPlan(cp, target.env, retryRun(8_000, 5_000));
      const overloaded = attempts503(a, 'overloaded');
      const metrics = await (await fetch(`${target.env.info.backend.directUrl}/metrics`)).text();
      const shedCount = Number(/^telemetry_requests_total\{outcome="shed"\} (\d+)$/m.exec(metrics)?.[1] ?? NaN);
      console.log(`[durable] event-loop shedding (bound 100 ms, backend paused 800 + 400 ms): ${overloaded} attempt(s) answered 503 overloaded (backend counted ${shedCount}), max RSS ${((a.resources.maxRssBytes ?? 0) / 2 ** 20).toFixed(0)} MB`);
      expect(overloaded).toBeGreaterThan(0);
      expect(shedCount).toBeGreaterThanOrEqual(overloaded);
      expectEverySampleAcknowledgedAndStored(a, 'durable, retry policy, event loop stalled');
    } finally {
      await target.stop();
    }
  }, 120_000);

  it('a stalled SSE consumer is disconnected: buffered bytes and RSS stay bounded, ingestion is not slowed', async () => {
    const target = await suiteChaosTarget(inject('stack'), DURABLE, 'dursse');
    try {
      // ~66 kB payloads (1 500-point track) at 50 Hz: the stalled client's socket fills within a second.
      const cp = plan({ vehicles: [{ rateHz: 50, startDelayMs: 0, slots: slots(150) }], trajectoryPoints: 500, trackPoints: 1_500, stalledSseClients: 1, faults: [] });
      const a = await executeChaosPlan(cp, target.env, run(3_000));
      const j = slowConsumerBounded({ maxSseBufferedBytes: DEFAULT_BOUNDS.maxSseBufferedBytes, maxReplyP99Ms: DEFAULT_BOUNDS.maxReplyP99Ms, maxRssSlopeMBPerMin: 1e6 })(a);
      expect(j.ok, j.details.join('\n')).toBe(true);
      expect(a.resources.maxSseBufferedBytes).not.toBeNull();
      const metrics = await (await fetch(`${target.env.info.backend.directUrl}/metrics`)).text();
      const dropped = Number(/^telemetry_sse_dropped_clients_total (\d+)$/m.exec(metrics)?.[1] ?? NaN);
      console.log(`[durable] stalled SSE client: max buffered ${((a.resources.maxSseBufferedBytes ?? 0) / 1024).toFixed(0)} KiB, dropped clients ${dropped}, max RSS ${((a.resources.maxRssBytes ?? 0) / 2 ** 20).toFixed(0)} MB, reply p99 ${a.latency.p99Ms} ms`);
      expect(dropped).toBeGreaterThanOrEqual(1);
      expectNothingLost(a, 'durable, stalled SSE client');
    } finally {
      await target.stop();
    }
  }, 120_000);
});

describe('durable mode: the legacy self-tests\' bugs are gone (the same properties PASS)', () => {
  const hostile = hostileCatalogue(C);
  const valid = arbValidDraft().map((d) => [d]);

  async function passes(name: string, arbitrary: fc.Arbitrary<Plan>, judge: (v: Verdict) => PropertyResult, numRuns: number): Promise<void> {
    const suite = await startSuiteBackend(inject('stack'), DURABLE, { label: name.replace(/[^a-z0-9]/gi, '').slice(0, 12) });
    try {
      const settings = selfTestSettings({ name, file: FILE, backend: DURABLE, arbitrary, judge, contract: C, seed: 42, numRuns, drainBoundMs: 1_500 });
      const out = await runPlanProperty(
        { name, file: FILE, testName: name, arbitrary, judge, contract: C, target: () => suite.info, backendLabel: 'the reference backend (durable)', execute: { sseClients: 0 }, failuresDir: selfTestFailuresDir() },
        settings,
      );
      expect(out.ok, out.failure?.attempt?.result.details.join('\n') ?? out.failure?.error).toBe(true);
      expect(out.numRuns).toBe(numRuns);
    } finally {
      await suite.stop();
    }
  }

  it('no-field payload → 400 (not acknowledged and dropped); empty vehicle_id → 400; 1e309 → 400: acknowledged ⇒ stored and no 5xx hold', async () => {
    const arb = arbPlanOf(fc.oneof(hostile.vehicleIdEmpty, hostile.nonFiniteField, valid), { maxGroups: 5, spacingMs: 40 });
    await passes('durable: ack implies stored on hostile ids and no-field payloads', arb, ackImpliesStored, 10);
    await passes('durable: no 5xx on non-finite fields', arbPlanOf(fc.oneof(hostile.nonFiniteField, valid), { maxGroups: 4, spacingMs: 40 }), noServerErrorOnClientError, 8);
  }, 120_000);

  it('two samples in the same vehicle and millisecond never collapse: the second different one is refused with 409', async () => {
    await passes('durable: same-millisecond samples', arbPlanOf(fc.oneof(hostile.duplicateMillisecond, valid), { maxGroups: 4, spacingMs: 40 }), ackImpliesStored, 10);
  }, 120_000);

  it('a realistic 150 kB payload (and up to 300 kB) is accepted, as the model demands (legacy: 413)', async () => {
    // 3 000 track points per boundary ≈ 156 kB of JSON, 6 000 ≈ 300 kB.
    const arb = fc.integer({ min: 3_000, max: 6_000 }).map((n) => planFromGroups([[realisticDraft({ trackPoints: n })]], { runId: 'realsize0' }));
    await passes('durable: realistic payload size', arb, validationAgreesWithModel, 4);
  }, 120_000);
});
