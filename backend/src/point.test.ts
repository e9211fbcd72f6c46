import { describe, expect, it } from 'vitest';
import { timestampToMs } from '../../models/payload';
import { hasNoFields, toPoint } from './point';

// convertTime as WriteApi does it with precision 'ms'.
const asMs = { convertTime: (t: string | number | Date | undefined) => (t instanceof Date ? String(t.getTime()) : String(t)) };

describe('toPoint', () => {
  it('builds measurement, tag, sorted float fields and ms time', () => {
    const p = toPoint({ vehicle_id: 'car-1', timestamp: 1_700_000_000.5, pose: { x: 1, z: -2.5 }, control: { steering: 0.25, throttle: 1 } });
    expect(p.toLineProtocol(asMs)).toBe('telemetry,vehicle_id=car-1 pose_x=1,pose_z=-2.5,steering=0.25,throttle=1 1700000000500');
  });

  it('stores only pose fields when control is absent, and only control fields when pose is absent', () => {
    expect(toPoint({ vehicle_id: 'v', timestamp: 1, pose: { x: 3, z: 4 } }).fields).toEqual({ pose_x: '3', pose_z: '4' });
    expect(toPoint({ vehicle_id: 'v', timestamp: 1, control: { steering: 0, throttle: -1 } }).fields).toEqual({ steering: '0', throttle: '-1' });
  });

  it.each([1_700_000_000.1239, 1_700_000_000.9999, 1_234.5678, 0.0015, -1.0015, 1_700_000_000.123])(
    'time equals timestampToMs (truncation) for %d',
    (ts) => {
      const line = toPoint({ vehicle_id: 'v', timestamp: ts, pose: { x: 0, z: 0 } }).toLineProtocol(asMs);
      expect(line?.split(' ')[2]).toBe(String(timestampToMs(ts)));
    },
  );

  it('a payload without pose and control gives a point the library will skip', () => {
    const p = toPoint({ vehicle_id: 'v', timestamp: 1 });
    expect(hasNoFields(p)).toBe(true);
    expect(p.toLineProtocol(asMs)).toBeUndefined();
  });

  it('an empty vehicle_id drops the tag altogether', () => {
    expect(toPoint({ vehicle_id: '', timestamp: 1, pose: { x: 1, z: 1 } }).toLineProtocol(asMs)).toBe('telemetry pose_x=1,pose_z=1 1000');
  });

  it('escapes spaces, commas and equals in the tag, but not a trailing backslash', () => {
    expect(toPoint({ vehicle_id: 'a b,c=d', timestamp: 1, pose: { x: 1, z: 1 } }).toLineProtocol(asMs)).toBe(
      'telemetry,vehicle_id=a\\ b\\,c\\=d pose_x=1,pose_z=1 1000',
    );
    // The backslash escapes the separating space: InfluxDB cannot parse this line.
    expect(toPoint({ vehicle_id: 'car\\', timestamp: 1, pose: { x: 1, z: 1 } }).toLineProtocol(asMs)).toBe(
      'telemetry,vehicle_id=car\\ pose_x=1,pose_z=1 1000',
    );
  });

  it.each([Infinity, -Infinity, NaN])('throws for a non-finite value (%d)', (v) => {
    expect(() => toPoint({ vehicle_id: 'v', timestamp: 1, pose: { x: v, z: 0 } })).toThrow(/invalid float value for field 'pose_x'/);
    expect(() => toPoint({ vehicle_id: 'v', timestamp: 1, control: { steering: 0, throttle: v } })).toThrow(/field 'throttle'/);
  });

  it('writes large floats in exponent form', () => {
    expect(toPoint({ vehicle_id: 'v', timestamp: 1, pose: { x: 1e21, z: 1.5e-7 } }).fields).toEqual({ pose_x: '1e+21', pose_z: '1.5e-7' });
  });

  it('a null pose counts as absent (truthiness)', () => {
    expect(toPoint({ vehicle_id: 'v', timestamp: 1, pose: null as never, control: { steering: 1, throttle: 1 } }).fields).toEqual({
      steering: '1',
      throttle: '1',
    });
  });
});
