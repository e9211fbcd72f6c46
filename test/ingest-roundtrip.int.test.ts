/**
 * End to end through the real stack: 200 valid payloads through the `ingest`
 * proxy, SIGTERM (the legacy backend flushes its WriteApi on shutdown), then
 * exactly those 200 points are read back from InfluxDB with exact values.
 */
import { describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { startSuiteBackend } from '../runners/stack/suiteBackend';
import { InfluxProbe } from '../runners/influxProbe';
import { pointKey, timestampToMs, fieldsOf, type TelemetryPayload } from '../models/payload';

describe('ingest round trip (legacy backend, real InfluxDB)', () => {
  it('stores exactly the 200 acknowledged payloads, with exact float values, after SIGTERM', async () => {
    const shared = inject('stack');
    // Default legacy options (60 s flush): only the SIGTERM flush can store them.
    const suite = await startSuiteBackend(shared, { kind: 'reference', mode: 'legacy' }, { label: 'roundtrip' });
    const prefix = `rt-${randomBytes(4).toString('hex')}-`;
    const sent: TelemetryPayload[] = [];
    try {
      const base = Date.now() / 1000;
      for (let i = 0; i < 200; i++) {
        const v = i % 4;
        const payload: TelemetryPayload = {
          vehicle_id: `${prefix}car${v}`,
          timestamp: base + i * 0.001 + 0.0004, // distinct ms per sample
          pose: { x: (i - 100) * 0.1 + 1e-9, z: -Math.PI * i },
          control: { steering: Math.sin(i) / 3, throttle: i === 7 ? 0 : 1 / (i + 1) },
          trajectory: [[1.5, -2.25]],
        };
        const res = await fetch(`${suite.info.backend.url}/api/v1/telemetry`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': suite.info.backend.apiKey },
          body: JSON.stringify(payload),
        });
        expect(res.status, await res.text()).toBe(200);
        sent.push(payload);
      }
      suite.handle.process.signal('SIGTERM');
      expect(await suite.handle.process.waitExit()).toBe(0);

      const probe = new InfluxProbe({ url: shared.influx.directUrl, db: shared.influx.db });
      const stored = await probe.readPoints({ vehiclePrefix: prefix });
      expect(stored).toHaveLength(200);
      const byKey = new Map(stored.map((p) => [pointKey(p.vehicleId, p.timeMs), p.fields]));
      for (const p of sent) {
        const key = pointKey(p.vehicle_id, timestampToMs(p.timestamp));
        // Exact float equality (===): -0 and 0 are the same number, and the
        // line protocol writes -0 as 0, so compare numbers, not bit patterns.
        const expected = Object.fromEntries(Object.entries(fieldsOf(p)).map(([k, v]) => [k, v === 0 ? 0 : v]));
        expect(byKey.get(key), key).toStrictEqual(expected);
      }
    } finally {
      await suite.stop();
    }
  });
});
