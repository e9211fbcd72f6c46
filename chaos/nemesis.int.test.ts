/**
 * The nemesis against a real toxiproxy-server and throwaway process groups:
 * faults start and end at their planned times, are verified, really affect
 * traffic while they last, and everything is healed at the end.
 */
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fault } from './faults';
import { nemesisEnvFromStack, runFaultSchedule, systemClock, type FaultRecord, type NemesisEvent } from './nemesis';
import type { StackInfo } from '../runners/stack/types';
import { groupMembers } from './processFaults';
import { probeListener, verifyClean } from './toxiproxyDriver';
import { createProxy, freePort, ping, startToxiproxyServer, startUpstream, ThrowawayProcess, type ToxiproxyServer, type Upstream } from './testSupport';

let tp: ToxiproxyServer;
let up: Upstream;
let backend: ThrowawayProcess;
let influxd: ThrowawayProcess;
let listen: { influx: string; ingest: string };
const proxies = { influx: 'n_influx', ingest: 'n_ingest' } as const;

beforeAll(async () => {
  up = await startUpstream();
  tp = await startToxiproxyServer();
  listen = {
    influx: await createProxy(tp.client, proxies.influx, up.port),
    ingest: await createProxy(tp.client, proxies.ingest, up.port),
  };
  backend = new ThrowawayProcess(await freePort());
  influxd = new ThrowawayProcess(await freePort());
  await backend.start();
  await influxd.start();
}, 30_000);

afterAll(async () => {
  await Promise.allSettled([backend?.dispose(), influxd?.dispose()]);
  await tp?.stop();
  await up?.close();
});

const env = () => ({ toxiproxy: tp.client, proxies, processes: { backend, influxd } });

interface Obs {
  t: number;
  value: string;
  ms: number;
}

/** Sample `probe` every `everyMs` until `stop` resolves (bounded by maxSamples). */
function observe(probe: () => Promise<string>, everyMs: number, stop: Promise<unknown>, maxSamples = 400): Promise<Obs[]> {
  return (async () => {
    const out: Obs[] = [];
    let done = false;
    void stop.then(() => (done = true));
    while (!done && out.length < maxSamples) {
      const t = Date.now();
      const value = await probe();
      out.push({ t, value, ms: Date.now() - t });
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return out;
  })();
}

/** Observations that started and finished inside [from, to]. */
function within(obs: Obs[], from: number, to: number): Obs[] {
  return obs.filter((o) => o.t >= from && o.t + o.ms <= to);
}

function expectOnTime(r: FaultRecord, toleranceMs: number): void {
  expect(r.skipped).toBeUndefined();
  expect(r.error).toBeUndefined();
  expect(r.problems).toEqual([]);
  expect(r.startVerified).toBe(true);
  expect(r.endVerified).toBe(true);
  expect(r.startRequestedAt!).toBeGreaterThanOrEqual(r.plannedStart - 2);
  expect(r.startRequestedAt! - r.plannedStart).toBeLessThan(toleranceMs);
  expect(r.startedAt!).toBeGreaterThanOrEqual(r.startRequestedAt!);
  expect(r.endRequestedAt!).toBeGreaterThanOrEqual(r.plannedEnd - 2);
  expect(r.endedAt!).toBeGreaterThanOrEqual(r.endRequestedAt!);
}

describe('runFaultSchedule', () => {
  it('plays a mixed schedule on time, verified, with real effects, then heals everything', async () => {
    const schedule: Fault[] = [
      { kind: 'outage', target: 'influx', at: 200, duration: 500, params: {} },
      {
        kind: 'latency',
        target: 'ingest',
        at: 0,
        duration: 700,
        params: { latencyMs: 300, jitterMs: 100, stream: 'downstream', jitterSteps: { everyMs: 250, offsetsMs: [0, 100, -100] } },
      },
      { kind: 'blackhole', target: 'ingest', at: 900, duration: 1_500, params: { timeoutMs: 0, stream: 'upstream' } },
      { kind: 'pause', target: 'backend', at: 100, duration: 600, params: {} },
      { kind: 'kill', target: 'backend', at: 900, duration: 200, params: {} },
      { kind: 'restart', target: 'influxd', at: 300, duration: 100, params: { graceMs: 1_000 } },
    ];
    const pool = new Pool(`http://${listen.ingest}`, { connections: 1, keepAliveTimeout: 60_000 });
    const warm = await pool.request({ path: '/?n=2', method: 'GET' });
    await warm.body.arrayBuffer();
    const killedPid = backend.pid!;
    const influxdPid = influxd.pid!;
    const events: NemesisEvent[] = [];
    const runStart = Date.now() + 100;

    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const ingestObs = observe(
      async () => {
        try {
          const res = await pool.request({ path: '/?n=2', method: 'GET', signal: AbortSignal.timeout(1_000), headersTimeout: 5_000 });
          await res.body.arrayBuffer();
          return 'ok';
        } catch (err) {
          return (err as { code?: string }).code ?? 'error';
        }
      },
      20,
      finished,
    );
    const influxObs = observe(() => probeListener(listen.influx, 300), 20, finished);
    const backendObs = observe(() => ping(backend.url, 150), 20, finished);

    const run = await runFaultSchedule(schedule, env(), {
      runStart,
      recovery: { boundMs: 2_000, probe: async () => (await ping(backend.url, 300)) === 'ok', pollMs: 50 },
      onEvent: (e) => events.push(e),
    });
    // Keep watching a little after the final heal: traffic must flow again.
    await new Promise((r) => setTimeout(r, 300));
    finish();
    const [ingest, influx, back] = await Promise.all([ingestObs, influxObs, backendObs]);
    await pool.destroy();

    expect(run.aborted).toBe(false);
    expect(run.runStart).toBe(runStart);
    expect(run.records.map((r) => `${r.fault.target}:${r.fault.kind}`)).toEqual([
      'ingest:latency',
      'backend:pause',
      'influx:outage',
      'influxd:restart',
      'ingest:blackhole',
      'backend:kill',
    ]);
    // Lateness is recorded, not hidden; on a loaded 2-CPU machine it reached ~450 ms.
    for (const r of run.records) expectOnTime(r, 750);
    const rec = (kind: Fault['kind']) => run.records.find((r) => r.fault.kind === kind)!;

    // Seeded jitter: steps planned at 0, 250, 500 ms with latency 300, 400, 200
    // (a step is only dropped if the machine is so late that the fault is over).
    const lat = rec('latency');
    const steps = lat.latencySteps!;
    expect(steps.length).toBeGreaterThanOrEqual(1);
    // On a machine that kept up, every step was played.
    if (lat.startedAt! - lat.plannedStart < 100) expect(steps).toHaveLength(3);
    expect(steps.map((s) => s.latencyMs)).toEqual([300, 400, 200].slice(0, steps.length));
    steps.forEach((s, k) => {
      expect(s.plannedAt).toBe(lat.plannedStart + k * 250);
      expect(s.at).toBeGreaterThanOrEqual(s.plannedAt - 2);
      expect(s.at - s.plannedAt).toBeLessThan(750);
    });

    // Effects seen from outside while each fault was surely in effect.
    const out = rec('outage');
    const duringOutage = within(influx, out.startedAt!, out.endRequestedAt!);
    expect(duringOutage.length).toBeGreaterThan(3);
    expect(duringOutage.every((o) => o.value === 'refused')).toBe(true);
    expect(influx.filter((o) => o.t > out.endedAt!).every((o) => o.value === 'open')).toBe(true);

    const latencyWindow = within(ingest, lat.startedAt!, lat.endRequestedAt!);
    expect(latencyWindow.length).toBeGreaterThan(0);
    expect(latencyWindow.every((o) => o.value === 'ok' && o.ms >= 190)).toBe(true);
    const bh = rec('blackhole');
    // A request that starts inside the blackhole cannot succeed: its bytes are
    // dropped until the heal, which then closes the connection (50 ms margin
    // for a request whose bytes reach the proxy just after the heal).
    const duringBlackhole = ingest.filter((o) => o.t >= bh.startedAt! && o.t <= bh.endRequestedAt! - 50);
    expect(duringBlackhole.length).toBeGreaterThan(0);
    expect(duringBlackhole.every((o) => o.value !== 'ok')).toBe(true);
    expect(ingest.filter((o) => o.t > bh.endedAt! && o.value === 'ok').length).toBeGreaterThan(0);

    const pause = rec('pause');
    const duringPause = within(back, pause.startedAt!, pause.endRequestedAt!);
    expect(duringPause.length).toBeGreaterThan(0);
    expect(duringPause.every((o) => o.value === 'timeout')).toBe(true);
    const kill = rec('kill');
    expect(kill.pids!.before).toBe(killedPid);
    expect(kill.pids!.after).not.toBe(killedPid);
    expect(groupMembers(killedPid)).toEqual([]);
    const duringKill = within(back, kill.startedAt!, kill.endRequestedAt!);
    expect(duringKill.length).toBeGreaterThan(0);
    expect(duringKill.every((o) => o.value === 'error')).toBe(true);
    const restart = rec('restart');
    expect(restart.pids!.before).toBe(influxdPid);
    expect(restart.pids!.after).not.toBe(influxdPid);

    // Final phase: healed, verified, recovered; nothing left behind.
    expect(run.heal).toMatchObject({ verified: true, problems: [] });
    expect(run.heal.startedAt).toBeGreaterThanOrEqual(Math.max(...run.records.map((r) => r.endedAt!)));
    expect(run.recovery).toMatchObject({ recovered: true, boundMs: 2_000 });
    expect(await verifyClean(tp.client, [proxies.influx, proxies.ingest])).toEqual([]);
    expect(await ping(backend.url, 1_000)).toBe('ok');
    expect(await ping(influxd.url, 1_000)).toBe('ok');
    expect(events.filter((e) => e.type === 'start')).toHaveLength(schedule.length);
    expect(events.filter((e) => e.type === 'end')).toHaveLength(schedule.length);
    expect(events.filter((e) => e.type === 'latency-step')).toHaveLength(steps.length);
    expect(events.at(-2)).toMatchObject({ type: 'heal', ok: true });
    expect(events.at(-1)).toMatchObject({ type: 'recovered', ok: true });
  }, 20_000);

  it('on abort: ends the running fault at once, skips the rest, heals, and does not wait for recovery', async () => {
    const schedule: Fault[] = [
      { kind: 'outage', target: 'ingest', at: 0, duration: 10_000, params: {} },
      { kind: 'latency', target: 'ingest', at: 10_000, duration: 1_000, params: { latencyMs: 1, jitterMs: 0, stream: 'upstream' } },
      { kind: 'pause', target: 'backend', at: 0, duration: 10_000, params: {} },
    ];
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 400);
    const t0 = Date.now();
    const run = await runFaultSchedule(schedule, env(), { signal: ac.signal, recovery: { boundMs: 10_000 } });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(run.aborted).toBe(true);
    const [outage, pause, latency] = run.records;
    expect(outage!.fault.kind).toBe('outage');
    expect(outage!.startVerified && outage!.endVerified).toBe(true);
    expect(outage!.endRequestedAt! - outage!.plannedStart).toBeLessThan(1_000);
    expect(pause!.fault.kind).toBe('pause');
    expect(pause!.endVerified).toBe(true);
    expect(latency!.skipped).toBe('aborted');
    expect(latency!.startRequestedAt).toBeUndefined();
    expect(run.heal.verified).toBe(true);
    expect(run.recovery).toBeUndefined();
    expect(await probeListener(listen.ingest)).toBe('open');
    expect(await ping(backend.url, 1_000)).toBe('ok');
  }, 20_000);

  it('records faults it cannot play instead of throwing, and still heals', async () => {
    const schedule: Fault[] = [
      { kind: 'kill', target: 'influxd', at: 0, duration: 0, params: {} },
      { kind: 'outage', target: 'influx', at: 0, duration: 50, params: {} },
    ];
    // No influxd handle, and the influx proxy name points nowhere.
    const run = await runFaultSchedule(schedule, { toxiproxy: tp.client, proxies: { influx: 'no_such_proxy' }, processes: { backend } });
    const [kill, outage] = run.records;
    expect(kill).toMatchObject({ skipped: 'unavailable', error: 'no managed process for influxd' });
    expect(outage!.skipped).toBeUndefined();
    expect(outage!.startVerified).toBe(false);
    expect(outage!.error).toMatch(/404/);
    expect(run.heal.verified).toBe(false); // it could not heal a proxy that does not exist
    expect(run.heal.problems.join(' ')).toMatch(/no_such_proxy/);

    const noToxiproxy = await runFaultSchedule([schedule[1]!], { processes: {} });
    expect(noToxiproxy.records[0]).toMatchObject({ skipped: 'unavailable' });
    expect(noToxiproxy.heal.verified).toBe(true);
  });

  it('refuses an invalid schedule before touching anything', async () => {
    const overlap: Fault[] = [
      { kind: 'outage', target: 'ingest', at: 0, duration: 100, params: {} },
      { kind: 'reset_peer', target: 'ingest', at: 50, duration: 100, params: { timeoutMs: 0, stream: 'both' } },
    ];
    await expect(runFaultSchedule(overlap, env())).rejects.toThrow(/overlap/);
    expect(await probeListener(listen.ingest)).toBe('open');
  });

  it('recovery: ends early when the probe passes, reports failure at the bound otherwise', async () => {
    let calls = 0;
    const ok = await runFaultSchedule([], {}, { recovery: { boundMs: 2_000, pollMs: 20, probe: async () => ++calls >= 3 } });
    expect(ok.recovery!.recovered).toBe(true);
    expect(calls).toBe(3);
    expect(ok.recovery!.endedAt - ok.recovery!.startedAt).toBeLessThan(1_000);
    const t0 = Date.now();
    const bad = await runFaultSchedule([], {}, { recovery: { boundMs: 300, pollMs: 20, probe: async () => false } });
    expect(bad.recovery!.recovered).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(Date.now() - t0).toBeLessThan(1_500);
    const plain = await runFaultSchedule([], {}, { recovery: { boundMs: 100 }, clock: systemClock });
    expect(plain.recovery!.recovered).toBe(true);
    expect(plain.recovery!.endedAt - plain.recovery!.startedAt).toBeGreaterThanOrEqual(95);
  });

  it('builds its env from a StackInfo', async () => {
    const stack = {
      kind: 'managed',
      runDir: '/tmp/x',
      logsDir: '/tmp/x/logs',
      influx: { url: 'http://127.0.0.1:1', directUrl: 'http://127.0.0.1:1', major: 1, version: '1.8', db: 'telemetry' },
      toxiproxy: {
        url: tp.url,
        proxies: {
          influx: { name: 'influx', listen: listen.influx, upstream: 'x' },
          ingest: { name: 'ingest', listen: listen.ingest, upstream: 'x' },
        },
      },
      backend: { url: 'http://127.0.0.1:2', directUrl: 'http://127.0.0.1:3', apiKey: 'k' },
    } satisfies StackInfo;
    const e = nemesisEnvFromStack(stack, { backend });
    expect(e.proxies).toEqual({ influx: 'influx', ingest: 'ingest' });
    expect(await e.toxiproxy!.getVersion()).toContain('version');
    expect(e.processes?.backend).toBe(backend);
    expect(nemesisEnvFromStack({ ...stack, toxiproxy: undefined })).toEqual({ processes: {} });
  });
});
