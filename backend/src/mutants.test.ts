import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Point } from '@influxdata/influxdb-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModeParts } from './modes';
import type { Broadcaster, Ingestor, ReceivedPayload } from './interfaces';
import { decodeRecord, encodeRecord, SEGMENT_MAGIC } from './durable/wal';
import { payloadToLine } from './durable/lineProtocol';
import { validatePayload } from './validate';
import { toPoint } from './point';
import {
  activeMutant,
  appliesTo,
  brokenEscapeTagValue,
  dropLastRecord,
  MUTANT_NAMES,
  MUTANTS,
  mutantAcceptsApiKey,
  mutantFloat,
  mutantOnWriteFailed,
  mutantRetryLines,
  mutantSkewSlackSec,
  mutantSwallows4xx,
  mutantTimestampSec,
  mutantWalReplayBuffer,
  mutantWriteLegacyPoint,
  mutateParts,
  resetMutantForTests,
  resolveMutant,
  restampLines,
} from './mutants';

const use = (name: string, more: Record<string, string> = {}) => resetMutantForTests({ BACKEND_MUTANT: name, INGEST_MODE: 'durable', ...more });

afterEach(() => resetMutantForTests({}));

describe('the switch', () => {
  it('is off when unset or empty', () => {
    expect(resolveMutant({})).toBeNull();
    expect(resolveMutant({ BACKEND_MUTANT: '  ' })).toBeNull();
  });

  it('names every valid mutant when the name is unknown', () => {
    expect(() => resolveMutant({ BACKEND_MUTANT: 'drop-everything' })).toThrow(/not a mutant; valid names: drop-one-in-n, ack-before-validate, .*wal-replay-skips-last/);
  });

  it('refuses every mutant with NODE_ENV=production', () => {
    for (const name of MUTANT_NAMES) {
      expect(() => resolveMutant({ BACKEND_MUTANT: name, NODE_ENV: 'production', INGEST_MODE: 'durable' })).toThrow(/refused: NODE_ENV=production/);
    }
    expect(() => resolveMutant({ BACKEND_MUTANT: 'nope', NODE_ENV: 'Production' })).toThrow(/NODE_ENV=production/);
  });

  it('refuses a mutant in a mode it does not apply to, saying why', () => {
    expect(() => resolveMutant({ BACKEND_MUTANT: 'wal-replay-skips-last' })).toThrow(/does not apply to INGEST_MODE=legacy: legacy has no durable log/);
    expect(() => resolveMutant({ BACKEND_MUTANT: 'no-flush-on-shutdown', INGEST_MODE: 'durable' })).toThrow(/does not apply to INGEST_MODE=durable: durable acknowledges only after fdatasync/);
    expect(resolveMutant({ BACKEND_MUTANT: 'no-flush-on-shutdown' })).toEqual({ name: 'no-flush-on-shutdown', mode: 'legacy', n: 1000 });
  });

  it('reads BACKEND_MUTANT_N (2 .. 1e9)', () => {
    expect(resolveMutant({ BACKEND_MUTANT: 'drop-one-in-n', BACKEND_MUTANT_N: '5' })?.n).toBe(5);
    for (const bad of ['1', '0', 'x', '2.5', '-3']) {
      expect(() => resolveMutant({ BACKEND_MUTANT: 'drop-one-in-n', BACKEND_MUTANT_N: bad })).toThrow(/BACKEND_MUTANT_N/);
    }
  });

  it('declares fifteen mutants, each with its modes, place and expected property', () => {
    expect(MUTANTS.map((m) => m.issue)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    for (const m of MUTANTS) {
      expect(m.modes.length).toBeGreaterThan(0);
      expect(m.where).not.toBe('');
      for (const mode of ['legacy', 'durable'] as const) {
        if (!appliesTo(m.name, mode)) expect((m as { notApplicable?: Record<string, string> }).notApplicable?.[mode], `${m.name} ${mode}`).toBeTruthy();
      }
    }
  });

  it('is read once per process', () => {
    use('float-rounded');
    expect(activeMutant()?.name).toBe('float-rounded');
    process.env.BACKEND_MUTANT = 'api-key-prefix';
    try {
      expect(activeMutant()?.name).toBe('float-rounded');
    } finally {
      delete process.env.BACKEND_MUTANT;
    }
  });
});

describe('each hook changes behaviour only under its own mutant', () => {
  it('#3 skew window: 10.5 s passes with skew-window-11s, not without', () => {
    const body = { vehicle_id: 'v', timestamp: 1000 - 10.5, pose: { x: 1, z: 2 } };
    expect(validatePayload(body, 1000).ok).toBe(false);
    use('skew-window-11s');
    expect(mutantSkewSlackSec()).toBe(1);
    expect(validatePayload(body, 1000).ok).toBe(true);
    expect(validatePayload({ ...body, timestamp: 1000 - 11.01 }, 1000).ok).toBe(false);
  });

  it('#4 and #5 change the durable line and the legacy point', () => {
    const payload = { vehicle_id: 'car 1', timestamp: 1_700_000_000.123456, pose: { x: 1.23456, z: -2 }, control: { steering: 0.1, throttle: 0.00049 } };
    const clean = payloadToLine(payload);
    expect(clean).toBe('telemetry,vehicle_id=car\\ 1 pose_x=1.23456,pose_z=-2,steering=0.1,throttle=0.00049 1700000000123');
    use('timestamp-whole-seconds');
    expect(mutantTimestampSec(12.9)).toBe(12);
    expect(payloadToLine(payload)).toBe('telemetry,vehicle_id=car\\ 1 pose_x=1.23456,pose_z=-2,steering=0.1,throttle=0.00049 1700000000000');
    use('float-rounded');
    expect(mutantFloat(1.23456)).toBe(1.235);
    expect(mutantFloat(Infinity)).toBe(Infinity);
    expect(payloadToLine(payload)).toBe('telemetry,vehicle_id=car\\ 1 pose_x=1.235,pose_z=-2,steering=0.1,throttle=0 1700000000123');
    expect(toPoint(payload).fields).toMatchObject({ pose_x: '1.235', throttle: '0' });
  });

  it('#13 escapes tag values for = only', () => {
    const payload = { vehicle_id: 'a,b c=d', timestamp: 1, pose: { x: 1, z: 2 } };
    expect(payloadToLine(payload)).toContain('vehicle_id=a\\,b\\ c\\=d ');
    use('tag-escaping-broken');
    expect(brokenEscapeTagValue('a,b c=d')).toBe('a,b c\\=d');
    expect(payloadToLine(payload)).toContain('vehicle_id=a,b c\\=d ');
    const written: string[] = [];
    const fakeApi = { writeRecord: (l: string) => written.push(l), convertTime: (t: unknown) => String((t as Date).getTime()) };
    const point = new Point('telemetry').tag('vehicle_id', 'a,b c=d').floatField('pose_x', 1).timestamp(new Date(1000));
    expect(mutantWriteLegacyPoint(fakeApi as never, point, 'a,b c=d')).toBe(true);
    expect(written).toEqual(['telemetry,vehicle_id=a,b c\\=d pose_x=1 1000']);
    resetMutantForTests({});
    expect(mutantWriteLegacyPoint(fakeApi as never, point, 'a,b c=d')).toBe(false);
  });

  it('#7 re-stamps retried lines with the server time', () => {
    const lines = ['telemetry,vehicle_id=v pose_x=1 1000', 'telemetry,vehicle_id=v\\ w pose_x=2 2000'];
    expect(restampLines(lines, 5000.7)).toEqual(['telemetry,vehicle_id=v pose_x=1 5000', 'telemetry,vehicle_id=v\\ w pose_x=2 5000']);
    expect(mutantRetryLines(lines, 3)).toBe(lines);
    use('retry-duplicates-restamped');
    expect(mutantRetryLines(lines, 0)).toBe(lines);
    expect(mutantRetryLines(lines, 1, 9000)).toEqual([...lines, ...restampLines(lines, 9000)]);
    const queued: string[][] = [];
    const api = { writeRecords: (l: string[]) => queued.push(l) };
    mutantOnWriteFailed(api, lines, 7000);
    mutantOnWriteFailed(api, queued[0]!, 8000); // the copies failing again are not copied again
    expect(queued).toEqual([restampLines(lines, 7000)]);
  });

  it('#8 swallows 4xx only', () => {
    const notFound = { kind: 'retry', status: 404 };
    expect(mutantSwallows4xx(notFound)).toBe(false);
    use('influx-4xx-swallowed');
    expect(mutantSwallows4xx(notFound)).toBe(true);
    expect(mutantSwallows4xx({ kind: 'permanent', status: 400 })).toBe(true);
    expect(mutantSwallows4xx({ kind: 'retry', status: 503 })).toBe(false);
    expect(mutantSwallows4xx({ kind: 'retry' })).toBe(false);
    expect(mutantSwallows4xx({ kind: 'ok', status: 204 })).toBe(false);
  });

  it('#12 accepts a prefix of the key (not a suffixed one, not a missing one)', () => {
    expect(mutantAcceptsApiKey('sec', 'secret')).toBe(false);
    use('api-key-prefix');
    expect(mutantAcceptsApiKey('sec', 'secret')).toBe(true);
    expect(mutantAcceptsApiKey('', 'secret')).toBe(true);
    expect(mutantAcceptsApiKey(undefined, 'secret')).toBe(false);
    expect(mutantAcceptsApiKey('secret-wrong', 'secret')).toBe(false);
  });

  it('#15 drops the last record of a segment on replay', () => {
    const seg = Buffer.concat([SEGMENT_MAGIC, encodeRecord('a 1', 1), encodeRecord('b 2', 2), encodeRecord('c 3', 3), Buffer.alloc(64)]);
    const lines = (b: Buffer) => {
      const out: string[] = [];
      for (let at = SEGMENT_MAGIC.length; ;) {
        const r = decodeRecord(b, at);
        if (typeof r === 'string') return out;
        out.push(r.line);
        at += r.size;
      }
    };
    expect(mutantWalReplayBuffer(seg, decodeRecord)).toBe(seg);
    use('wal-replay-skips-last');
    expect(lines(mutantWalReplayBuffer(seg, decodeRecord))).toEqual(['a 1', 'b 2']);
    expect(dropLastRecord(Buffer.from(SEGMENT_MAGIC), decodeRecord)).toEqual(Buffer.from(SEGMENT_MAGIC));
  });
});

describe('mutants at the seams (mutateParts)', () => {
  function parts() {
    const ingested: unknown[] = [];
    const broadcast: unknown[] = [];
    let clients = 1;
    const ingestor: Ingestor = { ingest: (p) => { ingested.push(p.vehicle_id); return { kind: 'accepted' }; }, close: async () => {} };
    const broadcaster: Broadcaster = { addClient: () => {}, broadcast: (p) => { broadcast.push(p.vehicle_id); }, clientCount: () => clients, closeAll: () => {} };
    const p: ModeParts = { ingestor, broadcaster, validate: (body, now) => validatePayload(body, now) };
    return { p, ingested, broadcast, setClients: (n: number) => { clients = n; } };
  }
  const sample = (i: number) => ({ vehicle_id: `v${i}`, timestamp: 100, pose: { x: 1, z: 1 }, serverReceiveTime: 100 }) as ReceivedPayload;

  it('leaves the parts alone without a mutant', () => {
    const { p } = parts();
    const { ingestor, broadcaster, validate } = p;
    expect(mutateParts(p)).toMatchObject({ ingestor, broadcaster, validate });
    expect(p.validate).toBe(validate);
  });

  it('#1 drops every n-th sample and still acknowledges it', async () => {
    use('drop-one-in-n', { BACKEND_MUTANT_N: '3' });
    const { p, ingested } = parts();
    mutateParts(p);
    const results = [];
    for (let i = 1; i <= 7; i++) results.push(await p.ingestor.ingest(sample(i)));
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
    expect(ingested).toEqual(['v1', 'v2', 'v4', 'v5', 'v7']);
  });

  it('#2 accepts what validation rejects and swallows ingest errors', async () => {
    use('ack-before-validate');
    const { p } = parts();
    p.ingestor.ingest = () => { throw new Error('cannot build a point'); };
    mutateParts(p);
    expect(p.validate({ vehicle_id: 'v', timestamp: 0 }, 1000)).toMatchObject({ ok: true });
    expect(await p.ingestor.ingest(sample(1))).toEqual({ kind: 'accepted' });
  });

  it('#9 skips the broadcast when more than one client is connected', () => {
    use('sse-skip-multi-client');
    const { p, broadcast, setClients } = parts();
    mutateParts(p);
    p.broadcaster.broadcast(sample(1));
    setClients(2);
    p.broadcaster.broadcast(sample(2));
    expect(broadcast).toEqual(['v1']);
  });

  it('#10 broadcasts before validating (rejected ones too), and valid ones once', () => {
    use('sse-before-validate');
    const { p, broadcast } = parts();
    mutateParts(p);
    const good = { vehicle_id: 'good', timestamp: 100, pose: { x: 1, z: 1 } };
    const bad = { vehicle_id: 'bad', timestamp: 0 };
    const r = p.validate(good, 100);
    expect(r.ok).toBe(true);
    expect(p.validate(bad, 100).ok).toBe(false);
    if (r.ok) p.broadcaster.broadcast(r.payload as ReceivedPayload);
    expect(broadcast).toEqual(['good', 'bad']);
  });
});

describe('the server refuses to start with a bad switch (exit 2, before listening)', () => {
  const server = fileURLToPath(new URL('./server.ts', import.meta.url));
  const start = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', server], {
      env: { PATH: process.env.PATH ?? '', API_KEY: 'k', INFLUX_URL: 'http://127.0.0.1:9', PORT: '0', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('an unknown name lists the valid ones', () => {
    const r = start({ BACKEND_MUTANT: 'no-such-bug' });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('"event":"config_error"');
    expect(r.stdout).toContain('valid names: drop-one-in-n');
  }, 40_000);

  it('NODE_ENV=production refuses any mutant', () => {
    const r = start({ BACKEND_MUTANT: 'float-rounded', NODE_ENV: 'production' });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('refused: NODE_ENV=production');
  }, 40_000);
});
