import { describe, expect, it } from 'vitest';
import { describeBody, describePlan } from './describe';
import type { Plan } from './plan';

const plan: Plan = {
  runId: 'abc123', seed: 42,
  vehicles: [{ clockOffsetMs: -9500, driftMsPerSec: 0, rateHz: 10, jitterMs: 2 }],
  requests: [
    { atMs: 0, vehicle: 0, label: 'valid', apiKey: 'valid', contentType: 'application/json',
      body: { kind: 'payload', payload: { pose: { x: 1, z: -0 }, trajectory: [[1, 2], [3, 4]], track: { outer: [], inner: [[0, 0]] } }, vehicleId: { kind: 'vehicle' }, timestamp: { kind: 'device' } } },
    { atMs: 100, vehicle: 0, label: 'vehicleIdExotic', apiKey: 'missing', contentType: null,
      body: { kind: 'payload', payload: { control: { steering: 0, throttle: 1 } }, vehicleId: { kind: 'suffix', suffix: 'a|b\n' }, timestamp: { kind: 'sameAs', request: 0, subMsUs: 300 }, padChars: 10 } },
    { atMs: 200, vehicle: 0, label: 'notJson', apiKey: 'valid', contentType: 'application/json', body: { kind: 'raw', text: 'not json' } },
  ],
};

describe('describePlan', () => {
  const md = describePlan(plan);
  it('summarises the run, vehicles and every request as table rows', () => {
    expect(md).toMatch(/Run `abc123`: 1 vehicle\(s\), 3 request\(s\) over 200 ms, seed 42/);
    expect(md).toContain('| v0 | `tp-abc123-v0` | -9500 ms | 0 ms/s | 10 Hz | 2 ms |');
    expect(md.split('\n').filter((l) => /^\| \d+ \|/.test(l))).toHaveLength(3);
  });
  it('describes sizes rather than dumping arrays', () => {
    expect(md).toContain('trajectory 2 pts');
    expect(md).toContain('track outer 0 pts, inner 1 pts');
  });
  it('escapes pipes and newlines so each request stays one table row', () => {
    const row = md.split('\n').find((l) => l.startsWith('| 1 |'))!;
    expect(row).toContain('a\\|b');
    expect(row).toContain('(none)');
    expect(row).toContain("ts = #0's ms + 300 µs");
    expect(row).toContain('_pad 10 chars');
  });
  it('describes raw bodies', () => {
    expect(describeBody({ kind: 'raw', text: 'not json' })).toBe('raw 8 chars: "not json"');
    expect(describeBody({ kind: 'json', value: [1, 2] })).toBe('JSON array[2]: [1,2]');
  });
});
