/**
 * Shared chaos set-ups: what the self-tests, the user-facing chaos suite,
 * the release run and the measurement script generate, how long they wait,
 * and which bounds they judge with. One place, so a number quoted from the
 * measurement script is the number the suites use.
 */
import { DEFAULT_CONTRACT, type Contract } from '../models/contract';
import type { ChaosRunOptions } from '../runners/chaosRun';
import { NETWORK_KINDS } from './faults';
import type { ChaosPlanOptions } from './chaosPlan';
import { ackStoredAfterHealing, allOf, backendSurvives, noUnexpectedPoints, recoversWithinBound, slowConsumerBounded, type ChaosJudge } from './judges';

/** The Jetson's 1 s .. 30 s back-off at a tenth, a retry budget of 5 s, a 1 s client timeout. */
export const COMPRESSED_PUBLISHER: NonNullable<ChaosRunOptions['publisher']> = {
  backoff: { baseMs: 100, capMs: 3_000 },
  retry: { maxAttempts: 10, maxElapsedMs: 5_000 },
  requestTimeoutMs: 1_000,
  catchUpMs: 3_000,
};

/** The real Jetson: 1 s .. 30 s back-off, 2 s timeout (and a retrying car with a 60 s budget). */
export const REAL_PUBLISHER: NonNullable<ChaosRunOptions['publisher']> = {
  backoff: { baseMs: 1_000, capMs: 30_000 },
  retry: { maxAttempts: 10, maxElapsedMs: 60_000 },
  requestTimeoutMs: 2_000,
  catchUpMs: 30_000,
};

/**
 * The legacy WriteApi's first retry comes 5..10 s after a failure (library
 * default minRetryDelay 5 s, randomised up to 2x): a run whose faults heal
 * quickly still needs this long to see everything stored.
 */
export const LIBRARY_FIRST_RETRY_MS = 10_000;

export interface ChaosBounds {
  /** Backend answering again after the final heal. */
  recoveryBoundMs: number;
  /** Acknowledged after the last fault ⇒ stored within this. */
  lagBoundMs: number;
  maxRssMB: number;
  maxRssSlopeMBPerMin: number;
  maxSseBufferedBytes: number;
  maxReplyP99Ms: number;
}

export const DEFAULT_BOUNDS: ChaosBounds = {
  recoveryBoundMs: 5_000,
  lagBoundMs: DEFAULT_CONTRACT.lagBoundMs,
  maxRssMB: 600,
  maxRssSlopeMBPerMin: 60,
  maxSseBufferedBytes: 2 * 1024 * 1024,
  maxReplyP99Ms: 1_000,
};

/** Every chaos property at once (the slow-consumer one only matters with stalled SSE clients). */
export function chaosJudge(b: ChaosBounds = DEFAULT_BOUNDS): ChaosJudge {
  return allOf(
    ackStoredAfterHealing,
    noUnexpectedPoints,
    recoversWithinBound({ lagBoundMs: b.lagBoundMs }),
    backendSurvives({ maxRssMB: b.maxRssMB, maxRssSlopeMBPerMin: b.maxRssSlopeMBPerMin }),
    slowConsumerBounded({ maxSseBufferedBytes: b.maxSseBufferedBytes, maxReplyP99Ms: b.maxReplyP99Ms, maxRssSlopeMBPerMin: b.maxRssSlopeMBPerMin }),
  );
}

/** The properties minus memory and slow consumers: what "no false alarm" is judged on. */
export function coreJudge(b: ChaosBounds = DEFAULT_BOUNDS): ChaosJudge {
  return allOf(
    ackStoredAfterHealing,
    noUnexpectedPoints,
    recoversWithinBound({ lagBoundMs: b.lagBoundMs }),
    backendSurvives({ maxRssMB: b.maxRssMB, maxRssSlopeMBPerMin: b.maxRssSlopeMBPerMin }),
  );
}

/**
 * Network faults on both proxies that heal well within the legacy client's
 * retry budget (180 s; here 1 to 3 of at most 2 s each): a correct backend
 * with a short flush interval loses nothing under them.
 */
export function healingNetworkFaults(windowMs = 3_000): ChaosPlanOptions {
  return {
    windowMs,
    maxVehicles: 2,
    ratesHz: [10, 20],
    faults: { kinds: NETWORK_KINDS, targets: ['influx', 'ingest'], minFaults: 1, maxFaults: 3, maxDurationMs: 2_000 },
  };
}

export function runOptions(contract: Contract, o: { drainBoundMs: number; bounds?: ChaosBounds; publisher?: ChaosRunOptions['publisher'] }): ChaosRunOptions {
  const b = o.bounds ?? DEFAULT_BOUNDS;
  return { contract, publisher: o.publisher ?? COMPRESSED_PUBLISHER, recoveryBoundMs: b.recoveryBoundMs, drainBoundMs: o.drainBoundMs, pollIntervalMs: 100 };
}

/** How hard a chaos run pushes: the quick profile fits `npm test`, release runs for a time budget. */
export interface ChaosProfile {
  name: 'quick' | 'release';
  numRuns: number;
  repeats: number;
  /** Per property (the release script divides its total budget). */
  timeBudgetMs: number;
  windowMs: number;
  maxFaults: number;
  /** Longest network fault (ms): "heals well within the retry budget". */
  maxFaultMs: number;
  /** Most process faults (kills, restarts, stalls) in one plan. */
  maxProcessFaults: number;
  /** Longest process fault (a kill's down time, a stall). */
  maxProcessFaultMs: number;
  /** Store watch after the final heal and recovery. */
  drainMs: number;
  publisher: NonNullable<ChaosRunOptions['publisher']>;
}

export const CHAOS_PROFILES: Record<ChaosProfile['name'], ChaosProfile> = {
  quick: {
    name: 'quick', numRuns: 2, repeats: 1, timeBudgetMs: 25_000, windowMs: 3_000,
    maxFaults: 3, maxFaultMs: 2_000, maxProcessFaults: 1, maxProcessFaultMs: 1_000,
    drainMs: LIBRARY_FIRST_RETRY_MS + 2_000, publisher: COMPRESSED_PUBLISHER,
  },
  release: {
    name: 'release', numRuns: 100_000, repeats: 2, timeBudgetMs: 10 * 60_000, windowMs: 20_000,
    maxFaults: 8, maxFaultMs: 15_000, maxProcessFaults: 3, maxProcessFaultMs: 5_000,
    // A batch failing as a 15 s outage starts is retried 5..10 s and again 10..20 s later.
    drainMs: 45_000, publisher: COMPRESSED_PUBLISHER,
  },
};

export function chaosProfile(env: NodeJS.ProcessEnv = process.env): ChaosProfile {
  const name = env.TP_CHAOS_PROFILE?.trim() || 'quick';
  if (name !== 'quick' && name !== 'release') throw new Error(`TP_CHAOS_PROFILE=${JSON.stringify(name)}: must be quick or release`);
  const p = CHAOS_PROFILES[name];
  const drain = env.TP_CHAOS_DRAIN_MS?.trim();
  if (drain !== undefined && drain !== '' && !/^\d+$/.test(drain)) throw new Error(`TP_CHAOS_DRAIN_MS=${JSON.stringify(drain)}: must be a whole number of ms`);
  return drain ? { ...p, drainMs: Number(drain) } : p;
}
