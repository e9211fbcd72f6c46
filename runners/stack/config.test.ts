import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, isLoopbackUrl, loadStackConfig } from './config';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('stack config', () => {
  it('defaults to a managed legacy stack', () => {
    const c = loadStackConfig({});
    expect(c.target).toBe('managed');
    expect(c.managed.mode).toBe('legacy');
    expect(c.database).toBe('telemetry');
  });

  it('names the variable and the problem for each bad value, all at once', () => {
    const p = problems(() =>
      loadStackConfig({ TP_FLUSH_INTERVAL_MS: 'soon', TP_BACKEND_MODE: 'fast', TP_KEEP_RUN_DIR: 'maybe' }),
    );
    expect(p).toEqual([expect.stringMatching(/^TP_KEEP_RUN_DIR: expected 1\/0\/true\/false, got "maybe"/)]);
    const q = problems(() => loadStackConfig({ TP_FLUSH_INTERVAL_MS: '-5', TP_BACKEND_MODE: 'fast' }));
    expect(q).toHaveLength(2);
    expect(q.some((m) => m.startsWith('TP_FLUSH_INTERVAL_MS:'))).toBe(true);
    expect(q.some((m) => m.startsWith('TP_BACKEND_MODE:'))).toBe(true);
  });

  it('a command backend: TP_BACKEND_CMD implies target command, env names validated', () => {
    const c = loadStackConfig({ TP_BACKEND_CMD: 'node server.js', TP_BACKEND_PORT_ENV: 'APP_PORT' });
    expect(c.target).toBe('command');
    expect(c.command).toMatchObject({ run: 'node server.js', portEnv: 'APP_PORT', influxUrlEnv: 'INFLUX_URL' });
    const p = problems(() => loadStackConfig({ TP_BACKEND_CMD: 'x', TP_BACKEND_PORT_ENV: '1-bad name' }));
    expect(p).toEqual([expect.stringMatching(/^TP_BACKEND_PORT_ENV: must be an environment variable name/)]);
    expect(problems(() => loadStackConfig({ TP_TARGET: 'command' }))[0]).toMatch(/^command\.run: is required/);
    expect(problems(() => loadStackConfig({ TP_BACKEND_CMD: 'x', TP_BACKEND_ENV: '{nope' }))[0]).toMatch(/^TP_BACKEND_ENV: expected a JSON object/);
  });

  it('an external stack needs URLs, a key, a database or bucket, and loopback unless allowed', () => {
    const ok = loadStackConfig({
      TP_BACKEND_URL: 'http://127.0.0.1:3000',
      TP_API_KEY: 'secret',
      TP_INFLUX_URL: 'http://localhost:8086',
      TP_INFLUX_BUCKET: 'telemetry',
      TP_INFLUX_ORG: 'app-org',
      TP_INFLUX_TOKEN: 'dev-token',
    });
    expect(ok.target).toBe('external');
    const p = problems(() => loadStackConfig({ TP_BACKEND_URL: 'http://10.0.0.5:3000', TP_INFLUX_URL: 'ftp://x' }));
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^TP_INFLUX_URL: /),
        expect.stringMatching(/^external\.influxDb: needs influxDb \(1\.x\) or influxBucket \(2\.x\)/),
      ]),
    );
    const remote = problems(() =>
      loadStackConfig({ TP_BACKEND_URL: 'http://10.0.0.5:3000', TP_API_KEY: 'k', TP_INFLUX_URL: 'http://127.0.0.1:8086', TP_INFLUX_DB: 'd' }),
    );
    expect(remote).toEqual([expect.stringMatching(/^TP_BACKEND_URL: http:\/\/10\.0\.0\.5:3000 is not a loopback address/)]);
    const allowed = loadStackConfig({
      TP_BACKEND_URL: 'http://10.0.0.5:3000', TP_API_KEY: 'k', TP_INFLUX_URL: 'http://127.0.0.1:8086', TP_INFLUX_DB: 'd', TP_ALLOW_REMOTE: '1',
    });
    expect(allowed.allowRemote).toBe(true);
  });

  it('reads a config file, with the environment on top, and names the file in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-config-'));
    const file = join(dir, 'tp.json');
    writeFileSync(file, JSON.stringify({ managed: { mode: 'durable', flushIntervalMs: 1000 }, database: 'db1' }));
    const c = loadStackConfig({ TP_CONFIG: file, TP_DATABASE: 'db2' });
    expect(c.managed).toMatchObject({ mode: 'durable', flushIntervalMs: 1000 });
    expect(c.database).toBe('db2');
    writeFileSync(file, JSON.stringify({ managed: { flushIntervalMs: 'x' } }));
    expect(problems(() => loadStackConfig({ TP_CONFIG: file }))[0]).toContain(`${file}: managed.flushIntervalMs`);
    writeFileSync(file, '{ not json');
    expect(problems(() => loadStackConfig({ TP_CONFIG: file }))[0]).toMatch(new RegExp(`^${file}: `));
    expect(problems(() => loadStackConfig({ TP_CONFIG: join(dir, 'missing.json') }))[0]).toMatch(/ENOENT/);
  });

  it('knows loopback from the rest', () => {
    expect(isLoopbackUrl('http://127.0.0.1:1')).toBe(true);
    expect(isLoopbackUrl('http://127.8.0.3:1')).toBe(true);
    expect(isLoopbackUrl('http://localhost')).toBe(true);
    expect(isLoopbackUrl('http://[::1]:80')).toBe(true);
    expect(isLoopbackUrl('http://192.168.1.2')).toBe(false);
    expect(isLoopbackUrl('http://127.0.0.1.example.com')).toBe(false);
  });
});
