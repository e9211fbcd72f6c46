/**
 * One row per run: the figures the matrix table, the max-rate search and
 * findings.md compare, taken from a RunReport (pure).
 */
import type { RunReport } from '../../reports/writers/runReport';

export interface ScenarioSummary {
  name: string;
  group: string;
  description: string;
  rateHz: number;
  vehicles: number;
  totalRateHz: number;
  payload: string;
  network: string;
  sseClients: number;
  sseReader: string;
  durationMs: number;
  /** How long the run waited for acknowledged samples to be stored (ms). */
  drainMs: number;
  /** Sends per second actually achieved (sent / run length). */
  achievedRate: number;
  intended: number;
  sent: number;
  acked: number;
  non2xx: number;
  non2xxByStatus: Record<string, number>;
  errors: number;
  errorsByClass: Record<string, number>;
  validationRejections: number;
  /** Stored within the drain bound (null: no probe). */
  stored: number | null;
  ackedNotStored: number | null;
  failedHttp: number | null;
  lossRate: number | null;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  sseLagP99Ms: number | null;
  sseDeliveredShare: number | null;
  backendCpuMeanPct: number | null;
  backendCpuMaxPct: number | null;
  backendRssMaxBytes: number | null;
  backendRssSlopeBytesPerMin: number | null;
  influxdCpuMeanPct: number | null;
  backendEventLoopP99MaxMs: number | null;
  influxWriteFailures: number | null;
  publisherBottleneck: boolean;
  publisherReasons: string[];
  status: RunReport['status'];
  exitCode: number;
  thresholdFailures: string[];
  infraErrors: string[];
  loadAvgStart: number | null;
  /** Whole machine during the run (% of all CPU): busy, and stolen by the hypervisor. */
  machineBusyPct: number | null;
  stealPct: number | null;
}

const sum = (rec: Record<string, number>): number => Object.values(rec).reduce((a, b) => a + b, 0);
const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : d);
const str = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);

export function summarize(r: RunReport): ScenarioSummary {
  const c = r.scenario.config;
  const durationMs = num(c.durationMs, r.endedAtMs - r.startedAtMs);
  const lag = r.lag.sendToStored && r.lag.sendToStored.count > 0 ? r.lag.sendToStored : null;
  const sseLag = r.lag.sendToSse && r.lag.sendToSse.count > 0 ? r.lag.sendToSse : null;
  const influxFailures = r.backendMetrics?.counters['telemetry_influx_write_failures_total'];
  return {
    name: r.scenario.name,
    group: str(c.group, 'custom'),
    description: r.scenario.description ?? '',
    rateHz: num(c.rateHz, 0),
    vehicles: num(c.vehicles, 1),
    totalRateHz: num(c.totalRateHz, num(c.rateHz, 0) * num(c.vehicles, 1)),
    payload: str(c.payload, '?'),
    network: str(c.network, '?'),
    sseClients: num(c.sseClients, 0),
    sseReader: str(c.sseReader, 'normal'),
    durationMs,
    drainMs: num(c.drainMs, 5000),
    achievedRate: durationMs > 0 ? r.totals.sent / (durationMs / 1000) : 0,
    intended: r.totals.intended,
    sent: r.totals.sent,
    acked: r.totals.acknowledged,
    non2xx: sum(r.totals.non2xxByStatus),
    non2xxByStatus: r.totals.non2xxByStatus,
    errors: sum(r.totals.errorsByClass),
    errorsByClass: Object.fromEntries(Object.entries(r.totals.errorsByClass).filter(([, v]) => v > 0)),
    validationRejections: r.totals.validationRejections,
    stored: r.totals.stored.count,
    ackedNotStored: r.loss?.byStage.acknowledgedNotStored ?? null,
    failedHttp: r.loss?.byStage.failedHttp ?? null,
    lossRate: r.loss?.rate ?? null,
    latencyP50Ms: r.latency.corrected.p50,
    latencyP99Ms: r.latency.corrected.p99,
    latencyMaxMs: r.latency.corrected.max,
    lagP50Ms: lag?.p50 ?? null,
    lagP99Ms: lag?.p99 ?? null,
    lagMaxMs: lag?.max ?? null,
    sseLagP99Ms: sseLag?.p99 ?? null,
    sseDeliveredShare: r.sse?.deliveredShare ?? null,
    backendCpuMeanPct: r.backend.cpuMeanPct,
    backendCpuMaxPct: r.backend.cpuMaxPct,
    backendRssMaxBytes: r.backend.rssMaxBytes,
    backendRssSlopeBytesPerMin: r.backend.rssSlopeBytesPerMin,
    influxdCpuMeanPct: r.influxd?.cpuMeanPct ?? null,
    backendEventLoopP99MaxMs: r.backendMetrics?.eventLoopDelayP99MaxMs ?? null,
    influxWriteFailures: typeof influxFailures === 'number' ? influxFailures : null,
    publisherBottleneck: r.publisher.bottleneck,
    publisherReasons: r.publisher.reasons,
    status: r.status,
    exitCode: r.exitCode,
    thresholdFailures: r.thresholds.filter((t) => !t.pass).map((t) => t.message),
    infraErrors: r.infraErrors,
    loadAvgStart: r.environment?.loadAvgStart[0] ?? null,
    machineBusyPct: r.environment?.machineBusyPct ?? null,
    stealPct: r.environment?.stealPct ?? null,
  };
}
