/**
 * The stack: influxd, toxiproxy-server (proxies `influx` and `ingest`) and
 * the backend, started in order, torn down in reverse, always.
 *
 *   publisher -> [ingest proxy] -> backend -> [influx proxy] -> influxd
 *
 * Or an external stack: URLs only, nothing started, nothing killed.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { StackConfig } from './config';
import type { StackInfo } from './types';
import { startInfluxd, type InfluxdHandle } from './influxd';
import { startToxiproxy, createProxy, repointProxy, type ToxiproxyHandle } from './toxiproxy';
import { startBackend, type BackendHandle, type BackendSpec } from './backendProcess';
import type { ManagedProcess } from './managedProcess';
import { Toxiproxy } from 'toxiproxy-node-client';

export class Stack {
  private stopped = false;

  private constructor(
    public info: StackInfo,
    readonly config: StackConfig,
    readonly influxd: InfluxdHandle | undefined,
    readonly toxiproxy: ToxiproxyHandle | undefined,
    public backend: BackendHandle | undefined,
  ) {}

  /** Every process the harness manages, in start order. */
  processes(): ManagedProcess[] {
    return [this.influxd?.process, this.toxiproxy?.process, this.backend?.process].filter(
      (p): p is ManagedProcess => p !== undefined,
    );
  }

  static async start(config: StackConfig): Promise<Stack> {
    if (config.target === 'external') return await Stack.external(config);
    const runDir = config.runDir ?? mkdtempSync(join(tmpdir(), 'telemetry-proof-'));
    const logsDir = join(runDir, 'logs');
    mkdirSync(logsDir, { recursive: true });
    const apiKey = config.apiKey ?? `tp-${randomBytes(12).toString('hex')}`;
    let influxd: InfluxdHandle | undefined;
    let toxiproxy: ToxiproxyHandle | undefined;
    let backend: BackendHandle | undefined;
    try {
      // influxd and toxiproxy do not depend on each other: start together.
      [influxd, toxiproxy] = await Promise.all([
        startInfluxd({ runDir, logsDir, databases: [config.database] }),
        startToxiproxy({ logsDir }),
      ]);
      const influxHost = new URL(influxd.url).host;
      const influxProxy = await createProxy(toxiproxy.client, 'influx', influxHost);
      const spec = backendSpecFrom(config);
      backend = await startBackend(spec, {
        apiKey,
        influxUrl: `http://${influxProxy.listen}`,
        influxDb: config.database,
        runDir,
        logsDir,
      });
      const ingestProxy = await createProxy(toxiproxy.client, 'ingest', `127.0.0.1:${backend.port}`);
      const info: StackInfo = {
        kind: 'managed',
        runDir,
        logsDir,
        influx: {
          url: `http://${influxProxy.listen}`,
          directUrl: influxd.url,
          major: influxd.version.startsWith('1.') ? 1 : 2,
          version: influxd.version,
          db: config.database,
          pid: influxd.process.pid,
        },
        toxiproxy: { url: toxiproxy.url, pid: toxiproxy.process.pid, proxies: { influx: influxProxy, ingest: ingestProxy } },
        backend: {
          url: `http://${ingestProxy.listen}`,
          directUrl: backend.directUrl,
          apiKey,
          pid: backend.process.pid,
          spec,
        },
      };
      return new Stack(info, config, influxd, toxiproxy, backend);
    } catch (err) {
      // Whatever did start must not outlive a failed start.
      await Promise.allSettled([backend?.process.stop(), toxiproxy?.process.stop(), influxd?.process.stop()]);
      if (!config.runDir && !config.keepRunDir) {
        (err as Error).message += ` (logs kept in ${logsDir})`;
      }
      throw err;
    }
  }

  private static async external(config: StackConfig): Promise<Stack> {
    const ext = config.external!;
    const runDir = config.runDir ?? mkdtempSync(join(tmpdir(), 'telemetry-proof-'));
    const logsDir = join(runDir, 'logs');
    mkdirSync(logsDir, { recursive: true });
    const info: StackInfo = {
      kind: 'external',
      runDir,
      logsDir,
      influx: {
        url: ext.influxUrl,
        directUrl: ext.influxUrl,
        major: ext.influxToken || ext.influxOrg ? 2 : 1,
        version: 'unknown',
        db: ext.influxDb ?? ext.influxBucket!,
        org: ext.influxOrg,
        bucket: ext.influxBucket,
        token: ext.influxToken,
      },
      toxiproxy: undefined,
      backend: { url: ext.backendUrl, directUrl: ext.backendUrl, apiKey: config.apiKey!, sseToken: ext.sseToken },
    };
    if (ext.toxiproxyUrl) {
      // An external Toxiproxy must already have the two proxies, by name.
      const all = await new Toxiproxy(ext.toxiproxyUrl).getAll();
      const missing = (['influx', 'ingest'] as const).filter((n) => !all[n]);
      if (missing.length)
        throw new Error(`Toxiproxy at ${ext.toxiproxyUrl} has no proxy named ${missing.join(' or ')}: create 'influx' (backend -> InfluxDB) and 'ingest' (publisher -> backend)`);
      const asInfo = (n: 'influx' | 'ingest') => ({ name: n, listen: all[n]!.listen, upstream: all[n]!.upstream });
      info.toxiproxy = { url: ext.toxiproxyUrl, proxies: { influx: asInfo('influx'), ingest: asInfo('ingest') } };
    }
    return new Stack(info, config, undefined, undefined, undefined);
  }

  /**
   * Replace the backend with another one (e.g. a different mode or flush
   * interval) and point the `ingest` proxy at it. Managed stacks only.
   */
  async replaceBackend(spec: BackendSpec): Promise<void> {
    if (!this.toxiproxy || !this.influxd) throw new Error('replaceBackend needs a managed stack');
    await this.backend?.process.stop();
    const n = (this.backend?.process.starts.length ?? 0) + 1;
    this.backend = await startBackend(spec, {
      apiKey: this.info.backend.apiKey,
      influxUrl: this.info.influx.url,
      influxDb: this.info.influx.db,
      runDir: this.info.runDir,
      logsDir: this.info.logsDir,
      logName: `backend-${Date.now()}-${n}.log`,
    });
    const ingest = await repointProxy(this.toxiproxy.client, 'ingest', `127.0.0.1:${this.backend.port}`);
    this.info = {
      ...this.info,
      toxiproxy: { ...this.info.toxiproxy!, proxies: { ...this.info.toxiproxy!.proxies, ingest } },
      backend: { ...this.info.backend, directUrl: this.backend.directUrl, pid: this.backend.process.pid, spec },
    };
  }

  /** Tear everything down, backend first. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.backend?.process.stop();
    await Promise.allSettled([this.toxiproxy?.process.stop(), this.influxd?.process.stop()]);
    if (!this.config.keepRunDir && !this.config.runDir && this.info.kind === 'managed') {
      rmSync(this.info.runDir, { recursive: true, force: true });
    }
  }
}

export function backendSpecFrom(config: StackConfig): BackendSpec {
  if (config.target === 'command') {
    const c = config.command!;
    return {
      kind: 'command',
      run: c.run,
      cwd: c.cwd,
      portEnv: c.portEnv,
      influxUrlEnv: c.influxUrlEnv,
      apiKeyEnv: c.apiKeyEnv,
      readyPath: c.readyPath,
      env: c.env,
    };
  }
  return { kind: 'reference', mode: config.managed.mode, flushIntervalMs: config.managed.flushIntervalMs, env: config.managed.env };
}

/**
 * Run `fn` with a started stack and always tear it down: on success, on
 * failure, and on SIGINT/SIGTERM (Ctrl-C) while it runs.
 */
export async function withStack<T>(config: StackConfig, fn: (stack: Stack) => Promise<T>): Promise<T> {
  const stack = await Stack.start(config);
  const onSignal = (sig: NodeJS.Signals) => {
    void stack.stop().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(stack);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stack.stop();
  }
}
