import { describe, expect, it } from 'vitest';
import { niceTicks, renderLineChart } from './svg';

describe('svg charts', () => {
  it('picks round ticks that cover the maximum', () => {
    expect(niceTicks(97)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(12_345).at(-1)).toBeGreaterThanOrEqual(12_345);
  });

  it('decimates long series without losing the peak, and breaks lines at gaps', () => {
    const points = Array.from({ length: 86_400 }, (_, i) => [i, i === 50_000 ? 900 : 1] as const);
    const svg = renderLineChart({ id: 'x', title: 't', yLabel: 'ms', xMax: 86_400, series: [{ name: 's', color: '#000', points }] });
    const d = /<path d="([^"]+)"/.exec(svg)![1]!;
    expect(d.split(/[ML]/).length - 1).toBeLessThanOrEqual(1200);
    // The 900 peak sets the axis (ticks up to 1000), so decimation kept it.
    expect(svg).toContain('>1000</text>');
    const gap = renderLineChart({ id: 'g', title: 't', yLabel: 'y', xMax: 4, series: [{ name: 's', color: '#000', points: [[0, 1], [1, null], [2, 1], [3, 1]] }] });
    expect(/<path d="([^"]+)"/.exec(gap)![1]!.match(/M/g)).toHaveLength(2);
  });
});
