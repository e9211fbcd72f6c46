import { afterEach, describe, expect, it } from 'vitest';
import { createHttpMetrics, type HttpMetrics } from './httpMetrics';

let m: HttpMetrics | undefined;
afterEach(() => m?.stop());

function sample(text: string, line: RegExp): number {
  const match = line.exec(text);
  if (!match?.[1]) throw new Error(`no sample ${line} in\n${text}`);
  return Number(match[1]);
}

describe('http metrics', () => {
  it('counts each outcome, starting every label at 0', () => {
    m = createHttpMetrics();
    m.count('accepted');
    m.count('accepted');
    m.count('body_too_large');
    const text = m.text();
    expect(text).toContain('# TYPE telemetry_requests_total counter\n');
    expect(text).toContain('telemetry_requests_total{outcome="accepted"} 2\n');
    expect(text).toContain('telemetry_requests_total{outcome="body_too_large"} 1\n');
    expect(text).toContain('telemetry_requests_total{outcome="unavailable"} 0\n');
  });

  it('reports event-loop delay net of the sampling interval, and sees a blocked loop', async () => {
    m = createHttpMetrics();
    await new Promise((r) => setTimeout(r, 100));
    const busyUntil = Date.now() + 120;
    while (Date.now() < busyUntil) {
      // block the loop on purpose
    }
    await new Promise((r) => setTimeout(r, 60));
    const text = m.text();
    expect(text).toContain('# TYPE nodejs_eventloop_delay_seconds summary\n');
    const p50 = sample(text, /^nodejs_eventloop_delay_seconds\{quantile="0.5"\} (\S+)$/m);
    const max = sample(text, /^nodejs_eventloop_delay_max_seconds (\S+)$/m);
    expect(p50).toBeGreaterThanOrEqual(0);
    expect(p50).toBeLessThan(0.05); // idle ticks are ~0, not the 20 ms resolution
    expect(max).toBeGreaterThan(0.08);
    expect(sample(text, /^nodejs_eventloop_delay_seconds_count (\S+)$/m)).toBeGreaterThan(0);
  });
});
