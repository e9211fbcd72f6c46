import { describe, expect, it } from 'vitest';
import { ArrivalSchedule, seededRandom, type ScheduleOptions } from './schedule';

function all(o: Partial<ScheduleOptions>): { vehicleIndex: number; seq: number; intendedMs: number }[] {
  const s = new ArrivalSchedule({
    vehicles: 1, rateHz: 10, arrival: 'even', jitter: 0, bursts: [], startMs: 1000, endMs: 2000, random: seededRandom(7), ...o,
  });
  const out = [];
  for (let a = s.pop(); a; a = s.pop()) out.push(a);
  return out;
}

describe('ArrivalSchedule', () => {
  it('even: 10 Hz for 1 s is 10 sends 100 ms apart, seq 0..9', () => {
    const a = all({});
    expect(a.map((x) => x.intendedMs)).toEqual([1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900]);
    expect(a.map((x) => x.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('spreads vehicles over a period and merges them in time order', () => {
    const a = all({ vehicles: 4, endMs: 1200 });
    expect(a.map((x) => [x.vehicleIndex, x.intendedMs])).toEqual([
      [0, 1000], [1, 1025], [2, 1050], [3, 1075], [0, 1100], [1, 1125], [2, 1150], [3, 1175],
    ]);
  });

  it('jitter keeps each send within ±jitter×period of its slot and in order', () => {
    const a = all({ arrival: 'jitter', jitter: 0.3, endMs: 11_000 });
    expect(a).toHaveLength(100);
    a.forEach((x, i) => {
      expect(Math.abs(x.intendedMs - (1000 + i * 100))).toBeLessThanOrEqual(30);
      if (i > 0) expect(x.intendedMs).toBeGreaterThan(a[i - 1]!.intendedMs);
    });
    expect(new Set(a.map((x) => x.intendedMs - Math.round(x.intendedMs / 100) * 100)).size).toBeGreaterThan(50);
  });

  it('poisson: about rate × duration sends, non-decreasing, reproducible by seed', () => {
    const a = all({ arrival: 'poisson', rateHz: 100, endMs: 101_000 });
    expect(a.length).toBeGreaterThan(9_500);
    expect(a.length).toBeLessThan(10_500);
    for (let i = 1; i < a.length; i++) expect(a[i]!.intendedMs).toBeGreaterThanOrEqual(a[i - 1]!.intendedMs);
    expect(all({ arrival: 'poisson', rateHz: 100, endMs: 2000 })).toEqual(all({ arrival: 'poisson', rateHz: 100, endMs: 2000 }));
  });

  it('a burst multiplies the rate inside its window only', () => {
    const a = all({ endMs: 3000, bursts: [{ startMs: 1000, durationMs: 1000, multiplier: 5 }] });
    const inside = a.filter((x) => x.intendedMs >= 2000 && x.intendedMs < 3000);
    expect(a.filter((x) => x.intendedMs < 2000)).toHaveLength(10);
    expect(inside).toHaveLength(50);
    expect(inside[1]!.intendedMs - inside[0]!.intendedMs).toBeCloseTo(20, 9);
  });

  it('rejects nonsense', () => {
    expect(() => all({ rateHz: 0 })).toThrow(RangeError);
    expect(() => all({ jitter: 0.7 })).toThrow(RangeError);
    expect(() => all({ vehicles: 1.5 })).toThrow(RangeError);
  });
});
