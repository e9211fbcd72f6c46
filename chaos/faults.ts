/**
 * Faults: plain, serialisable values `{kind, target, at, duration, params}`.
 *
 * A fault schedule is pure data (Jepsen's nemesis plan): the fast-check seed
 * decides every fault, its time, its duration and its parameters, and
 * `runFaultSchedule` (nemesis.ts) plays it against the stack.
 *
 * Times: `at` and `duration` are milliseconds from the run start.
 *
 * Network faults act on a Toxiproxy proxy:
 *   - `influx`: backend -> InfluxDB;
 *   - `ingest`: publisher (the car) -> backend.
 * Process faults act on a managed process group: `backend` or `influxd`.
 *
 * Every toxic is installed at toxicity 1.0: Toxiproxy rolls partial toxicity
 * with its own random numbers, which the seed does not control, so a run
 * would not replay. Any "sometimes" is decided from the fast-check seed
 * instead (e.g. the seeded latency steps below).
 *
 * Empirically (toxiproxy-server v2.12, see toxiproxyDriver.int.test.ts), every
 * toxic here also hits keep-alive connections that were open before the
 * fault, and disabling a proxy closes its open connections.
 */
import { z } from 'zod';

export const NETWORK_TARGETS = ['influx', 'ingest'] as const;
export const PROCESS_TARGETS = ['backend', 'influxd'] as const;
export type NetworkTarget = (typeof NETWORK_TARGETS)[number];
export type ProcessTarget = (typeof PROCESS_TARGETS)[number];
export type FaultTarget = NetworkTarget | ProcessTarget;

/** Toxic faults: a Toxiproxy toxic on the target proxy for the fault's duration. */
export const TOXIC_KINDS = ['latency', 'blackhole', 'reset_peer', 'limit_data', 'bandwidth', 'slicer', 'slow_close'] as const;
/** Network faults: the toxics plus `outage` (the proxy disabled). */
export const NETWORK_KINDS = ['outage', ...TOXIC_KINDS] as const;
/** Process faults on a process group. */
export const PROCESS_KINDS = ['kill', 'pause', 'restart'] as const;
/**
 * Every kind, simplest first (the order arbitraries shrink towards): a
 * clean outage (no parameters), a delay, then faults that break
 * connections, then the ones that shape the byte stream, then processes.
 */
export const FAULT_KINDS = [...NETWORK_KINDS, ...PROCESS_KINDS] as const;

export type ToxicKind = (typeof TOXIC_KINDS)[number];
export type NetworkKind = (typeof NETWORK_KINDS)[number];
export type ProcessKind = (typeof PROCESS_KINDS)[number];
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Which byte stream a toxic acts on, in Toxiproxy's terms:
 * `upstream` = client -> server (the request), `downstream` = server ->
 * client (the response), `both` = two toxics, one each way.
 */
export const STREAMS = ['downstream', 'upstream', 'both'] as const;
export type StreamDirection = (typeof STREAMS)[number];

export type NoParams = Record<string, never>;

export interface FaultBase<K extends FaultKind, T extends FaultTarget, P> {
  kind: K;
  target: T;
  /** Planned start, ms from the run start. */
  at: number;
  /** Planned length, ms. 0 = apply then heal at once (e.g. a connection cut). */
  duration: number;
  params: P;
}

/** Proxy disabled: its listener closes (new connections refused) and open connections are closed. */
export type OutageFault = FaultBase<'outage', NetworkTarget, NoParams>;

/**
 * Blackhole: Toxiproxy's `timeout` toxic. Data in the stream is dropped; the
 * connection is closed `timeoutMs` after the last chunk (or, for an idle
 * connection, after the toxic was added). `timeoutMs: 0` never closes while
 * the fault lasts (data still dropped). Removing the toxic closes the
 * connections it held (empirical, v2.12), so nothing half-dropped survives
 * the heal.
 */
export type BlackholeFault = FaultBase<'blackhole', NetworkTarget, { timeoutMs: number; stream: StreamDirection }>;

/**
 * Latency (+ jitter). With `jitterSteps`, jitter is decided by the seed:
 * Toxiproxy's own jitter is set to 0 and the nemesis re-sets the latency to
 * `latencyMs + offsetsMs[i % n]` every `everyMs` (each |offset| <= jitterMs).
 * Without `jitterSteps` and with `jitterMs > 0`, Toxiproxy draws the jitter
 * itself per chunk with its own random numbers: that does NOT replay.
 */
export interface LatencyParams {
  latencyMs: number;
  jitterMs: number;
  stream: StreamDirection;
  jitterSteps?: { everyMs: number; offsetsMs: number[] };
}
export type LatencyFault = FaultBase<'latency', NetworkTarget, LatencyParams>;

/** Bandwidth limit in KB/s (Toxiproxy `bandwidth`, attribute `rate`). */
export type BandwidthFault = FaultBase<'bandwidth', NetworkTarget, { rateKBps: number; stream: StreamDirection }>;

/** Delay the close of a connection by `delayMs` after the other side closed it. */
export type SlowCloseFault = FaultBase<'slow_close', NetworkTarget, { delayMs: number; stream: StreamDirection }>;

/** TCP RST `timeoutMs` after the first data that crosses the stream (0 = at once). */
export type ResetPeerFault = FaultBase<'reset_peer', NetworkTarget, { timeoutMs: number; stream: StreamDirection }>;

/** Cut the stream into ~averageSize ± sizeVariation byte pieces, `delayUs` microseconds apart. */
export type SlicerFault = FaultBase<
  'slicer',
  NetworkTarget,
  { averageSize: number; sizeVariation: number; delayUs: number; stream: StreamDirection }
>;

/** Close each connection once `bytes` more bytes crossed the stream (counted per connection from the fault's start). */
export type LimitDataFault = FaultBase<'limit_data', NetworkTarget, { bytes: number; stream: StreamDirection }>;

/** SIGKILL the process group (a crash); start it again `duration` ms later and wait until ready. */
export type KillFault = FaultBase<'kill', ProcessTarget, NoParams>;

/** SIGSTOP the process group (a stall: the kernel still accepts connections); SIGCONT after `duration`. */
export type PauseFault = FaultBase<'pause', ProcessTarget, NoParams>;

/** Graceful restart: SIGTERM (SIGKILL after `graceMs`), start again `duration` ms after it exited. */
export type RestartFault = FaultBase<'restart', ProcessTarget, { graceMs: number }>;

export type ToxicFault =
  | LatencyFault
  | BlackholeFault
  | ResetPeerFault
  | LimitDataFault
  | BandwidthFault
  | SlicerFault
  | SlowCloseFault;
export type NetworkFault = OutageFault | ToxicFault;
export type ProcessFault = KillFault | PauseFault | RestartFault;
export type Fault = NetworkFault | ProcessFault;
export type FaultSchedule = readonly Fault[];

export function isNetworkFault(f: Fault): f is NetworkFault {
  return (NETWORK_KINDS as readonly string[]).includes(f.kind);
}
export function isToxicFault(f: Fault): f is ToxicFault {
  return (TOXIC_KINDS as readonly string[]).includes(f.kind);
}
export function isProcessFault(f: Fault): f is ProcessFault {
  return (PROCESS_KINDS as readonly string[]).includes(f.kind);
}
export function isNetworkTarget(t: string): t is NetworkTarget {
  return (NETWORK_TARGETS as readonly string[]).includes(t);
}

/** Planned end, ms from the run start. */
export function faultEnd(f: Fault): number {
  return f.at + f.duration;
}

// ---------------------------------------------------------------------------
// zod schemas

/** Upper bound for any time in a plan: one day. */
export const MAX_PLAN_MS = 86_400_000;
const ms = z.number().int().min(0).max(MAX_PLAN_MS);
const streamSchema = z.enum(STREAMS);
const networkTarget = z.enum(NETWORK_TARGETS);
const processTarget = z.enum(PROCESS_TARGETS);
const noParams = z.strictObject({});

function faultObject<K extends FaultKind, T extends z.ZodType<FaultTarget>, P extends z.ZodType>(kind: K, target: T, params: P) {
  return z.strictObject({ kind: z.literal(kind), target, at: ms, duration: ms, params });
}

const latencyParams = z
  .strictObject({
    latencyMs: z.number().int().min(0).max(600_000),
    jitterMs: z.number().int().min(0).max(600_000),
    stream: streamSchema,
    jitterSteps: z
      .strictObject({
        everyMs: z.number().int().min(10).max(MAX_PLAN_MS),
        offsetsMs: z.array(z.number().int()).min(1).max(10_000),
      })
      .optional(),
  })
  .superRefine((p, ctx) => {
    if (!p.jitterSteps) return;
    p.jitterSteps.offsetsMs.forEach((o, i) => {
      if (Math.abs(o) > p.jitterMs) {
        ctx.addIssue({ code: 'custom', path: ['jitterSteps', 'offsetsMs', i], message: `|offset| ${o} exceeds jitterMs ${p.jitterMs}` });
      }
      if (p.latencyMs + o < 0) {
        ctx.addIssue({ code: 'custom', path: ['jitterSteps', 'offsetsMs', i], message: `latency ${p.latencyMs} + offset ${o} is negative` });
      }
    });
  });

const slicerParams = z
  .strictObject({
    averageSize: z.number().int().min(1).max(1_048_576),
    sizeVariation: z.number().int().min(0).max(1_048_576),
    delayUs: z.number().int().min(0).max(60_000_000),
    stream: streamSchema,
  })
  .refine((p) => p.sizeVariation < p.averageSize, { message: 'sizeVariation must be smaller than averageSize', path: ['sizeVariation'] });

export const faultSchema = z.discriminatedUnion('kind', [
  faultObject('outage', networkTarget, noParams),
  faultObject('blackhole', networkTarget, z.strictObject({ timeoutMs: z.number().int().min(0).max(MAX_PLAN_MS), stream: streamSchema })),
  faultObject('latency', networkTarget, latencyParams),
  faultObject('bandwidth', networkTarget, z.strictObject({ rateKBps: z.number().int().min(1).max(10_000_000), stream: streamSchema })),
  faultObject('slow_close', networkTarget, z.strictObject({ delayMs: z.number().int().min(0).max(MAX_PLAN_MS), stream: streamSchema })),
  faultObject('reset_peer', networkTarget, z.strictObject({ timeoutMs: z.number().int().min(0).max(MAX_PLAN_MS), stream: streamSchema })),
  faultObject('slicer', networkTarget, slicerParams),
  faultObject('limit_data', networkTarget, z.strictObject({ bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), stream: streamSchema })),
  faultObject('kill', processTarget, noParams),
  faultObject('pause', processTarget, noParams),
  faultObject('restart', processTarget, z.strictObject({ graceMs: z.number().int().min(0).max(600_000) })),
]);

// Compile-time check that the schema and the hand-written types agree both ways.
type SchemaFault = z.infer<typeof faultSchema>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesTypes: Same<SchemaFault, Fault> = true;
void schemaMatchesTypes;

/**
 * Overlaps inside one target are refused: each target (a proxy or a
 * process) carries at most one fault at a time, so healing one fault never
 * undoes another. Faults on different targets may overlap freely.
 */
export function scheduleProblems(schedule: readonly Fault[], opts: { windowMs?: number } = {}): string[] {
  const problems: string[] = [];
  const byTarget = new Map<FaultTarget, { f: Fault; i: number }[]>();
  schedule.forEach((f, i) => {
    const list = byTarget.get(f.target) ?? [];
    list.push({ f, i });
    byTarget.set(f.target, list);
    if (opts.windowMs !== undefined && faultEnd(f) > opts.windowMs) {
      problems.push(`fault #${i} (${describeFault(f)}) ends at ${faultEnd(f)} ms, after the ${opts.windowMs} ms window`);
    }
  });
  for (const [target, list] of byTarget) {
    const sorted = [...list].sort((a, b) => a.f.at - b.f.at || a.i - b.i);
    for (let k = 1; k < sorted.length; k++) {
      const prev = sorted[k - 1]!;
      const cur = sorted[k]!;
      if (cur.f.at < faultEnd(prev.f)) {
        problems.push(`faults #${prev.i} and #${cur.i} overlap on ${target} (${faultEnd(prev.f)} > ${cur.f.at})`);
      }
    }
  }
  return problems;
}

export const scheduleSchema = z.array(faultSchema).superRefine((faults, ctx) => {
  for (const message of scheduleProblems(faults as Fault[])) ctx.addIssue({ code: 'custom', message });
});

/** Validate one fault (throws a ZodError with every problem). */
export function parseFault(value: unknown): Fault {
  return faultSchema.parse(value) as Fault;
}

/** Validate a schedule: every fault, no overlap on one target, optionally inside a window. */
export function parseSchedule(value: unknown, opts: { windowMs?: number } = {}): Fault[] {
  const faults = scheduleSchema.parse(value) as Fault[];
  if (opts.windowMs !== undefined) {
    const problems = scheduleProblems(faults, opts);
    if (problems.length > 0) throw new Error(`invalid fault schedule: ${problems.join('; ')}`);
  }
  return faults;
}

/** Sorted copy by start time (stable). */
export function sortSchedule(schedule: readonly Fault[]): Fault[] {
  return schedule
    .map((f, i) => ({ f, i }))
    .sort((a, b) => a.f.at - b.f.at || a.i - b.i)
    .map((x) => x.f);
}

// ---------------------------------------------------------------------------
// text

function secs(msValue: number): string {
  return `${(msValue / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}

function streamText(s: StreamDirection): string {
  return s === 'both' ? 'both ways' : s;
}

/** One line, e.g. `influx latency 200±50ms (seeded, 4 steps every 250ms) downstream at 1s for 5s`. */
export function describeFault(f: Fault): string {
  const when = `at ${secs(f.at)} for ${secs(f.duration)}`;
  switch (f.kind) {
    case 'outage':
      return `${f.target} outage (proxy disabled) ${when}`;
    case 'blackhole':
      return `${f.target} blackhole ${streamText(f.params.stream)} (${f.params.timeoutMs > 0 ? `closed after ${f.params.timeoutMs}ms idle` : 'never closed'}) ${when}`;
    case 'latency': {
      const p = f.params;
      const jitter =
        p.jitterMs === 0
          ? ''
          : p.jitterSteps
            ? `±${p.jitterMs}ms (seeded, ${p.jitterSteps.offsetsMs.length} steps every ${p.jitterSteps.everyMs}ms)`
            : `±${p.jitterMs}ms (toxiproxy jitter, not replayable)`;
      return `${f.target} latency ${p.latencyMs}ms${jitter} ${streamText(p.stream)} ${when}`;
    }
    case 'bandwidth':
      return `${f.target} bandwidth ${f.params.rateKBps}KB/s ${streamText(f.params.stream)} ${when}`;
    case 'slow_close':
      return `${f.target} slow_close ${f.params.delayMs}ms ${streamText(f.params.stream)} ${when}`;
    case 'reset_peer':
      return `${f.target} reset_peer after ${f.params.timeoutMs}ms ${streamText(f.params.stream)} ${when}`;
    case 'slicer':
      return `${f.target} slicer ${f.params.averageSize}±${f.params.sizeVariation}B every ${f.params.delayUs}µs ${streamText(f.params.stream)} ${when}`;
    case 'limit_data':
      return `${f.target} limit_data ${f.params.bytes}B ${streamText(f.params.stream)} ${when}`;
    case 'kill':
      return `${f.target} SIGKILL, restarted after ${secs(f.duration)} (at ${secs(f.at)})`;
    case 'pause':
      return `${f.target} SIGSTOP ${when}, then SIGCONT`;
    case 'restart':
      return `${f.target} restart (SIGTERM, SIGKILL after ${f.params.graceMs}ms), down ${secs(f.duration)} (at ${secs(f.at)})`;
  }
}
