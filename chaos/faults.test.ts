import { describe, expect, it } from 'vitest';
import { describeFault, faultEnd, parseFault, parseSchedule, scheduleProblems, sortSchedule, type Fault } from './faults';

const latency: Fault = {
  kind: 'latency',
  target: 'ingest',
  at: 1_000,
  duration: 5_000,
  params: { latencyMs: 200, jitterMs: 50, stream: 'downstream', jitterSteps: { everyMs: 250, offsetsMs: [-50, 0, 50, 10] } },
};

describe('fault schema', () => {
  it('accepts one fault of every kind', () => {
    const all: Fault[] = [
      { kind: 'outage', target: 'influx', at: 0, duration: 100, params: {} },
      { kind: 'blackhole', target: 'influx', at: 0, duration: 100, params: { timeoutMs: 0, stream: 'both' } },
      latency,
      { kind: 'bandwidth', target: 'ingest', at: 0, duration: 1, params: { rateKBps: 5, stream: 'upstream' } },
      { kind: 'slow_close', target: 'ingest', at: 0, duration: 1, params: { delayMs: 300, stream: 'downstream' } },
      { kind: 'reset_peer', target: 'influx', at: 0, duration: 1, params: { timeoutMs: 0, stream: 'upstream' } },
      { kind: 'slicer', target: 'influx', at: 0, duration: 1, params: { averageSize: 10, sizeVariation: 9, delayUs: 100, stream: 'downstream' } },
      { kind: 'limit_data', target: 'influx', at: 0, duration: 1, params: { bytes: 0, stream: 'downstream' } },
      { kind: 'kill', target: 'backend', at: 0, duration: 0, params: {} },
      { kind: 'pause', target: 'influxd', at: 0, duration: 10, params: {} },
      { kind: 'restart', target: 'influxd', at: 0, duration: 10, params: { graceMs: 1000 } },
    ];
    for (const f of all) expect(parseFault(JSON.parse(JSON.stringify(f)))).toEqual(f);
  });

  it.each([
    ['a process kind on a proxy', { kind: 'kill', target: 'influx', at: 0, duration: 0, params: {} }],
    ['a network kind on a process', { kind: 'outage', target: 'backend', at: 0, duration: 0, params: {} }],
    ['negative at', { kind: 'outage', target: 'influx', at: -1, duration: 0, params: {} }],
    ['fractional duration', { kind: 'outage', target: 'influx', at: 0, duration: 1.5, params: {} }],
    ['unknown kind', { kind: 'corrupt', target: 'influx', at: 0, duration: 0, params: {} }],
    ['partial toxicity smuggled in', { kind: 'limit_data', target: 'influx', at: 0, duration: 1, params: { bytes: 1, stream: 'upstream', toxicity: 0.5 } }],
    ['slicer variation >= average', { kind: 'slicer', target: 'influx', at: 0, duration: 1, params: { averageSize: 10, sizeVariation: 10, delayUs: 0, stream: 'upstream' } }],
    ['bandwidth 0', { kind: 'bandwidth', target: 'influx', at: 0, duration: 1, params: { rateKBps: 0, stream: 'upstream' } }],
    ['bad stream', { kind: 'latency', target: 'influx', at: 0, duration: 1, params: { latencyMs: 1, jitterMs: 0, stream: 'sideways' } }],
    ['jitter offset beyond jitterMs', { ...latency, params: { ...latency.params, jitterSteps: { everyMs: 100, offsetsMs: [51] } } }],
    ['jitter offset below zero latency', { ...latency, params: { latencyMs: 10, jitterMs: 50, stream: 'upstream', jitterSteps: { everyMs: 100, offsetsMs: [-11] } } }],
    ['empty jitter offsets', { ...latency, params: { ...latency.params, jitterSteps: { everyMs: 100, offsetsMs: [] } } }],
  ])('rejects %s', (_label, value) => {
    expect(() => parseFault(value)).toThrow();
  });
});

describe('schedules', () => {
  const a: Fault = { kind: 'outage', target: 'influx', at: 1_000, duration: 2_000, params: {} };
  const b: Fault = { kind: 'pause', target: 'influxd', at: 1_500, duration: 2_000, params: {} };

  it('allows overlap across targets and back-to-back faults on one target', () => {
    const c: Fault = { kind: 'latency', target: 'influx', at: 3_000, duration: 10, params: { latencyMs: 1, jitterMs: 0, stream: 'upstream' } };
    expect(scheduleProblems([a, b, c])).toEqual([]);
    expect(parseSchedule([c, a, b])).toHaveLength(3);
  });

  it('refuses two faults at once on one target', () => {
    const c: Fault = { ...a, at: 2_999 };
    expect(scheduleProblems([a, c])).toEqual([expect.stringContaining('overlap on influx')]);
    expect(() => parseSchedule([a, c])).toThrow(/overlap/);
  });

  it('checks the run window when given', () => {
    expect(scheduleProblems([a], { windowMs: 2_999 })).toHaveLength(1);
    expect(scheduleProblems([a], { windowMs: 3_000 })).toEqual([]);
    expect(() => parseSchedule([a], { windowMs: 2_000 })).toThrow(/window/);
  });

  it('sorts stably by start', () => {
    const z0: Fault = { kind: 'kill', target: 'backend', at: 0, duration: 0, params: {} };
    expect(sortSchedule([b, a, z0]).map((f) => f.at)).toEqual([0, 1_000, 1_500]);
    expect(faultEnd(a)).toBe(3_000);
  });
});

describe('describeFault', () => {
  it('is one line naming target, kind, parameters and timing', () => {
    expect(describeFault(latency)).toBe('ingest latency 200ms±50ms (seeded, 4 steps every 250ms) downstream at 1s for 5s');
    expect(describeFault({ kind: 'outage', target: 'influx', at: 1_500, duration: 250, params: {} })).toBe(
      'influx outage (proxy disabled) at 1.5s for 0.25s',
    );
    expect(describeFault({ kind: 'kill', target: 'backend', at: 2_000, duration: 0, params: {} })).toBe('backend SIGKILL, restarted after 0s (at 2s)');
    expect(describeFault({ kind: 'blackhole', target: 'influx', at: 0, duration: 1_000, params: { timeoutMs: 0, stream: 'both' } })).toBe(
      'influx blackhole both ways (never closed) at 0s for 1s',
    );
    const f: Fault = { kind: 'latency', target: 'influx', at: 0, duration: 1, params: { latencyMs: 5, jitterMs: 2, stream: 'upstream' } };
    expect(describeFault(f)).toContain('not replayable');
    expect(describeFault(f)).not.toContain('\n');
  });
});
