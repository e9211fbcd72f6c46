import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseThresholdFlag, readCliConfigFile, resolveScenario, resolveSearch, resolveStackConfig } from './cliConfig';
import { ConfigError } from './stack/config';

const clean: NodeJS.ProcessEnv = {};

function problems(fn: () => unknown): string[] {
  try { fn(); } catch (err) { if (err instanceof ConfigError) return err.problems; throw err; }
  throw new Error('no error');
}

describe('stack configuration from flags', () => {
  it('--target makes an external target with the flags\' URLs and key', () => {
    const c = resolveStackConfig({ target: 'http://127.0.0.1:3000', apiKey: 'k-123456', influxUrl: 'http://localhost:8086', influxDb: 'telemetry' }, {}, clean);
    expect(c.target).toBe('external');
    expect(c.apiKey).toBe('k-123456');
    expect(c.external).toMatchObject({ backendUrl: 'http://127.0.0.1:3000', influxUrl: 'http://localhost:8086', influxDb: 'telemetry' });
  });

  it('refuses a non-loopback target unless --allow-remote, naming the flag', () => {
    const p = problems(() => resolveStackConfig({ target: 'http://10.0.0.5:3000', apiKey: 'k-123456', influxUrl: 'http://127.0.0.1:8086', influxDb: 't' }, {}, clean));
    expect(p.join('\n')).toMatch(/^--target \(TP_BACKEND_URL\): http:\/\/10.0.0.5:3000 is not a loopback address.*--allow-remote/);
    const ok = resolveStackConfig({ target: 'http://10.0.0.5:3000', apiKey: 'k-123456', influxUrl: 'http://127.0.0.1:8086', influxDb: 't', allowRemote: true }, {}, clean);
    expect(ok.allowRemote).toBe(true);
  });

  it('names the flag of a missing value', () => {
    expect(problems(() => resolveStackConfig({ target: 'http://127.0.0.1:3000', apiKey: 'k' }, {}, clean)).join('\n')).toMatch(/--influx-url \(TP_INFLUX_URL\)/);
  });

  it('managed by default; flags set mode and flush interval; the config file stack section is the base', () => {
    expect(resolveStackConfig({ backendMode: 'durable', flushIntervalMs: '1000' }, {}, clean).managed).toMatchObject({ mode: 'durable', flushIntervalMs: 1000 });
    const c = resolveStackConfig({}, { stack: { managed: { mode: 'legacy', flushIntervalMs: 250 } } }, clean);
    expect(c.managed.flushIntervalMs).toBe(250);
    expect(problems(() => resolveStackConfig({ flushIntervalMs: '-5' }, {}, clean)).join()).toMatch(/--flush-interval-ms \(TP_FLUSH_INTERVAL_MS\)/);
  });
});

describe('config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tp-cli-'));

  it('is validated with clear errors naming file and key', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ matrix: [], unknownKey: 1 }));
    const p = problems(() => readCliConfigFile(bad));
    expect(p.some((x) => x.startsWith(`${bad}: matrix:`))).toBe(true);
    expect(p.some((x) => x.includes('unknownKey'))).toBe(true);
    const notJson = join(dir, 'nope.json');
    writeFileSync(notJson, '{');
    expect(problems(() => readCliConfigFile(notJson))[0]).toMatch(/nope\.json: /);
  });

  it('layers defaults, per-scenario overrides, thresholds and flags, and defines new scenarios', () => {
    const file = readCliConfigFile(undefined);
    expect(file).toEqual({});
    const cfg = {
      defaults: { durationMs: 20_000 },
      scenarios: { 'sustained-10hz': { sseClients: 1 }, 'my-fleet': { rateHz: 5, vehicles: 20, durationMs: 9000, group: 'custom' } },
      thresholds: [{ metric: 'latency_p99_ms', op: '<' as const, value: 300 }],
    };
    const s = resolveScenario('sustained-10hz', cfg, { sseClients: '10', duration: '30s' });
    expect(s).toMatchObject({ durationMs: 30_000, sseClients: 10, thresholds: [{ metric: 'latency_p99_ms', op: '<', value: 300 }] });
    expect(resolveScenario('my-fleet', cfg, {})).toMatchObject({ name: 'my-fleet', vehicles: 20, durationMs: 9000 });
    expect(problems(() => resolveScenario('nope', cfg, {}))[0]).toMatch(/unknown scenario "nope"/);
    expect(problems(() => resolveScenario('sustained-10hz', cfg, { rate: 'fast' }))[0]).toMatch(/--rate: expected a number/);
    expect(resolveScenario('sustained-10hz', cfg, {}).transport).toBe('undici');
    expect(resolveScenario('sustained-10hz', { scenarios: { 'sustained-10hz': { transport: 'raw' } } }, {}).transport).toBe('raw');
    expect(resolveScenario('sustained-10hz', cfg, { transport: 'raw' }).transport).toBe('raw');
    expect(problems(() => resolveScenario('sustained-10hz', cfg, { transport: 'curl' })).join('\n')).toMatch(/transport/);
  });

  it('reads k6-style threshold flags', () => {
    expect(parseThresholdFlag('latency_p99_ms<200')).toEqual({ metric: 'latency_p99_ms', op: '<', value: 200 });
    expect(parseThresholdFlag('loss_rate <= 0.01')).toEqual({ metric: 'loss_rate', op: '<=', value: 0.01 });
    expect(problems(() => parseThresholdFlag('nonsense_metric<1'))[0]).toMatch(/unknown metric/);
    expect(problems(() => parseThresholdFlag('latency_p99_ms'))[0]).toMatch(/expected <metric><op><number>/);
  });

  it('search settings: defaults, file, flags, validated', () => {
    const s = resolveSearch({ findMaxRate: { startRate: 20, criteria: { latencyP99Ms: 100 } } }, { hold: '12s', maxRate: '800' });
    expect(s).toMatchObject({ startRate: 20, maxRate: 800, holdMs: 12_000, criteria: { latencyP99Ms: 100, lagBoundMs: 5000 } });
    expect(problems(() => resolveSearch({}, { startRate: '100', maxRate: '50' }))).toContain('--max-rate: must be ≥ --start-rate');
  });
});
