import { describe, expect, it } from 'vitest';
import { createLoadShedder, LoopLag } from './loadShedder';

describe('LoopLag', () => {
  it('is not overloaded while the timer fires on time', () => {
    const l = new LoopLag(25, 200, 0);
    for (let t = 25; t <= 1000; t += 25) l.tick(t);
    expect(l.delayMs(1000)).toBe(0);
    expect(l.overloaded(1010)).toBe(false);
  });

  it('sheds after a late tick and recovers within a few on-time ticks', () => {
    const l = new LoopLag(25, 200, 0);
    l.tick(25);
    l.tick(25 + 25 + 300); // 300 ms late
    expect(l.overloaded(351)).toBe(true);
    let t = 350;
    const verdicts: boolean[] = [];
    for (let i = 0; i < 4; i++) { t += 25; l.tick(t); verdicts.push(l.overloaded(t)); }
    // 150, 75, … : under the bound from the first on-time tick
    expect(verdicts).toEqual([false, false, false, false]);
  });

  it('sees a stall in progress before the timer has had a chance to fire', () => {
    const l = new LoopLag(25, 200, 0);
    l.tick(25);
    expect(l.overloaded(200)).toBe(false);
    expect(l.overloaded(251)).toBe(true); // 226 ms overdue
  });

  it('keeps a spike above the bound for consecutive late ticks (no flapping)', () => {
    const l = new LoopLag(25, 100, 0);
    let t = 0;
    const verdicts: boolean[] = [];
    for (const late of [400, 90, 250, 80]) { t += 25 + late; l.tick(t); verdicts.push(l.overloaded(t)); }
    expect(verdicts).toEqual([true, true, true, true]);
  });
});

describe('createLoadShedder', () => {
  it('reports overload while the event loop is blocked', async () => {
    const s = createLoadShedder({ maxDelayMs: 50, intervalMs: 10 });
    try {
      await new Promise((r) => setTimeout(r, 40));
      expect(s.overloaded()).toBe(false);
      const until = Date.now() + 120;
      while (Date.now() < until) { /* block the loop */ }
      expect(s.overloaded()).toBe(true);
      expect(s.retryAfterSec).toBe(1);
    } finally {
      s.stop();
    }
  });
});
