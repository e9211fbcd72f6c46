import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { diffShowStats, parseShowStats, startInfluxStatsSampler } from './influxStats';
import { startTestServer, type TestServer } from './testing/httpTestServer';
import { until } from './testing/until';

// Recorded from a real InfluxDB 1.6.7 (`GET /query?q=SHOW STATS`): (a) after
// 20 single-point writes plus one unparsable line and one write to a missing
// database; (b) after 5 more two-point writes; (monitor) later, once the
// monitor service had stored its own stats into `_internal`.
const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const A = fixture('influx-1.6.7-show-stats-a.json');
const B = fixture('influx-1.6.7-show-stats-b.json');
const MON = fixture('influx-1.6.7-show-stats-monitor.json');

describe('parseShowStats', () => {
  it('reads the write and httpd modules of a real 1.6 response', () => {
    const a = parseShowStats(A);
    expect(a.write).toEqual({
      pointReq: 20, pointReqLocal: 20, req: 20, writeOk: 20, writeError: 0, writeDrop: 0, writeTimeout: 0, subWriteOk: 20, subWriteDrop: 0,
    });
    expect(a.httpd).toMatchObject({
      writeReq: 22, pointsWrittenOK: 20, pointsWrittenFail: 0, pointsWrittenDropped: 0,
      clientError: 2, serverError: 0, authFail: 0, req: 25, reqActive: 1, writeReqDurationNs: 20290724, queryReq: 2,
    });
    expect(a.shard).toEqual({ writePointsOk: 20, writePointsErr: 0, writePointsDropped: 0, writeReqErr: 0 });
    expect(Object.keys(a.shardByDatabase)).toEqual(['telemetry']);
    expect(a.modules.runtime?.NumGoroutine).toBeGreaterThan(0);
  });

  it('separates the monitor’s own _internal writes per database', () => {
    const m = parseShowStats(MON);
    expect(m.shardByDatabase.telemetry?.writePointsOk).toBe(33);
    expect(m.shardByDatabase._internal?.writePointsOk).toBe(678);
    expect(m.shard.writePointsOk).toBe(711);
    expect(m.write.pointReq).toBe(711);
    expect(m.httpd.pointsWrittenOK).toBe(33);
  });

  it('diffs two snapshots into interval counters', () => {
    const d = diffShowStats(parseShowStats(A), parseShowStats(B), 1000);
    expect(d).toMatchObject({ pointReq: 10, writeOk: 5, writeError: 0, httpWriteReq: 5, httpPointsWrittenOK: 10, httpClientError: 0, restarted: false });
    expect(d.meanWriteReqMs).toBeCloseTo((25117484 - 20290724) / 5 / 1e6, 9);
    // Counters going backwards mean influxd restarted: the later values are the delta.
    const r = diffShowStats(parseShowStats(B), parseShowStats(A), 1000);
    expect(r.restarted).toBe(true);
    expect(r.pointReq).toBe(20);
  });

  it('throws on an error reply', () => {
    expect(() => parseShowStats({ results: [{ statement_id: 0, error: 'not authorized' }] })).toThrow(/not authorized/);
    expect(() => parseShowStats({ error: 'bad' })).toThrow(/bad/);
    expect(() => parseShowStats({})).toThrow(/no results/);
  });
});

describe('startInfluxStatsSampler', () => {
  let server: TestServer | undefined;
  afterEach(async () => { await server?.close(); server = undefined; });

  it('queries SHOW STATS with the token and computes deltas between samples', async () => {
    server = await startTestServer();
    let n = 0;
    server.setBehaviour(() => ({ kind: 'reply', body: JSON.stringify(n++ === 0 ? A : B) }));
    const s = startInfluxStatsSampler({ baseUrl: server.origin, token: 'dev-token', intervalMs: 100, timeoutMs: 3000 });
    await until(() => s.samples().length >= 2);
    const samples = await s.stop();
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(samples[0]!.delta).toBeNull();
    expect(samples[1]!.delta?.pointReq).toBe(10);
    expect(samples[1]!.snapshot?.modules).toEqual({});
    const req = server.received[0]!;
    expect(req.headers.authorization).toBe('Token dev-token');
    expect(new URL(req.url, 'http://x').searchParams.get('q')).toBe('SHOW STATS');
  });

  it('records an unreachable InfluxDB as a failed sample', async () => {
    const s = startInfluxStatsSampler({ baseUrl: 'http://127.0.0.1:9', intervalMs: 100 });
    await until(() => s.samples().length >= 1);
    const samples = await s.stop();
    expect(samples[0]!.ok).toBe(false);
    expect(samples[0]!.error).toBeTruthy();
  });
});
