/**
 * Where each sample ended up: one stage per planned request, from the
 * history (what the publisher did, the replies, the store, SSE), the
 * checker's verdict and the backend's own account of its writes
 * (history.backendEvents). Pure.
 *
 * Stages, in pipeline order:
 *   never_sent         the publisher fell behind or gave it up (history.neverSent)
 *   rejected           refused by the backend (4xx: validation, auth, size)
 *   failed_http        no 2xx: 5xx, timeout or connection error, and not stored
 *   lost_in_backend    acknowledged, then lost before InfluxDB: the cause says how
 *   rejected_by_influx acknowledged, then refused by InfluxDB (a 4xx on the write)
 *   stored_wrong       acknowledged, stored with other values (collapsed, corrupted)
 *   sse_missing        stored correctly, but an SSE client that should have seen it did not
 *   stored             stored exactly (also: in doubt and stored)
 *
 * Causes of lost_in_backend, by the first evidence after the sample reached
 * the backend that covers its point time:
 *   crash              the process ended while the point was queued in memory
 *   retries_exhausted  its batch was given up after the retries / retry time
 *   buffer_overflow    its batch was thrown out of a full retry buffer
 *   shutdown           its batch was abandoned at a graceful shutdown
 *   pending_retry      its batch failed and was still waiting for a retry when
 *                      the probe stopped: not lost yet, the drain was too short
 *   unexplained        no evidence (e.g. still queued when the probe stopped)
 */
import type { Contract } from './contract';
import type { Verdict } from './checker';
import { outcomeClass, sampleOf, type BackendEvent, type History, type NeverSentReason } from './history';

export const STAGES = [
  'stored', 'sse_missing', 'never_sent', 'rejected', 'failed_http', 'lost_in_backend', 'rejected_by_influx', 'stored_wrong',
] as const;
export type Stage = (typeof STAGES)[number];

export const LOSS_CAUSES = ['crash', 'retries_exhausted', 'buffer_overflow', 'shutdown', 'pending_retry', 'unexplained'] as const;
export type LossCause = (typeof LOSS_CAUSES)[number];

/** Stages that mean the sample is not in the store as sent. */
export const STORE_LOSS_STAGES: readonly Stage[] = ['never_sent', 'rejected', 'failed_http', 'lost_in_backend', 'rejected_by_influx', 'stored_wrong'];

export interface SampleStage {
  planIndex: number;
  requestId: string;
  stage: Stage;
  /** lost_in_backend: the cause; never_sent: the publisher's reason; failed_http: the outcome kind or status. */
  cause?: LossCause | NeverSentReason | string;
  /** The evidence used, for reports. */
  evidence?: string;
}

export interface StageReport {
  perSample: SampleStage[];
  /** Samples per stage (every planned request counted once). */
  counts: Record<Stage, number>;
  /** lost_in_backend split by cause. */
  backendCauses: Record<LossCause, number>;
  /** never_sent split by the publisher's reason. */
  neverSentReasons: Partial<Record<NeverSentReason, number>>;
  planned: number;
  /** Acknowledged samples (for "acknowledged but lost" rates). */
  acknowledged: number;
}

export function emptyCounts(): Record<Stage, number> {
  return Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
}

export function emptyCauses(): Record<LossCause, number> {
  return Object.fromEntries(LOSS_CAUSES.map((c) => [c, 0])) as Record<LossCause, number>;
}

/** Events that end a queued point's chances, with the cause they give. */
const LOSS_EVENT: Partial<Record<BackendEvent['kind'], LossCause>> = {
  buffer_overflow: 'buffer_overflow',
  abandoned_on_shutdown: 'shutdown',
  process_exit: 'crash',
};

function covers(ev: BackendEvent, timeMs: number): boolean {
  // An event without a time range (a crash, a whole-buffer abandon) covers every queued point.
  if (ev.minTimeMs === undefined || ev.maxTimeMs === undefined) return true;
  return timeMs >= ev.minTimeMs && timeMs <= ev.maxTimeMs;
}

/**
 * Why an acknowledged sample with point time `timeMs`, handed to the backend
 * at `fromMs` (the acknowledged attempt's send time), never reached the store: the first loss event after `fromMs`
 * covering it, unless a successful write covering it came first.
 */
export function backendCause(events: readonly BackendEvent[], fromMs: number, timeMs: number): { stage: 'lost_in_backend' | 'rejected_by_influx'; cause?: LossCause; evidence?: string } {
  const sorted = [...events].filter((e) => e.atMs >= fromMs).sort((a, b) => a.atMs - b.atMs);
  let retrying: BackendEvent | undefined;
  for (const ev of sorted) {
    if (!covers(ev, timeMs)) continue;
    const at = `${ev.kind}${ev.reason ? ` (${ev.reason})` : ''} at +${(ev.atMs - fromMs).toFixed(0)} ms`;
    if (ev.kind === 'write_dropped') {
      if (ev.reason === 'rejected') return { stage: 'rejected_by_influx', evidence: at };
      return { stage: 'lost_in_backend', cause: 'retries_exhausted', evidence: at };
    }
    const cause = LOSS_EVENT[ev.kind];
    if (cause) return { stage: 'lost_in_backend', cause, evidence: at };
    // Only a range-bearing retry is evidence about this point.
    if (ev.kind === 'write_retry' && ev.minTimeMs !== undefined) retrying = ev;
    // A write that covers the point by time range but did not store it
    // (another vehicle's lines in the same batch) is no evidence either way.
  }
  if (retrying) return { stage: 'lost_in_backend', cause: 'pending_retry', evidence: `write_retry at +${(retrying.atMs - fromMs).toFixed(0)} ms, no later outcome` };
  return { stage: 'lost_in_backend', cause: 'unexplained' };
}

export function attributeStages(history: History, verdict: Verdict, contract: Contract): StageReport {
  const counts = emptyCounts();
  const backendCauses = emptyCauses();
  const neverSentReasons: Partial<Record<NeverSentReason, number>> = {};
  const perSample: SampleStage[] = [];
  const events = history.backendEvents ?? [];
  const byId = new Map(history.requests.map((r) => [r.id, r]));
  let acknowledged = 0;

  for (const n of history.neverSent ?? []) {
    perSample.push({ planIndex: n.planIndex, requestId: n.id, stage: 'never_sent', cause: n.reason });
    neverSentReasons[n.reason] = (neverSentReasons[n.reason] ?? 0) + 1;
  }
  for (const v of verdict.perSample) {
    const r = byId.get(v.requestId);
    if (!r) continue;
    const cls = outcomeClass(r.outcome, contract);
    if (cls === 'acknowledged') acknowledged++;
    const cats = new Set(v.categories);
    let s: SampleStage;
    if (cats.has('collapsed') || cats.has('corrupted')) {
      s = { planIndex: v.planIndex, requestId: v.requestId, stage: 'stored_wrong', cause: cats.has('collapsed') ? 'collapsed' : 'corrupted' };
    } else if (cls === 'acknowledged' && cats.has('lost')) {
      const sample = sampleOf(r.body);
      const found = sample ? backendCause(events, r.sentAtMs, sample.timeMs) : { stage: 'lost_in_backend' as const, cause: 'unexplained' as const, evidence: 'body names no storable key' };
      s = { planIndex: v.planIndex, requestId: v.requestId, ...found };
      if (found.cause) backendCauses[found.cause]++;
    } else if (cls === 'rejected' && v.lagMs === undefined) {
      s = { planIndex: v.planIndex, requestId: v.requestId, stage: 'rejected', cause: String(v.status ?? '') };
    } else if ((cls === 'unknown' || cls === 'none') && v.lagMs === undefined && !cats.has('recovered')) {
      const o = r.outcome;
      const cause = o === null ? 'no outcome' : o.kind === 'response' ? String(o.status) : o.kind;
      s = { planIndex: v.planIndex, requestId: v.requestId, stage: 'failed_http', cause };
    } else if (v.sse.missing.length > 0) {
      s = { planIndex: v.planIndex, requestId: v.requestId, stage: 'sse_missing', evidence: `missed by ${v.sse.missing.join(', ')}` };
    } else {
      s = { planIndex: v.planIndex, requestId: v.requestId, stage: 'stored' };
    }
    perSample.push(s);
  }
  for (const s of perSample) counts[s.stage]++;
  perSample.sort((a, b) => a.planIndex - b.planIndex);
  return { perSample, counts, backendCauses, neverSentReasons, planned: history.plannedRequestCount, acknowledged };
}

/** Sum of several reports' counts (e.g. every run of a property). */
export function sumReports(reports: readonly Pick<StageReport, 'counts' | 'backendCauses' | 'neverSentReasons' | 'planned' | 'acknowledged'>[]): Omit<StageReport, 'perSample'> {
  const counts = emptyCounts();
  const backendCauses = emptyCauses();
  const neverSentReasons: Partial<Record<NeverSentReason, number>> = {};
  let planned = 0;
  let acknowledged = 0;
  for (const r of reports) {
    for (const s of STAGES) counts[s] += r.counts[s];
    for (const c of LOSS_CAUSES) backendCauses[c] += r.backendCauses[c];
    for (const [k, n] of Object.entries(r.neverSentReasons) as [NeverSentReason, number][]) neverSentReasons[k] = (neverSentReasons[k] ?? 0) + n;
    planned += r.planned;
    acknowledged += r.acknowledged;
  }
  return { counts, backendCauses, neverSentReasons, planned, acknowledged };
}

/** Samples not in the store as sent. */
export function storeLosses(r: Pick<StageReport, 'counts'>): number {
  return STORE_LOSS_STAGES.reduce((n, s) => n + r.counts[s], 0);
}

/** One line, e.g. "planned 600: stored 420, never sent 150 (backoff 150), lost in backend 30 (crash 30)". */
export function describeStages(r: Omit<StageReport, 'perSample'>): string {
  const parts: string[] = [];
  for (const s of STAGES) {
    const n = r.counts[s];
    if (n === 0) continue;
    let extra = '';
    if (s === 'lost_in_backend') extra = ` (${LOSS_CAUSES.filter((c) => r.backendCauses[c] > 0).map((c) => `${c.replace(/_/g, ' ')} ${r.backendCauses[c]}`).join(', ')})`;
    if (s === 'never_sent') extra = ` (${Object.entries(r.neverSentReasons).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`).join(', ')})`;
    parts.push(`${s.replace(/_/g, ' ')} ${n}${extra}`);
  }
  return `planned ${r.planned}: ${parts.join(', ') || 'nothing'}`;
}

/**
 * A Markdown table: one column per report, one row per stage (and cause),
 * e.g. the same scenario under the jetson and retry policies.
 */
export function lossTable(columns: ReadonlyArray<{ label: string; report: Omit<StageReport, 'perSample'> }>): string {
  const header = `| stage | ${columns.map((c) => c.label).join(' | ')} |`;
  const rule = `| --- | ${columns.map(() => '---:').join(' | ')} |`;
  const pct = (n: number, of: number) => (of > 0 ? ` (${((100 * n) / of).toFixed(1)} %)` : '');
  const row = (name: string, value: (r: Omit<StageReport, 'perSample'>) => number) =>
    `| ${name} | ${columns.map((c) => `${value(c.report)}${pct(value(c.report), c.report.planned)}`).join(' | ')} |`;
  const rows = [row('planned', (r) => r.planned), row('acknowledged (2xx)', (r) => r.acknowledged)];
  for (const s of STAGES) {
    if (s === 'never_sent') {
      rows.push(row('never sent', (r) => r.counts.never_sent));
      const reasons = new Set(columns.flatMap((c) => Object.keys(c.report.neverSentReasons))) as Set<NeverSentReason>;
      for (const k of reasons) rows.push(row(`  never sent: ${k.replace(/_/g, ' ')}`, (r) => r.neverSentReasons[k] ?? 0));
    } else if (s === 'lost_in_backend') {
      rows.push(row('acknowledged, lost in backend', (r) => r.counts.lost_in_backend));
      for (const c of LOSS_CAUSES) {
        if (columns.some((col) => col.report.backendCauses[c] > 0)) rows.push(row(`  lost in backend: ${c.replace(/_/g, ' ')}`, (r) => r.backendCauses[c]));
      }
    } else {
      rows.push(row(STAGE_LABEL[s], (r) => r.counts[s]));
    }
  }
  rows.push(row('total not stored as sent', (r) => storeLosses(r)));
  return [header, rule, ...rows].join('\n');
}

const STAGE_LABEL: Record<Stage, string> = {
  stored: 'stored exactly',
  sse_missing: 'stored, missing on SSE only',
  never_sent: 'never sent',
  rejected: 'rejected (4xx)',
  failed_http: 'failed at HTTP (5xx, timeout, error)',
  lost_in_backend: 'acknowledged, lost in backend',
  rejected_by_influx: 'acknowledged, rejected by InfluxDB',
  stored_wrong: 'acknowledged, stored with other values',
};
