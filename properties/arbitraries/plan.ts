/**
 * arbPlan: whole plans, built so that shrinking reaches the fewest vehicles,
 * the fewest requests, the smallest payloads and the smallest clock offsets.
 *
 * fast-check generates and shrinks a raw structure (vehicles → ticks →
 * bursts of drafts) and `buildPlan` maps it to a Plan. Every shrink of the
 * raw structure maps to a valid plan: times are recomputed, caps re-applied
 * and `samePrevious` references re-resolved (falling back to the device
 * clock when their target was shrunk away).
 */
import fc from 'fast-check';
import { contractFrom, type ContractOverrides } from '../../models/contract';
import type { PlannedRequest, Plan, TimestampSpec, VehiclePlan } from '../../models/plan';
import { arbClockOffset, arbDrift } from './clock';
import { arbValidDraft, type RequestDraft } from './drafts';
import { HOSTILE_NAMES, hostileCatalogue, type HostileName } from './hostile';
import type { PayloadShapeOptions } from './payloads';
import { arbSchedule, periodMs, tickAtMs, type Schedule } from './schedule';
import { nonEmptyArray } from './shrinkable';

export interface PlanOptions {
  maxVehicles?: number;
  maxTicksPerVehicle?: number;
  /** Groups of requests per tick (a hostile duplicate case is one group of two). */
  maxBurst?: number;
  /** Hard cap on requests, keeping the earliest. */
  maxRequests?: number;
  /** Ticks planned later than this are dropped. */
  maxScheduleMs?: number;
  maxRateHz?: number;
  /** Hostile cases mixed in: none (default), all, or a chosen list. */
  hostile?: 'none' | 'all' | readonly HostileName[];
  /** Weight of each hostile case against weight 4 for a valid request. */
  hostileWeight?: number;
  payload?: PayloadShapeOptions;
  /** Overrides carried by the plan; also shape clock offsets and body sizes. */
  contract?: ContractOverrides;
}

/** A run of a few seconds at most. */
export const QUICK_PROFILE: Required<Omit<PlanOptions, 'contract' | 'hostile'>> = {
  maxVehicles: 3,
  maxTicksPerVehicle: 12,
  maxBurst: 3,
  maxRequests: 60,
  maxScheduleMs: 1500,
  maxRateHz: 200,
  hostileWeight: 1,
  payload: { maxTrajectoryPoints: 500, maxTrackPoints: 200 },
};

export interface TickDraft {
  /** Per-mille of the schedule's jitter, -1000..1000 (shrinks to 0). */
  jitterPerMille: number;
  /** Groups sent back to back; each group is one or more requests. */
  groups: RequestDraft[][];
}

export interface VehicleDraft {
  clockOffsetMs: number;
  driftMsPerSec: number;
  schedule: Schedule;
  ticks: TickDraft[];
}

export interface PlanDraft {
  runId: string;
  vehicles: VehicleDraft[];
}

/** Run ids are not shrunk: they are replaced for every execution anyway. */
export const arbRunId: fc.Arbitrary<string> = fc.noShrink(fc.stringMatching(/^[a-z0-9]{8}$/));

export function arbRequestGroup(opts: PlanOptions = {}): fc.Arbitrary<RequestDraft[]> {
  const valid = arbValidDraft(opts.payload ?? QUICK_PROFILE.payload).map((d) => [d]);
  const names = opts.hostile === 'all' ? HOSTILE_NAMES : opts.hostile === undefined || opts.hostile === 'none' ? [] : opts.hostile;
  if (names.length === 0) return valid;
  const catalogue = hostileCatalogue(contractFrom(opts.contract));
  const weight = opts.hostileWeight ?? QUICK_PROFILE.hostileWeight;
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    ...names.map((n) => ({ weight: weight, arbitrary: catalogue[n] })),
  );
}

export function arbVehicleDraft(opts: PlanOptions = {}): fc.Arbitrary<VehicleDraft> {
  const o = { ...QUICK_PROFILE, ...opts };
  const contract = contractFrom(opts.contract);
  // Key order is shrink order: requests go first (every later candidate is
  // then cheaper to execute), then the schedule, then the clock.
  return fc.record({
    ticks: nonEmptyArray(
      fc.record({
        groups: nonEmptyArray(arbRequestGroup(opts), o.maxBurst),
        jitterPerMille: fc.integer({ min: -1000, max: 1000 }),
      }),
      o.maxTicksPerVehicle,
    ),
    schedule: arbSchedule({ maxRateHz: o.maxRateHz }),
    clockOffsetMs: arbClockOffset({ skewWindowSec: contract.skewWindowSec }),
    driftMsPerSec: arbDrift(),
  });
}

export function arbPlanDraft(opts: PlanOptions = {}): fc.Arbitrary<PlanDraft> {
  const o = { ...QUICK_PROFILE, ...opts };
  return fc.record({
    runId: arbRunId,
    vehicles: nonEmptyArray(arbVehicleDraft(opts), o.maxVehicles),
  });
}

export function arbPlan(opts: PlanOptions = {}): fc.Arbitrary<Plan> {
  return arbPlanDraft(opts).map((d) => buildPlan(d, opts));
}

/** Places drafts on their schedules, applies the caps, resolves references. */
export function buildPlan(d: PlanDraft, opts: PlanOptions = {}): Plan {
  const o = { ...QUICK_PROFILE, ...opts };
  type Item = { atMs: number; vehicle: number; seq: number; draft: RequestDraft };
  const items: Item[] = [];
  const vehicles: VehiclePlan[] = d.vehicles.map((v, vi) => {
    let seq = 0;
    v.ticks.forEach((t, k) => {
      const atMs = tickAtMs(v.schedule, k, t.jitterPerMille);
      if (atMs > o.maxScheduleMs) return;
      for (const g of t.groups) for (const draft of g) items.push({ atMs, vehicle: vi, seq: seq++, draft });
    });
    const jitterMs = Math.round(((periodMs(v.schedule) * v.schedule.jitterPct) / 100) * 10) / 10;
    return { clockOffsetMs: v.clockOffsetMs, driftMsPerSec: v.driftMsPerSec, rateHz: v.schedule.rateHz, jitterMs };
  });
  items.sort((a, b) => a.atMs - b.atMs || a.vehicle - b.vehicle || a.seq - b.seq);
  const kept = items.slice(0, o.maxRequests);

  const lastTimestamped = new Map<number, number>();
  const requests: PlannedRequest[] = kept.map((it, index) => {
    const { body } = it.draft;
    let resolved: PlannedRequest['body'];
    if (body.kind !== 'payload') resolved = body;
    else {
      let timestamp: TimestampSpec;
      if (body.timestamp.kind === 'samePrevious') {
        const prev = lastTimestamped.get(it.vehicle);
        timestamp = prev === undefined
          ? { kind: 'device' }
          : { kind: 'sameAs', request: prev, ...(body.timestamp.subMsUs !== undefined ? { subMsUs: body.timestamp.subMsUs } : {}) };
      } else timestamp = body.timestamp;
      resolved = { ...body, timestamp };
      if (timestamp.kind !== 'asIs' && !(timestamp.kind === 'device' && timestamp.unit === 'ms') && !body.rawNumbers?.some((r) => r.path[0] === 'timestamp')) {
        lastTimestamped.set(it.vehicle, index);
      }
    }
    return { atMs: it.atMs, vehicle: it.vehicle, label: it.draft.label, apiKey: it.draft.apiKey, contentType: it.draft.contentType, body: resolved };
  });

  return { runId: d.runId, vehicles, requests, ...(opts.contract ? { contract: opts.contract } : {}) };
}

/**
 * A one-vehicle plan sending the given groups one tick apart (default 100 ms,
 * i.e. 10 Hz, clock offset 0): for focused properties such as the
 * realistic-size case.
 */
export function planFromGroups(groups: RequestDraft[][], o: { runId?: string; spacingMs?: number; clockOffsetMs?: number; contract?: ContractOverrides } = {}): Plan {
  const spacing = o.spacingMs ?? 100;
  const draft: PlanDraft = {
    runId: o.runId ?? 'focused0',
    vehicles: [{
      clockOffsetMs: o.clockOffsetMs ?? 0,
      driftMsPerSec: 0,
      schedule: { rateHz: 1000 / spacing, jitterPct: 0, startDelayMs: 0 },
      ticks: groups.map((g) => ({ jitterPerMille: 0, groups: [g] })),
    }],
  };
  return buildPlan(draft, { maxRequests: Infinity, maxScheduleMs: Infinity, ...(o.contract ? { contract: o.contract } : {}) });
}

/** Plans of one vehicle sending what `groups` generates (fewer groups when shrinking). */
export function arbPlanOf(group: fc.Arbitrary<RequestDraft[]>, o: { maxGroups?: number; spacingMs?: number; contract?: ContractOverrides } = {}): fc.Arbitrary<Plan> {
  return fc.tuple(arbRunId, nonEmptyArray(group, o.maxGroups ?? 1))
    .map(([runId, groups]) => planFromGroups(groups, { runId, ...(o.spacingMs !== undefined ? { spacingMs: o.spacingMs } : {}), ...(o.contract ? { contract: o.contract } : {}) }));
}
