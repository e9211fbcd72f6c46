/**
 * The backend's /metrics over a run, as deltas: requests by outcome (how many
 * were invalid = validation loss), InfluxDB write failures and dropped lines
 * (storage loss the backend itself admits), lines written, event-loop delay.
 */
import type { z } from 'zod';
import type { BackendMetricsSchema } from '../../reports/writers/runReport';
import type { MetricsSample } from '../load/prometheus';

export type BackendMetricsSummary = z.infer<typeof BackendMetricsSchema>;

const OUTCOME = /^telemetry_requests_total\{outcome="([^"]+)"\}$/;

/** Null when no scrape succeeded (the backend has no /metrics, or was down). */
export function summarizeBackendMetrics(samples: readonly MetricsSample[]): BackendMetricsSummary | null {
  const ok = samples.filter((s) => s.ok);
  const first = ok[0];
  const last = ok[ok.length - 1];
  if (!first || !last) return null;
  const requestsByOutcome: Record<string, number> = {};
  const counters: Record<string, number> = {};
  for (const [key, value] of Object.entries(last.metrics)) {
    const before = first.metrics[key] ?? 0;
    const m = OUTCOME.exec(key);
    if (m) requestsByOutcome[m[1]!] = value - before;
    else if (key.startsWith('telemetry_') && /_total(\{|$)/.test(key)) counters[key] = value - before;
  }
  let loopMax: number | null = null;
  for (const s of ok) {
    const v = s.metrics['nodejs_eventloop_delay_seconds{quantile="0.99"}'];
    if (typeof v === 'number' && Number.isFinite(v)) loopMax = Math.max(loopMax ?? 0, v * 1000);
  }
  return {
    scrapes: samples.length,
    failedScrapes: samples.length - ok.length,
    requestsByOutcome,
    counters,
    eventLoopDelayP99MaxMs: loopMax === null ? null : Math.round(loopMax * 100) / 100,
  };
}
