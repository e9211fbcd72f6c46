/**
 * Test helper (not a test file): a ChaosAttempt around a crafted history,
 * for judging and reporting without a stack.
 */
import { DEFAULT_CONTRACT } from '../models/contract';
import { check } from '../models/checker';
import type { History } from '../models/history';
import { attributeStages } from '../models/stages';
import type { ChaosAttempt } from '../runners/chaosRun';
import type { ChaosPlan } from './chaosPlan';

export function attemptOf(history: History, over: Partial<ChaosAttempt> = {}, chaos?: ChaosPlan): ChaosAttempt {
  const verdict = check(history, DEFAULT_CONTRACT);
  return {
    chaos: chaos ?? { plan: { runId: history.runId, vehicles: [{ clockOffsetMs: 0, driftMsPerSec: 0, rateHz: 10, jitterMs: 0 }], requests: [] }, faults: [], policy: 'jetson', stalledSseClients: 0 },
    history,
    verdict,
    stages: attributeStages(history, verdict, DEFAULT_CONTRACT),
    resources: { samples: 0, maxRssBytes: null, rssSlopeBytesPerMin: null, slopeWindowMs: 0, maxSseBufferedBytes: null, series: [] },
    unexpectedBackendStarts: 0,
    crashEvidence: [],
    latency: { count: 0, p50Ms: null, p99Ms: null, maxMs: null },
    recovery: { boundMs: 5_000, recovered: true, afterHealMs: 10, lastFaultEndedAt: null },
    stalledSse: { clients: 0, connected: 0 },
    durationMs: 1,
    ...over,
  };
}
