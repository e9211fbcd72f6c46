import { describe, expect, it } from 'vitest';
import { createLoadShedder, LoopLag } from './loadShedder';

describe('LoopLag', () => {
  it('is not overloaded while the timer fires on time', () => {
    const l = new LoopLag(25, 200, 0);
    for (let t = 25; t <= 1000; t += 25) l.tick(t);
    expect(l.overloaded(1000)).toBe(false);
    expect(l.overloaded(1010)).toBe(false);
  });

  it('keeps shedding for the hold after a late tick, then stops', () => {
    const l = new LoopLag(25, 200, 0, 100);
    l.tick(25);
    l.tick(25 + 25 + 300); // 300 ms late, at 350: hold until 450
    const verdicts: boolean[] = [];
    for (let t = 375; t <= 500; t += 25) { l.tick(t); verdicts.push(l.overloaded(t)); }
    // on-time ticks at 375, 400, 425 are still inside the hold; 450 and later are not
    expect(verdicts).toEqual([true, true, true, false, false, false]);
  });

  it('sees a stall in progress before the timer has had a chance to fire', () => {
    const l = new LoopLag(25, 200, 0);
    l.tick(25);
    expect(l.overloaded(200)).toBe(false);
    expect(l.overloaded(251)).toBe(true); // 201 ms overdue
  });

  it('a late tick under the bound does not shed', () => {
    const l = new LoopLag(25, 200, 0);
    l.tick(25 + 190);
    expect(l.overloaded(25 + 190)).toBe(false);
  });
});

describe('createLoadShedder', () => {
  it('reports overload while the event loop is blocked, and never once stopped', async () => {
    const s = createLoadShedder({ maxDelayMs: 50, intervalMs: 10 });
    await new Promise((r) => setTimeout(r, 40));
    expect(s.overloaded()).toBe(false);
    const until = Date.now() + 120;
    while (Date.now() < until) { /* block the loop */ }
    expect(s.overloaded()).toBe(true);
    expect(s.retryAfterSec).toBe(1);
    s.stop();
    expect(s.overloaded()).toBe(false);
  });
});
