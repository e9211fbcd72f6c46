import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MUTANTS } from '../../backend/src/mutants';
import { DEFAULT_CONTRACT } from '../../models/contract';
import { check } from '../../models/checker';
import { history, req, storedFrom } from '../../models/testing/history-builder';
import { parseZooFlags } from './cli';
import { fourxxWindow, startInfluxFront, type InfluxFront } from './influxFront';
import { crashDuringOutageFaults, FullThenShrink, hostilePlans, validStreamPlans, ZOO_HOSTILE, ZOO_HOSTILE_LEFT_OUT } from './plans';
import { checksFor, InFlight, stickyChaosJudge, stickyVerdictJudge, ZOO_CHECKS } from './profile';
import { median, renderZooMarkdown, summarize, zooReport } from './report';
import { EXPECTATIONS, zooBackendSpec, zooTargets, ZOO_DROP_N, type TargetResult, type ZooRun } from './zoo';

describe('zoo catalogue', () => {
  it('runs every mutant in every mode it applies to: 11 legacy + 14 durable', () => {
    const t = zooTargets();
    expect(t.filter((x) => x.mode === 'legacy')).toHaveLength(11);
    expect(t.filter((x) => x.mode === 'durable')).toHaveLength(14);
    expect(new Set(t.map((x) => x.mutant))).toEqual(new Set(MUTANTS.map((m) => m.name)));
  });

  it('expects each mutant to be caught by a check of the profile that runs in each of its modes', () => {
    for (const m of MUTANTS) {
      const e = EXPECTATIONS[m.name];
      expect(e.property, m.name).toBe(m.expectedProperty);
      for (const mode of m.modes) expect(checksFor(mode).map((c) => c.name), `${m.name} ${mode}`).toContain(e.check);
      expect(e.maxRequests).toBeGreaterThanOrEqual(1);
    }
  });

  it('gives a mutant and the correct backend the same settings, the switch aside', () => {
    const ok = zooBackendSpec('durable', null);
    const bad = zooBackendSpec('durable', 'drop-one-in-n');
    expect(bad).toEqual({ ...ok, env: { ...ok.env, BACKEND_MUTANT: 'drop-one-in-n', BACKEND_MUTANT_N: String(ZOO_DROP_N) } });
    expect(zooBackendSpec('legacy', 'float-rounded')).toMatchObject({ mode: 'legacy', flushIntervalMs: 1000, env: { BACKEND_MUTANT: 'float-rounded' } });
    expect(zooBackendSpec('legacy', null).env).not.toHaveProperty('BACKEND_MUTANT');
  });

  it('parses flags and names what is wrong', () => {
    expect(parseZooFlags({})).toMatchObject({ modes: ['legacy', 'durable'], baselineSeeds: 20, legacyBaselineSeeds: 3 });
    expect(parseZooFlags({ mutants: 'none' }).mutants).toEqual([]);
    expect(parseZooFlags({ mutants: 'float-rounded, api-key-prefix', seeds: '2' })).toMatchObject({ mutants: ['float-rounded', 'api-key-prefix'], baselineSeeds: 2 });
    expect(() => parseZooFlags({ mutants: 'float-rounded,nope' })).toThrow(/unknown mutant "nope"/);
    expect(() => parseZooFlags({ modes: 'fast' })).toThrow(/not legacy or durable/);
    expect(() => parseZooFlags({ checks: 'everything' })).toThrow(/unknown check/);
    expect(() => parseZooFlags({ seeds: '-1' })).toThrow(/--seeds/);
  });
});

describe('zoo plans', () => {
  it('never lets two samples share a store key (a vehicle per group)', () => {
    fc.assert(fc.property(validStreamPlans(), (plan) => {
      expect(new Set(plan.requests.map((r) => r.vehicle)).size).toBe(plan.requests.length);
    }), { numRuns: 50 });
  });

  it('keeps the hostile cases both correct modes handle, and says why the others are left out', () => {
    for (const n of Object.keys(ZOO_HOSTILE_LEFT_OUT)) expect(ZOO_HOSTILE).not.toContain(n);
    const labels = new Set<string>();
    fc.assert(fc.property(hostilePlans(), (plan) => { for (const r of plan.requests) labels.add(r.label); }), { numRuns: 200, seed: 1 });
    expect(labels).toContain('vehicleIdSpecial');
    expect(labels).toContain('apiKeyWrong');
    for (const n of Object.keys(ZOO_HOSTILE_LEFT_OUT)) expect(labels).not.toContain(n);
  });

  it('FullThenShrink starts at its maximum and shrinks towards 1', () => {
    const a = new FullThenShrink(250);
    const v = a.generate();
    expect(v.value).toBe(250);
    const firsts = [...a.shrink(250, undefined).take(3)].map((x) => x.value);
    expect(firsts[0]).toBe(1);
    expect(firsts.every((x) => x < 250)).toBe(true);
  });

  it('puts the crash inside the outage', () => {
    fc.assert(fc.property(crashDuringOutageFaults(), ([outage, kill]) => {
      expect(outage).toMatchObject({ kind: 'outage', target: 'influx' });
      expect(kill).toMatchObject({ kind: 'kill', target: 'backend' });
      expect(kill!.at).toBeGreaterThan(outage!.at);
      expect(kill!.at).toBeLessThan(outage!.at + outage!.duration);
    }), { numRuns: 200 });
  });
});

describe('zoo judges', () => {
  const C = DEFAULT_CONTRACT;
  it('lock onto the first property that failed', () => {
    let fails = 0;
    const { judge, locked } = stickyVerdictJudge(() => fails++);
    const ok = req(0);
    const clean = check(history([ok], { store: [storedFrom(ok)] }), C);
    expect(judge(clean).ok).toBe(true);
    const lost = check(history([req(0)]), C);
    expect(judge(lost).ok).toBe(false);
    expect(locked()).toBe('ack_implies_stored');
    const badReply = check(history([req(0, { reply: 400 })]), C);
    expect(badReply.violations.map((x) => x.property)).toEqual(['validation_agrees_with_model']);
    expect(judge(badReply).ok).toBe(true); // another property: not this check's bug any more
    expect(fails).toBe(1);
  });

  it('name a violation on an unauthenticated request auth_enforced', () => {
    const { judge, locked } = stickyVerdictJudge(() => {});
    const r = req(0, { apiKey: 'truncated', reply: 200 });
    judge(check(history([r], { store: [storedFrom(r)] }), C));
    expect(locked()).toBe('auth_enforced');
  });

  it('chaos judges lock the same way', () => {
    const j = (property: string, ok: boolean) => () => ({ ok, property, details: ['stages: …', ...(ok ? [] : ['bad'])] });
    let n = 0;
    const s = stickyChaosJudge([j('a', true), j('b', false)], () => n++);
    expect(s.judge({} as never)).toMatchObject({ ok: false, property: 'b' });
    expect(s.locked()).toBe('b');
    const t = stickyChaosJudge([j('a', false), j('b', true)], () => n++);
    t.judge({} as never);
    expect(t.locked()).toBe('a');
  });

  it('InFlight waits for stragglers, bounded', async () => {
    const f = new InFlight();
    expect(await f.idle(10)).toBe(true);
    f.begin();
    expect(await f.idle(20)).toBe(false);
    setTimeout(() => f.end(), 10);
    expect(await f.idle(1000)).toBe(true);
  });
});

describe('influx front', () => {
  let upstream: http.Server | undefined;
  let front: InfluxFront | undefined;
  afterEach(async () => {
    await front?.close();
    await new Promise((r) => upstream ? upstream.close(r) : r(undefined));
  });

  it('relays, and answers writes 404 "database not found" while failing', async () => {
    const seen: string[] = [];
    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => { seen.push(`${req.method} ${req.url} ${body}`); res.writeHead(req.url === '/ping' ? 204 : 204, { 'x-influxdb-version': '1.6.7~rc0' }); res.end(); });
    });
    await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', r));
    front = await startInfluxFront(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, 'telemetry');
    const write = () => fetch(`${front!.url}/write?db=telemetry&precision=ms`, { method: 'POST', body: 'm f=1 1' });
    expect((await write()).status).toBe(204);
    const nemesis = fourxxWindow(front, 150);
    const faults = nemesis(Date.now());
    const refused = await write();
    expect(refused.status).toBe(404);
    expect(await refused.json()).toEqual({ error: 'database not found: "telemetry"' });
    expect((await fetch(`${front.url}/ping`)).headers.get('x-influxdb-version')).toBe('1.6.7~rc0');
    const [record] = await faults;
    expect(record).toMatchObject({ kind: 'influx_4xx', target: 'influx' });
    expect(record!.detail).toMatch(/404 "database not found" to 1 write/);
    expect((await write()).status).toBe(204);
    expect(seen.filter((s) => s.startsWith('POST /write'))).toEqual(['POST /write?db=telemetry&precision=ms m f=1 1', 'POST /write?db=telemetry&precision=ms m f=1 1']);
    expect(front.refused).toBe(1);
  });
});

describe('zoo report', () => {
  const result = (over: Partial<TargetResult>): TargetResult => ({ mutant: null, mode: 'durable', seed: 1, failed: false, errors: [], checks: [], totalMs: 1000, ...over });
  const run: ZooRun = {
    startedAt: '2026-12-03T00:00:00.000Z', finishedAt: '2026-12-03T01:00:00.000Z', totalMs: 3_600_000, seed: 1, checks: ZOO_CHECKS.map((c) => c.name),
    mutants: [
      result({ mutant: 'float-rounded', failed: true, detectedBy: { check: 'valid-stream', property: 'ack_implies_stored' }, timeToDetectMs: 400, shrunk: { requests: 1, faults: 0, summary: 'valid' }, expected: EXPECTATIONS['float-rounded'], asExpected: { property: true, size: true } }),
      result({ mutant: 'wal-replay-skips-last', failed: true, detectedBy: { check: 'crash-during-outage', property: 'ack_stored_after_healing' }, timeToDetectMs: 10_000, shrunk: { requests: 3, faults: 2, summary: '3 samples' }, expected: EXPECTATIONS['wal-replay-skips-last'], asExpected: { property: true, size: false } }),
      result({ mutant: 'api-key-prefix', mode: 'legacy', failed: false, expected: EXPECTATIONS['api-key-prefix'] }),
    ],
    baseline: [result({}), result({ seed: 2, failed: true, detectedBy: { check: 'auth', property: 'lag_within_bound' } }), result({ mode: 'legacy', seed: 1 })],
  };

  it('summarizes detection, time to detect and false alarms', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
    const s = summarize(run);
    expect(s).toMatchObject({ mutants: 3, detected: 2, expectedProperty: 2, withinSize: 1, medianTimeToDetectMs: 5200, maxTimeToDetectMs: 10_000, falseAlarms: 1 });
    expect(s.detectionRate).toBeCloseTo(2 / 3);
    expect(s.baseline).toEqual([
      { mode: 'durable', runs: 2, falseAlarms: 1, errors: 0, seeds: [1, 2] },
      { mode: 'legacy', runs: 1, falseAlarms: 0, errors: 0, seeds: [1] },
    ]);
  });

  it('renders the table the issue asks for', () => {
    const md = renderZooMarkdown(zooReport(run, 'telemetry-proof zoo', { node: 'v20' }));
    expect(md).toContain('**Detection rate: 2/3 (67 %).** Median time to detect 5.2 s (max 10.0 s)');
    expect(md).toContain('| 5 | `float-rounded` | durable | yes | ack_implies_stored | valid-stream | 0.4 s | 1 request | ack_implies_stored (yes), ≤ 1 req (yes) |');
    expect(md).toContain('| 15 | `wal-replay-skips-last` | durable | yes | ack_stored_after_healing | crash-during-outage | 10.0 s | 3 requests, 2 faults | ack_stored_after_healing (yes), ≤ 1 req, 2 faults (NO) |');
    expect(md).toContain('| 12 | `api-key-prefix` | legacy | **no** |');
    expect(md).toContain('**False alarms: 1**');
    expect(md).toContain('**FALSE ALARM** (auth: lag_within_bound)');
    expect(md).toContain('Total zoo run time: 60 min 0 s.');
  });
});
