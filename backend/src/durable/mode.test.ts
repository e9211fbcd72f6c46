/**
 * Durable mode through the shared HTTP app, over real loopback HTTP, with a
 * real WAL in a temp dir and a node:http stand-in for InfluxDB.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { loadBackendConfig } from '../config';
import { createHttpMetrics } from '../httpMetrics';
import { memoryLog } from '../jsonLog';
import { startFakeInflux, type FakeInfluxServer } from './fakeInfluxServer';
import { DataDirLockedError } from './lock';
import { modeFactory } from '../modes';
import { createDurableMode, durableMode, type DurableModeParts } from './mode';

const API_KEY = 'test-key';
let dir: string;
let fake: FakeInfluxServer;
let running: Array<{ server: Server; parts: DurableModeParts; stopMetrics: () => void }> = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'durable-mode-'));
  fake = await startFakeInflux();
});
afterEach(async () => {
  for (const r of running.splice(0)) await stop(r);
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function stop(r: { server: Server; parts: DurableModeParts; stopMetrics: () => void }) {
  r.parts.broadcaster.closeAll();
  r.server.closeAllConnections();
  await new Promise<void>((res) => r.server.close(() => res()));
  await r.parts.ingestor.close();
  r.parts.shedder?.stop();
  r.stopMetrics();
}

async function start(extraEnv: Record<string, string> = {}) {
  const env = { API_KEY, INFLUX_URL: fake.url, INGEST_MODE: 'durable', DATA_DIR: dir, INFLUX_BUCKET: 'telemetry', SHIP_BACKOFF_MIN_MS: '20', SHIP_BACKOFF_MAX_MS: '100', SHED_EVENT_LOOP_DELAY_MS: '0', ...extraEnv };
  const config = loadBackendConfig(env);
  const log = memoryLog();
  const parts = await createDurableMode({ config, env, influx: { url: fake.url, version: null, writeApi: 'v2' }, log });
  const httpMetrics = createHttpMetrics();
  // The hook server.ts applies: the mode's body limit.
  const app = createApp({ config: { ...config, bodyLimit: parts.bodyLimit }, ...parts, httpMetrics, log });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const entry = { server, parts, stopMetrics: () => httpMetrics.stop() };
  running.push(entry);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, parts, log, entry };
}

function sample(i: number, over: Record<string, unknown> = {}) {
  return { vehicle_id: 'car-1', timestamp: Date.now() / 1000 + i / 1000, pose: { x: i, z: -i }, control: { steering: 0.5, throttle: 0.25 }, ...over };
}

async function post(base: string, body: unknown): Promise<{ status: number; json: { message?: string }; retryAfter: string | null }> {
  const res = await fetch(`${base}/api/v1/telemetry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: { message?: string } = {};
  try {
    json = JSON.parse(text) as { message?: string };
  } catch {
    /* HTML error page */
  }
  return { status: res.status, json, retryAfter: res.headers.get('retry-after') };
}

async function waitFor(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function openStream(base: string): Promise<{ events: () => Array<{ pose?: { x: number } }>; res: IncomingMessage }> {
  const req = request(`${base}/api/v1/telemetry/stream`);
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (text += c));
  return {
    res,
    events: () =>
      text
        .split('\n\n')
        .filter((f) => f.startsWith('data: '))
        .map((f) => JSON.parse(f.slice(6)) as { pose?: { x: number } }),
  };
}

describe('durable mode over HTTP', () => {
  it('acknowledges a sample once it is in the log, then ships it with the sample\'s own timestamp', async () => {
    const { base, parts } = await start();
    const s = sample(1);
    const r = await post(base, s);
    expect(r).toMatchObject({ status: 200, json: { message: 'Telemetry received' } });
    await waitFor(() => parts.wal.stats().unshippedSamples === 0, 10_000, 'shipped');
    expect([...fake.stored]).toEqual([`telemetry,vehicle_id=car-1 pose_x=1,pose_z=-1,steering=0.5,throttle=0.25 ${Math.trunc(s.timestamp * 1000)}`]);
  });

  it('rejects the legacy gaps with 400 and a clear message', async () => {
    const { base } = await start();
    expect(await post(base, sample(1, { vehicle_id: '' }))).toMatchObject({ status: 400, json: { message: 'Missing or invalid vehicle_id: must not be empty' } });
    expect(await post(base, { vehicle_id: 'v', timestamp: Date.now() / 1000 })).toMatchObject({ status: 400, json: { message: expect.stringMatching(/^Payload has no storable field/) } });
    const inf = `{"vehicle_id":"v","timestamp":${Date.now() / 1000},"pose":{"x":1e400,"z":0}}`;
    expect(await post(base, inf)).toMatchObject({ status: 400, json: { message: expect.stringMatching(/^Invalid pose structure/) } });
  });

  it('takes a realistic large payload (500-point trajectory + large track) and answers 413 beyond the body limit', async () => {
    const { base } = await start();
    const pts = (n: number) => Array.from({ length: n }, (_, i) => [i * 0.123456789, -i * 0.987654321]);
    const big = sample(1, { trajectory: pts(500), track: { outer: pts(8000), inner: pts(8000) } });
    const size = JSON.stringify(big).length;
    expect(size).toBeGreaterThan(400 * 1024);
    expect(size).toBeLessThan(1024 * 1024);
    expect((await post(base, big)).status).toBe(200);
    const huge = sample(2, { track: { outer: pts(40_000) } });
    expect(JSON.stringify(huge).length).toBeGreaterThan(1024 * 1024);
    expect((await post(base, huge)).status).toBe(413);
  });

  it('when the log is full answers 503 with Retry-After, and SSE carries only acknowledged samples', async () => {
    fake.decide = () => ({ status: 503 }); // InfluxDB down: nothing leaves the log
    const { base, parts } = await start({ WAL_MAX_SAMPLES: '3' });
    const stream = await openStream(base);
    await waitFor(() => parts.broadcaster.clientCount() === 1);
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await post(base, sample(i)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 503, 503]);
    expect(Number(results[3]!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(results[3]!.json.message).toMatch(/write-ahead log full/);
    await waitFor(() => stream.events().length === 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(stream.events().map((e) => e.pose?.x)).toEqual([0, 1, 2]);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^telemetry_durable_accepted_total 3$/m);
    expect(metrics).toMatch(/^telemetry_durable_rejected_total\{reason="wal_full"\} 2$/m);
    expect(metrics).toMatch(/^telemetry_wal_depth_samples 3$/m);
    expect(metrics).toMatch(/^telemetry_wal_depth_bytes \d+$/m);
    expect(metrics).toMatch(/^telemetry_wal_oldest_unshipped_age_seconds [\d.e-]+$/m);
    expect(metrics).toMatch(/^telemetry_influx_write_failures_total\{class="server"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^telemetry_sse_clients 1$/m);
    expect(metrics).toMatch(/^telemetry_sse_dropped_clients_total 0$/m);
    expect(metrics).toMatch(/^nodejs_eventloop_delay_seconds\{quantile="0.99"\}/m);

    // InfluxDB comes back: the log drains and accepts again.
    fake.decide = () => ({ status: 204 });
    await waitFor(() => parts.wal.stats().unshippedSamples === 0, 10_000, 'drained');
    expect(fake.stored.size).toBe(3);
    expect((await post(base, sample(9))).status).toBe(200);
    stream.res.destroy();
  });

  it('after close() answers 503 shutting down; a restart replays the log and ships it', async () => {
    fake.decide = () => ({ status: 500 });
    const first = await start({ SHUTDOWN_DRAIN_MS: '100' });
    for (let i = 0; i < 5; i++) expect((await post(first.base, sample(i))).status).toBe(200);
    await first.parts.ingestor.close();
    const after = await post(first.base, sample(99));
    expect(after.status).toBe(503);
    expect(after.json.message).toMatch(/shutting down/);
    expect(after.retryAfter).not.toBeNull();
    running = running.filter((r) => r !== first.entry);
    await stop(first.entry);
    expect(fake.stored.size).toBe(0);

    fake.decide = () => ({ status: 204 });
    const second = await start();
    expect(second.parts.wal.stats().unshippedSamples).toBe(5);
    await waitFor(() => second.parts.wal.stats().unshippedSamples === 0, 10_000, 'replayed');
    expect(fake.stored.size).toBe(5);
  });

  it('a different sample for an acknowledged vehicle_id + ms gets 409; an identical resend gets 200 (stored once, first one kept)', async () => {
    const { base, parts } = await start();
    const ts = Math.floor(Date.now()) / 1000 + 0.0004; // x.xxx4 s: both samples below truncate to the same ms
    const a = sample(0, { timestamp: ts, pose: { x: 1, z: 1 } });
    const b = sample(0, { timestamp: ts + 0.0003, pose: { x: 2, z: 2 } });
    expect(Math.trunc(a.timestamp * 1000)).toBe(Math.trunc(b.timestamp * 1000));
    expect((await post(base, a)).status).toBe(200);
    const conflict = await post(base, b);
    expect(conflict.status).toBe(409);
    expect(conflict.json.message).toMatch(/^Conflict: a different sample for this vehicle_id and millisecond/);
    // Identical stored fields (other trajectory, other sub-ms digits): idempotent.
    expect((await post(base, { ...a, timestamp: ts + 0.0002, trajectory: [[0, 0]] })).status).toBe(200);
    // Another vehicle or the next millisecond: no conflict.
    expect((await post(base, { ...b, vehicle_id: 'car-2' })).status).toBe(200);
    expect((await post(base, { ...b, timestamp: ts + 0.001 })).status).toBe(200);
    await waitFor(() => parts.wal.stats().unshippedSamples === 0, 10_000, 'shipped');
    const ms = Math.trunc(ts * 1000);
    expect([...fake.stored].filter((l) => l.startsWith('telemetry,vehicle_id=car-1 ') && l.endsWith(` ${ms}`))).toEqual([
      `telemetry,vehicle_id=car-1 pose_x=1,pose_z=1,steering=0.5,throttle=0.25 ${ms}`,
    ]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^telemetry_duplicate_key_refused_total 1$/m);
    expect(metrics).toMatch(/^telemetry_duplicate_key_identical_total 1$/m);
    expect(metrics).toMatch(/^telemetry_requests_total\{outcome="conflict"\} 1$/m);
    expect(metrics).toMatch(/^telemetry_key_index_keys 3$/m);
  });

  it('concurrent different samples for one key: exactly one 200, the others 409, and the store holds the acknowledged one', async () => {
    const { base, parts } = await start();
    const ts = Math.floor(Date.now()) / 1000;
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => post(base, sample(0, { timestamp: ts + i * 0.00005, pose: { x: i, z: i } }))));
    const ok = results.flatMap((r, i) => (r.status === 200 ? [i] : []));
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(11);
    await waitFor(() => parts.wal.stats().unshippedSamples === 0, 10_000, 'shipped');
    expect([...fake.stored]).toEqual([`telemetry,vehicle_id=car-1 pose_x=${ok[0]},pose_z=${ok[0]},steering=0.5,throttle=0.25 ${Math.trunc(ts * 1000)}`]);
  });

  it('a sample refused with 503 does not hold its key: a different sample for it is then accepted', async () => {
    fake.decide = () => ({ status: 503 });
    const { base } = await start({ WAL_MAX_SAMPLES: '1' });
    expect((await post(base, sample(0))).status).toBe(200); // fills the log
    const ts = Math.floor(Date.now()) / 1000 + 1;
    expect((await post(base, sample(0, { timestamp: ts, pose: { x: 1, z: 1 } }))).status).toBe(503);
    fake.decide = () => ({ status: 204 });
    let status = 503;
    for (let i = 0; i < 200 && status === 503; i++) {
      status = (await post(base, sample(0, { timestamp: ts, pose: { x: 2, z: 2 } }))).status;
      if (status === 503) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(200);
  });

  it('after a restart the index is rebuilt from the log, shipped records included: still 409 / 200', async () => {
    const first = await start();
    const ts = Math.floor(Date.now()) / 1000;
    const a = sample(0, { timestamp: ts, pose: { x: 1, z: 1 } });
    expect((await post(first.base, a)).status).toBe(200);
    await waitFor(() => first.parts.wal.stats().unshippedSamples === 0, 10_000, 'shipped');
    running = running.filter((r) => r !== first.entry);
    await stop(first.entry);

    const second = await start();
    expect((await post(second.base, { ...a, pose: { x: 9, z: 9 } })).status).toBe(409);
    expect((await post(second.base, a)).status).toBe(200);
    expect(second.log.events.some((e) => e.event === 'durable_mode_ready' && (e as { keyIndex?: { restoredKeys?: number } }).keyIndex?.restoredKeys === 1)).toBe(true);
  });

  it('KEY_INDEX_MAX_KEYS=0 turns the check off (the second sample overwrites the first, as in InfluxDB)', async () => {
    const { base } = await start({ KEY_INDEX_MAX_KEYS: '0' });
    const ts = Math.floor(Date.now()) / 1000;
    expect((await post(base, sample(0, { timestamp: ts }))).status).toBe(200);
    expect((await post(base, sample(0, { timestamp: ts, pose: { x: 5, z: 5 } }))).status).toBe(200);
  });

  it('registers itself as the durable mode when index.ts is imported (what server.ts does)', async () => {
    await import('./index');
    expect(modeFactory('durable')).toBe(durableMode);
  });

  it('refuses to open a data directory another live backend holds', async () => {
    await start();
    const env = { API_KEY, INFLUX_URL: fake.url, DATA_DIR: dir };
    const config = loadBackendConfig(env);
    await expect(createDurableMode({ config, env, influx: { url: fake.url, version: null, writeApi: 'v2' }, log: () => {} })).rejects.toBeInstanceOf(
      DataDirLockedError,
    );
  });
});

describe('durable configuration', () => {
  it('defaults, overrides, and one message per bad variable', async () => {
    const { loadDurableConfig } = await import('./config');
    const shared = { dataDir: '/tmp/x', shutdownTimeoutMs: 10_000 };
    const d = loadDurableConfig({}, shared);
    expect(d).toMatchObject({ dataDir: '/tmp/x', bodyLimit: '1mb', bodyLimitBytes: 1024 * 1024, walMaxSamples: 1_000_000, drainMs: 5000, syncMode: 'datasync', walPreallocateBytes: 1024 * 1024 });
    expect(loadDurableConfig({ BODY_LIMIT: '2mb', WAL_PREALLOCATE_BYTES: '0', WAL_SYNC: 'dsync' }, shared)).toMatchObject({ bodyLimit: '2mb', walPreallocateBytes: 0, syncMode: 'dsync' });
    expect(loadDurableConfig({}, { dataDir: undefined, shutdownTimeoutMs: 3000 }).drainMs).toBe(1000);
    let problems: string[] = [];
    try {
      loadDurableConfig({ WAL_MAX_SAMPLES: 'lots', WAL_SYNC: 'maybe', SHIP_BACKOFF_MIN_MS: '500', SHIP_BACKOFF_MAX_MS: '100' }, shared);
    } catch (err) {
      problems = (err as { problems: string[] }).problems;
    }
    expect(problems).toHaveLength(3);
    expect(problems).toContain('WAL_MAX_SAMPLES must be an integer, got "lots"');
    expect(problems).toContain('WAL_SYNC must be one of datasync, dsync, fsync, got "maybe"');
    expect(problems).toContain('SHIP_BACKOFF_MAX_MS (100) must be >= SHIP_BACKOFF_MIN_MS (500)');
    // Shedding: default 500 ms, 0 turns it off, a bound under two ticks is refused.
    expect(d.shedEventLoopDelayMs).toBe(500);
    expect(loadDurableConfig({ SHED_EVENT_LOOP_DELAY_MS: '0' }, shared).shedEventLoopDelayMs).toBe(0);
    expect(() => loadDurableConfig({ SHED_EVENT_LOOP_DELAY_MS: '20' }, shared)).toThrow(/SHED_EVENT_LOOP_DELAY_MS must be 0 \(off\) or at least 50, got 20/);
  });
});
