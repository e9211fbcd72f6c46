/**
 * Entry point: `tsx backend/src/server.ts` (env vars: see config.ts).
 *
 * Start-up: config -> mode factory (fails fast if INGEST_MODE=durable is not
 * registered) -> InfluxDB /ping (legacy: bounded back-off, then exit 1;
 * durable: one try) -> listen -> one JSON line {"event":"listening",...}.
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
  // is down: one quick ping, and its writer finds out the rest later.
  let influx: InfluxTarget | undefined;
  try {
    const timeoutMs = config.ingestMode === 'legacy' ? config.influxStartupTimeoutMs : 0;
    influx = await resolveInfluxTarget(config.influxUrl, { timeoutMs, log });
  } catch (err) {
    if (config.ingestMode === 'legacy') fail('startup_failed', err, 1);
    log('influx_unreachable_at_start', { error: describeError(err) });
  }

  const parts = await factory({ config, env: process.env, influx, log });
  const httpMetrics = createHttpMetrics();
  const app = createApp({
    config: { ...config, bodyLimit: parts.bodyLimit ?? config.bodyLimit },
    ingestor: parts.ingestor,
    broadcaster: parts.broadcaster,
    validate: parts.validate,
    httpMetrics,
    log,
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
    clearTimeout(deadline);
    log('shutdown_complete', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));
}

main().catch((err: unknown) => fail('startup_failed', err, 1));
