/**
 * The chaos properties the user-facing suite (chaos.prop.test.ts) and the
 * release run (chaos/release.ts) judge the configured backend with: what
 * each generates (stream, faults and publisher policy in one arbitrary),
 * what it judges, and what the target must allow.
 */
import type fc from 'fast-check';
import { chaosPlanArb, type ChaosPlan } from '../chaos/chaosPlan';
import { NETWORK_KINDS, type FaultKind, type FaultTarget } from '../chaos/faults';
import { ackStoredAfterHealing, allOf, backendSurvives, noUnexpectedPoints, recoversWithinBound, slowConsumerBounded, type ChaosJudge } from '../chaos/judges';
import { coreJudge, type ChaosBounds, type ChaosProfile } from '../chaos/profiles';
import type { TargetCaps } from './engine/chaosSelfTest';

export interface ChaosPropertyDefinition {
  name: string;
  title: string;
  /** Needs a stack of its own (influxd faults never touch the shared influxd). */
  ownStack: boolean;
  /** Runs only when the target allows it. */
  applies: (caps: TargetCaps) => boolean;
  plans: (p: ChaosProfile, caps: TargetCaps) => fc.Arbitrary<ChaosPlan>;
  judge: (b: ChaosBounds) => ChaosJudge;
  /** SSE ledger clients (default 1). */
  sseClients?: number;
}

export const CHAOS_CATALOGUE: ChaosPropertyDefinition[] = [
  {
    name: 'chaos_network_faults',
    title: 'network faults on both links that heal within the retry budget: acknowledged ⇒ stored, nothing unexpected, recovery in bound, backend survives',
    ownStack: false,
    applies: (c) => c.network,
    plans: (p) => chaosPlanArb({
      windowMs: p.windowMs,
      maxVehicles: 2,
      ratesHz: [10, 20],
      faults: { kinds: NETWORK_KINDS, targets: ['influx', 'ingest'], maxFaults: p.maxFaults, maxDurationMs: p.maxFaultMs },
    }),
    judge: (b) => coreJudge(b),
  },
  {
    name: 'chaos_process_faults',
    title: 'backend SIGKILL/restart, influxd SIGSTOP/restart (and network faults): acknowledged ⇒ stored, nothing unexpected, recovery in bound',
    ownStack: true,
    applies: (c) => c.backendProcess,
    plans: (p, c) => {
      const targets: FaultTarget[] = ['backend', ...(c.influxdProcess ? (['influxd'] as const) : []), ...(c.network ? (['influx', 'ingest'] as const) : [])];
      const kinds: FaultKind[] = ['kill', 'restart', 'pause', ...(c.network ? (['outage', 'latency'] as const) : [])];
      return chaosPlanArb({
        windowMs: p.windowMs,
        maxVehicles: 2,
        faults: { kinds, targets, maxFaults: p.maxProcessFaults + 1, maxDurationMs: p.maxProcessFaultMs, params: { restartGraceMs: { min: 500, max: 5_000 } } },
      });
    },
    judge: (b) => allOf(ackStoredAfterHealing, noUnexpectedPoints, recoversWithinBound({ lagBoundMs: b.lagBoundMs })),
  },
  {
    name: 'chaos_slow_consumer',
    title: 'stalled SSE consumers: backend memory bounded, ingestion not slowed, nothing lost',
    ownStack: false,
    applies: () => true,
    plans: (p) => chaosPlanArb({
      // Memory, not endurance: a few seconds of 50 Hz x 66 kB already overflow the socket buffers.
      windowMs: Math.min(p.windowMs, 6_000),
      ratesHz: [50],
      largest: true,
      maxTrackPoints: 1_500,
      minStalledSseClients: 1,
      maxStalledSseClients: 3,
      policies: ['jetson'],
      faults: { maxFaults: 0 },
    }),
    judge: (b) => allOf(
      slowConsumerBounded({ maxSseBufferedBytes: b.maxSseBufferedBytes, maxReplyP99Ms: b.maxReplyP99Ms, maxRssSlopeMBPerMin: b.maxRssSlopeMBPerMin }),
      backendSurvives({ maxRssMB: b.maxRssMB, maxRssSlopeMBPerMin: b.maxRssSlopeMBPerMin }),
      ackStoredAfterHealing,
    ),
    // No ledger client: parsing every 66 kB event would load the publisher's own process.
    sseClients: 0,
  },
];
