import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeInflux, type FakeInfluxServer } from './fakeInfluxServer';
import { InfluxWriter } from './influxWriter';
import { Shipper, type ShipperOptions } from './shipper';
import { WriteAheadLog } from './wal';

let dir: string;
let fake: FakeInfluxServer;
const cleanups: Array<() => Promise<void> | void> = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ship-test-'));
  fake = await startFakeInflux();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function setup(opts: Partial<ShipperOptions> = {}, writerOpts: Partial<ConstructorParameters<typeof InfluxWriter>[0]> = {}) {
  const wal = new WriteAheadLog({ dir: join(dir, 'wal') });
  await wal.open();
  const writer = new InfluxWriter({ url: fake.url, org: 'app-org', bucket: 'telemetry', timeoutMs: 2000, ...writerOpts });
  const shipper = new Shipper({ wal, writer, rejectedDir: join(dir, 'rejected'), backoffMinMs: 20, backoffMaxMs: 200, idlePollMs: 50, ...opts });
  cleanups.push(async () => {
    await shipper.stop();
    await wal.close();
  });
  return { wal, writer, shipper };
}

const line = (i: number, v = 'car-1') => `telemetry,vehicle_id=${v} pose_x=${i} ${1_700_000_000_000 + i}`;

describe('Shipper', () => {
  it('ships durable records and truncates the log only after InfluxDB answered 204', async () => {
    const { wal, shipper } = await setup();
    fake.answers.push({ status: 500, body: '{"error":"engine: cache maximum memory size exceeded"}' }, { status: 500 });
    for (let i = 0; i < 10; i++) expect((await wal.append(line(i))).ok).toBe(true);
    shipper.start();
    await waitFor(() => fake.writes.length >= 2, 10_000, 'two failed writes');
    // Two 500s: nothing confirmed, everything still in the log.
    expect(fake.stored.size).toBe(0);
    expect(wal.stats().unshippedSamples).toBe(10);
    await waitFor(() => wal.stats().unshippedSamples === 0, 10_000, 'log drained');
    expect([...fake.stored].sort()).toEqual(Array.from({ length: 10 }, (_, i) => line(i)).sort());
    const last = fake.writes[fake.writes.length - 1]!;
    expect(last.lines.length).toBe(10);
    expect(shipper.stats().failures.server).toBe(2);
    expect(shipper.stats().linesShipped).toBe(10);
  });

  it('retries forever with growing back-off on network errors and 5xx', async () => {
    const { wal, shipper } = await setup({ backoffMinMs: 50, backoffMaxMs: 1000, random: () => 0 });
    fake.answers.push('drop', 'drop', { status: 503 }, { status: 502 }, { status: 500 });
    await wal.append(line(1));
    shipper.start();
    await waitFor(() => wal.stats().unshippedSamples === 0, 15_000, 'confirmed after retries');
    expect(fake.stored.has(line(1))).toBe(true);
    const s = shipper.stats();
    expect(s.failures.network).toBe(2);
    expect(s.failures.server).toBe(3);
    expect(fake.writes.length).toBe(6);
    // random() = 0 -> waits of 0.8 x 50, 100, 200, 400, 800 ms: each gap at least that long.
    const gaps = fake.writes.slice(1).map((w, i) => w.at - fake.writes[i]!.at);
    const nominal = [50, 100, 200, 400, 800].map((ms) => ms * 0.8);
    gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(nominal[i]! - 2));
    expect(wal.stats().unshippedSamples).toBe(0);
  });

  it('keeps retrying through a long outage (no retry budget)', async () => {
    const { wal, shipper } = await setup({ backoffMinMs: 5, backoffMaxMs: 10 });
    for (let i = 0; i < 40; i++) fake.answers.push({ status: 503 });
    await wal.append(line(7));
    shipper.start();
    await waitFor(() => wal.stats().unshippedSamples === 0, 20_000, 'confirmed after 40 failures');
    expect(fake.stored.has(line(7))).toBe(true);
    expect(shipper.stats().failures.server).toBe(40);
    expect(wal.stats().unshippedSamples).toBe(0);
  });

  it('honours Retry-After (seconds) on 429 and 503', async () => {
    const { wal, shipper } = await setup({ backoffMinMs: 10, backoffMaxMs: 20 });
    fake.answers.push({ status: 429, headers: { 'Retry-After': '1' } }, { status: 503, headers: { 'Retry-After': '1' } });
    await wal.append(line(1));
    shipper.start();
    await waitFor(() => fake.writes.length === 1, 5000, 'first attempt');
    await waitFor(() => shipper.stats().retryAt > 0, 5000, 'retry scheduled');
    await waitFor(() => fake.stored.has(line(1)), 10_000, 'stored');
    expect(fake.writes.length).toBe(3);
    const gaps = fake.writes.slice(1).map((w, i) => w.at - fake.writes[i]!.at);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(1000 - 2);
    expect(shipper.stats().failures.throttled).toBe(1);
    expect(shipper.stats().failures.server).toBe(1);
  });

  it('records a permanently rejected line (400), ships the others, and does not retry it', async () => {
    const { wal, shipper } = await setup();
    fake.decide = (w) =>
      w.lines.some((l) => l.includes('bad'))
        ? { status: 400, body: '{"error":"partial write: field type conflict"}', headers: { 'X-Influxdb-Error': 'partial write: field type conflict' } }
        : { status: 204 };
    const lines = [line(1), line(2), line(3, 'bad'), line(4), line(5)];
    for (const l of lines) await wal.append(l);
    shipper.start();
    await waitFor(() => wal.stats().unshippedSamples === 0, 10_000, 'log drained');
    expect([...fake.stored].sort()).toEqual([line(1), line(2), line(4), line(5)].sort());
    // The bad line went out alone exactly once: isolated, recorded, not retried.
    const alone = fake.writes.filter((w) => w.lines.length === 1 && w.lines[0] === line(3, 'bad'));
    expect(alone.length).toBe(1);
    const s = shipper.stats();
    expect(s.rejectedLines).toBe(1);
    expect(s.rejectedByStatus).toEqual({ '400': 1 });
    const rejected = readFileSync(join(dir, 'rejected', 'rejected.lp'), 'utf8');
    expect(rejected).toContain(line(3, 'bad'));
    expect(rejected).toMatch(/status=400 .*field type conflict/);
    // Nothing further is sent once the log is empty.
    const n = fake.writes.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(fake.writes.length).toBe(n);
  });

  it('splits a batch InfluxDB finds too large (413) and ships it in parts', async () => {
    const { wal, shipper } = await setup();
    fake.decide = (w) => (w.lines.length > 2 ? { status: 413 } : { status: 204 });
    for (let i = 0; i < 7; i++) await wal.append(line(i));
    shipper.start();
    await waitFor(() => wal.stats().unshippedSamples === 0, 10_000, 'log drained');
    expect(fake.stored.size).toBe(7);
    expect(shipper.stats().rejectedLines).toBe(0);
  });

  it('replays on start what the log holds from a previous run', async () => {
    const first = new WriteAheadLog({ dir: join(dir, 'wal') });
    await first.open();
    for (let i = 0; i < 25; i++) await first.append(line(i));
    await first.close(); // previous run ends (or was killed) before shipping
    const { wal, shipper } = await setup();
    expect(wal.stats().unshippedSamples).toBe(25);
    shipper.start();
    await waitFor(() => wal.stats().unshippedSamples === 0, 10_000, 'replayed');
    expect(fake.stored.size).toBe(25);
  });

  it('wakes up for new records without waiting for the idle poll', async () => {
    const { wal, shipper } = await setup({ idlePollMs: 60_000 });
    shipper.start();
    await new Promise((r) => setTimeout(r, 20));
    await wal.append(line(1));
    await waitFor(() => fake.stored.has(line(1)), 5000, 'shipped after wake-up');
  });

  it('drainAndStop gives up within its bound while InfluxDB hangs, leaving the records in the log', async () => {
    const { wal, shipper } = await setup();
    fake.decide = () => 'hang';
    for (let i = 0; i < 3; i++) await wal.append(line(i));
    shipper.start();
    await waitFor(() => fake.writes.length >= 1, 5000, 'write in flight');
    const t0 = Date.now();
    const drained = await shipper.drainAndStop(300);
    expect(drained).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(wal.stats().unshippedSamples).toBe(3);
    await wal.close();
    const again = new WriteAheadLog({ dir: join(dir, 'wal') });
    await again.open();
    expect(again.stats().unshippedSamples).toBe(3);
    await again.close();
  });

  it('uses /write?db= for InfluxDB 1.x and /api/v2/write with a token for 2.x', async () => {
    const { wal, shipper } = await setup();
    await wal.append(line(1));
    shipper.start();
    await waitFor(() => fake.stored.has(line(1)));
    expect(fake.writes[0]!.path).toBe('/write');
    expect(fake.writes[0]!.query).toEqual({ db: 'telemetry', precision: 'ms' });

    const fake2 = await startFakeInflux({ version: 'v2.7.11' });
    cleanups.push(() => fake2.close());
    const w2 = new InfluxWriter({ url: fake2.url, token: 'dev-token', org: 'app-org', bucket: 'telemetry' });
    expect(await w2.write([line(2)])).toEqual({ kind: 'ok', status: 204 });
    expect(fake2.writes[0]!.path).toBe('/api/v2/write');
    expect(fake2.writes[0]!.query).toEqual({ org: 'app-org', bucket: 'telemetry', precision: 'ms' });
    expect(fake2.writes[0]!.authorization).toBe('Token dev-token');
    expect(w2.detectedApi).toBe('v2');
  });
});
