import { describe, expect, it } from 'vitest';
import { sleep } from './clock';
import { startIntervalSampler } from './sampler';
import { until } from './testing/until';

describe('startIntervalSampler', () => {
  it('samples at once and then per interval, keeping a bounded ring', async () => {
    let n = 0;
    const s = startIntervalSampler({ intervalMs: 20, sample: () => n++, maxSamples: 3 });
    await until(() => n >= 5);
    const kept = await s.stop();
    expect(n).toBeGreaterThanOrEqual(5);
    expect(kept).toHaveLength(3);
    expect(kept).toEqual([n - 3, n - 2, n - 1]);
    expect(s.dropped()).toBe(n - 3);
    const after = n;
    await sleep(60);
    expect(n).toBe(after);
  });

  it('never overlaps a slow sample, reports errors and stops by itself', async () => {
    let active = 0;
    let maxActive = 0;
    const errors: unknown[] = [];
    let calls = 0;
    const s = startIntervalSampler({
      intervalMs: 10, durationMs: 400, onError: (e) => errors.push(e),
      sample: async () => {
        calls++;
        if (calls === 2) throw new Error('boom');
        active++; maxActive = Math.max(maxActive, active);
        await sleep(35);
        active--;
        return calls;
      },
    });
    await sleep(550);
    const before = calls;
    await sleep(50);
    await s.stop();
    expect(maxActive).toBe(1);
    expect(errors).toHaveLength(1);
    expect(calls).toBe(before);
    // 400 ms of 35 ms samples on a 10 ms interval: at most ~12 calls, never one per slot (40).
    expect(calls).toBeLessThan(14);
  });
});
