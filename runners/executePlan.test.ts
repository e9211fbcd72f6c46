import { describe, expect, it } from 'vitest';
import { timestampToMs } from '../models/payload';
import { SampleClock } from './executePlan';

describe('SampleClock', () => {
  it('stamps the first request of a burst at its send time, the next ones 1 µs apart', () => {
    const c = new SampleClock();
    expect(c.stampFor(0, 100, 1_700_000_000_123)).toBe(1_700_000_000_123);
    // Sent a few ms later (a slow runner), still the same sampling millisecond.
    expect(c.stampFor(0, 100, 1_700_000_000_126)).toBe(1_700_000_000_123.001);
    expect(c.stampFor(0, 100, 1_700_000_000_129)).toBe(1_700_000_000_123.002);
    const ms = [123, 123.001, 123.002].map((x) => timestampToMs((1_700_000_000_000 + x) / 1000));
    expect(new Set(ms).size).toBe(1);
  });
  it('keeps other vehicles and other ticks independent', () => {
    const c = new SampleClock();
    c.stampFor(0, 100, 1000);
    expect(c.stampFor(1, 100, 1002)).toBe(1002);
    expect(c.stampFor(0, 140, 1040)).toBe(1040);
  });
});
