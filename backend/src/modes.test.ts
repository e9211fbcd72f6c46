import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackendConfig } from './config';
import type { InfluxTarget } from './influxTarget';
import { memoryLog } from './jsonLog';
import { ModeUnavailableError, modeFactory, registerDurableMode, type ModeFactory } from './modes';
import { FAKE_INFLUX_URL, createFakeInflux } from './testing/fakeInflux';

const fake = createFakeInflux();
beforeAll(() => fake.start());
afterAll(() => fake.stop());

describe('mode registry', () => {
  it('builds legacy mode with the configured skew window and the 1.x write path', async () => {
    const config = loadBackendConfig({ API_KEY: 'k', INFLUX_URL: FAKE_INFLUX_URL, SKEW_WINDOW_SEC: '1' });
    const influx: InfluxTarget = { url: FAKE_INFLUX_URL, version: '1.6.7~rc0', writeApi: 'v1' };
    const parts = await modeFactory('legacy')({ config, env: {}, influx, log: memoryLog() });
    try {
      expect(parts.influxWritePath).toBe('/write?db=telemetry&precision=ms');
      expect(parts.validate({ vehicle_id: 'v', timestamp: 100 }, 101)).toEqual({ ok: true, payload: { vehicle_id: 'v', timestamp: 100 } });
      expect(parts.validate({ vehicle_id: 'v', timestamp: 100 }, 101.5)).toEqual({
        ok: false,
        status: 400,
        message: 'Timestamp skew too large: 1.50s',
      });
      expect(parts.broadcaster.clientCount()).toBe(0);
    } finally {
      await parts.ingestor.close();
    }
  });

  it('fails clearly when durable mode is not registered', () => {
    expect(() => modeFactory('durable')).toThrow(ModeUnavailableError);
    expect(() => modeFactory('durable')).toThrow(
      'INGEST_MODE=durable but no durable mode is registered (expected backend/src/durable/index.ts to call registerDurableMode(factory))',
    );
  });

  it('returns the registered durable factory', () => {
    const factory: ModeFactory = () => {
      throw new Error('not called');
    };
    registerDurableMode(factory);
    expect(modeFactory('durable')).toBe(factory);
  });
});
