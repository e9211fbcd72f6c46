/**
 * fast-check arbitraries for faults and fault schedules.
 *
 * Shrinking goes towards: fewer faults (array shrinking), earlier starts
 * (each fault starts `gap` ms after the previous fault on the same target
 * ended, and gaps shrink to 0), shorter durations (towards `minDurationMs`),
 * simpler kinds (cross-shrinking towards the first kind in FAULT_KINDS
 * order) and milder parameters (less latency, more bandwidth, more bytes
 * before limit_data cuts...).
 *
 * Every value, including the per-step jitter of a latency fault, comes from
 * fast-check: a seed replays the whole schedule (nothing here calls
 * Math.random, and toxics are always at toxicity 1.0).
 */
import fc from 'fast-check';
import {
  FAULT_KINDS,
  NETWORK_KINDS,
  NETWORK_TARGETS,
  PROCESS_TARGETS,
  STREAMS,
  type Fault,
  type FaultKind,
  type FaultTarget,
  type NetworkKind,
  type NetworkTarget,
  type ProcessTarget,
  type StreamDirection,
} from './faults';

/** Parameter ranges. Defaults suit a compressed run of tens of seconds. */
export interface ParamBounds {
  latencyMs: { min: number; max: number };
  jitterMs: { max: number };
  /** Period of the seeded jitter steps. */
  jitterStepMs: { min: number; max: number };
  /** Most steps in one jitter cycle (they repeat for a long fault). */
  jitterStepsMax: number;
  blackholeTimeoutMs: { min: number; max: number };
  bandwidthKBps: { min: number; max: number };
  slowCloseMs: { min: number; max: number };
  resetPeerTimeoutMs: { min: number; max: number };
  slicerAverageSize: { min: number; max: number };
  slicerDelayUs: { min: number; max: number };
  limitDataBytes: { min: number; max: number };
  restartGraceMs: { min: number; max: number };
}

export const DEFAULT_PARAM_BOUNDS: ParamBounds = {
  latencyMs: { min: 0, max: 2_000 },
  jitterMs: { max: 500 },
  jitterStepMs: { min: 50, max: 1_000 },
  jitterStepsMax: 16,
  blackholeTimeoutMs: { min: 0, max: 5_000 },
  bandwidthKBps: { min: 1, max: 1_000 },
  slowCloseMs: { min: 0, max: 5_000 },
  resetPeerTimeoutMs: { min: 0, max: 2_000 },
  slicerAverageSize: { min: 1, max: 1_024 },
  slicerDelayUs: { min: 0, max: 20_000 },
  limitDataBytes: { min: 0, max: 65_536 },
  restartGraceMs: { min: 0, max: 10_000 },
};

export interface FaultArbOptions {
  /** Allowed kinds (default: all). */
  kinds?: readonly FaultKind[];
  /** Allowed targets (default: all). Kinds are paired only with targets they fit. */
  targets?: readonly FaultTarget[];
  /** Allowed directions for toxics (default: all three). */
  streams?: readonly StreamDirection[];
  /** Shortest fault, ms (default 0). */
  minDurationMs?: number;
  /** Longest fault, ms (default: min(10 s, window)). */
  maxDurationMs?: number;
  /**
   * Let Toxiproxy draw jitter itself (not replayable). Default false: jitter
   * is a seeded list of latency steps.
   */
  toxiproxyJitter?: boolean;
  params?: Partial<ParamBounds>;
}

export interface ScheduleArbOptions extends FaultArbOptions {
  /** The run window: every fault ends by then (ms from run start). Default 30 s. */
  windowMs?: number;
  /** Most faults in a schedule (default 4). */
  maxFaults?: number;
  /** Fewest faults (default 0: the empty schedule is the simplest). */
  minFaults?: number;
  /** Longest quiet gap before a fault on the same target (default window / 2). */
  maxGapMs?: number;
}

/** A fault without its timing (chosen by the schedule layout). */
type FaultShape = { [F in Fault as F['kind']]: Pick<F, 'kind' | 'target' | 'params'> }[Fault['kind']];

const int = (min: number, max: number) => fc.integer({ min, max: Math.max(min, max) });
/** An integer that shrinks towards `max` (the mild end), not `min`. */
const intMildHigh = (min: number, max: number) => int(0, Math.max(0, max - min)).map((d) => Math.max(min, max) - d);

function pick<T>(values: readonly T[]): fc.Arbitrary<T> {
  return fc.constantFrom(...values);
}

function kindFitsTarget(kind: FaultKind, target: FaultTarget): boolean {
  const networkKind = (NETWORK_KINDS as readonly string[]).includes(kind);
  const networkTarget = (NETWORK_TARGETS as readonly string[]).includes(target);
  return networkKind === networkTarget;
}

function paramsArb(kind: FaultKind, b: ParamBounds, streams: readonly StreamDirection[], toxiproxyJitter: boolean): fc.Arbitrary<FaultShape['params']> {
  const stream = pick(streams);
  switch (kind) {
    case 'outage':
    case 'kill':
    case 'pause':
      return fc.constant({});
    case 'restart':
      return fc.record({ graceMs: int(b.restartGraceMs.min, b.restartGraceMs.max) });
    case 'latency':
      return fc
        .record({
          latencyMs: int(b.latencyMs.min, b.latencyMs.max),
          jitterMs: int(0, b.jitterMs.max),
          stream,
          everyMs: int(b.jitterStepMs.min, b.jitterStepMs.max),
          // Offsets in per-mille of jitterMs, so they shrink to 0 on their own.
          permille: fc.array(int(-1000, 1000), { minLength: 1, maxLength: Math.max(1, b.jitterStepsMax) }),
        })
        .map(({ latencyMs, jitterMs, stream: s, everyMs, permille }) => {
          if (jitterMs === 0) return { latencyMs, jitterMs: 0, stream: s };
          if (toxiproxyJitter) return { latencyMs, jitterMs, stream: s };
          const offsetsMs = permille.map((p) => Math.max(-latencyMs, Math.trunc((jitterMs * p) / 1000)));
          return { latencyMs, jitterMs, stream: s, jitterSteps: { everyMs, offsetsMs } };
        });
    case 'blackhole':
      return fc.record({ timeoutMs: int(b.blackholeTimeoutMs.min, b.blackholeTimeoutMs.max), stream });
    case 'bandwidth':
      return fc.record({ rateKBps: intMildHigh(Math.max(1, b.bandwidthKBps.min), b.bandwidthKBps.max), stream });
    case 'slow_close':
      return fc.record({ delayMs: int(b.slowCloseMs.min, b.slowCloseMs.max), stream });
    case 'reset_peer':
      return fc.record({ timeoutMs: intMildHigh(b.resetPeerTimeoutMs.min, b.resetPeerTimeoutMs.max), stream });
    case 'slicer':
      return fc
        .record({
          averageSize: intMildHigh(Math.max(1, b.slicerAverageSize.min), b.slicerAverageSize.max),
          variationPermille: int(0, 999),
          delayUs: int(b.slicerDelayUs.min, b.slicerDelayUs.max),
          stream,
        })
        .map(({ averageSize, variationPermille, delayUs, stream: s }) => ({
          averageSize,
          sizeVariation: Math.min(averageSize - 1, Math.trunc((averageSize * variationPermille) / 1000)),
          delayUs,
          stream: s,
        }));
    case 'limit_data':
      return fc.record({ bytes: intMildHigh(b.limitDataBytes.min, b.limitDataBytes.max), stream });
  }
}

function resolve(opts: FaultArbOptions) {
  const bounds: ParamBounds = { ...DEFAULT_PARAM_BOUNDS, ...opts.params };
  const kinds = FAULT_KINDS.filter((k) => (opts.kinds ?? FAULT_KINDS).includes(k));
  const targets: FaultTarget[] = [...NETWORK_TARGETS, ...PROCESS_TARGETS].filter((t) => (opts.targets ?? [t]).includes(t));
  const streams = opts.streams && opts.streams.length > 0 ? opts.streams : STREAMS;
  const pairs: { kind: FaultKind; targets: FaultTarget[] }[] = [];
  for (const kind of kinds) {
    const fit = targets.filter((t) => kindFitsTarget(kind, t));
    if (fit.length > 0) pairs.push({ kind, targets: fit });
  }
  if (pairs.length === 0) {
    throw new Error(`no fault kind fits the allowed targets (kinds: ${kinds.join(',') || 'none'}; targets: ${targets.join(',') || 'none'})`);
  }
  return { bounds, pairs, streams };
}

/** Kind, target and parameters (no timing), simplest kinds first for shrinking. */
export function faultShapeArb(opts: FaultArbOptions = {}): fc.Arbitrary<FaultShape> {
  const { bounds, pairs, streams } = resolve(opts);
  const arbs = pairs.map(({ kind, targets }) =>
    fc
      .record({ target: pick(targets), params: paramsArb(kind, bounds, streams, opts.toxiproxyJitter ?? false) })
      .map(({ target, params }) => ({ kind, target, params }) as FaultShape),
  );
  return fc.oneof({ withCrossShrink: true }, ...arbs);
}

/** One fault inside [0, windowMs]. */
export function faultArb(opts: FaultArbOptions & { windowMs?: number } = {}): fc.Arbitrary<Fault> {
  const windowMs = opts.windowMs ?? 30_000;
  const minD = Math.min(opts.minDurationMs ?? 0, windowMs);
  const maxD = Math.max(minD, Math.min(opts.maxDurationMs ?? 10_000, windowMs));
  return fc
    .record({ shape: faultShapeArb(opts), at: int(0, windowMs - minD), duration: int(minD, maxD) })
    .map(({ shape, at, duration }) => ({ ...shape, at, duration: Math.max(0, Math.min(duration, windowMs - at)) }) as Fault);
}

interface Segment {
  shape: FaultShape;
  gap: number;
  duration: number;
}

/**
 * Lay segments out: a fault starts `gap` ms after the previous fault on the
 * same target ended (so one target never carries two faults at once), is
 * cut to end inside the window, and is dropped when it cannot fit
 * `minDurationMs` any more. Pure, so the layout shrinks with its inputs.
 */
export function layoutSchedule(segments: readonly Segment[], windowMs: number, minDurationMs: number): Fault[] {
  const cursor = new Map<FaultTarget, number>();
  const out: Fault[] = [];
  for (const s of segments) {
    const at = (cursor.get(s.shape.target) ?? 0) + s.gap;
    if (at + minDurationMs > windowMs) continue;
    const duration = Math.min(s.duration, windowMs - at);
    cursor.set(s.shape.target, at + duration);
    out.push({ ...s.shape, at, duration } as Fault);
  }
  return out.sort((a, b) => a.at - b.at);
}

/**
 * A fault schedule for a run of `windowMs`: at most `maxFaults` faults, no
 * two at once on one target, each ending inside the window, sorted by `at`.
 */
export function faultScheduleArb(opts: ScheduleArbOptions = {}): fc.Arbitrary<Fault[]> {
  const windowMs = opts.windowMs ?? 30_000;
  const maxFaults = opts.maxFaults ?? 4;
  const minFaults = Math.min(opts.minFaults ?? 0, maxFaults);
  const minD = Math.min(opts.minDurationMs ?? 0, windowMs);
  const maxD = Math.max(minD, Math.min(opts.maxDurationMs ?? 10_000, windowMs));
  const maxGap = Math.max(0, Math.min(opts.maxGapMs ?? Math.floor(windowMs / 2), windowMs - minD));
  const segment: fc.Arbitrary<Segment> = fc.record({ shape: faultShapeArb(opts), gap: int(0, maxGap), duration: int(minD, maxD) });
  return fc
    .array(segment, { minLength: minFaults, maxLength: maxFaults })
    .map((segments) => layoutSchedule(segments, windowMs, minD))
    .filter((faults) => faults.length >= minFaults);
}

/** Convenience: only network faults on the given proxies. */
export function networkScheduleArb(targets: readonly NetworkTarget[], opts: ScheduleArbOptions = {}): fc.Arbitrary<Fault[]> {
  const kinds = (opts.kinds ?? NETWORK_KINDS).filter((k): k is NetworkKind => (NETWORK_KINDS as readonly string[]).includes(k));
  return faultScheduleArb({ ...opts, kinds, targets });
}

/** Convenience: only process faults on the given processes. */
export function processScheduleArb(targets: readonly ProcessTarget[], opts: ScheduleArbOptions = {}): fc.Arbitrary<Fault[]> {
  return faultScheduleArb({ ...opts, kinds: opts.kinds ?? ['kill', 'pause', 'restart'], targets });
}

/**
 * A seed for per-request decisions a runner must make ("drop this one?"):
 * draw it from fast-check, then expand it with `seededRandom`, so the
 * decisions replay with the run.
 */
export const decisionSeedArb: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0x7fffffff });

/** A small deterministic PRNG (mulberry32) in [0, 1) from a fast-check seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
