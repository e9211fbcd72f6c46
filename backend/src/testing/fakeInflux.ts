/**
 * Test helper: an msw server that plays InfluxDB (/ping and writes) at a
 * fake host, recording every write request the real client library makes.
 */
import { syncBuiltinESMExports } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';

export const FAKE_INFLUX_URL = 'http://influx.test:8086';

export interface RecordedWrite {
  path: string;
  query: Record<string, string>;
  authorization: string | null;
  body: string;
}

export interface FakeInflux {
  writes: RecordedWrite[];
  /** X-Influxdb-Version answered by /ping (null = no header). */
  version: string | null;
  /** Status answered to /ping (204 = up). */
  pingStatus: number;
  /** Status answered to writes (204 = success). */
  writeStatus: number;
  /** How many /ping calls fail with a network error before one succeeds. */
  pingFailuresLeft: number;
  start(): void;
  reset(): void;
  stop(): void;
}

/** The library gzips bodies above 1000 bytes (gzipThreshold). */
async function bodyText(request: Request): Promise<string> {
  const raw = Buffer.from(await request.arrayBuffer());
  return request.headers.get('content-encoding') === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
}

export function createFakeInflux(): FakeInflux {
  const fake: FakeInflux = {
    writes: [],
    version: '1.6.7~rc0',
    pingStatus: 204,
    writeStatus: 204,
    pingFailuresLeft: 0,
    start() {
      server.listen({ onUnhandledRequest: 'error' });
      // The client library is ESM and does `import * as http from "http"`:
      // a builtin's ESM namespace only sees msw's patch of http.request once
      // the CJS exports are synced into it (and synced back on stop).
      syncBuiltinESMExports();
    },
    reset() {
      fake.writes.length = 0;
      fake.version = '1.6.7~rc0';
      fake.pingStatus = 204;
      fake.writeStatus = 204;
      fake.pingFailuresLeft = 0;
      server.resetHandlers();
    },
    stop() {
      server.close();
      syncBuiltinESMExports();
    },
  };

  const server = setupServer(
    http.get(`${FAKE_INFLUX_URL}/ping`, () => {
      if (fake.pingFailuresLeft > 0) {
        fake.pingFailuresLeft--;
        return HttpResponse.error();
      }
      if (fake.pingStatus !== 204) return new HttpResponse('unavailable', { status: fake.pingStatus });
      const headers: Record<string, string> = fake.version ? { 'X-Influxdb-Version': fake.version } : {};
      return new HttpResponse(null, { status: 204, headers });
    }),
    http.post(`${FAKE_INFLUX_URL}/*`, async ({ request }) => {
      const url = new URL(request.url);
      fake.writes.push({
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        authorization: request.headers.get('authorization'),
        body: await bodyText(request),
      });
      if (fake.writeStatus === 204) return new HttpResponse(null, { status: 204 });
      return HttpResponse.json({ code: 'invalid', message: `fake influx says ${fake.writeStatus}` }, { status: fake.writeStatus });
    }),
  );
  return fake;
}
