/**
 * k6-style thresholds as data — `{ metric: 'latency_p99_ms', op: '<', value: 200 }`
 * — evaluated against a RunReport to pass/fail, and the process exit codes a
 * runner returns:
 *
 *   EXIT_PASS (0)                  every threshold holds;
 *   EXIT_THRESHOLD_BREACH (99)     at least one threshold failed (same code k6 uses);
 *   EXIT_INFRASTRUCTURE_ERROR (2)  the run itself could not be trusted: the stack
 *                                  did not start, the target was unreachable before
 *                                  load began, a probe failed, the report is invalid…
 *                                  It wins over 99: breached thresholds measured on a
 *                                  broken setup prove nothing.
 *
 * A threshold on a metric that was not measured (null) FAILS: a missing
 * storage probe must never read as "no loss".
 */
import { z } from 'zod';
import { ThresholdSchema, type RunReport, type Threshold, type ThresholdResult } from './runReport';

export const EXIT_PASS = 0;
export const EXIT_THRESHOLD_BREACH = 99;
export const EXIT_INFRASTRUCTURE_ERROR = 2;
export type ExitCode = typeof EXIT_PASS | typeof EXIT_THRESHOLD_BREACH | typeof EXIT_INFRASTRUCTURE_ERROR;

export type { Threshold, ThresholdResult };

interface MetricDef {
  description: string;
  unit: string;
  get: (r: RunReport) => number | null;
}

const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);

function percentileMetrics(prefix: string, what: string, pick: (r: RunReport) => RunReport['latency']['corrected'] | null): Record<string, MetricDef> {
  const out: Record<string, MetricDef> = {};
  for (const [k, label] of [['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99'], ['p999', 'p99.9'], ['max', 'max']] as const) {
    out[`${prefix}_${k}_ms`] = {
      description: `${what} ${label}`, unit: 'ms',
      get: (r) => { const p = pick(r); return p && p.count > 0 ? p[k] : null; },
    };
  }
  return out;
}

/** Every metric a threshold may name. */
export const METRICS = {
  ...percentileMetrics('latency', 'request latency from the intended send time (corrected)', (r) => r.latency.corrected),
  ...percentileMetrics('latency_uncorrected', 'request latency from the actual send time', (r) => r.latency.uncorrected),
  ...percentileMetrics('lag_stored', 'send→stored lag', (r) => r.lag.sendToStored),
  ...percentileMetrics('lag_sse', 'send→SSE lag', (r) => r.lag.sendToSse),
  intended: { description: 'sends scheduled', unit: 'count', get: (r) => r.totals.intended },
  sent: { description: 'sends made', unit: 'count', get: (r) => r.totals.sent },
  acknowledged: { description: '2xx replies', unit: 'count', get: (r) => r.totals.acknowledged },
  stored: { description: 'sent samples found in the store', unit: 'count', get: (r) => r.totals.stored.count },
  ack_rate: { description: 'acknowledged / sent', unit: 'ratio', get: (r) => ratio(r.totals.acknowledged, r.totals.sent) },
  stored_rate: { description: 'stored / intended', unit: 'ratio', get: (r) => (r.totals.stored.count === null ? null : ratio(r.totals.stored.count, r.totals.intended)) },
  non2xx_total: { description: 'non-2xx replies', unit: 'count', get: (r) => Object.values(r.totals.non2xxByStatus).reduce((a, b) => a + b, 0) },
  validation_rejections: { description: '400 replies', unit: 'count', get: (r) => r.totals.validationRejections },
  errors_total: { description: 'requests without an HTTP status', unit: 'count', get: (r) => Object.values(r.totals.errorsByClass).reduce((a, b) => a + b, 0) },
  errors_timeout: { description: 'timed-out requests', unit: 'count', get: (r) => r.totals.errorsByClass.timeout },
  errors_refused: { description: 'refused connections', unit: 'count', get: (r) => r.totals.errorsByClass.refused },
  errors_reset: { description: 'reset connections', unit: 'count', get: (r) => r.totals.errorsByClass.reset },
  errors_other: { description: 'other request errors', unit: 'count', get: (r) => r.totals.errorsByClass.other },
  loss_total: { description: 'intended − stored', unit: 'count', get: (r) => r.loss?.total ?? null },
  loss_rate: { description: 'loss / intended', unit: 'ratio', get: (r) => r.loss?.rate ?? null },
  loss_never_sent: { description: 'lost: never sent', unit: 'count', get: (r) => r.loss?.byStage.neverSent ?? null },
  loss_rejected: { description: 'lost: rejected (non-2xx)', unit: 'count', get: (r) => r.loss?.byStage.rejected ?? null },
  loss_failed_http: { description: 'lost: failed at HTTP', unit: 'count', get: (r) => r.loss?.byStage.failedHttp ?? null },
  loss_acknowledged_not_stored: { description: 'lost: acknowledged but not stored', unit: 'count', get: (r) => r.loss?.byStage.acknowledgedNotStored ?? null },
  publisher_dropped_iterations: { description: 'late or skipped sends of the load tool', unit: 'count', get: (r) => r.publisher.droppedIterations },
  publisher_event_loop_p99_ms: { description: 'load tool event-loop delay p99', unit: 'ms', get: (r) => r.publisher.eventLoopDelayP99Ms },
  publisher_bottleneck: { description: '1 when the load tool was the bottleneck', unit: 'bool', get: (r) => (r.publisher.bottleneck ? 1 : 0) },
  backend_cpu_max_pct: { description: 'backend CPU max', unit: '%', get: (r) => r.backend.cpuMaxPct },
  backend_rss_max_bytes: { description: 'backend RSS max', unit: 'bytes', get: (r) => r.backend.rssMaxBytes },
  backend_rss_slope_bytes_per_min: { description: 'backend RSS slope after warm-up', unit: 'bytes/min', get: (r) => r.backend.rssSlopeBytesPerMin },
  influx_write_errors: { description: 'InfluxDB write errors', unit: 'count', get: (r) => r.backend.influxWriteErrors },
} satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;

export function isMetricName(name: string): name is MetricName {
  return Object.prototype.hasOwnProperty.call(METRICS, name);
}

export function metricValue(report: RunReport, metric: string): number | null {
  return isMetricName(metric) ? METRICS[metric].get(report) : null;
}

/** Validate thresholds from config (unknown metric names are an error here, not a silent pass). */
export function parseThresholds(data: unknown): Threshold[] {
  return z.array(ThresholdSchema.superRefine((t, ctx) => {
    if (!isMetricName(t.metric)) ctx.addIssue({ code: 'custom', path: ['metric'], message: `unknown metric ${t.metric}` });
  })).parse(data);
}

export function compare(actual: number, op: Threshold['op'], value: number): boolean {
  switch (op) {
    case '<': return actual < value;
    case '<=': return actual <= value;
    case '>': return actual > value;
    case '>=': return actual >= value;
    case '==': return actual === value;
    case '!=': return actual !== value;
  }
}

export function describeThreshold(t: Threshold): string {
  return `${t.metric} ${t.op} ${t.value}`;
}

export function evaluateThreshold(t: Threshold, report: RunReport): ThresholdResult {
  if (!isMetricName(t.metric)) {
    return { ...t, actual: null, pass: false, message: `unknown metric "${t.metric}"` };
  }
  const actual = METRICS[t.metric].get(report);
  if (actual === null || Number.isNaN(actual)) {
    return { ...t, actual: null, pass: false, message: `${t.metric} was not measured in this run` };
  }
  const pass = compare(actual, t.op, t.value);
  return {
    ...t, actual, pass,
    message: pass ? `${t.metric} = ${actual} (${t.op} ${t.value})` : `${t.metric} = ${actual}, required ${t.op} ${t.value}`,
  };
}

export function evaluateThresholds(thresholds: readonly Threshold[], report: RunReport): ThresholdResult[] {
  return thresholds.map((t) => evaluateThreshold(t, report));
}

export function exitCodeFor(r: { infraErrors: readonly string[]; thresholds: readonly Pick<ThresholdResult, 'pass'>[] }): ExitCode {
  if (r.infraErrors.length > 0) return EXIT_INFRASTRUCTURE_ERROR;
  return r.thresholds.every((t) => t.pass) ? EXIT_PASS : EXIT_THRESHOLD_BREACH;
}

/** Evaluate `thresholds` and set thresholds, status and exitCode on a copy of the report. */
export function applyThresholds(report: RunReport, thresholds: readonly Threshold[]): RunReport {
  const results = evaluateThresholds(thresholds, report);
  const exitCode = exitCodeFor({ infraErrors: report.infraErrors, thresholds: results });
  const status = exitCode === EXIT_PASS ? 'pass' : exitCode === EXIT_THRESHOLD_BREACH ? 'fail' : 'error';
  return { ...report, thresholds: results, status, exitCode };
}

/** The project's default bar for a sustained run (override per scenario). */
export const DEFAULT_THRESHOLDS: Threshold[] = [
  { metric: 'loss_acknowledged_not_stored', op: '==', value: 0, description: 'every acknowledged sample is stored' },
  // A sample refused (e.g. 503 under overload) or whose request failed
  // (reset, timeout) is lost before storage just the same: a run with any is
  // not a pass, even when everything acknowledged was stored.
  { metric: 'non2xx_total', op: '==', value: 0, description: 'every send was acknowledged' },
  { metric: 'errors_total', op: '==', value: 0, description: 'every send got a reply' },
  { metric: 'lag_stored_p99_ms', op: '<', value: 5000, description: 'contract lagBoundMs' },
  { metric: 'latency_p99_ms', op: '<', value: 200 },
  { metric: 'publisher_bottleneck', op: '==', value: 0, description: 'the load tool kept its schedule' },
];
