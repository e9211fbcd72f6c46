/**
 * One chaos plan against a live stack: the publisher policy sends the
 * stream while the nemesis plays the faults (verified start and end), then
 * everything is healed, the recovery bound waited, the store drained, and
 * the history judged. Around it: the backend's RSS (follows restarts), its
 * /metrics (SSE buffering), optional stalled SSE clients, and its log, read
 * back as evidence of where acknowledged samples went.
 */
import type { Contract } from '../models/contract';
import { check, type Verdict } from '../models/checker';
import type { BackendEvent, FaultRecord as HistoryFaultRecord, History } from '../models/history';
import { outcomeClass } from '../models/history';
import { rekeyPlan } from '../models/plan';
import { attributeStages, type StageReport } from '../models/stages';
import type { ChaosPlan } from '../chaos/chaosPlan';
import { chaosPlanDurationMs } from '../chaos/chaosPlan';
import { nemesisEnvFromStack, runFaultSchedule, type FaultRecord, type NemesisRun } from '../chaos/nemesis';
import type { ManagedProcess } from '../chaos/processFaults';
import { backendEventsFromLog, logOffset, readLogSince } from './backendLog';
import { executePlan, freshRunId } from './executePlan';
import { publishWithPolicy, type PolicyClientOptions } from './policyClient';
import { rssSlope, startResourceSampler } from './load/resources';
import { startMetricsScraper } from './load/prometheus';
import { startSseListeners } from './load/sse';
import type { StackInfo } from './stack/types';

/** Where a chaos plan runs: a stack wiring plus the process handles faults need. */
export interface ChaosEnv {
  info: StackInfo;
  /** Needed for backend kill/pause/restart; also followed for RSS. */
  backend?: ManagedProcess & { readonly starts?: readonly number[] };
  /** Needed for influxd faults: only a stack of the suite's own (never the shared influxd). */
  influxd?: ManagedProcess;
  /** The backend's JSON-lines log (reference backend): evidence for stage attribution. */
  backendLogFile?: string;
}

export interface ChaosRunOptions {
  contract: Contract;
  /** Publisher timings (the policy itself comes from the plan). */
  publisher?: Omit<PolicyClientOptions, 'policy'>;
  /** Longest wait after the final heal for the backend to answer again. */
  recoveryBoundMs: number;
  /** Store watch after recovery (ends early once every acknowledged sample is stored). */
  drainBoundMs: number;
  /** Normal SSE clients (the SSE ledger); default 1. */
  sseClients?: number;
  pollIntervalMs?: number;
  /** RSS and /metrics sampling interval (default 200 ms). */
  sampleIntervalMs?: number;
  /** Ignore RSS samples this long after the (last) backend start when fitting the slope (default 2 s). */
  rssWarmupMs?: number;
  /** Fit no slope over a shorter window than this (default 5 s): noise, not a trend. */
  rssMinWindowMs?: number;
  runId?: string;
  signal?: AbortSignal;
  onEvent?: (line: string) => void;
}

export class ChaosInfrastructureError extends Error {
  override readonly name = 'ChaosInfrastructureError';
}

export interface ResourceSummary {
  samples: number;
  maxRssBytes: number | null;
  /**
   * Least-squares RSS slope of the last backend process after warm-up, bytes
   * per minute (null: window shorter than rssMinWindowMs).
   */
  rssSlopeBytesPerMin: number | null;
  slopeWindowMs: number;
  /** Largest `telemetry_sse_buffered_bytes` seen (reference backend), null when not exposed. */
  maxSseBufferedBytes: number | null;
  /** RSS series (ms after run start, bytes), for reports. */
  series: Array<[number, number]>;
}

export interface ChaosAttempt {
  /** The plan under the run id it ran with. */
  chaos: ChaosPlan;
  history: History;
  verdict: Verdict;
  stages: StageReport;
  nemesis?: NemesisRun;
  resources: ResourceSummary;
  /** Backend starts not explained by a kill/restart fault: a crash. */
  unexpectedBackendStarts: number;
  crashEvidence: string[];
  /** Acknowledged requests' reply time (final attempt), ms. */
  latency: { count: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
  /** Final heal done → backend answering again (ms), and whether within the bound. */
  recovery: { boundMs: number; recovered: boolean; afterHealMs: number | null; lastFaultEndedAt: number | null };
  stalledSse: { clients: number; connected: number };
  durationMs: number;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function answers(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

/** Nemesis records as the history keeps them. */
export function historyFaults(records: readonly FaultRecord[]): HistoryFaultRecord[] {
  return records.map((r) => ({
    kind: r.fault.kind,
    target: r.fault.target,
    startedAtMs: r.startRequestedAt ?? r.plannedStart,
    ...(r.endedAt !== undefined ? { endedAtMs: r.endedAt } : {}),
    detail: `${r.description}${r.startVerified ? '' : ' (start not verified)'}${r.problems.length ? `; ${r.problems.join('; ')}` : ''}`,
  }));
}

/** Backend process faults as evidence: a SIGKILL (or a restart that had to be forced) loses memory. */
export function processEvents(records: readonly FaultRecord[]): BackendEvent[] {
  const out: BackendEvent[] = [];
  for (const r of records) {
    if (r.fault.target !== 'backend' || r.skipped || r.startRequestedAt === undefined) continue;
    const forced = r.problems.some((p) => p.includes('SIGKILLed'));
    if (r.fault.kind === 'kill' || (r.fault.kind === 'restart' && forced)) {
      out.push({ atMs: r.startRequestedAt, kind: 'process_exit', reason: r.fault.kind, detail: r.description });
    }
  }
  return out;
}

export async function executeChaosPlan(cpIn: ChaosPlan, env: ChaosEnv, o: ChaosRunOptions): Promise<ChaosAttempt> {
  const started = Date.now();
  const plan = rekeyPlan(cpIn.plan, o.runId ?? freshRunId());
  const cp: ChaosPlan = { ...cpIn, plan };
  const log = (line: string) => o.onEvent?.(line);
  const startsBefore = env.backend?.starts?.length ?? 0;
  const logFrom = env.backendLogFile ? logOffset(env.backendLogFile) : 0;
  const interval = o.sampleIntervalMs ?? 200;
  // Children only for a command backend (sh -c …): scanning /proc is not free.
  const rss = env.backend ? startResourceSampler({ pid: () => env.backend?.pid, intervalMs: interval, includeChildren: env.info.backend.spec?.kind === 'command' }) : undefined;
  const metrics = startMetricsScraper({
    url: `${env.info.backend.directUrl}/metrics`,
    intervalMs: Math.max(interval, 250),
    timeoutMs: 1_000,
    keep: (k) => k.startsWith('telemetry_sse_buffered_bytes'),
  });
  // SSE clients (ledger and stalled ones) are dashboards, not the car: they
  // reach the backend directly, so faults on the car's `ingest` path do not
  // cut them, and SSE findings are the backend's own.
  const sseTarget: StackInfo = { ...env.info, backend: { ...env.info.backend, url: env.info.backend.directUrl } };
  const stalled = cp.stalledSseClients > 0
    ? startSseListeners({
        url: `${sseTarget.backend.url}/api/v1/telemetry/stream`,
        clients: cp.stalledSseClients,
        ...(env.info.backend.sseToken ? { token: env.info.backend.sseToken } : {}),
        reader: { kind: 'stalled' },
      })
    : undefined;
  if (stalled) await Promise.race([stalled.ready, new Promise((r) => setTimeout(r, 5_000))]);

  let nemesisRun: NemesisRun | undefined;
  let nemesisPromise: Promise<NemesisRun> | undefined;
  const nemesisEnv = nemesisEnvFromStack(env.info, {
    ...(env.backend ? { backend: env.backend } : {}),
    ...(env.influxd ? { influxd: env.influxd } : {}),
  });
  let history: History;
  let rssSamples: Awaited<ReturnType<NonNullable<typeof rss>['stop']>> = [];
  let metricSamples: Awaited<ReturnType<typeof metrics.stop>> = [];
  try {
    history = await executePlan(plan, {
      target: sseTarget,
      contract: o.contract,
      sseClients: o.sseClients ?? 1,
      drainBoundMs: o.drainBoundMs,
      ...(o.pollIntervalMs ? { pollIntervalMs: o.pollIntervalMs } : {}),
      runId: plan.runId,
      ...(o.signal ? { signal: o.signal } : {}),
      nemesis: async (runStartMs) => {
        nemesisPromise = runFaultSchedule(cp.faults, nemesisEnv, {
          runStart: runStartMs,
          ...(o.signal ? { signal: o.signal } : {}),
          recovery: { boundMs: o.recoveryBoundMs, probe: () => answers(`${env.info.backend.url}/api/v1/healthz`), pollMs: 50 },
          onEvent: (e) => log(`[nemesis] ${e.type}${'fault' in e ? ` ${e.fault.kind} ${e.fault.target}` : ''}${'ok' in e ? ` ok=${e.ok}` : ''}${e.type === 'error' ? ` ${e.error}` : ''}`),
        });
        nemesisRun = await nemesisPromise;
        return historyFaults(nemesisRun.records);
      },
      publisher: (ctx) =>
        publishWithPolicy(
          { ...ctx, contract: o.contract, backendUrl: env.info.backend.url, apiKey: env.info.backend.apiKey },
          { ...o.publisher, policy: cp.policy },
        ),
    });
  } finally {
    // Whatever happened, the faults must be over before anything else runs.
    if (nemesisPromise && !nemesisRun) nemesisRun = await nemesisPromise.catch(() => undefined);
    await stalled?.close();
    rssSamples = (await rss?.stop()) ?? [];
    metricSamples = await metrics.stop();
  }
  // A heal that could not be verified (Toxiproxy gone, a process that will
  // not start) leaves the stack in an unknown state: that is the harness
  // failing, not a verdict about the backend.
  if (nemesisRun && !nemesisRun.heal.verified) {
    throw new ChaosInfrastructureError(`the final heal could not be verified: ${nemesisRun.heal.problems.join('; ')}${env.info.toxiproxy ? ` (is toxiproxy-server still up? its log: ${env.info.logsDir})` : ''}`);
  }

  const logText = env.backendLogFile ? readLogSince(env.backendLogFile, logFrom) : '';
  const logEvents = backendEventsFromLog(logText);
  const backendEvents = [...logEvents, ...processEvents(nemesisRun?.records ?? [])].sort((a, b) => a.atMs - b.atMs);
  history = { ...history, backendEvents };
  const verdict = check(history, o.contract);
  const stages = attributeStages(history, verdict, o.contract);

  // Starts the faults explain: one per backend kill/restart that was healed.
  const explained = (nemesisRun?.records ?? []).filter((r) => r.fault.target === 'backend' && (r.fault.kind === 'kill' || r.fault.kind === 'restart') && r.startRequestedAt !== undefined).length;
  const startsAfter = env.backend?.starts?.length ?? 0;
  const unexpectedBackendStarts = env.backend?.starts ? Math.max(0, startsAfter - startsBefore - explained) : 0;
  const crashEvidence = [
    ...logEvents.filter((e) => e.kind === 'process_exit').map((e) => e.detail ?? 'process exit'),
    ...(nemesisRun?.heal.actions.filter((a) => a.startsWith('backend: started')) ?? []).map((a) => `final heal found the backend down (${a})`),
  ];

  const runStart = history.startedAtMs;
  const series = rssSamples.filter((s) => s.rssBytes !== null).map((s) => [Math.round(s.tMs - runStart), s.rssBytes!] as [number, number]);
  const buffered = metricSamples.flatMap((s) => Object.entries(s.metrics).filter(([k]) => k.startsWith('telemetry_sse_buffered_bytes')).map(([, v]) => v));
  // A restart starts a new process: fit the slope over the last one only.
  const lastPid = rssSamples.at(-1)?.pid;
  const life = rssSamples.filter((s) => s.pid === lastPid && s.rssBytes !== null);
  const warmupMs = o.rssWarmupMs ?? 2_000;
  const slopeWindowMs = life.length ? Math.max(0, life.at(-1)!.tMs - life[0]!.tMs - warmupMs) : 0;
  const resources: ResourceSummary = {
    samples: rssSamples.length,
    maxRssBytes: series.length ? Math.max(...series.map(([, b]) => b)) : null,
    rssSlopeBytesPerMin: slopeWindowMs >= (o.rssMinWindowMs ?? 5_000) ? rssSlope(life, warmupMs) : null,
    slopeWindowMs,
    maxSseBufferedBytes: buffered.length ? Math.max(...buffered) : null,
    series,
  };

  const replyMs = history.requests
    .filter((r) => outcomeClass(r.outcome, o.contract) === 'acknowledged')
    .map((r) => r.outcome!.atMs - r.sentAtMs)
    .sort((a, b) => a - b);
  const lastFaultEndedAt = nemesisRun?.records.reduce<number | null>((m, r) => (r.endedAt !== undefined ? Math.max(m ?? 0, r.endedAt) : m), null) ?? null;
  const recovery = nemesisRun?.recovery;
  const attempt: ChaosAttempt = {
    chaos: cp,
    history,
    verdict,
    stages,
    ...(nemesisRun ? { nemesis: nemesisRun } : {}),
    resources,
    unexpectedBackendStarts,
    crashEvidence,
    latency: { count: replyMs.length, p50Ms: percentile(replyMs, 50), p99Ms: percentile(replyMs, 99), maxMs: replyMs.at(-1) ?? null },
    recovery: {
      boundMs: o.recoveryBoundMs,
      recovered: recovery?.recovered ?? true,
      afterHealMs: recovery ? recovery.endedAt - recovery.startedAt : null,
      lastFaultEndedAt,
    },
    stalledSse: { clients: cp.stalledSseClients, connected: stalled ? stalled.stats().filter((s) => s.connectedAtMs !== null).length : 0 },
    durationMs: Date.now() - started,
  };
  log(`[chaos] ran ${plan.requests.length} sample(s), ${cp.faults.length} fault(s) in ${attempt.durationMs} ms (planned ${chaosPlanDurationMs(cp)} ms)`);
  return attempt;
}
