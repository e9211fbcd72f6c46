/**
 * One scenario against one stack, end to end:
 *
 *   preflight → observers (CPU/RSS of backend and influxd, /metrics, SHOW STATS)
 *   → SSE listeners → network profile on the `ingest` proxy (nemesis)
 *   → store poller → publisher → drain the store → assembleRunReport.
 *
 * The stack is given (managed, a suite's own backend, or an external one);
 * this never starts or stops services. Everything it starts it stops, also
 * when it throws. A failure before load starts throws InfraError; a failure
 * of an observer during the run becomes an infrastructure error in the report
 * (exit code 2), because its figures cannot be trusted.
 */
import { randomBytes } from 'node:crypto';
import { Toxiproxy } from 'toxiproxy-node-client';
import { runFaultSchedule, systemClock, type NemesisRun } from '../../chaos/nemesis';
import { pointKey } from '../../models/payload';
import { assembleRunReport } from '../../reports/writers/assemble';
import type { FaultWindow, RunReport, Threshold } from '../../reports/writers/runReport';
import { DEFAULT_THRESHOLDS } from '../../reports/writers/thresholds';
import { InfluxProbe, StorePoller } from '../influxProbe';
import { nowMs, sleep } from '../load/clock';
import { jetsonPayload } from '../load/payloads';
import type { ProgressLine } from '../load/progress';
import { runPublisher, type PublisherResult } from '../load/publisher';
import { sentKeyIndex } from '../load/recordSinks';
import type { ResourceSample } from '../load/resources';
import { NETWORK_PROFILES, networkSchedule } from '../scenarios/networkProfiles';
import { burstsOf, totalRate, type Scenario } from '../scenarios/schema';
import type { StackInfo } from '../stack/types';
import { summarizeBackendMetrics } from './backendMetrics';
import { backendLabel, describeBackend } from './backendLabel';
import { captureEnvironment, cpuTimes, loadAverage } from './environment';
import { startObservers } from './observers';
import { redactDeep, secretsOf } from './redact';
import { startSseCapture, type SseCapture } from './sseCapture';

export class InfraError extends Error {
  override name = 'InfraError';
}

export interface RunScenarioInput {
  stack: StackInfo;
  scenario: Scenario;
  runId?: string;
  /** Replace the scenario's thresholds (default: scenario.thresholds, else DEFAULT_THRESHOLDS). */
  thresholds?: Threshold[];
  signal?: AbortSignal;
  progress?: ProgressLine;
  log?: (line: string) => void;
  /** Cap on run.json's firstSeen list (default 200: keeps example reports small). */
  maxFirstSeen?: number;
}

export interface ScenarioRun {
  report: RunReport;
  /** vehicle_id prefix of this run's samples in the store. */
  prefix: string;
  /** Acknowledged samples still missing from the store when the drain ended (for a later re-check). */
  ackedMissing: string[];
}

/** Lead time between applying the network profile and the first send (ms). */
const NETWORK_LEAD_MS = 300;

function runTagFor(name: string): string {
  const short = name.replace(/[^a-z0-9]/g, '').slice(0, 12);
  return `${short}-${randomBytes(3).toString('hex')}`;
}

async function preflight(stack: StackInfo): Promise<void> {
  const check = async (what: string, url: string, headers: Record<string, string> = {}): Promise<void> => {
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      throw new InfraError(`${what} is not reachable at ${new URL(url).origin}: ${(err as Error).message}`);
    }
  };
  await check('the backend', `${stack.backend.url}/api/v1/healthz`);
  await check('InfluxDB', `${stack.influx.directUrl}/ping`, stack.influx.token ? { authorization: `Token ${stack.influx.token}` } : {});
}

function mean(xs: number[]): number | null {
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

function resourceSummary(samples: readonly ResourceSample[]): { cpuMaxPct: number | null; cpuMeanPct: number | null; rssMaxBytes: number | null } {
  const cpu = samples.map((s) => s.cpuPct).filter((x): x is number => x !== null);
  const rss = samples.map((s) => s.rssBytes).filter((x): x is number => x !== null);
  return {
    cpuMaxPct: cpu.length > 0 ? cpu.reduce((a, b) => Math.max(a, b)) : null,
    cpuMeanPct: mean(cpu) === null ? null : Math.round(mean(cpu)! * 10) / 10,
    rssMaxBytes: rss.length > 0 ? rss.reduce((a, b) => Math.max(a, b)) : null,
  };
}

/** influxd CPU/RSS per second of the publisher's series (max CPU, last RSS in the second). */
function influxdSeries(report: RunReport, samples: readonly ResourceSample[]): RunReport['series'] {
  const cpu = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const s of samples) {
    const i = Math.floor((s.tMs - report.startedAtMs) / 1000);
    if (s.cpuPct !== null) cpu.set(i, Math.max(cpu.get(i) ?? 0, s.cpuPct));
    if (s.rssBytes !== null) rss.set(i, s.rssBytes);
  }
  return report.series.map((p, i) => ({ ...p, influxdCpuPct: cpu.get(i) ?? null, influxdRssBytes: rss.get(i) ?? null }));
}

/** Disruptive network faults become shaded fault windows (steady latency is part of the profile, not a window). */
export function faultWindowsOf(run: NemesisRun): FaultWindow[] {
  return run.records
    .filter((r) => r.fault.kind !== 'latency' && r.startRequestedAt !== undefined)
    .map((r) => ({
      kind: `${r.fault.target}-${r.fault.kind}`,
      startMs: r.startRequestedAt!,
      endMs: Math.max(r.startRequestedAt!, r.endedAt ?? r.plannedEnd),
      detail: r.description,
    }));
}

/** Problems that make a network profile's run untrustworthy (a fault that did not start or end). */
export function nemesisProblems(run: NemesisRun): string[] {
  const out: string[] = [];
  for (const r of run.records) {
    if (r.skipped === 'unavailable') out.push(`network fault not applied: ${r.description}: ${r.error ?? 'unavailable'}`);
    else if (!r.skipped && (!r.startVerified || !r.endVerified)) out.push(`network fault not verified: ${r.description}: ${r.problems.join('; ')}`);
  }
  if (!run.heal.verified) out.push(`the ingest proxy was not clean after the run: ${run.heal.problems.join('; ')}`);
  return out;
}

export async function runScenario(input: RunScenarioInput): Promise<ScenarioRun> {
  const { stack, scenario } = input;
  const log = input.log ?? (() => undefined);
  const loadStart = loadAverage();
  const cpuStart = cpuTimes();
  await preflight(stack);

  const runTag = runTagFor(scenario.name);
  const prefix = `tp-${runTag}-`;
  const runId = input.runId ?? `${scenario.name}-${new Date().toISOString().replace(/[:.]/g, '-')}-${runTag.split('-').pop()}`;
  const backend = describeBackend(stack);
  const bursts = burstsOf(scenario);
  const profile = NETWORK_PROFILES[scenario.network];
  const schedule = networkSchedule(profile, { leadMs: NETWORK_LEAD_MS, durationMs: scenario.durationMs, tailMs: scenario.timeoutMs, seed: scenario.seed });
  if (schedule.length > 0 && !stack.toxiproxy) {
    throw new InfraError(`network profile "${scenario.network}" needs Toxiproxy with an 'ingest' proxy; give --toxiproxy-url or use --network loopback`);
  }

  const infraErrors: string[] = [];
  const notes: string[] = [];
  const probe = new InfluxProbe({ url: stack.influx.directUrl, db: stack.influx.db, token: stack.influx.token });
  const poller = new StorePoller(probe, { vehiclePrefix: prefix }, scenario.probeIntervalMs, nowMs);
  const observers = startObservers(stack);
  let sse: SseCapture | undefined;
  let nemesis: Promise<NemesisRun> | undefined;
  const abort = new AbortController();
  const onOuterAbort = (): void => abort.abort();
  input.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let pub: PublisherResult;
  const keys = sentKeyIndex();
  try {
    if (scenario.sseClients > 0) {
      sse = startSseCapture({
        url: `${stack.backend.directUrl}/api/v1/telemetry/stream`, clients: scenario.sseClients, reader: scenario.sseReader, prefix,
        token: stack.backend.sseToken, durationMs: NETWORK_LEAD_MS + scenario.durationMs + scenario.timeoutMs + scenario.drainMs + 30_000,
      });
      await Promise.race([sse.ready, sleep(10_000)]);
    }

    let publishAt = nowMs();
    if (schedule.length > 0) {
      const t0 = nowMs();
      const client = new Toxiproxy(stack.toxiproxy!.url);
      nemesis = runFaultSchedule(schedule, { toxiproxy: client, proxies: { ingest: stack.toxiproxy!.proxies.ingest.name } }, {
        runStart: t0, clock: { now: nowMs, sleep: systemClock.sleep }, signal: abort.signal,
      });
      publishAt = t0 + NETWORK_LEAD_MS;
      log(`network profile ${profile.name}: ${schedule.length} fault(s) on ${stack.toxiproxy!.proxies.ingest.name}`);
    }
    await sleep(publishAt - nowMs());
    poller.start();

    let cumSent = 0, cumAck = 0, cumErr = 0;
    pub = await runPublisher({
      url: `${stack.backend.url}/api/v1/telemetry`,
      apiKey: stack.backend.apiKey,
      vehicles: scenario.vehicles,
      rateHz: scenario.rateHz,
      arrival: scenario.arrival,
      bursts,
      durationMs: scenario.durationMs,
      payload: jetsonPayload({ profile: scenario.payload, runTag, vehicleId: (i) => `${prefix}v${i}` }),
      connections: scenario.connections,
      transport: scenario.transport,
      timeoutMs: scenario.timeoutMs,
      lateThresholdMs: scenario.lateThresholdMs,
      seed: scenario.seed,
      signal: abort.signal,
      onRecord: keys.sink,
      onSecond: (s) => {
        cumSent += s.sent; cumAck += s.acknowledged; cumErr += s.errors + s.non2xx;
        const r = observers.latestBackend();
        input.progress?.update({
          elapsedSec: s.second + 1, ratePerSec: s.sent, targetRatePerSec: totalRate(scenario), sent: cumSent, acknowledged: cumAck,
          stored: poller.size, p99Ms: s.latencyP99Ms, cpuPct: r?.cpuPct ?? null, rssBytes: r?.rssBytes ?? null, errors: cumErr,
        });
      },
    });
  } catch (err) {
    abort.abort();
    await Promise.allSettled([poller.stop(), sse?.close(), observers.stop(), nemesis]);
    input.signal?.removeEventListener('abort', onOuterAbort);
    input.progress?.done();
    throw err;
  }

  // ---- after the last reply: heal the network, drain the store ----------------
  const nemesisRun = nemesis ? await nemesis : undefined;
  const acked = [...keys.keys].filter(([, k]) => k.status !== null && k.status >= 200 && k.status < 300).map(([key]) => key);
  const drainStart = nowMs();
  while (nowMs() - drainStart < scenario.drainMs && poller.size < acked.length && !abort.signal.aborted) await sleep(100);
  await poller.stop();
  const errorsBefore = poller.errors.length;
  await poller.pollOnce();
  const finalReadOk = poller.errors.length === errorsBefore;
  const drainedMs = Math.round(nowMs() - drainStart);
  const sseStats = sse ? await sse.close() : [];
  const observed = await observers.stop();
  input.signal?.removeEventListener('abort', onOuterAbort);
  input.progress?.done();

  if (!finalReadOk) infraErrors.push(`the storage probe could not read InfluxDB at the end of the run: ${poller.error?.message ?? 'unknown error'}`);
  else if (poller.errors.length > 0) notes.push(`${poller.errors.length} storage probe reads failed during the run (the final read succeeded): first "${poller.errors[0]!.message}".`);
  if (nemesisRun) infraErrors.push(...nemesisProblems(nemesisRun));
  if (scenario.sseClients > 0) {
    const failed = sseStats.filter((c) => c.status !== 200);
    if (failed.length > 0) infraErrors.push(`${failed.length} of ${scenario.sseClients} SSE clients could not connect: ${failed[0]!.lastError ?? `status ${failed[0]!.status}`}`);
  }
  if (pub.aborted) infraErrors.push('the run was aborted before it finished');

  const firstSeen = new Map<string, number>();
  for (const p of poller.points()) firstSeen.set(p.key, p.firstSeenAtMs);
  const ackedMissing = acked.filter((k) => !firstSeen.has(k));
  if (ackedMissing.length > 0) {
    notes.push(`${ackedMissing.length} acknowledged samples were not in InfluxDB ${drainedMs} ms after the last reply (drain bound ${scenario.drainMs} ms).`);
  }
  if (observed.backend.length === 0 && stack.backend.pid === undefined) notes.push('Backend CPU/RSS not measured: the backend is not a process this run manages.');

  const { thresholds: scenarioThresholds, ...scenarioConfig } = scenario;
  const thresholds = input.thresholds ?? scenarioThresholds ?? DEFAULT_THRESHOLDS;
  const assembled = assembleRunReport({
    runId,
    scenario: {
      name: scenario.name,
      description: scenario.description,
      config: {
        ...scenarioConfig,
        bursts,
        totalRateHz: totalRate(scenario),
        vehiclePrefix: prefix,
        networkProfile: { ...profile, faults: schedule.length },
        backend,
      },
    },
    target: { backendUrl: stack.backend.url, influxUrl: stack.influx.directUrl, backendMode: backendLabel(backend) },
    publisher: pub,
    sentKeys: keys.keys,
    storage: {
      firstSeen,
      probe: `InfluxQL SELECT by vehicle_id prefix every ≥ ${scenario.probeIntervalMs} ms during the run and up to ${scenario.drainMs} ms after the last reply (waited ${drainedMs} ms)`,
    },
    sseFirstSeen: sse?.firstSeen,
    resources: observed.backend,
    influx: observed.influxStats,
    faults: nemesisRun ? faultWindowsOf(nemesisRun) : [],
    thresholds,
    infraErrors,
    notes,
    maxFirstSeen: input.maxFirstSeen ?? 200,
  });

  const connected = sseStats.filter((c) => c.status === 200).length;
  const sseSeenAcked = sse ? acked.filter((k) => sse!.firstSeen.has(k)).length : 0;
  const report: RunReport = {
    ...assembled,
    series: observed.influxd.length > 0 ? influxdSeries(assembled, observed.influxd) : assembled.series,
    ...(observed.influxd.length > 0 ? { influxd: resourceSummary(observed.influxd) } : {}),
    environment: captureEnvironment(loadStart, stack.influx.version === 'unknown' ? null : stack.influx.version, cpuStart),
    sse: {
      clients: scenario.sseClients,
      reader: scenario.sseReader,
      connected,
      events: sseStats.reduce((a, c) => a + c.events, 0),
      bytes: sseStats.reduce((a, c) => a + c.bytes, 0),
      deliveredShare: scenario.sseClients > 0 && acked.length > 0 ? sseSeenAcked / acked.length : null,
      perClient: sseStats.map((c) => ({ index: c.index, mode: c.mode, status: c.status, events: c.events, bytes: c.bytes, endedBy: c.endedBy, lastError: c.lastError })),
    },
    backendMetrics: summarizeBackendMetrics(observed.metrics),
  };
  const secrets = secretsOf([stack.backend.apiKey, stack.influx.token, stack.backend.sseToken]);
  return { report: redactDeep(report, secrets), prefix, ackedMissing };
}

/** Re-read a finished run's prefix: how many of the samples missing at its drain are in the store now. */
export async function recheckStored(stack: StackInfo, prefix: string, missing: readonly string[]): Promise<number> {
  if (missing.length === 0) return 0;
  const probe = new InfluxProbe({ url: stack.influx.directUrl, db: stack.influx.db, token: stack.influx.token });
  const points = await probe.readPoints({ vehiclePrefix: prefix });
  const present = new Set(points.map((p) => pointKey(p.vehicleId, p.timeMs)));
  return missing.filter((k) => present.has(k)).length;
}
