/**
 * The chaos properties, as judges over one executed chaos plan. Each says
 * pass/fail with details, and every detail list starts with the plan's
 * per-stage loss line, so a report shows where samples went, not only
 * whether the property held.
 */
import { ackImpliesStored, conservationHolds, nothingUnexpected } from '../models/checker';
import { describeStages } from '../models/stages';
import type { ChaosAttempt } from '../runners/chaosRun';

export interface ChaosJudgement {
  ok: boolean;
  property: string;
  details: string[];
}

export type ChaosJudge = (a: ChaosAttempt) => ChaosJudgement;

const MB = 1024 * 1024;

function judgement(property: string, a: ChaosAttempt, problems: string[]): ChaosJudgement {
  return { ok: problems.length === 0, property, details: [`stages: ${describeStages(a.stages)}`, ...problems] };
}

/** Planned = sent + never sent, one outcome per request (a harness sanity check). */
export const conservation: ChaosJudge = (a) => judgement('conservation', a, conservationHolds(a.verdict).details);

/** Acknowledged ⇒ stored with exactly the sent values, once everything is healed. */
export const ackStoredAfterHealing: ChaosJudge = (a) =>
  judgement('ack_stored_after_healing', a, [...conservationHolds(a.verdict).details, ...ackImpliesStored(a.verdict).details]);

/** Nothing in the store that nobody sent. */
export const noUnexpectedPoints: ChaosJudge = (a) => judgement('no_unexpected_points', a, nothingUnexpected(a.verdict).details);

export interface RecoveryBounds {
  /** Samples acknowledged after the last fault ended must be stored within this (ms). */
  lagBoundMs: number;
}

/**
 * After the final heal the backend answers again within the recovery bound,
 * and what it acknowledges after the last fault ended is stored within the
 * lag bound.
 */
export function recoversWithinBound(b: RecoveryBounds): ChaosJudge {
  return (a) => {
    const problems: string[] = [];
    if (!a.recovery.recovered) problems.push(`backend not answering ${a.recovery.boundMs} ms after the final heal`);
    const after = a.recovery.lastFaultEndedAt;
    if (after !== null) {
      const byId = new Map(a.history.requests.map((r) => [r.id, r]));
      for (const v of a.verdict.perSample) {
        const r = byId.get(v.requestId);
        if (!r || v.outcome !== 'acknowledged' || r.sentAtMs < after) continue;
        if (v.lagMs === undefined) problems.push(`${v.requestId}: acknowledged ${(r.sentAtMs - after).toFixed(0)} ms after the last fault ended, never stored`);
        else if (v.lagMs > b.lagBoundMs) problems.push(`${v.requestId}: acknowledged after the last fault ended, stored ${v.lagMs.toFixed(0)} ms later (bound ${b.lagBoundMs} ms)`);
      }
    }
    return judgement('recovers_within_bound', a, problems);
  };
}

export interface SurvivalBounds {
  /** Largest RSS slope after warm-up (MB per minute). */
  maxRssSlopeMBPerMin: number;
  /** Largest RSS at any time (MB). */
  maxRssMB: number;
}

/** The backend neither crashes nor grows without bound under the faults. */
export function backendSurvives(b: SurvivalBounds): ChaosJudge {
  return (a) => {
    const problems: string[] = [];
    if (a.unexpectedBackendStarts > 0) problems.push(`backend restarted ${a.unexpectedBackendStarts} time(s) that no fault explains`);
    for (const e of a.crashEvidence) problems.push(`crash: ${e}`);
    const r = a.resources;
    if (r.maxRssBytes !== null && r.maxRssBytes > b.maxRssMB * MB) problems.push(`RSS reached ${(r.maxRssBytes / MB).toFixed(1)} MB (bound ${b.maxRssMB} MB)`);
    if (r.rssSlopeBytesPerMin !== null && r.rssSlopeBytesPerMin > b.maxRssSlopeMBPerMin * MB) {
      problems.push(`RSS grew ${(r.rssSlopeBytesPerMin / MB).toFixed(1)} MB/min after warm-up (bound ${b.maxRssSlopeMBPerMin} MB/min)`);
    }
    return judgement('backend_survives', a, problems);
  };
}

export interface SlowConsumerBounds {
  /** Bytes the backend may hold for SSE clients at any time (its telemetry_sse_buffered_bytes). */
  maxSseBufferedBytes: number;
  /** Acknowledged replies' p99 (ms): ingestion is not slowed beyond this. */
  maxReplyP99Ms: number;
  maxRssSlopeMBPerMin: number;
}

/** With stalled SSE consumers, memory stays bounded and ingestion is not slowed. */
export function slowConsumerBounded(b: SlowConsumerBounds): ChaosJudge {
  return (a) => {
    const problems: string[] = [];
    const buf = a.resources.maxSseBufferedBytes;
    if (buf !== null && buf > b.maxSseBufferedBytes) problems.push(`backend buffered ${(buf / 1024).toFixed(0)} KiB for SSE clients (bound ${(b.maxSseBufferedBytes / 1024).toFixed(0)} KiB)`);
    const slope = a.resources.rssSlopeBytesPerMin;
    if (slope !== null && slope > b.maxRssSlopeMBPerMin * MB) problems.push(`RSS grew ${(slope / MB).toFixed(1)} MB/min (bound ${b.maxRssSlopeMBPerMin} MB/min)`);
    if (a.latency.p99Ms !== null && a.latency.p99Ms > b.maxReplyP99Ms) problems.push(`reply p99 ${a.latency.p99Ms.toFixed(0)} ms (bound ${b.maxReplyP99Ms} ms)`);
    return judgement('slow_consumer_bounded', a, problems);
  };
}

/** Every judge at once: fails if any fails, details of all. */
export function allOf(...judges: ChaosJudge[]): ChaosJudge {
  return (a) => {
    const js = judges.map((j) => j(a));
    const failed = js.filter((j) => !j.ok);
    return {
      ok: failed.length === 0,
      property: failed.map((j) => j.property).join('+') || js.map((j) => j.property).join('+'),
      details: [js[0]?.details[0] ?? '', ...failed.flatMap((j) => j.details.slice(1).map((d) => `${j.property}: ${d}`))],
    };
  };
}
