/**
 * The nemesis: plays a fault schedule against the stack at its planned
 * times, verifies that every fault really started and really ended, records
 * both the plan and what happened, then heals everything and waits a
 * recovery bound (Jepsen's final generator) before the checker runs.
 *
 * Each target (proxy or process) has its own sequential lane: faults on one
 * target never overlap (see scheduleProblems), faults on different targets
 * run concurrently. A late operation (a slow restart) delays the next fault
 * of its lane, and the record shows it.
 *
 * Times in records are absolute milliseconds of `clock.now()` (Date.now() by
 * default). For attribution, a fault may have affected traffic from
 * `startRequestedAt` (the change was requested) to `endedAt` (the heal was
 * confirmed); when `startVerified`, it certainly did between `startedAt` and
 * `endRequestedAt`.
 */
import { Toxiproxy } from 'toxiproxy-node-client';
import type { StackInfo } from '../runners/stack/types';
import {
  describeFault,
  isNetworkFault,
  scheduleProblems,
  sortSchedule,
  type Fault,
  type FaultTarget,
  type LatencyFault,
  type NetworkFault,
  type NetworkTarget,
  type ProcessFault,
  type ProcessTarget,
} from './faults';
import { applyNetworkFault, healAll as healAllProxies, healNetworkFault, setLatency, verifyClean, verifyNetworkFault } from './toxiproxyDriver';
import { healProcess, sigkill, sigstop, terminate, type ManagedProcess, type ProcessOpOptions } from './processFaults';

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export interface NemesisEnv {
  /** Needed for network faults. */
  toxiproxy?: Toxiproxy;
  /** Toxiproxy proxy name per network target (default: the target's own name). */
  proxies?: Partial<Record<NetworkTarget, string>>;
  /** Needed for process faults. */
  processes?: Partial<Record<ProcessTarget, ManagedProcess>>;
}

/**
 * The env for a stack: its Toxiproxy and proxy names, plus the process
 * handles the harness manages (absent for an external stack: those faults
 * are then recorded as unavailable).
 */
export function nemesisEnvFromStack(stack: StackInfo, processes: NemesisEnv['processes'] = {}): NemesisEnv {
  if (!stack.toxiproxy) return { processes };
  return {
    toxiproxy: new Toxiproxy(stack.toxiproxy.url),
    proxies: { influx: stack.toxiproxy.proxies.influx.name, ingest: stack.toxiproxy.proxies.ingest.name },
    processes,
  };
}

export interface RecoveryOptions {
  /** Longest wait after the final heal, ms. */
  boundMs: number;
  /** Polled until true (then the wait ends early); without it the whole bound is waited. */
  probe?: () => Promise<boolean>;
  pollMs?: number;
}

export interface NemesisOptions {
  signal?: AbortSignal;
  clock?: Clock;
  /** Absolute time `at` counts from (default: clock.now() at the call). */
  runStart?: number;
  /** Final phase; default: no wait beyond the heal. */
  recovery?: RecoveryOptions;
  /** Bound on each Toxiproxy API call (ms). */
  apiTimeoutMs?: number;
  process?: ProcessOpOptions;
  /** TCP-probe the listener of a loopback proxy on outages (default true). */
  probeListeners?: boolean;
  /** Told about every step, for logs. */
  onEvent?: (e: NemesisEvent) => void;
}

export type NemesisEvent =
  | { type: 'start' | 'end'; index: number; fault: Fault; at: number; verified: boolean; problems: string[] }
  | { type: 'latency-step'; index: number; at: number; latencyMs: number }
  | { type: 'error'; index: number; at: number; error: string }
  | { type: 'heal' | 'recovered'; at: number; ok: boolean; problems: string[] };

export interface FaultRecord {
  index: number;
  fault: Fault;
  description: string;
  /** Absolute planned times (runStart + at, runStart + at + duration). */
  plannedStart: number;
  plannedEnd: number;
  /** Just before the change was requested. */
  startRequestedAt?: number;
  /** The start phase finished; the fault was confirmed in effect (API state, /proc, listener probe) iff startVerified. */
  startedAt?: number;
  startVerified: boolean;
  /** Just before the heal was requested. */
  endRequestedAt?: number;
  /** The heal phase finished; confirmed iff endVerified. */
  endedAt?: number;
  endVerified: boolean;
  /** Seeded latency steps played (latency faults with jitterSteps): planned and actual time. */
  latencySteps?: { plannedAt: number; at: number; latencyMs: number }[];
  /** Pids the fault acted on (before) and started (after), for process faults. */
  pids?: { before?: number; after?: number };
  /** Set when the fault was never applied. */
  skipped?: 'aborted' | 'unavailable';
  /** Verification problems and operation errors, in order. */
  problems: string[];
  /** First operation error, if any. */
  error?: string;
}

export interface HealRecord {
  startedAt: number;
  endedAt: number;
  verified: boolean;
  actions: string[];
  problems: string[];
}

export interface RecoveryRecord {
  startedAt: number;
  endedAt: number;
  /** True when the probe said so (or when there is no probe and the bound was waited). */
  recovered: boolean;
  boundMs: number;
}

export interface NemesisRun {
  runStart: number;
  records: FaultRecord[];
  heal: HealRecord;
  recovery?: RecoveryRecord;
  aborted: boolean;
}

const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

function proxyName(env: NemesisEnv, target: NetworkTarget): string {
  return env.proxies?.[target] ?? target;
}

/**
 * Play `schedule` (faults relative to `runStart`), then heal everything and
 * wait the recovery bound. Never throws for a fault that fails: the record
 * says so. Throws only for an invalid schedule.
 */
export async function runFaultSchedule(schedule: readonly Fault[], env: NemesisEnv, opts: NemesisOptions = {}): Promise<NemesisRun> {
  const problems = scheduleProblems(schedule);
  if (problems.length > 0) throw new Error(`invalid fault schedule: ${problems.join('; ')}`);
  const clock = opts.clock ?? systemClock;
  const runStart = opts.runStart ?? clock.now();
  const emit = (e: NemesisEvent) => {
    try {
      opts.onEvent?.(e);
    } catch {
      /* a logger must not break the run */
    }
  };

  const sorted = sortSchedule(schedule);
  const records: FaultRecord[] = sorted.map((fault, index) => ({
    index,
    fault,
    description: describeFault(fault),
    plannedStart: runStart + fault.at,
    plannedEnd: runStart + fault.at + fault.duration,
    startVerified: false,
    endVerified: false,
    problems: [],
  }));

  const lanes = new Map<FaultTarget, FaultRecord[]>();
  for (const r of records) lanes.set(r.fault.target, [...(lanes.get(r.fault.target) ?? []), r]);

  const ctx: LaneContext = { env, opts, clock, emit };
  await Promise.all([...lanes.values()].map((lane) => runLane(lane, ctx)));

  const aborted = opts.signal?.aborted ?? false;
  const heal = await finalHeal(records, ctx);
  let recovery: RecoveryRecord | undefined;
  if (opts.recovery && !aborted) recovery = await waitRecovery(opts.recovery, ctx);
  return { runStart, records, heal, recovery, aborted };
}

interface LaneContext {
  env: NemesisEnv;
  opts: NemesisOptions;
  clock: Clock;
  emit: (e: NemesisEvent) => void;
}

async function sleepUntil(t: number, ctx: LaneContext): Promise<void> {
  const wait = t - ctx.clock.now();
  if (wait > 0) await ctx.clock.sleep(wait, ctx.opts.signal);
}

async function runLane(lane: FaultRecord[], ctx: LaneContext): Promise<void> {
  for (const rec of lane) {
    if (ctx.opts.signal?.aborted) {
      rec.skipped = 'aborted';
      continue;
    }
    await sleepUntil(rec.plannedStart, ctx);
    if (ctx.opts.signal?.aborted) {
      rec.skipped = 'aborted';
      continue;
    }
    const unavailable = unavailableReason(rec.fault, ctx.env);
    if (unavailable) {
      rec.skipped = 'unavailable';
      rec.problems.push(unavailable);
      rec.error = unavailable;
      ctx.emit({ type: 'error', index: rec.index, at: ctx.clock.now(), error: unavailable });
      continue;
    }
    if (isNetworkFault(rec.fault)) await playNetworkFault(rec, rec.fault, ctx);
    else await playProcessFault(rec, rec.fault, ctx);
  }
}

function unavailableReason(f: Fault, env: NemesisEnv): string | undefined {
  if (isNetworkFault(f)) return env.toxiproxy ? undefined : `no Toxiproxy for the ${f.target} fault`;
  return env.processes?.[f.target] ? undefined : `no managed process for ${f.target}`;
}

function fail(rec: FaultRecord, err: unknown, ctx: LaneContext): void {
  const msg = errMsg(err);
  rec.problems.push(msg);
  rec.error ??= msg;
  ctx.emit({ type: 'error', index: rec.index, at: ctx.clock.now(), error: msg });
}

async function playNetworkFault(rec: FaultRecord, fault: NetworkFault, ctx: LaneContext): Promise<void> {
  const client = ctx.env.toxiproxy!;
  const dopts = { proxyName: proxyName(ctx.env, fault.target), timeoutMs: ctx.opts.apiTimeoutMs, probeListener: ctx.opts.probeListeners };

  rec.startRequestedAt = ctx.clock.now();
  let applied = false;
  try {
    await applyNetworkFault(client, fault, dopts);
    applied = true;
    const p = await verifyNetworkFault(client, fault, 'applied', dopts);
    rec.startVerified = p.length === 0;
    rec.problems.push(...p.map((x) => `start: ${x}`));
  } catch (err) {
    fail(rec, err, ctx);
  }
  rec.startedAt = ctx.clock.now();
  ctx.emit({ type: 'start', index: rec.index, fault, at: rec.startedAt, verified: rec.startVerified, problems: [...rec.problems] });

  if (applied && fault.kind === 'latency' && fault.params.jitterSteps) {
    await playLatencySteps(rec, fault, ctx, dopts);
  } else {
    await sleepUntil(rec.plannedEnd, ctx);
  }

  // Heal even when the apply failed half-way: healing is idempotent.
  rec.endRequestedAt = ctx.clock.now();
  try {
    await healNetworkFault(client, fault, dopts);
    const p = await verifyNetworkFault(client, fault, 'healed', dopts);
    rec.endVerified = p.length === 0;
    rec.problems.push(...p.map((x) => `end: ${x}`));
  } catch (err) {
    fail(rec, err, ctx);
  }
  rec.endedAt = ctx.clock.now();
  ctx.emit({ type: 'end', index: rec.index, fault, at: rec.endedAt, verified: rec.endVerified, problems: [...rec.problems] });
}

/**
 * Seeded jitter: step k sets latency + offsets[k % n] at plannedStart +
 * k * everyMs (k = 0, 1, ... while k * everyMs < duration), so the latency at
 * any planned time is fixed by the plan. A late step is applied at once; a
 * step whose fault is already over is not applied.
 */
async function playLatencySteps(
  rec: FaultRecord,
  fault: LatencyFault,
  ctx: LaneContext,
  dopts: { proxyName: string; timeoutMs?: number },
): Promise<void> {
  const steps = fault.params.jitterSteps!;
  const client = ctx.env.toxiproxy!;
  rec.latencySteps = [];
  const offsets = steps.offsetsMs;
  for (let k = 0; k * steps.everyMs < fault.duration; k++) {
    const plannedAt = rec.plannedStart + k * steps.everyMs;
    await sleepUntil(plannedAt, ctx);
    if (ctx.opts.signal?.aborted || ctx.clock.now() >= rec.plannedEnd) break;
    const latencyMs = Math.max(0, fault.params.latencyMs + offsets[k % offsets.length]!);
    try {
      await setLatency(client, fault, latencyMs, dopts);
      const at = ctx.clock.now();
      rec.latencySteps.push({ plannedAt, at, latencyMs });
      ctx.emit({ type: 'latency-step', index: rec.index, at, latencyMs });
    } catch (err) {
      fail(rec, err, ctx);
      break;
    }
  }
  await sleepUntil(rec.plannedEnd, ctx);
}

async function playProcessFault(rec: FaultRecord, fault: ProcessFault, ctx: LaneContext): Promise<void> {
  const proc = ctx.env.processes![fault.target]!;
  const popts = ctx.opts.process ?? {};
  rec.pids = { before: proc.pid };
  rec.startRequestedAt = ctx.clock.now();
  try {
    const r =
      fault.kind === 'kill'
        ? await sigkill(proc, popts)
        : fault.kind === 'pause'
          ? await sigstop(proc, popts)
          : await terminate(proc, fault.params.graceMs, popts);
    rec.startVerified = r.problems.length === 0;
    rec.problems.push(...r.problems.map((x) => `start: ${x}`));
    if ('forced' in r && r.forced) rec.problems.push(`start: SIGTERM ignored for ${fault.params.graceMs} ms, SIGKILLed`);
  } catch (err) {
    fail(rec, err, ctx);
  }
  rec.startedAt = ctx.clock.now();
  ctx.emit({ type: 'start', index: rec.index, fault, at: rec.startedAt, verified: rec.startVerified, problems: [...rec.problems] });

  await sleepUntil(rec.plannedEnd, ctx);

  // pause: SIGCONT; kill/restart: start again. healProcess does whichever the
  // process needs, so a half-failed start is healed too.
  rec.endRequestedAt = ctx.clock.now();
  try {
    const r = await healProcess(proc, popts);
    rec.endVerified = r.problems.length === 0;
    rec.problems.push(...r.problems.map((x) => `end: ${x}`));
  } catch (err) {
    fail(rec, err, ctx);
  }
  rec.pids.after = proc.pid;
  rec.endedAt = ctx.clock.now();
  ctx.emit({ type: 'end', index: rec.index, fault, at: rec.endedAt, verified: rec.endVerified, problems: [...rec.problems] });
}

/** Heal every proxy and process of the env, whatever the schedule did, and verify. */
async function finalHeal(records: FaultRecord[], ctx: LaneContext): Promise<HealRecord> {
  const startedAt = ctx.clock.now();
  const actions: string[] = [];
  const problems: string[] = [];
  const { env, opts } = ctx;
  if (env.toxiproxy) {
    // The env's proxies, or else the proxies the schedule touched.
    const targets = (['influx', 'ingest'] as const).filter((t) =>
      env.proxies ? env.proxies[t] !== undefined : records.some((r) => r.fault.target === t),
    );
    const names = [...new Set(targets.map((t) => proxyName(env, t)))];
    if (names.length > 0) {
      try {
        actions.push(...(await healAllProxies(env.toxiproxy, names, { timeoutMs: opts.apiTimeoutMs })));
        problems.push(...(await verifyClean(env.toxiproxy, names, { timeoutMs: opts.apiTimeoutMs, probeListener: opts.probeListeners })));
      } catch (err) {
        problems.push(errMsg(err));
      }
    }
  }
  for (const [target, proc] of Object.entries(env.processes ?? {})) {
    if (!proc) continue;
    try {
      const r = await healProcess(proc, opts.process ?? {});
      if (r.action !== 'none') actions.push(`${target}: ${r.action} (pid ${r.pid})`);
      problems.push(...r.problems.map((p) => `${target}: ${p}`));
    } catch (err) {
      problems.push(`${target}: ${errMsg(err)}`);
    }
  }
  const endedAt = ctx.clock.now();
  ctx.emit({ type: 'heal', at: endedAt, ok: problems.length === 0, problems });
  return { startedAt, endedAt, verified: problems.length === 0, actions, problems };
}

async function waitRecovery(rec: RecoveryOptions, ctx: LaneContext): Promise<RecoveryRecord> {
  const startedAt = ctx.clock.now();
  const deadline = startedAt + rec.boundMs;
  let recovered = false;
  if (!rec.probe) {
    await sleepUntil(deadline, ctx);
    recovered = !ctx.opts.signal?.aborted;
  } else {
    const pollMs = rec.pollMs ?? 100;
    while (!ctx.opts.signal?.aborted) {
      try {
        if (await rec.probe()) {
          recovered = true;
          break;
        }
      } catch {
        /* not yet */
      }
      const now = ctx.clock.now();
      if (now >= deadline) break;
      await ctx.clock.sleep(Math.min(pollMs, deadline - now), ctx.opts.signal);
    }
  }
  const endedAt = ctx.clock.now();
  ctx.emit({ type: 'recovered', at: endedAt, ok: recovered, problems: recovered ? [] : [`not recovered within ${rec.boundMs} ms`] });
  return { startedAt, endedAt, recovered, boundMs: rec.boundMs };
}
