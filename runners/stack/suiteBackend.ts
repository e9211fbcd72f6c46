/**
 * A backend of a test suite's own, beside the shared stack: same influxd and
 * toxiproxy-server, but its own two proxies (`influx-<id>`, `ingest-<id>`) and
 * its own process, so the suite can pick the mode, crash and restart it, and
 * inject faults without disturbing any other suite.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Toxiproxy } from 'toxiproxy-node-client';
import { startBackend, type BackendHandle, type BackendSpec } from './backendProcess';
import { createProxy } from './toxiproxy';
import type { StackInfo } from './types';

export interface SuiteBackend {
  /** The shared stack's info, rewired to this backend and its proxies. */
  info: StackInfo;
  handle: BackendHandle;
  toxiproxy: Toxiproxy;
  /** Stop the backend and remove its proxies. */
  stop(): Promise<void>;
}

export async function startSuiteBackend(shared: StackInfo, spec: BackendSpec, opts: { label?: string } = {}): Promise<SuiteBackend> {
  if (shared.kind !== 'managed' || !shared.toxiproxy) {
    throw new Error('a suite backend needs the managed stack (InfluxDB and Toxiproxy started by the harness)');
  }
  const id = `${opts.label ?? 'suite'}-${randomBytes(3).toString('hex')}`;
  const toxiproxy = new Toxiproxy(shared.toxiproxy.url);
  const runDir = mkdtempSync(join(shared.runDir, `${id}-`));
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  const influxProxy = await createProxy(toxiproxy, `influx-${id}`, new URL(shared.influx.directUrl).host);
  let handle: BackendHandle;
  try {
    handle = await startBackend(spec, {
      apiKey: shared.backend.apiKey,
      influxUrl: `http://${influxProxy.listen}`,
      influxDb: shared.influx.db,
      runDir,
      logsDir: shared.logsDir,
      logName: `backend-${id}.log`,
    });
  } catch (err) {
    await (await toxiproxy.get(influxProxy.name)).remove().catch(() => undefined);
    throw err;
  }
  const ingestProxy = await createProxy(toxiproxy, `ingest-${id}`, `127.0.0.1:${handle.port}`);
  const info: StackInfo = {
    ...shared,
    runDir,
    influx: { ...shared.influx, url: `http://${influxProxy.listen}` },
    toxiproxy: { ...shared.toxiproxy, proxies: { influx: influxProxy, ingest: ingestProxy } },
    backend: { ...shared.backend, url: `http://${ingestProxy.listen}`, directUrl: handle.directUrl, pid: handle.process.pid, spec },
  };
  return {
    info,
    handle,
    toxiproxy,
    async stop() {
      await handle.process.stop();
      for (const name of [influxProxy.name, ingestProxy.name]) {
        await (await toxiproxy.get(name)).remove().catch(() => undefined);
      }
    },
  };
}
