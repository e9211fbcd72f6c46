/**
 * Build a RunReport from what the load building blocks measured: the
 * publisher result, the key of every sent sample, what a storage probe found
 * (and when), SSE receive times, resource and InfluxDB samples.
 *
 * Loss accounting: every INTENDED sample is either stored or lost at exactly
 * one stage — never sent, rejected (non-2xx), failed at HTTP (no status), or
 * acknowledged but not stored — so the stages always add up to the total.
 */
import { percentilesOfMs } from '../../runners/load/histogram';
import type { InfluxStatsSample } from '../../runners/load/influxStats';
import type { PublisherResult } from '../../runners/load/publisher';
import type { SentKey } from '../../runners/load/recordSinks';
import { rssSlope, type ResourceSample } from '../../runners/load/resources';
import type { FaultWindow, RunReport, SecondPoint, Threshold } from './runReport';
import { RUN_REPORT_SCHEMA_VERSION } from './runReport';
import { applyThresholds } from './thresholds';

export interface AssembleInput {
  runId: string;
  scenario: RunReport['scenario'];
  target?: RunReport['target'];
  publisher: PublisherResult;
  /** Every sent sample by point key (recordSinks.sentKeyIndex). Required with `storage`. */
  sentKeys?: ReadonlyMap<string, SentKey>;
  /** What a storage probe found: point key → first time (ms) it saw the key. Omit when no probe ran. */
  storage?: { firstSeen: ReadonlyMap<string, number>; probe: string };
  /** Point key → first SSE receive time (ms) over all listeners. */
  sseFirstSeen?: ReadonlyMap<string, number>;
  resources?: readonly ResourceSample[];
  /** RSS samples before this (from the first sample) are left out of the slope. Default 30 s. */
  rssWarmupMs?: number;
  influx?: readonly InfluxStatsSample[];
  faults?: FaultWindow[];
  thresholds?: Threshold[];
  infraErrors?: string[];
  notes?: string[];
  /** Cap on totals.stored.firstSeen entries (default 10 000). */
  maxFirstSeen?: number;
}

const sum = (xs: Iterable<number>): number => { let s = 0; for (const x of xs) s += x; return s; };
/** Math.max without spreading (a soak has more samples than a call has arguments). */
const maxOf = (xs: readonly number[]): number => xs.reduce((a, b) => (b > a ? b : a), Number.NEGATIVE_INFINITY);

export function assembleRunReport(input: AssembleInput): RunReport {
  const pub = input.publisher;
  const notes = [...(input.notes ?? [])];
  const start = pub.startedAtMs;
  const nSec = pub.perSecond.length;
  const secOf = (t: number): number => Math.floor((t - start) / 1000);

  // ---- storage matching ---------------------------------------------------
  let stored: number | null = null;
  let loss: RunReport['loss'] = null;
  const lagAll: number[] = [];
  const storedBySec = new Array<number>(nSec).fill(0);
  const lagBySec: number[][] = Array.from({ length: nSec }, () => []);
  let firstSeen: { vehicleId: string; timeMs: number; firstSeenMs: number }[] | undefined;
  let firstSeenTruncated: boolean | undefined;
  if (input.storage) {
    const keys = input.sentKeys;
    if (!keys) throw new Error('assembleRunReport: storage results need sentKeys to match against');
    if (keys.size !== pub.sent) {
      throw new Error(`assembleRunReport: ${pub.sent} sends but ${keys.size} distinct point keys — `
        + 'sends without a key or sharing one (the store keeps only one of them) cannot be matched');
    }
    let rejected = 0, failedHttp = 0, ackNotStored = 0, storedDespiteFailure = 0;
    stored = 0;
    const seen: { vehicleId: string; timeMs: number; firstSeenMs: number }[] = [];
    for (const [key, k] of keys) {
      const at = input.storage.firstSeen.get(key);
      const acked = k.status !== null && k.status >= 200 && k.status < 300;
      if (at === undefined) {
        if (acked) ackNotStored++;
        else if (k.status !== null) rejected++;
        else failedHttp++;
        continue;
      }
      stored++;
      if (!acked) storedDespiteFailure++;
      seen.push({ vehicleId: k.vehicleId, timeMs: k.timeMs, firstSeenMs: at });
      const lag = at - k.sentMs;
      lagAll.push(lag);
      const s = secOf(k.sentMs);
      if (s >= 0 && s < nSec) { storedBySec[s]!++; lagBySec[s]!.push(lag); }
    }
    const neverSent = pub.scheduled - pub.sent;
    const total = neverSent + rejected + failedHttp + ackNotStored;
    loss = {
      total,
      rate: pub.scheduled > 0 ? total / pub.scheduled : 0,
      byStage: { neverSent, rejected, failedHttp, acknowledgedNotStored: ackNotStored },
      storedDespiteFailure,
    };
    const max = input.maxFirstSeen ?? 10_000;
    seen.sort((a, b) => a.firstSeenMs - b.firstSeenMs);
    firstSeenTruncated = seen.length > max;
    firstSeen = seen.slice(0, max);
    notes.push(`send→stored lag resolution is the storage probe's polling interval (${input.storage.probe}).`);
  }

  // ---- SSE lag ---------------------------------------------------------------
  let sseLag: RunReport['lag']['sendToSse'] = null;
  const sseBySec: number[][] = Array.from({ length: nSec }, () => []);
  if (input.sseFirstSeen && input.sentKeys) {
    const all: number[] = [];
    for (const [key, at] of input.sseFirstSeen) {
      const k = input.sentKeys.get(key);
      if (!k) continue;
      all.push(at - k.sentMs);
      const s = secOf(k.sentMs);
      if (s >= 0 && s < nSec) sseBySec[s]!.push(at - k.sentMs);
    }
    sseLag = percentilesOfMs(all);
  }

  // ---- resources and InfluxDB, per second ------------------------------------
  const res = input.resources ?? [];
  const cpuBySec = new Array<number | null>(nSec).fill(null);
  const rssBySec = new Array<number | null>(nSec).fill(null);
  for (const r of res) {
    const s = secOf(r.tMs);
    if (s < 0 || s >= nSec) continue;
    if (r.cpuPct !== null) cpuBySec[s] = Math.max(cpuBySec[s] ?? 0, r.cpuPct);
    if (r.rssBytes !== null) rssBySec[s] = r.rssBytes;
  }
  const influx = input.influx ?? [];
  const influxBySec = new Array<number | null>(nSec).fill(influx.length > 0 ? 0 : null);
  let influxErrors: number | null = influx.length > 0 ? 0 : null;
  for (const x of influx) {
    if (!x.delta) continue;
    const e = x.delta.writeError + x.delta.writeDrop + x.delta.writeTimeout;
    influxErrors = (influxErrors ?? 0) + e;
    const s = secOf(x.tMs);
    if (s >= 0 && s < nSec) influxBySec[s] = (influxBySec[s] ?? 0) + e;
  }
  if (influx.some((x) => !x.ok)) notes.push(`${influx.filter((x) => !x.ok).length} InfluxDB stats samples failed (InfluxDB unreachable?).`);

  const series: SecondPoint[] = pub.perSecond.map((p, i) => ({
    tMs: p.tMs,
    sent: p.sent,
    acked: p.acknowledged,
    stored: stored === null ? null : storedBySec[i]!,
    latencyP50Ms: p.completed - p.errors > 0 ? p.latencyP50Ms : null,
    latencyP99Ms: p.completed - p.errors > 0 ? p.latencyP99Ms : null,
    lagP99Ms: lagBySec[i]!.length > 0 ? percentilesOfMs(lagBySec[i]!).p99 : null,
    sseLagP99Ms: sseBySec[i]!.length > 0 ? percentilesOfMs(sseBySec[i]!).p99 : null,
    errors: p.errors,
    backendCpuPct: cpuBySec[i]!,
    backendRssBytes: rssBySec[i]!,
    influxWriteErrors: influxBySec[i]!,
  }));

  const cpus = res.map((r) => r.cpuPct).filter((c): c is number => c !== null);
  const rsss = res.map((r) => r.rssBytes).filter((c): c is number => c !== null);
  const non2xx = pub.non2xxByStatus;
  if (pub.selfHealth.bottleneck) notes.push(`The load tool may have been the bottleneck: ${pub.selfHealth.reasons.join('; ')}.`);

  const report: RunReport = {
    schemaVersion: RUN_REPORT_SCHEMA_VERSION,
    runId: input.runId,
    scenario: input.scenario,
    ...(input.target ? { target: input.target } : {}),
    startedAtMs: pub.startedAtMs,
    endedAtMs: pub.endedAtMs,
    totals: {
      intended: pub.scheduled,
      sent: pub.sent,
      acknowledged: pub.acknowledged,
      non2xxByStatus: { ...non2xx },
      errorsByClass: { ...pub.errorsByClass },
      validationRejections: non2xx['400'] ?? 0,
      stored: {
        count: stored,
        probe: input.storage?.probe ?? 'none (no storage probe ran)',
        ...(firstSeen ? { firstSeen, firstSeenTruncated } : {}),
      },
    },
    loss,
    latency: { corrected: pub.latency.corrected, uncorrected: pub.latency.uncorrected },
    lag: { sendToStored: stored === null ? null : percentilesOfMs(lagAll), sendToSse: sseLag },
    series,
    faults: input.faults ?? [],
    publisher: {
      droppedIterations: pub.late + pub.droppedLate,
      lateThresholdMs: pub.config.lateThresholdMs,
      eventLoopDelayP99Ms: pub.eventLoop.p99Ms,
      eventLoopDelayMaxMs: pub.eventLoop.maxMs,
      maxInFlight: pub.maxInFlight,
      bottleneck: pub.selfHealth.bottleneck,
      reasons: pub.selfHealth.reasons,
    },
    backend: {
      cpuMaxPct: cpus.length > 0 ? maxOf(cpus) : null,
      cpuMeanPct: cpus.length > 0 ? sum(cpus) / cpus.length : null,
      rssMaxBytes: rsss.length > 0 ? maxOf(rsss) : null,
      rssSlopeBytesPerMin: rssSlope(res, input.rssWarmupMs ?? 30_000),
      influxWriteErrors: influxErrors,
    },
    thresholds: [],
    status: 'pass',
    exitCode: 0,
    infraErrors: input.infraErrors ?? [],
    notes,
  };
  return applyThresholds(report, input.thresholds ?? []);
}
