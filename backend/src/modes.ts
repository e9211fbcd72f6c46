/**
 * Ingest modes: a mode builds the parts that differ (ingestor, broadcaster,
 * validator) around the shared HTTP app. Legacy is built in; durable mode
 * registers itself from backend/src/durable/index.ts by calling
 * registerDurableMode(factory) when that module is imported (server.ts
 * imports it only if the file exists).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BackendConfig, IngestMode } from './config';
import type { InfluxTarget } from './influxTarget';
import type { Broadcaster, Ingestor, ValidateFn } from './interfaces';
import type { LogSink } from './jsonLog';
import type { LoadShedder } from './loadShedder';
import { createLegacyBroadcaster } from './legacyBroadcaster';
import { createLegacyIngestor } from './legacyIngestor';
import { validatePayload } from './validate';

export interface ModeContext {
  config: BackendConfig;
  /** Raw environment: a mode parses its own extra variables from it. */
  env: Record<string, string | undefined>;
  /**
   * What /ping said at start. Always set for legacy mode (start-up waits for
   * InfluxDB); undefined in durable mode when InfluxDB was down at start.
   */
  influx?: InfluxTarget;
  log: LogSink;
}

export interface ModeParts {
  ingestor: Ingestor;
  broadcaster: Broadcaster;
  validate: ValidateFn;
  /** The InfluxDB write path in use, for the "listening" log line. */
  influxWritePath?: string;
  /** Overrides config.bodyLimit for express.json() (express syntax, e.g. '1mb'). */
  bodyLimit?: string;
  /** Refuse ingest requests with 503 before parsing while overloaded (durable mode). */
  shedder?: LoadShedder;
}

export type ModeFactory = (ctx: ModeContext) => ModeParts | Promise<ModeParts>;

export const legacyMode: ModeFactory = ({ config, influx, log }) => {
  if (!influx) throw new Error('legacy mode needs the InfluxDB target resolved at start');
  const ingestor = createLegacyIngestor({
    target: influx,
    token: config.influxToken,
    org: config.influxOrg,
    bucket: config.influxBucket,
    flushIntervalMs: config.influxFlushIntervalMs,
    batchSize: config.influxBatchSize,
    retry: config.influxRetry,
    log,
  });
  return {
    ingestor,
    broadcaster: createLegacyBroadcaster(),
    validate: (body, nowSec) => validatePayload(body, nowSec, config.skewWindowSec),
    influxWritePath: ingestor.writePath,
  };
};

const factories = new Map<IngestMode, ModeFactory>([['legacy', legacyMode]]);

export function registerDurableMode(factory: ModeFactory): void {
  factories.set('durable', factory);
}

export class ModeUnavailableError extends Error {
  constructor(mode: IngestMode) {
    super(
      `INGEST_MODE=${mode} but no ${mode} mode is registered ` +
        `(expected backend/src/durable/index.ts to call registerDurableMode(factory))`,
    );
    this.name = 'ModeUnavailableError';
  }
}

export function modeFactory(mode: IngestMode): ModeFactory {
  const factory = factories.get(mode);
  if (!factory) throw new ModeUnavailableError(mode);
  return factory;
}

/** Import backend/src/durable/index.ts for its registration side effect, if it exists. */
export async function loadDurableModule(): Promise<void> {
  const url = new URL('./durable/index.ts', import.meta.url);
  if (!existsSync(fileURLToPath(url))) return;
  const mod = (await import(url.href)) as { default?: unknown; durableMode?: unknown };
  // Also accept a module that exports the factory instead of registering it.
  if (!factories.has('durable')) {
    const exported = mod.durableMode ?? mod.default;
    if (typeof exported === 'function') registerDurableMode(exported as ModeFactory);
  }
}
