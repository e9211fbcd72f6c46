import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetsonPayload } from '../../runners/load/payloads';
import { runPublisher, type PublisherResult } from '../../runners/load/publisher';
import { sentKeyIndex, type SentKey } from '../../runners/load/recordSinks';
import type { ResourceSample } from '../../runners/load/resources';
import { startTestServer, type TestServer } from '../../runners/load/testing/httpTestServer';
import { assembleRunReport } from './assemble';
import { readJsonReport, writeAllReports } from './index';
import { xmlProblems } from './testing/xmlWellFormed';

let server: TestServer;
let pub: PublisherResult;
let keys: Map<string, SentKey>;

beforeAll(async () => {
  server = await startTestServer();
  let n = 0;
  // Every 10 requests: one 400, one connection reset, eight 200s.
  server.setBehaviour(() => {
    const i = n++ % 10;
    return i === 3 ? { kind: 'reply', status: 400, body: '{"message":"Invalid pose structure"}' } : i === 7 ? { kind: 'reset' } : { kind: 'reply' };
  });
  const idx = sentKeyIndex();
  pub = await runPublisher({
    url: `${server.origin}/api/v1/telemetry`, rateHz: 20, vehicles: 2, durationMs: 1000,
    payload: jetsonPayload({ profile: 'minimal' }), onRecord: idx.sink,
  });
  keys = idx.keys;
});
afterAll(async () => { await server.close(); });

/** Stores every acknowledged key but `dropAcked`, plus `extraFailed` of the failed ones, 50 ms after send. */
function storage(dropAcked: number, extraFailed: number): Map<string, number> {
  const seen = new Map<string, number>();
  let dropped = 0, extra = 0;
  for (const [key, k] of keys) {
    const acked = k.status !== null && k.status < 300;
    if (acked && dropped++ < dropAcked) continue;
    if (!acked && k.errorClass !== null && extra++ >= extraFailed) continue;
    if (!acked && k.errorClass === null) continue;
    seen.set(key, k.sentMs + 50);
  }
  return seen;
}

describe('assembleRunReport', () => {
  it('splits loss by stage and matches it to intended − stored', () => {
    expect(pub.sent).toBe(40);
    expect(keys.size).toBe(40);
    const rejectedSent = pub.non2xxByStatus['400']!;
    const resets = pub.errorsByClass.reset;
    expect(rejectedSent).toBe(4);
    expect(resets).toBe(4);

    const start = pub.startedAtMs;
    const resources: ResourceSample[] = [0, 500, 1000].map((dt, i) => ({
      tMs: start + dt, pid: 1, alive: true, pids: [1], cpuPct: i === 0 ? null : 20 + i, rssBytes: 100e6 + i * 1e6, threads: 7,
    }));
    const r = assembleRunReport({
      runId: 't1', scenario: { name: 'unit', config: { rateHz: 20 } }, publisher: pub, sentKeys: keys,
      storage: { firstSeen: storage(3, 1), probe: 'test map' }, resources, rssWarmupMs: 0,
      thresholds: [{ metric: 'loss_acknowledged_not_stored', op: '==', value: 0 }, { metric: 'lag_stored_p99_ms', op: '<', value: 1000 }],
    });

    expect(r.totals).toMatchObject({ intended: 40, sent: 40, acknowledged: 32, validationRejections: 4, stored: { count: 30 } });
    expect(r.loss).toEqual({
      total: 10, rate: 0.25,
      byStage: { neverSent: 0, rejected: 4, failedHttp: 3, acknowledgedNotStored: 3 },
      storedDespiteFailure: 1,
    });
    expect(r.lag.sendToStored?.count).toBe(30);
    // Histograms keep 3 significant digits: 50 ms reads back within 0.1 %.
    expect(r.lag.sendToStored?.p50).toBeCloseTo(50, 1);
    expect(r.lag.sendToStored?.max).toBeCloseTo(50, 1);
    expect(r.lag.sendToSse).toBeNull();
    expect(r.series.reduce((a, s) => a + (s.stored ?? 0), 0)).toBe(30);
    expect(r.series.reduce((a, s) => a + s.sent, 0)).toBe(40);
    expect(r.backend.cpuMaxPct).toBe(22);
    expect(r.backend.rssMaxBytes).toBe(102e6);
    expect(r.backend.rssSlopeBytesPerMin).toBeCloseTo(120e6, -3);
    expect(r.thresholds.map((t) => t.pass)).toEqual([false, true]);
    expect(r).toMatchObject({ status: 'fail', exitCode: 99 });
    expect(r.totals.stored.firstSeen).toHaveLength(30);
  });

  it('without a storage probe, stored and loss are "not measured" and loss thresholds fail', () => {
    const r = assembleRunReport({
      runId: 't2', scenario: { name: 'unit', config: {} }, publisher: pub,
      thresholds: [{ metric: 'loss_total', op: '==', value: 0 }],
    });
    expect(r.totals.stored.count).toBeNull();
    expect(r.loss).toBeNull();
    expect(r.lag.sendToStored).toBeNull();
    expect(r.series.every((s) => s.stored === null && s.backendCpuPct === null)).toBe(true);
    expect(r.thresholds[0]).toMatchObject({ pass: false, actual: null });
  });

  it('refuses to match when sends share a point key', () => {
    const fewer = new Map([...keys].slice(1));
    expect(() => assembleRunReport({
      runId: 't3', scenario: { name: 'unit', config: {} }, publisher: pub, sentKeys: fewer,
      storage: { firstSeen: new Map(), probe: 'x' },
    })).toThrow(/distinct point keys/);
  });

  it('writes run.json, report.md, report.html and junit.xml that agree', async () => {
    const r = assembleRunReport({
      runId: 't4', scenario: { name: 'unit', config: {} }, publisher: pub, sentKeys: keys,
      storage: { firstSeen: storage(0, 0), probe: 'test map' },
      faults: [{ kind: 'influx-down', startMs: pub.startedAtMs + 200, endMs: pub.startedAtMs + 400 }],
      thresholds: [{ metric: 'loss_acknowledged_not_stored', op: '==', value: 0 }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'tp-report-'));
    try {
      const paths = await writeAllReports(r, dir);
      for (const p of Object.values(paths)) expect(existsSync(p)).toBe(true);
      expect(await readJsonReport(paths.json)).toEqual(r);
      expect(xmlProblems(readFileSync(paths.junit, 'utf8'))).toEqual([]);
      expect(readFileSync(paths.markdown, 'utf8')).toContain('| **Acknowledged but not stored** | **0** |');
      expect(readFileSync(paths.html, 'utf8')).toContain('data-chart="ack-vs-stored"');
      await expect(writeAllReports({ ...r, schemaVersion: 2 as 1 }, join(dir, 'bad'))).rejects.toThrow();
      expect(existsSync(join(dir, 'bad'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
