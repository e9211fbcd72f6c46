/**
 * Real toxiproxy-server, real sockets: every network fault kind must hit a
 * keep-alive connection that was opened BEFORE the fault (an undici Pool of
 * one connection, warmed up first), and traffic must flow again after the
 * heal. The upstream counts its TCP connections, which is how each test
 * knows the pooled connection (not a fresh one) carried the faulted request.
 */
import net from 'node:net';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Fault, LatencyFault, NetworkFault, ToxicFault } from './faults';
import {
  appliedProblems,
  applyNetworkFault,
  cleanProblems,
  getProxyState,
  healAll,
  healedProblems,
  healNetworkFault,
  probeListener,
  setLatency,
  toxicSpecs,
  verifyClean,
  verifyNetworkFault,
} from './toxiproxyDriver';
import { createProxy, startToxiproxyServer, startUpstream, type ToxiproxyServer, type Upstream } from './testSupport';

let tp: ToxiproxyServer;
let up: Upstream;
const PROXY = 'ka';
const OTHER = 'ka2';
const pools: Pool[] = [];

beforeAll(async () => {
  up = await startUpstream();
  tp = await startToxiproxyServer();
}, 20_000);

afterAll(async () => {
  await Promise.allSettled(pools.map((p) => p.destroy()));
  await tp?.stop();
  await up?.close();
});

afterEach(async () => {
  await Promise.allSettled(pools.splice(0).map((p) => p.destroy()));
});

interface Exchange {
  ok: boolean;
  status?: number;
  bytes?: number;
  code?: string;
  ms: number;
}

/**
 * GET through the pool with a precise client deadline (AbortSignal.timeout:
 * undici's own headersTimeout runs on a coarse timer wheel and may fire
 * hundreds of ms early or late); code 'TIMEOUT' when the deadline hit.
 */
async function get(pool: Pool, path: string, timeoutMs = 3_000): Promise<Exchange> {
  const t0 = performance.now();
  try {
    const res = await pool.request({
      path,
      method: 'GET',
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs * 4,
      bodyTimeout: timeoutMs * 4,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { ok: res.statusCode === 200, status: res.statusCode, bytes: body.length, ms: performance.now() - t0 };
  } catch (err) {
    const e = err as { code?: string; name?: string };
    return { ok: false, code: e.name === 'TimeoutError' ? 'TIMEOUT' : (e.code ?? e.name), ms: performance.now() - t0 };
  }
}

/** A fresh proxy and a Pool whose single keep-alive connection is already open. */
async function warmPool(name = PROXY): Promise<{ pool: Pool; listen: string; conns: number }> {
  const listen = await createProxy(tp.client, name, up.port);
  const pool = new Pool(`http://${listen}`, { connections: 1, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
  pools.push(pool);
  const before = up.stats.connections;
  const warm = await get(pool, '/?n=2');
  expect(warm.ok).toBe(true);
  expect(up.stats.connections).toBe(before + 1);
  return { pool, listen, conns: up.stats.connections };
}

function net_(kind: NetworkFault['kind'], params: Record<string, unknown>): NetworkFault {
  return { kind, target: 'ingest', at: 0, duration: 1_000, params } as NetworkFault;
}

async function apply(f: NetworkFault, proxyName = PROXY): Promise<void> {
  await applyNetworkFault(tp.client, f, { proxyName });
  expect(await verifyNetworkFault(tp.client, f, 'applied', { proxyName })).toEqual([]);
}

async function heal(f: NetworkFault, proxyName = PROXY): Promise<void> {
  await healNetworkFault(tp.client, f, { proxyName });
  expect(await verifyNetworkFault(tp.client, f, 'healed', { proxyName })).toEqual([]);
}

/** After a heal: a request succeeds quickly. */
async function flowsAgain(pool: Pool): Promise<void> {
  const r = await get(pool, '/?n=100');
  expect(r).toMatchObject({ ok: true, bytes: 100 });
  expect(r.ms).toBeLessThan(250);
}

describe('toxics hit an already-open keep-alive connection', () => {
  it('latency (downstream) delays replies on the same connection, and heals', async () => {
    const { pool, conns } = await warmPool();
    const base = await get(pool, '/?n=2');
    expect(base.ms).toBeLessThan(100);
    const f = net_('latency', { latencyMs: 400, jitterMs: 0, stream: 'downstream' });
    await apply(f);
    const slow = await get(pool, '/?n=2');
    expect(slow.ok).toBe(true);
    expect(slow.ms).toBeGreaterThanOrEqual(390);
    expect(up.stats.connections).toBe(conns); // the pooled connection carried it
    await heal(f);
    await flowsAgain(pool);
    expect(up.stats.connections).toBe(conns); // and still does after the heal
  });

  it('latency both ways counts twice per round trip; seeded steps change it on the same connection', async () => {
    const { pool, conns } = await warmPool();
    const f: Fault = {
      kind: 'latency',
      target: 'ingest',
      at: 0,
      duration: 1_000,
      params: { latencyMs: 150, jitterMs: 100, stream: 'both', jitterSteps: { everyMs: 100, offsetsMs: [100, -100] } },
    };
    // Seeded jitter: Toxiproxy's own jitter 0; per direction a re-settable
    // share above the floor, then the floor (150 - 100 = 50 ms).
    expect(toxicSpecs(f).map((s) => [s.name, s.stream, s.attributes.latency, s.attributes.jitter])).toEqual([
      ['chaos_latency_0_up_jit', 'upstream', 100, 0],
      ['chaos_latency_0_up_floor', 'upstream', 50, 0],
      ['chaos_latency_0_down_jit', 'downstream', 100, 0],
      ['chaos_latency_0_down_floor', 'downstream', 50, 0],
    ]);
    await apply(f);
    const r1 = await get(pool, '/?n=2');
    expect(r1.ms).toBeGreaterThanOrEqual(290);
    await setLatency(tp.client, f, 250, { proxyName: PROXY });
    expect(await verifyNetworkFault(tp.client, f, 'applied', { proxyName: PROXY, latencyMs: 250 })).toEqual([]);
    const r2 = await get(pool, '/?n=2');
    expect(r2.ms).toBeGreaterThanOrEqual(490);
    await setLatency(tp.client, f, 50, { proxyName: PROXY });
    const r3 = await get(pool, '/?n=2');
    expect(r3.ms).toBeGreaterThanOrEqual(90);
    expect(r3.ms).toBeLessThan(400);
    expect(up.stats.connections).toBe(conns);
    await heal(f);
    await flowsAgain(pool);
  });

  it('Toxiproxy releases data held by a latency toxic as soon as the toxic is updated (why seeded jitter keeps a floor)', async () => {
    const { pool } = await warmPool();
    const plain = net_('latency', { latencyMs: 1_000, jitterMs: 0, stream: 'downstream' }) as LatencyFault;
    await apply(plain);
    const pending = get(pool, '/?n=2');
    await new Promise((r) => setTimeout(r, 300));
    await setLatency(tp.client, plain, 1_000, { proxyName: PROXY }); // same value, still an update
    const r = await pending;
    expect(r.ok).toBe(true);
    expect(r.ms).toBeLessThan(800); // released at the update, not after 1000 ms
    await heal(plain);
  });

  it('seeded jitter: a step change never lets data in flight through before the floor', async () => {
    const { pool, conns } = await warmPool();
    const f: LatencyFault = {
      kind: 'latency',
      target: 'ingest',
      at: 0,
      duration: 1_000,
      params: { latencyMs: 800, jitterMs: 400, stream: 'downstream', jitterSteps: { everyMs: 100, offsetsMs: [0] } },
    };
    await apply(f);
    const pending = get(pool, '/?n=2');
    await new Promise((r) => setTimeout(r, 150));
    await setLatency(tp.client, f, 1_200, { proxyName: PROXY });
    expect(await verifyNetworkFault(tp.client, f, 'applied', { proxyName: PROXY, latencyMs: 1_200 })).toEqual([]);
    const r = await pending;
    expect(r.ok).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(390); // the 400 ms floor held it
    const after = await get(pool, '/?n=2');
    expect(after.ms).toBeGreaterThanOrEqual(1_190); // the new step in full
    expect(up.stats.connections).toBe(conns);
    await heal(f);
    await flowsAgain(pool);
  });

  it('outage closes the open connection; requests fail until the proxy is enabled again', async () => {
    const { pool, listen, conns } = await warmPool();
    const closes = up.stats.closes;
    const requests = up.stats.requests;
    const f = net_('outage', {});
    await apply(f); // includes a TCP probe: refused
    expect(await probeListener(listen)).toBe('refused');
    // The proxy tore down its upstream side of the pooled connection.
    await expect.poll(() => up.stats.closes, { timeout: 2_000 }).toBe(closes + 1);
    const r = await get(pool, '/?n=2');
    expect(r.ok).toBe(false);
    expect(['ECONNREFUSED', 'UND_ERR_SOCKET', 'ECONNRESET']).toContain(r.code);
    expect(up.stats.requests).toBe(requests);
    await heal(f);
    await flowsAgain(pool);
    // New connections after the outage: the pool's, and the heal check's TCP probe.
    expect(up.stats.connections).toBeGreaterThan(conns);
  });

  it('blackhole upstream (timeout 0): the request is dropped and hangs until the client timeout', async () => {
    const { pool, conns } = await warmPool();
    const requests = up.stats.requests;
    const f = net_('blackhole', { timeoutMs: 0, stream: 'upstream' });
    await apply(f);
    const r = await get(pool, '/?n=2', 800);
    expect(r.ok).toBe(false);
    expect(r.code).toBe('TIMEOUT');
    expect(r.ms).toBeGreaterThanOrEqual(790);
    expect(up.stats.requests).toBe(requests); // never reached the server
    expect(up.stats.connections).toBe(conns);
    await heal(f);
    await flowsAgain(pool);
  });

  it('blackhole downstream (timeout 500): the server gets the request, the client loses the reply and the connection', async () => {
    const { pool, conns } = await warmPool();
    const requests = up.stats.requests;
    const f = net_('blackhole', { timeoutMs: 500, stream: 'downstream' });
    await apply(f);
    const r = await get(pool, '/?n=2', 3_000);
    expect(r.ok).toBe(false);
    expect(r.code).toBe('UND_ERR_SOCKET');
    expect(r.ms).toBeGreaterThanOrEqual(400);
    expect(r.ms).toBeLessThan(2_500);
    expect(up.stats.requests).toBe(requests + 1); // processed: an "acknowledged" reply nobody saw
    expect(up.stats.connections).toBe(conns);
    await heal(f);
    await flowsAgain(pool);
  });

  it('removing a blackhole closes the connections it held (no half-dropped request survives the heal)', async () => {
    const { pool } = await warmPool();
    const f = net_('blackhole', { timeoutMs: 0, stream: 'upstream' });
    await apply(f);
    const pending = get(pool, '/?n=2', 5_000);
    await new Promise((r) => setTimeout(r, 300));
    const healedAt = performance.now();
    await heal(f);
    const r = await pending;
    expect(r.ok).toBe(false);
    expect(r.code).toBe('UND_ERR_SOCKET');
    expect(performance.now() - healedAt).toBeLessThan(1_000); // not the 5 s client timeout
    await flowsAgain(pool);
  });

  it('bandwidth slows a large reply on the same connection', async () => {
    const { pool, conns } = await warmPool();
    const base = await get(pool, '/?n=50000');
    expect(base.ms).toBeLessThan(150);
    const f = net_('bandwidth', { rateKBps: 100, stream: 'downstream' });
    await apply(f);
    const r = await get(pool, '/?n=50000');
    expect(r).toMatchObject({ ok: true, bytes: 50_000 });
    expect(r.ms).toBeGreaterThanOrEqual(350);
    expect(up.stats.connections).toBe(conns);
    await heal(f);
    await flowsAgain(pool);
  });

  it('slicer cuts the reply into delayed pieces on the same connection', async () => {
    const { pool, conns } = await warmPool();
    const f = net_('slicer', { averageSize: 100, sizeVariation: 10, delayUs: 10_000, stream: 'downstream' });
    await apply(f);
    const r = await get(pool, '/?n=5000');
    expect(r).toMatchObject({ ok: true, bytes: 5_000 });
    expect(r.ms).toBeGreaterThanOrEqual(300); // ~50 slices x 10 ms
    expect(up.stats.connections).toBe(conns);
    await heal(f);
    await flowsAgain(pool);
  });

  it('limit_data closes the connection after N more bytes (counted from the fault)', async () => {
    const { pool, conns } = await warmPool();
    // 3 replies of ~600 B before the fault do not count against the limit.
    for (let i = 0; i < 3; i++) expect((await get(pool, '/?n=500')).ok).toBe(true);
    const requests = up.stats.requests;
    const f = net_('limit_data', { bytes: 1_500, stream: 'downstream' });
    await apply(f);
    expect((await get(pool, '/?n=500')).ok).toBe(true);
    expect((await get(pool, '/?n=500')).ok).toBe(true);
    const cut = await get(pool, '/?n=500');
    expect(cut).toMatchObject({ ok: false, code: 'UND_ERR_SOCKET' });
    expect(up.stats.requests).toBe(requests + 3); // the cut request was served, its reply truncated
    expect(up.stats.connections).toBe(conns);
    await heal(f);
    await flowsAgain(pool);
  });

  it('reset_peer resets the connection on its next data', async () => {
    const { pool, conns } = await warmPool();
    const f = net_('reset_peer', { timeoutMs: 300, stream: 'upstream' });
    await apply(f);
    // An idle connection is left alone until it carries data...
    await new Promise((r) => setTimeout(r, 500));
    const closes = up.stats.closes;
    // ...then it is reset `timeout` ms after the request's first bytes.
    const r = await get(pool, '/?n=2');
    expect(r.ok).toBe(false);
    expect(['UND_ERR_SOCKET', 'ECONNRESET']).toContain(r.code);
    expect(r.ms).toBeGreaterThanOrEqual(250);
    expect(up.stats.connections).toBe(conns);
    await expect.poll(() => up.stats.closes, { timeout: 2_000 }).toBe(closes + 1);
    await heal(f);
    await flowsAgain(pool);
  });

  it('slow_close delays the close of an already-open connection', async () => {
    const listen = await createProxy(tp.client, PROXY, up.port);
    const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
    /** On a raw keep-alive socket opened before the fault: ms from the reply to the close. */
    async function closeDelay(withFault: NetworkFault | undefined): Promise<number> {
      const s = net.connect(port, host);
      try {
        await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
        let first = '';
        await new Promise<void>((resolve) => {
          s.on('data', function onData(d) {
            first += d.toString();
            if (first.endsWith('aa')) {
              s.off('data', onData);
              resolve();
            }
          });
          s.write('GET /?n=2 HTTP/1.1\r\nHost: x\r\n\r\n');
        });
        if (withFault) await apply(withFault);
        let replyAt = 0;
        const endedAt = new Promise<number>((resolve) => {
          s.on('data', () => (replyAt ||= performance.now()));
          s.once('end', () => resolve(performance.now()));
        });
        s.write('GET /bye?n=2 HTTP/1.1\r\nHost: x\r\n\r\n');
        return (await endedAt) - replyAt;
      } finally {
        s.destroy();
      }
    }
    expect(await closeDelay(undefined)).toBeLessThan(100);
    const f = net_('slow_close', { delayMs: 600, stream: 'downstream' });
    expect(await closeDelay(f)).toBeGreaterThanOrEqual(550);
    await heal(f);
    expect(await closeDelay(undefined)).toBeLessThan(100);
  });
});

describe('driver bookkeeping', () => {
  it('healAll enables every proxy and removes every toxic, ours or not', async () => {
    const { pool } = await warmPool(PROXY);
    await createProxy(tp.client, OTHER, up.port);
    await applyNetworkFault(tp.client, net_('outage', {}), { proxyName: OTHER });
    await applyNetworkFault(tp.client, net_('latency', { latencyMs: 1_000, jitterMs: 0, stream: 'both' }), { proxyName: PROXY });
    await applyNetworkFault(tp.client, net_('limit_data', { bytes: 10, stream: 'upstream' }), { proxyName: PROXY });
    const proxy = await tp.client.get(PROXY);
    await proxy.addToxic({ name: 'foreign', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 5 } });
    expect(cleanProblems(await getProxyState(tp.client, PROXY))).toHaveLength(4);
    expect(await verifyClean(tp.client, [PROXY, OTHER])).not.toEqual([]);

    const changed = await healAll(tp.client, [PROXY, OTHER]);
    expect(changed).toHaveLength(5);
    expect(await verifyClean(tp.client, [PROXY, OTHER])).toEqual([]);
    await flowsAgain(pool);
    expect(await healAll(tp.client, [PROXY, OTHER])).toEqual([]); // idempotent
  });

  it('replaces a leftover toxic of the same name and heals idempotently', async () => {
    await createProxy(tp.client, PROXY, up.port);
    const f = net_('latency', { latencyMs: 100, jitterMs: 0, stream: 'upstream' });
    const proxy = await tp.client.get(PROXY);
    await proxy.addToxic({ ...toxicSpecs(f as ToxicFault)[0]!, attributes: { latency: 9_999, jitter: 0 } });
    expect(appliedProblems(await getProxyState(tp.client, PROXY), f)).toHaveLength(1);
    await applyNetworkFault(tp.client, f, { proxyName: PROXY });
    expect(appliedProblems(await getProxyState(tp.client, PROXY), f)).toEqual([]);
    await healNetworkFault(tp.client, f, { proxyName: PROXY });
    await healNetworkFault(tp.client, f, { proxyName: PROXY }); // already gone: fine
    expect(healedProblems(await getProxyState(tp.client, PROXY), f)).toEqual([]);
  });

  it('verification reports a fault that is not in effect', async () => {
    await createProxy(tp.client, PROXY, up.port);
    const f = net_('reset_peer', { timeoutMs: 0, stream: 'downstream' });
    expect(await verifyNetworkFault(tp.client, f, 'applied', { proxyName: PROXY })).toEqual([`${PROXY}: toxic chaos_reset_peer_0 missing`]);
    const out = net_('outage', {});
    expect(await verifyNetworkFault(tp.client, out, 'applied', { proxyName: PROXY })).toEqual([`${PROXY} is still enabled`]);
    expect(await verifyNetworkFault(tp.client, out, 'healed', { proxyName: PROXY })).toEqual([]);
  });

  it('every toxic goes in at toxicity 1.0', () => {
    const kinds: NetworkFault[] = [
      net_('blackhole', { timeoutMs: 1, stream: 'both' }),
      net_('bandwidth', { rateKBps: 1, stream: 'upstream' }),
      net_('slow_close', { delayMs: 1, stream: 'downstream' }),
      net_('reset_peer', { timeoutMs: 1, stream: 'downstream' }),
      net_('slicer', { averageSize: 2, sizeVariation: 1, delayUs: 1, stream: 'downstream' }),
      net_('limit_data', { bytes: 1, stream: 'downstream' }),
      net_('latency', { latencyMs: 1, jitterMs: 1, stream: 'downstream' }),
    ];
    for (const f of kinds) {
      if (f.kind === 'outage') continue;
      for (const s of toxicSpecs(f)) expect(s.toxicity).toBe(1);
    }
  });
});
