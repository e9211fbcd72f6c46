import { describe, expect, it } from 'vitest';
import { budgetedPredicate } from './budgetedPredicate';

type V = { id: string; fail: boolean };

describe('budgetedPredicate', () => {
  it('executes each key once and answers repeats from the first verdict', async () => {
    const calls: string[] = [];
    const b = budgetedPredicate<V, string>({
      key: (v) => v.id,
      deadline: Date.now() + 60_000,
      judge: async (v) => { calls.push(v.id); return v.fail ? `bad ${v.id}` : undefined; },
    });
    const a1 = { id: 'a', fail: true };
    const a2 = { id: 'a', fail: false }; // same key: the recorded failure stands
    const c = { id: 'c', fail: false };
    expect(await b.predicate(a1)).toBe(false);
    expect(await b.predicate(a2)).toBe(false);
    expect(await b.predicate(c)).toBe(true);
    expect(await b.predicate({ id: 'c', fail: true })).toBe(true);
    expect(calls).toEqual(['a', 'c']);
    expect(b.failureOf(a1)).toBe('bad a');
    expect(b.failureOf(a2)).toBe('bad a');
    expect(b.failureOf(c)).toBeUndefined();
    expect([...b.judged]).toEqual([['a', 'bad a'], ['c', 'passed']]);
  });

  it('starts nothing past the deadline and counts such values as passing', async () => {
    let calls = 0;
    const b = budgetedPredicate<V, string>({
      key: (v) => v.id,
      deadline: Date.now() - 1,
      judge: async () => { calls++; return 'failed'; },
    });
    expect(await b.predicate({ id: 'x', fail: true })).toBe(true);
    expect(calls).toBe(0);
  });

  it('settled() waits for the execution still running, and does not reject when it throws', async () => {
    let release!: () => void;
    let finished = false;
    const b = budgetedPredicate<V, string>({
      key: (v) => v.id,
      deadline: Date.now() + 60_000,
      judge: async (v) => {
        await new Promise<void>((r) => { release = r; });
        finished = true;
        if (v.fail) throw new Error('infrastructure');
        return undefined;
      },
    });
    const running = b.predicate({ id: 'slow', fail: true });
    running.catch(() => undefined);
    const waited = b.settled().then(() => finished);
    await new Promise((r) => setTimeout(r, 10));
    expect(finished).toBe(false);
    release();
    expect(await waited).toBe(true);
    await expect(running).rejects.toThrow('infrastructure');
  });
});
