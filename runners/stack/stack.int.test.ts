/**
 * The harness itself: starts real services, tears them all down (no
 * orphans, checked with pgrep), also when a start fails half-way, and the
 * CLI's up/down leaves nothing behind.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from './stack';
import { StackConfigSchema } from './config';
import { PROJECT_ROOT } from './executables';

/** Pids in a process group, as pgrep sees them (zombies are not running). */
function pgrepGroup(pgid: number): number[] {
  const r = spawnSync('pgrep', ['-g', String(pgid)], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map(Number).filter((pid) => {
    try {
      return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  });
}

describe('stack harness', () => {
  it('starts influxd, toxiproxy and the backend, and leaves no process behind after stop', async () => {
    const stack = await Stack.start(StackConfigSchema.parse({}));
    const pgids = stack.processes().map((p) => p.pid!);
    try {
      expect(pgids).toHaveLength(3);
      for (const pgid of pgids) expect(pgrepGroup(pgid).length).toBeGreaterThan(0);
      const health = await fetch(`${stack.info.backend.url}/api/v1/healthz`);
      expect(health.status).toBe(200);
      const ping = await fetch(`${stack.info.influx.url}/ping`); // through the influx proxy
      expect(ping.status).toBe(204);
    } finally {
      await stack.stop();
    }
    for (const pgid of pgids) expect(pgrepGroup(pgid)).toEqual([]);
  });

  it('cleans up what it started when a later service fails to start', async () => {
    const before = new Set(spawnSync('pgrep', ['-x', 'influxd'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean));
    const config = StackConfigSchema.parse({
      target: 'command',
      command: { run: 'echo "this backend dies at once" >&2; exit 3' },
    });
    await expect(Stack.start(config)).rejects.toThrow(/backend exited with code 3 before it was ready/);
    const after = spawnSync('pgrep', ['-x', 'influxd'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(after.filter((p) => !before.has(p))).toEqual([]);
  });

  it('runs somebody else\'s backend from a command and the names of its env variables', async () => {
    // A minimal "foreign" backend: reads its port from APP_PORT and its
    // InfluxDB URL from STORE_URL, and reports what it got on /ready.
    const script = `
      const http = require('node:http');
      http.createServer((req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ store: process.env.STORE_URL, key: process.env.SECRET }));
      }).listen(Number(process.env.APP_PORT), '127.0.0.1');`;
    const config = StackConfigSchema.parse({
      target: 'command',
      apiKey: 'k-123456',
      command: {
        run: `${process.execPath} -e "$FOREIGN"`,
        portEnv: 'APP_PORT',
        influxUrlEnv: 'STORE_URL',
        apiKeyEnv: 'SECRET',
        readyPath: '/ready',
        env: { FOREIGN: script },
      },
    });
    const stack = await Stack.start(config);
    try {
      const res = await fetch(`${stack.info.backend.url}/ready`); // through the ingest proxy
      const body = (await res.json()) as { store: string; key: string };
      expect(body.store).toBe(stack.info.influx.url); // wired through the influx proxy
      expect(body.store).not.toBe(stack.info.influx.directUrl);
      expect(body.key).toBe('k-123456');
      // Kill and restart apply to it like to the reference backend.
      await stack.backend!.process.restart('crash');
      expect((await fetch(`${stack.info.backend.url}/ready`)).status).toBe(200);
    } finally {
      await stack.stop();
    }
  });

  it('CLI: up prints every URL and returns, down leaves no process', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'tp-state-'));
    const env = { ...process.env, TP_STATE_DIR: stateDir, TP_FLUSH_INTERVAL_MS: '500' };
    const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
    const cli = join(PROJECT_ROOT, 'runners', 'stack', 'cli.ts');
    let state: { groups: { name: string; pgid: number }[] } | undefined;
    try {
      const out = execFileSync(tsx, [cli, 'up'], { env, encoding: 'utf8', timeout: 90_000 });
      expect(out).toMatch(/InfluxDB\s+http:\/\/127\.0\.0\.1:\d+/);
      expect(out).toMatch(/Toxiproxy API\s+http:\/\/127\.0\.0\.1:\d+/);
      expect(out).toMatch(/Backend \(proxied\)\s+http:\/\/127\.0\.0\.1:\d+/);
      state = JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8'));
      expect(state!.groups.map((g) => g.name)).toEqual(['backend', 'toxiproxy', 'influxd']);
      for (const g of state!.groups) expect(pgrepGroup(g.pgid).length).toBeGreaterThan(0);
      const status = spawnSync(tsx, [cli, 'status'], { env, encoding: 'utf8', timeout: 30_000 });
      expect(status.status).toBe(0);
    } finally {
      execFileSync(tsx, [cli, 'down'], { env, encoding: 'utf8', timeout: 60_000 });
    }
    for (const g of state!.groups) expect(pgrepGroup(g.pgid)).toEqual([]);
  });
});
