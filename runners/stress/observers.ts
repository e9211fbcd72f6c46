/**
 * Everything that watches a run without loading it: CPU/RSS of the backend
 * and of influxd, the backend's Prometheus endpoint, InfluxDB 1.x SHOW STATS.
 * Each is optional (an external stack has no pids); `stop()` returns plain data.
 */
import { startInfluxStatsSampler, type InfluxStatsSample } from '../load/influxStats';
import { startMetricsScraper, type MetricsSample } from '../load/prometheus';
import { startResourceSampler, type ResourceSample } from '../load/resources';
import type { IntervalSampler } from '../load/sampler';
import type { StackInfo } from '../stack/types';

export interface ObservedData {
  backend: ResourceSample[];
  influxd: ResourceSample[];
  metrics: MetricsSample[];
  influxStats: InfluxStatsSample[];
}

export interface Observers {
  latestBackend(): ResourceSample | undefined;
  stop(): Promise<ObservedData>;
}

/** Series worth keeping from the backend's /metrics (a soak keeps few). */
export function keepMetric(key: string): boolean {
  return key.startsWith('telemetry_') || key.startsWith('nodejs_eventloop_delay');
}

export function startObservers(stack: StackInfo, opts: { intervalMs?: number; resourceIntervalMs?: number; maxSamples?: number } = {}): Observers {
  const intervalMs = opts.intervalMs ?? 1000;
  // CPU/RSS every 500 ms: sampling once a second on a clock of its own leaves some
  // seconds of the run's series with two samples and others with none (gaps in the charts).
  const resourceMs = opts.resourceIntervalMs ?? 500;
  const maxSamples = opts.maxSamples ?? 100_000;
  const backendPid = stack.backend.pid;
  const influxdPid = stack.influx.pid;
  const backend = backendPid !== undefined ? startResourceSampler({ pid: backendPid, includeChildren: true, intervalMs: resourceMs, maxSamples }) : undefined;
  const influxd = influxdPid !== undefined ? startResourceSampler({ pid: influxdPid, includeChildren: false, intervalMs: resourceMs, maxSamples }) : undefined;
  const metrics = startMetricsScraper({ url: `${stack.backend.directUrl}/metrics`, intervalMs, keep: keepMetric, maxSamples });
  const influxStats: IntervalSampler<InfluxStatsSample> | undefined = stack.influx.major === 1
    ? startInfluxStatsSampler({ baseUrl: stack.influx.directUrl, intervalMs, maxSamples })
    : undefined;
  return {
    latestBackend: () => backend?.latest(),
    async stop() {
      const [b, d, m, s] = await Promise.all([backend?.stop(), influxd?.stop(), metrics.stop(), influxStats?.stop()]);
      return { backend: b ?? [], influxd: d ?? [], metrics: m ?? [], influxStats: s ?? [] };
    },
  };
}
