/**
 * Entry point: `tsx backend/src/server.ts` (env vars: see config.ts).
 *
 * Start-up: config -> mode factory (fails fast if INGEST_MODE=durable is not
 * registered) -> InfluxDB /ping (legacy: bounded back-off, then exit 1;
 * durable: not awaited, logged only) -> listen -> one JSON line {"event":"listening",...}.
 *
 * SIGTERM/SIGINT: stop accepting, end SSE clients, await ingestor.close()
 * (legacy: flushes the WriteApi's buffer), exit 0; exit 1 if that takes longer
 * than SHUTDOWN_TIMEOUT_MS. SIGKILL loses whatever was queued in memory:
 * that is the seed's behaviour and what the chaos suites measure.
 *
 * Exit codes: 0 clean shutdown; 1 start-up failure, crash, shutdown timeout or
 * a failed final flush (queued points lost); 2 bad configuration.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { BackendConfigError, loadBackendConfig, type BackendConfig } from './config';
import { createHttpMetrics } from './httpMetrics';
import { resolveInfluxTarget, type InfluxTarget } from './influxTarget';
import { describeError, stdoutLog, type LogSink } from './jsonLog';
import { loadDurableModule, modeFactory } from './modes';
import { announceMutant, mutateParts } from './mutants';

const log: LogSink = stdoutLog;

function installCrashHandlers(): void {
  process.on('uncaughtException', (err) => {
    log('uncaught_exception', { error: describeError(err), stack: err instanceof Error ? err.stack : undefined });
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    log('unhandled_rejection', { error: describeError(reason), stack: reason instanceof Error ? reason.stack : undefined });
    process.exit(1);
  });
}

function baseUrl(host: string, port: number): string {
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

function fail(event: string, err: unknown, code: number): never {
  const problems = err instanceof BackendConfigError ? err.problems : undefined;
  log(event, { error: describeError(err), ...(problems ? { problems } : {}) });
  process.exit(code);
}

async function main(): Promise<void> {
  installCrashHandlers();

  let config: BackendConfig;
  try {
    config = loadBackendConfig(process.env);
    announceMutant(log); // BACKEND_MUTANT (mutant zoo): bad name, wrong mode or NODE_ENV=production exit 2
  } catch (err) {
    fail('config_error', err, 2);
  }

  let factory;
  try {
    if (config.ingestMode === 'durable') await loadDurableModule();
    factory = modeFactory(config.ingestMode);
  } catch (err) {
    fail('config_error', err, 2);
  }

  // Legacy cannot work without InfluxDB (its WriteApi needs the write path),
  // so start-up waits for it. Durable mode must accept samples while InfluxDB
  // is down or frozen: it does not wait at all (its writer pings /ping itself
  // before the first write); the ping here only logs what it finds.
  let influx: InfluxTarget | undefined;
  if (config.ingestMode === 'legacy') {
    try {
      influx = await resolveInfluxTarget(config.influxUrl, { timeoutMs: config.influxStartupTimeoutMs, log });
    } catch (err) {
      fail('startup_failed', err, 1);
    }
  } else {
    resolveInfluxTarget(config.influxUrl, { timeoutMs: 0, log }).then(
      (t) => log('influx_detected_at_start', { version: t.version, writeApi: t.writeApi }),
      (err: unknown) => log('influx_unreachable_at_start', { error: describeError(err) }),
    );
  }

  const parts = mutateParts(await factory({ config, env: process.env, influx, log }));
  const httpMetrics = createHttpMetrics();
  const app = createApp({
    config: { ...config, bodyLimit: parts.bodyLimit ?? config.bodyLimit },
    ingestor: parts.ingestor,
    broadcaster: parts.broadcaster,
    validate: parts.validate,
    httpMetrics,
    log,
    ...(parts.shedder ? { shedder: parts.shedder } : {}),
  });

  const server = app.listen(config.port, config.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    fail('startup_failed', err, 1);
  }
  const { port } = server.address() as AddressInfo;
  log('listening', {
    url: baseUrl(config.host, port),
    mode: config.ingestMode,
    influx: { version: influx?.version ?? null, writePath: parts.influxWritePath ?? null },
  });

  let shuttingDown = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log('shutdown_started', { signal });
    const deadline = setTimeout(() => {
      log('shutdown_timeout', { afterMs: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs);

    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    parts.broadcaster.closeAll();
    server.closeIdleConnections();
    try {
      await parts.ingestor.close();
    } catch (err) {
      // The final flush failed (InfluxDB down or rejecting): what was queued is lost.
      log('shutdown_flush_failed', { error: describeError(err) });
      process.exit(1);
    }
    // Anything still connected can no longer ingest; do not wait on it.
    server.closeAllConnections();
    await serverClosed;
    httpMetrics.stop();
    parts.shedder?.stop();
    clearTimeout(deadline);
    log('shutdown_complete', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));
}

main().catch((err: unknown) => fail('startup_failed', err, 1));
