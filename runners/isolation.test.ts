import { describe, expect, it } from 'vitest';
import { ownPoints } from './isolation';

describe('ownPoints', () => {
  const sentMs = new Set([1000, 2000]);
  it('keeps every tagged point (the probe already selected the run prefix)', () => {
    expect(ownPoints([{ vehicleId: 'tp-r-v0', timeMs: 5 }], new Set(), sentMs)).toHaveLength(1);
  });
  it('keeps an untagged point only if it is new and on a millisecond this run sent', () => {
    const pts = [
      { vehicleId: '', timeMs: 1000 }, // ours
      { vehicleId: '', timeMs: 2000 }, // was there before the run: another run's
      { vehicleId: '', timeMs: 3000 }, // new, but no sample of ours on that ms: another run's late flush
    ];
    expect(ownPoints(pts, new Set([2000]), sentMs)).toEqual([{ vehicleId: '', timeMs: 1000 }]);
  });
});
