/**
 * Metrics owned by the HTTP app: request outcomes and event-loop delay.
 * (Additions over the seed; they observe, they change no behaviour.)
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { promMetric, promSample } from './promText';

export const REQUEST_OUTCOMES = [
  'accepted', // 200
  'unauthorized', // 401
  'invalid', // 400 from validation
  'body_malformed', // 400 from body-parser (not JSON)
  'body_too_large', // 413 from body-parser
  'body_rejected', // any other body-parser error
  'unavailable', // 503 (durable mode: log full or busy, shutting down)
  'shed', // 503 before the body was read (durable mode: event loop overloaded)
  'conflict', // 409 (durable mode: a different sample for an acknowledged vehicle_id + ms)
  'error', // 500
] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

export interface HttpMetrics {
  count(outcome: RequestOutcome): void;
  text(): string;
  stop(): void;
}

const NS_PER_S = 1e9;
const RESOLUTION_MS = 20;
const RESOLUTION_NS = RESOLUTION_MS * 1e6;

/**
 * The histogram records the whole interval between its timer ticks, so an
 * idle loop reads as the resolution (20 ms); report only the excess (the
 * delay), in seconds.
 */
function excessSeconds(ns: number): number {
  return Math.max(0, ns - RESOLUTION_NS) / NS_PER_S;
}

export function createHttpMetrics(): HttpMetrics {
  const counts = new Map<RequestOutcome, number>(REQUEST_OUTCOMES.map((o) => [o, 0]));
  // The histogram's timer does not keep the process alive.
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();

  return {
    count(outcome) {
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    },
    text() {
      const requests = promMetric(
        'telemetry_requests_total',
        'counter',
        'POST /api/v1/telemetry requests by outcome.',
        REQUEST_OUTCOMES.map((o) => ({ labels: { outcome: o }, value: counts.get(o) ?? 0 })),
      );
      const n = loop.count;
      const quantiles = [0.5, 0.9, 0.99].map((q) => ({
        labels: { quantile: String(q) },
        value: n ? excessSeconds(loop.percentile(q * 100)) : 0,
      }));
      const delay =
        promMetric('nodejs_eventloop_delay_seconds', 'summary', 'Event-loop delay beyond the 20 ms sampling interval (perf_hooks).', quantiles) +
        promSample('nodejs_eventloop_delay_seconds_sum', n ? excessSeconds(loop.mean) * n : 0) +
        promSample('nodejs_eventloop_delay_seconds_count', n);
      const max = promMetric('nodejs_eventloop_delay_max_seconds', 'gauge', 'Largest event-loop delay seen.', n ? excessSeconds(loop.max) : 0);
      return requests + delay + max;
    },
    stop() {
      loop.disable();
    },
  };
}
