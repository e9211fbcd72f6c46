import { afterEach, describe, expect, it } from 'vitest';
import { metricKey, parsePrometheusText, startMetricsScraper, sumMetric } from './prometheus';
import { startTestServer, type TestServer } from './testing/httpTestServer';
import { until } from './testing/until';

const TEXT = `# HELP nodejs_eventloop_delay_seconds Event loop delay.
# TYPE nodejs_eventloop_delay_seconds summary
nodejs_eventloop_delay_seconds{quantile="0.99"} 0.0123
nodejs_eventloop_delay_seconds_count 42
influx_write_failures_total{reason="timeout",db="telemetry"} 3
influx_write_failures_total{db="telemetry",reason="http 500"} 4 1700000000000
weird_label{path="a\\"b\\\\c\\nd"} 1
up +Inf
down -Inf
nan_metric NaN
   indented_metric   7
malformed{x="1" 2
`;

describe('parsePrometheusText', () => {
  it('parses samples into canonical name{labels} keys', () => {
    const m = parsePrometheusText(TEXT);
    expect(m.get('nodejs_eventloop_delay_seconds{quantile="0.99"}')).toBe(0.0123);
    expect(m.get('nodejs_eventloop_delay_seconds_count')).toBe(42);
    // Labels are sorted, so order in the source does not matter.
    expect(m.get('influx_write_failures_total{db="telemetry",reason="timeout"}')).toBe(3);
    expect(m.get(metricKey('influx_write_failures_total', { reason: 'http 500', db: 'telemetry' }))).toBe(4);
    expect(m.get(metricKey('weird_label', { path: 'a"b\\c\nd' }))).toBe(1);
    expect(m.get('up')).toBe(Number.POSITIVE_INFINITY);
    expect(m.get('down')).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(m.get('nan_metric'))).toBe(true);
    expect(m.get('indented_metric')).toBe(7);
    expect([...m.keys()].some((k) => k.startsWith('malformed'))).toBe(false);
    expect(m.size).toBe(9);
  });

  it('sums a metric over its series, optionally filtered by labels', () => {
    const m = parsePrometheusText(TEXT);
    expect(sumMetric(m, 'influx_write_failures_total')).toBe(7);
    expect(sumMetric(m, 'influx_write_failures_total', { reason: 'timeout' })).toBe(3);
    expect(sumMetric(m, 'influx_write_failures_total', { db: 'other' })).toBeUndefined();
    expect(sumMetric(m, 'nodejs_eventloop_delay_seconds')).toBe(0.0123);
  });
});

describe('startMetricsScraper', () => {
  let server: TestServer | undefined;
  afterEach(async () => { await server?.close(); server = undefined; });

  it('scrapes on its interval, keeps only the wanted series and records failures', async () => {
    server = await startTestServer({ kind: 'reply', body: TEXT });
    const s = startMetricsScraper({ url: `${server.origin}/metrics`, intervalMs: 100, timeoutMs: 3000, keep: (k) => k.startsWith('influx_') });
    await until(() => s.samples().filter((x) => x.ok).length >= 2);
    server.setBehaviour({ kind: 'reply', status: 503, body: 'down' });
    await until(() => s.samples().some((x) => !x.ok));
    const samples = await s.stop();
    const ok = samples.filter((x) => x.ok);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(ok[0]!.metrics).sort()).toEqual([
      'influx_write_failures_total{db="telemetry",reason="http 500"}',
      'influx_write_failures_total{db="telemetry",reason="timeout"}',
    ]);
    const bad = samples.filter((x) => !x.ok);
    expect(bad.length).toBeGreaterThanOrEqual(1);
    expect(bad[0]!.error).toMatch(/HTTP 503/);
  });
});
