/** The probe's parsing and its error handling (msw: our own HTTP client only). */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
import { InfluxProbe, MAX_POLL_STRETCH_MS, ProbeError, StorePoller, nextPollDelayMs, parseQueryResponse, prefixRegex, selectQuery } from './influxProbe';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const BASE = 'http://influx.test';

describe('InfluxQL building', () => {
  it('escapes the prefix as a regex literal', () => {
    expect(prefixRegex('run-1.a/b')).toBe('/^run-1\\.a\\/b/');
    expect(selectQuery({ vehiclePrefix: 'p' })).toBe(
      'SELECT "pose_x", "pose_z", "steering", "throttle" FROM "telemetry" WHERE "vehicle_id" =~ /^p/ GROUP BY "vehicle_id"',
    );
  });
});

describe('parseQueryResponse', () => {
  it('reads chunked series, tags and absent fields', () => {
    const chunk1 = JSON.stringify({
      results: [{ statement_id: 0, series: [{ name: 'telemetry', tags: { vehicle_id: 'a, b=c' }, columns: ['time', 'pose_x', 'pose_z', 'steering', 'throttle'], values: [[1000, 1.5, -2, null, null]] }], partial: true }],
    });
    const chunk2 = JSON.stringify({
      results: [{ statement_id: 0, series: [{ name: 'telemetry', tags: { vehicle_id: 'z' }, columns: ['time', 'pose_x', 'pose_z', 'steering', 'throttle'], values: [[2000, null, null, 0.25, 1e-300]] }] }],
    });
    expect(parseQueryResponse(`${chunk1}\n${chunk2}\n`)).toEqual([
      { vehicleId: 'a, b=c', timeMs: 1000, fields: { pose_x: 1.5, pose_z: -2 } },
      { vehicleId: 'z', timeMs: 2000, fields: { steering: 0.25, throttle: 1e-300 } },
    ]);
  });

  it('an empty result is no points; an error is an error', () => {
    expect(parseQueryResponse('{"results":[{"statement_id":0}]}')).toEqual([]);
    expect(() => parseQueryResponse('{"results":[{"statement_id":0,"error":"database not found: x"}]}')).toThrow(/database not found/);
    expect(() => parseQueryResponse('<html>')).toThrow(ProbeError);
  });
});

describe('InfluxProbe over HTTP', () => {
  it('sends db, epoch=ms and a 2.x token', async () => {
    let seen: URL | undefined;
    let auth: string | null = null;
    server.use(
      http.get(`${BASE}/query`, ({ request }) => {
        seen = new URL(request.url);
        auth = request.headers.get('authorization');
        return HttpResponse.text('{"results":[{"statement_id":0}]}');
      }),
    );
    await new InfluxProbe({ url: BASE, db: 'telemetry', token: 'dev-token' }).readPoints({ vehiclePrefix: 'x' });
    expect(seen?.searchParams.get('db')).toBe('telemetry');
    expect(seen?.searchParams.get('epoch')).toBe('ms');
    expect(auth).toBe('Token dev-token');
  });

  it('turns 401, 5xx and network failures into clear ProbeErrors', async () => {
    const probe = new InfluxProbe({ url: BASE, db: 'd' });
    server.use(http.get(`${BASE}/query`, () => new HttpResponse('unauthorized', { status: 401 })));
    await expect(probe.readPoints()).rejects.toThrow(/refused the probe \(401\).*token/);
    server.use(http.get(`${BASE}/query`, () => new HttpResponse('boom', { status: 503 })));
    await expect(probe.readPoints()).rejects.toThrow(/answered 503: boom/);
    server.use(http.get(`${BASE}/query`, () => HttpResponse.error()));
    await expect(probe.readPoints()).rejects.toThrow(/cannot reach InfluxDB at http:\/\/influx\.test/);
  });
});

describe('StorePoller pacing', () => {
  it('stretches after slow successful reads, at most to MAX_POLL_STRETCH_MS; never after a failed (stalled) read', () => {
    expect(nextPollDelayMs(150, 10, true)).toBe(150);
    expect(nextPollDelayMs(150, 100, true)).toBe(400);
    // A read that hung 8 s on a SIGSTOPped influxd, then answered: poll again soon, not 32 s later.
    expect(nextPollDelayMs(150, 8_000, true)).toBe(MAX_POLL_STRETCH_MS);
    expect(nextPollDelayMs(150, 10_000, false)).toBe(150);
    expect(nextPollDelayMs(2_000, 10_000, true)).toBe(2_000);
  });

  it('after a read that fails (InfluxDB unreachable) it records the error and keeps reading', async () => {
    let calls = 0;
    server.use(http.get(`${BASE}/query`, async () => {
      calls++;
      if (calls === 1) {
        await new Promise((r) => setTimeout(r, 300));
        return HttpResponse.text('stalled', { status: 503 });
      }
      return HttpResponse.text(JSON.stringify({ results: [{ statement_id: 0, series: [{ name: 'telemetry', tags: { vehicle_id: 'p-1' }, columns: ['time', 'pose_x', 'pose_z', 'steering', 'throttle'], values: [[1000, 1, 2, null, null]] }] }] }));
    }));
    const poller = new StorePoller(new InfluxProbe({ url: BASE, db: 'telemetry' }), { vehiclePrefix: 'p-' }, 50);
    const t0 = Date.now();
    poller.start();
    for (let i = 0; i < 100 && poller.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await poller.stop();
    expect(poller.size).toBe(1);
    expect(poller.errors).toHaveLength(1);
    expect(poller.points()[0]!.firstSeenAtMs).toBeGreaterThanOrEqual(t0);
  });
});
