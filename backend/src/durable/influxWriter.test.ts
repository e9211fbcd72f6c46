/** Error classification of the shipper's HTTP client, with msw playing InfluxDB. */
import { delay, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyStatus, InfluxWriter, parseRetryAfter } from './influxWriter';

const URL_ = 'http://influx-durable.test:8086';
let pings = 0;
const server = setupServer(
  http.get(`${URL_}/ping`, () => {
    pings++;
    return new HttpResponse(null, { status: 204, headers: { 'X-Influxdb-Version': '1.6.7~rc0' } });
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  pings = 0;
});
afterAll(() => server.close());

function answerWrites(resolver: () => Response | Promise<Response>) {
  server.use(http.post(`${URL_}/write`, resolver));
}

const writer = (timeoutMs = 2000) => new InfluxWriter({ url: URL_, org: 'o', bucket: 'db', timeoutMs });

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    expect(parseRetryAfter('1.5')).toBe(1.5);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });
});

describe('classifyStatus', () => {
  it.each([
    [429, 'throttled'],
    [500, 'server'],
    [503, 'server'],
    [401, 'auth'],
    [403, 'auth'],
    [404, 'not_found'],
    [408, 'timeout'],
    [413, 'too_large'],
    [400, 'rejected'],
    [422, 'rejected'],
  ] as const)('%i -> %s', (status, cls) => {
    expect(classifyStatus(status)).toBe(cls);
  });
});

describe('InfluxWriter.write', () => {
  it('2xx is ok, and the body is the lines joined by newlines', async () => {
    let body = '';
    server.use(
      http.post(`${URL_}/write`, async ({ request }) => {
        body = await request.text();
        return new HttpResponse(null, { status: 204 });
      }),
    );
    expect(await writer().write(['a f=1 1', 'b f=2 2'])).toEqual({ kind: 'ok', status: 204 });
    expect(body).toBe('a f=1 1\nb f=2 2');
  });

  it('429 with Retry-After seconds -> retry/throttled with retryAfterSec', async () => {
    answerWrites(() => new HttpResponse('slow down', { status: 429, headers: { 'Retry-After': '3' } }));
    expect(await writer().write(['x f=1 1'])).toMatchObject({ kind: 'retry', class: 'throttled', status: 429, retryAfterSec: 3 });
  });

  it('503 with Retry-After -> retry/server; 500 without -> no retryAfterSec', async () => {
    answerWrites(() => new HttpResponse(null, { status: 503, headers: { 'Retry-After': '2' } }));
    expect(await writer().write(['x f=1 1'])).toMatchObject({ kind: 'retry', class: 'server', retryAfterSec: 2 });
    answerWrites(() => HttpResponse.json({ error: 'timeout' }, { status: 500 }));
    const r = await writer().write(['x f=1 1']);
    expect(r).toMatchObject({ kind: 'retry', class: 'server', status: 500 });
    expect(r).not.toHaveProperty('retryAfterSec');
  });

  it('a network error -> retry/network', async () => {
    answerWrites(() => HttpResponse.error());
    expect(await writer().write(['x f=1 1'])).toMatchObject({ kind: 'retry', class: 'network' });
  });

  it('no answer within the timeout -> retry/timeout', async () => {
    answerWrites(async () => {
      await delay(2000);
      return new HttpResponse(null, { status: 204 });
    });
    expect(await writer(100).write(['x f=1 1'])).toMatchObject({ kind: 'retry', class: 'timeout' });
  });

  it('400 -> permanent/rejected with InfluxDB\'s error text', async () => {
    answerWrites(() =>
      HttpResponse.json(
        { error: 'unable to parse' },
        { status: 400, headers: { 'X-Influxdb-Error': "unable to parse 'x': invalid field format" } },
      ),
    );
    const r = await writer().write(['x']);
    expect(r).toMatchObject({ kind: 'permanent', class: 'rejected', status: 400 });
    expect(r.kind === 'permanent' && r.message).toContain('invalid field format');
  });

  it('413 -> permanent/too_large', async () => {
    answerWrites(() => new HttpResponse(null, { status: 413 }));
    expect(await writer().write(['x f=1 1'])).toMatchObject({ kind: 'permanent', class: 'too_large' });
  });

  it('401 -> retry/auth (a configuration problem: keep the data)', async () => {
    answerWrites(() => HttpResponse.json({ error: 'authorization failed' }, { status: 401 }));
    expect(await writer().write(['x f=1 1'])).toMatchObject({ kind: 'retry', class: 'auth' });
  });

  it('404 (database not found) -> retry/not_found and /ping is asked again next time', async () => {
    const w = writer();
    answerWrites(() => HttpResponse.json({ error: 'database not found: "db"' }, { status: 404 }));
    expect(await w.write(['x f=1 1'])).toMatchObject({ kind: 'retry', class: 'not_found' });
    expect(pings).toBe(1);
    answerWrites(() => new HttpResponse(null, { status: 204 }));
    expect(await w.write(['x f=1 1'])).toMatchObject({ kind: 'ok' });
    expect(pings).toBe(2);
  });

  it('/ping unreachable -> retry/network without posting', async () => {
    server.use(http.get(`${URL_}/ping`, () => HttpResponse.error()));
    let posted = 0;
    answerWrites(() => {
      posted++;
      return new HttpResponse(null, { status: 204 });
    });
    expect(await writer().write(['x f=1 1'])).toMatchObject({ kind: 'retry', class: 'network' });
    expect(posted).toBe(0);
  });
});
