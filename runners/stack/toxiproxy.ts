/**
 * A real toxiproxy-server on a free loopback port, and the two proxies every
 * stack has: `influx` (backend -> InfluxDB) and `ingest` (publisher -> backend).
 */
import { join } from 'node:path';
import { Toxiproxy } from 'toxiproxy-node-client';
import { ManagedProcess } from './managedProcess';
import { freePort, httpAnswers, LOOPBACK, pollUntil } from './net';
import { findExecutable } from './executables';
import type { ProxyInfo } from './types';

export interface ToxiproxyHandle {
  process: ManagedProcess;
  url: string;
  client: Toxiproxy;
}

export async function startToxiproxy(opts: { logsDir: string; seed?: number }): Promise<ToxiproxyHandle> {
  const bin = findExecutable('toxiproxy-server', 'TOXIPROXY_SERVER_BIN');
  const port = await freePort();
  const url = `http://${LOOPBACK}:${port}`;
  // Toxics are always used at toxicity 1.0 (every "sometimes" is decided by
  // the fast-check seed), but pin Toxiproxy's own seed too for good measure.
  const proc = new ManagedProcess({
    name: 'toxiproxy',
    command: bin,
    args: ['-host', LOOPBACK, '-port', String(port), '-seed', String(opts.seed ?? 1)],
    logFile: join(opts.logsDir, 'toxiproxy.log'),
    waitReady: (signal) => pollUntil(() => httpAnswers(`${url}/version`, [200]), signal),
  });
  await proc.start();
  return { process: proc, url, client: new Toxiproxy(url) };
}

/** Create (or replace) a proxy listening on a fresh loopback port. */
export async function createProxy(client: Toxiproxy, name: string, upstream: string): Promise<ProxyInfo> {
  const existing = await client.getAll();
  await existing[name]?.remove();
  const listen = `${LOOPBACK}:${await freePort()}`;
  const proxy = await client.createProxy({ name, listen, upstream });
  return { name, listen: proxy.listen, upstream: proxy.upstream };
}

/** Point an existing proxy at a new upstream (e.g. another backend). */
export async function repointProxy(client: Toxiproxy, name: string, upstream: string): Promise<ProxyInfo> {
  const proxy = await client.get(name);
  const updated = await proxy.update({ listen: proxy.listen, upstream, enabled: true });
  return { name, listen: updated.listen, upstream: updated.upstream };
}
