import { describe, expect, it } from 'vitest';
import { timestampToMs, type TelemetryPayload } from '../../models/payload';
import { jetsonPayload } from './payloads';

describe('jetsonPayload', () => {
  it('builds the three profiles with the contract fields', () => {
    const now = Date.now();
    const min = jetsonPayload({ profile: 'minimal', runTag: 'r1' })(2, 0, now) as TelemetryPayload;
    expect(Object.keys(min).sort()).toEqual(['control', 'pose', 'timestamp', 'vehicle_id']);
    expect(min.vehicle_id).toBe('tp-r1-v2');
    expect(Math.abs(min.timestamp * 1000 - now)).toBeLessThan(5000);
    expect(typeof min.pose!.x).toBe('number');
    expect(typeof min.control!.throttle).toBe('number');

    const typ = jetsonPayload({ profile: 'typical' })(0, 5, now) as TelemetryPayload;
    expect(typ.trajectory).toHaveLength(500);
    expect(typ.trajectory!.every((p) => p.length === 2 && p.every(Number.isFinite))).toBe(true);
    expect(typ.track).toBeUndefined();

    const heavy = jetsonPayload({ profile: 'heavy' })(0, 5, now) as TelemetryPayload;
    expect(heavy.track!.outer).toHaveLength(1500);
    expect(heavy.track!.inner).toHaveLength(1500);
    const bytes = Buffer.byteLength(JSON.stringify(heavy));
    // Large, but under express.json()'s default 100 kB limit (raise trackPoints to cross it).
    expect(bytes).toBeGreaterThan(50_000);
    expect(bytes).toBeLessThan(100 * 1024);
  });

  it('timestamps are float seconds from the intended slot when asked, with an offset', () => {
    const f = jetsonPayload({ profile: 'minimal', clock: 'intended', clockOffsetMs: -20_000 });
    const p = f(0, 0, 1_700_000_000_123.4567) as TelemetryPayload;
    expect(p.timestamp).toBeCloseTo(1_699_999_980.123457, 6);
  });

  it('keeps every vehicle key (vehicle_id, whole ms) unique even for sends in the same millisecond', () => {
    const f = jetsonPayload({ profile: 'minimal', clock: 'intended' });
    const keys = new Set<string>();
    for (let seq = 0; seq < 50; seq++) {
      for (let v = 0; v < 3; v++) {
        const p = f(v, seq, 1_700_000_000_000.2) as TelemetryPayload;
        keys.add(`${p.vehicle_id}|${timestampToMs(p.timestamp)}`);
      }
    }
    expect(keys.size).toBe(150);
  });
});
