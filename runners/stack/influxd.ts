/**
 * A throwaway InfluxDB 1.x server (Debian's `influxd`) on free loopback ports,
 * with its data in the run folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from './managedProcess';
import { freePort, httpAnswers, LOOPBACK, pollUntil } from './net';
import { findExecutable } from './executables';

export interface InfluxdHandle {
  process: ManagedProcess;
  url: string;
  version: string;
  configFile: string;
}

function configText(dir: string, httpPort: number, rpcPort: number): string {
  // The RPC bind address defaults to :8088 on every interface: pin it to a
  // free loopback port so two stacks (or a system influxd) never collide.
  return `reporting-disabled = true
bind-address = "${LOOPBACK}:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[coordinator]
  write-timeout = "10s"
[http]
  enabled = true
  bind-address = "${LOOPBACK}:${httpPort}"
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
`;
}

export async function startInfluxd(opts: { runDir: string; logsDir: string; databases: string[] }): Promise<InfluxdHandle> {
  const bin = findExecutable('influxd', 'INFLUXD_BIN');
  const dir = join(opts.runDir, 'influxd');
  mkdirSync(dir, { recursive: true });
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const configFile = join(dir, 'influxdb.conf');
  writeFileSync(configFile, configText(dir, httpPort, rpcPort));
  const url = `http://${LOOPBACK}:${httpPort}`;
  const proc = new ManagedProcess({
    name: 'influxd',
    command: bin,
    args: ['-config', configFile],
    logFile: join(opts.logsDir, 'influxd.log'),
    waitReady: (signal) => pollUntil(() => httpAnswers(`${url}/ping`, [204]), signal),
  });
  await proc.start();
  const ping = await fetch(`${url}/ping`);
  const version = ping.headers.get('x-influxdb-version') ?? 'unknown';
  for (const db of opts.databases) await createDatabase(url, db);
  return { process: proc, url, version, configFile };
}

/** InfluxQL names are quoted with double quotes; escape embedded ones. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export async function createDatabase(url: string, db: string, token?: string): Promise<void> {
  const body = new URLSearchParams({ q: `CREATE DATABASE ${quoteIdent(db)}` });
  const res = await fetch(`${url}/query`, {
    method: 'POST',
    body,
    headers: token ? { Authorization: `Token ${token}` } : undefined,
  });
  const text = await res.text();
  if (!res.ok || text.includes('"error"')) throw new Error(`CREATE DATABASE ${db} failed: ${res.status} ${text}`);
}
