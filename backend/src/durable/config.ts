/**
 * Durable mode's own environment variables (the shared ones are parsed by
 * ../config.ts). Every bad value is reported at once, naming the variable.
 */
import { isAbsolute, resolve } from 'node:path';
import { BackendConfigError, parseByteSize, type BackendConfig } from '../config';
import { SHED_TICK_MS } from '../loadShedder';

export interface DurableConfig {
  dataDir: string;
  walMaxBytes: number;
  walMaxSamples: number;
  walSegmentBytes: number;
  walPreallocateBytes: number;
  commitDelayMs: number;
  commitMaxBatch: number;
  maxPendingAppends: number;
  syncMode: 'datasync' | 'dsync' | 'fsync';
  shipBatchMaxLines: number;
  shipBatchMaxBytes: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  retryAfterMaxSec: number;
  influxWriteTimeoutMs: number;
  influxApi: 'auto' | 'v1' | 'v2';
  sseClientMaxBufferBytes: number;
  /** All SSE clients together (default: the per-client bound). */
  sseMaxTotalBufferBytes: number;
  sseHeartbeatMs: number;
  /** SIGTERM: how long to keep shipping before exiting (the rest stays in the log). */
  drainMs: number;
  /** Bound on the recent-key index (keyIndex.ts); 0 disables the duplicate-key check. */
  keyIndexMaxKeys: number;
  /** express body limit (413 beyond it): BODY_LIMIT when set, else 1 MB. */
  bodyLimit: string;
  bodyLimitBytes: number;
  /** Answer 503 + Retry-After before parsing while the event loop is this late (ms); 0 = off. */
  shedEventLoopDelayMs: number;
}

/** Default body limit: a 500-point trajectory plus a large track fit with room to spare. */
export const DURABLE_DEFAULT_BODY_LIMIT = '1mb';

export function loadDurableConfig(env: Record<string, string | undefined>, shared: Pick<BackendConfig, 'dataDir' | 'shutdownTimeoutMs'>): DurableConfig {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const v = get(name);
    if (v === undefined) return def;
    if (!/^[+-]?\d+$/.test(v)) {
      problems.push(`${name} must be an integer, got ${JSON.stringify(v)}`);
      return def;
    }
    const n = Number(v);
    if (n < min || n > max) {
      problems.push(`${name} must be between ${min} and ${max}, got ${n}`);
      return def;
    }
    return n;
  };
  const bytes = (name: string, def: string): number => {
    const v = get(name) ?? def;
    const n = parseByteSize(v);
    if (n === null) {
      problems.push(`${name} must be a positive size like '64mb', got ${JSON.stringify(v)}`);
      return parseByteSize(def)!;
    }
    return n;
  };
  const oneOf = <T extends string>(name: string, def: T, allowed: readonly T[]): T => {
    const v = get(name);
    if (v === undefined) return def;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    problems.push(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    return def;
  };

  const dataDirRaw = shared.dataDir ?? '.telemetry-proof/backend-data';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(dataDirRaw);
  const bodyLimit = get('BODY_LIMIT') ?? DURABLE_DEFAULT_BODY_LIMIT;
  const bodyLimitBytes = parseByteSize(bodyLimit) ?? 1024 * 1024;
  const backoffMinMs = int('SHIP_BACKOFF_MIN_MS', 100, 1, 600_000);
  const backoffMaxMs = int('SHIP_BACKOFF_MAX_MS', 5000, 1, 3_600_000);
  if (backoffMaxMs < backoffMinMs) problems.push(`SHIP_BACKOFF_MAX_MS (${backoffMaxMs}) must be >= SHIP_BACKOFF_MIN_MS (${backoffMinMs})`);
  // Leave at least a second of the shutdown budget for closing files and sockets.
  const defaultDrain = Math.max(0, Math.min(5000, shared.shutdownTimeoutMs - 2000));

  const cfg: DurableConfig = {
    dataDir,
    walMaxBytes: bytes('WAL_MAX_BYTES', '256mb'),
    walMaxSamples: int('WAL_MAX_SAMPLES', 1_000_000, 1, 1_000_000_000),
    walSegmentBytes: bytes('WAL_SEGMENT_BYTES', '16mb'),
    walPreallocateBytes: get('WAL_PREALLOCATE_BYTES') === '0' ? 0 : bytes('WAL_PREALLOCATE_BYTES', '1mb'),
    commitDelayMs: int('WAL_COMMIT_DELAY_MS', 0, 0, 100),
    commitMaxBatch: int('WAL_COMMIT_MAX_BATCH', 4096, 1, 1_000_000),
    maxPendingAppends: int('WAL_MAX_PENDING', 65_536, 1, 10_000_000),
    syncMode: oneOf('WAL_SYNC', 'datasync', ['datasync', 'dsync', 'fsync'] as const),
    shipBatchMaxLines: int('SHIP_BATCH_MAX_LINES', 5000, 1, 1_000_000),
    shipBatchMaxBytes: bytes('SHIP_BATCH_MAX_BYTES', '1mb'),
    backoffMinMs,
    backoffMaxMs,
    retryAfterMaxSec: int('SHIP_RETRY_AFTER_MAX_SEC', 300, 0, 86_400),
    influxWriteTimeoutMs: int('INFLUX_WRITE_TIMEOUT_MS', 10_000, 100, 600_000),
    influxApi: oneOf('INFLUX_API', 'auto', ['auto', 'v1', 'v2'] as const),
    sseClientMaxBufferBytes: bytes('SSE_CLIENT_MAX_BUFFER_BYTES', '1mb'),
    sseMaxTotalBufferBytes: bytes('SSE_MAX_BUFFER_BYTES_TOTAL', get('SSE_CLIENT_MAX_BUFFER_BYTES') ?? '1mb'),
    sseHeartbeatMs: int('SSE_HEARTBEAT_MS', 15_000, 0, 3_600_000),
    drainMs: int('SHUTDOWN_DRAIN_MS', defaultDrain, 0, 3_600_000),
    keyIndexMaxKeys: int('KEY_INDEX_MAX_KEYS', 262_144, 0, 100_000_000),
    bodyLimit,
    bodyLimitBytes,
    shedEventLoopDelayMs: int('SHED_EVENT_LOOP_DELAY_MS', 500, 0, 600_000),
  };
  // Below two shedder ticks, ordinary timer jitter and GC pauses would shed all the time.
  if (cfg.shedEventLoopDelayMs > 0 && cfg.shedEventLoopDelayMs < 2 * SHED_TICK_MS) {
    problems.push(`SHED_EVENT_LOOP_DELAY_MS must be 0 (off) or at least ${2 * SHED_TICK_MS}, got ${cfg.shedEventLoopDelayMs}`);
  }
  if (problems.length) throw new BackendConfigError(problems);
  return cfg;
}
