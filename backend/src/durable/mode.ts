/**
 * Durable mode factory: builds the write-ahead log (recovering what it
 * holds), the shipper, the bounded SSE broadcaster and the strict validator,
 * and hands them to the shared HTTP app (../modes.ts, ../server.ts).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModeContext, ModeFactory, ModeParts } from '../modes';
import { createBoundedBroadcaster } from './broadcaster';
import { loadDurableConfig, type DurableConfig } from './config';
import { createDurableIngestor, type DurableIngestor } from './ingestor';
import { InfluxWriter } from './influxWriter';
import { RecentKeyIndex } from './keyIndex';
import { lockDataDir } from './lock';
import { Shipper } from './shipper';
import { createDurableValidator, type RejectionCounter } from './validate';
import { WriteAheadLog } from './wal';
import { needsV1Write, v1WritePath, v2WritePath } from '../influxTarget';
import { createLoadShedder } from '../loadShedder';

export interface DurableModeParts extends ModeParts {
  ingestor: DurableIngestor;
  /** Body limit for express.json() (BODY_LIMIT, else 1 MB). */
  bodyLimit: string;
  durableConfig: DurableConfig;
  wal: WriteAheadLog;
  shipper: Shipper;
}

export async function createDurableMode(ctx: ModeContext): Promise<DurableModeParts> {
  const { config, env, log } = ctx;
  const dc = loadDurableConfig(env, config);
  await mkdir(dc.dataDir, { recursive: true });
  const unlock = lockDataDir(dc.dataDir);
  try {
    // A different sample for an acknowledged key (vehicle_id + ms) gets 409;
    // the index is rebuilt from the log, whose shipped segments are kept
    // long enough for that (a sample appended at t has a time <= t + W and
    // can collide until its time + W: keep 2W plus margins).
    const keyIndex = dc.keyIndexMaxKeys > 0 ? new RecentKeyIndex({ windowSec: config.skewWindowSec, maxKeys: dc.keyIndexMaxKeys }) : undefined;
    const wal = new WriteAheadLog({
      dir: join(dc.dataDir, 'wal'),
      segmentMaxBytes: dc.walSegmentBytes,
      preallocateBytes: dc.walPreallocateBytes,
      maxBytes: dc.walMaxBytes,
      maxSamples: dc.walMaxSamples,
      commitDelayMs: dc.commitDelayMs,
      commitMaxBatch: dc.commitMaxBatch,
      maxPending: dc.maxPendingAppends,
      syncMode: dc.syncMode,
      retainShippedMs: keyIndex ? 2 * config.skewWindowSec * 1000 + 5000 : 0,
      log,
    });
    let restoredKeys = 0;
    const recovery = await wal.open(keyIndex ? (line) => { if (keyIndex.restore(line)) restoredKeys++; } : undefined);

    // The API comes from /ping. If server.ts already pinged, use its answer;
    // otherwise (InfluxDB down at start) the writer asks /ping itself later.
    const knownApi = dc.influxApi !== 'auto' ? dc.influxApi : ctx.influx?.version ? (needsV1Write(ctx.influx.version) ? 'v1' : 'v2') : undefined;
    const writer = new InfluxWriter({
      url: config.influxUrl,
      token: config.influxToken,
      org: config.influxOrg,
      bucket: config.influxBucket,
      timeoutMs: dc.influxWriteTimeoutMs,
      ...(knownApi ? { api: knownApi } : {}),
    });
    const shipper = new Shipper({
      wal,
      writer,
      rejectedDir: join(dc.dataDir, 'rejected'),
      batchMaxLines: dc.shipBatchMaxLines,
      batchMaxBytes: dc.shipBatchMaxBytes,
      backoffMinMs: dc.backoffMinMs,
      backoffMaxMs: dc.backoffMaxMs,
      retryAfterMaxSec: dc.retryAfterMaxSec,
      log,
    });
    shipper.start();

    const rejections: RejectionCounter = { counts: new Map() };
    const ingestor = createDurableIngestor({
      wal,
      shipper,
      ...(keyIndex ? { keyIndex } : {}),
      rejections,
      recovery,
      drainMs: dc.drainMs,
      log,
      onClosed: unlock,
    });
    const influxWritePath =
      knownApi === 'v1'
        ? v1WritePath(config.influxBucket, 'ms')
        : knownApi === 'v2'
          ? v2WritePath(config.influxOrg, config.influxBucket, 'ms')
          : '(detected from /ping on first write)';
    log('durable_mode_ready', {
      dataDir: dc.dataDir,
      bodyLimit: dc.bodyLimit,
      walMaxBytes: dc.walMaxBytes,
      walMaxSamples: dc.walMaxSamples,
      recoveredSamples: recovery.unshippedSamples,
      truncatedBytes: recovery.truncatedBytes,
      recoveryMs: Math.round(recovery.durationMs),
      keyIndex: keyIndex ? { maxKeys: keyIndex.maxKeys, restoredKeys } : 'off',
      shedEventLoopDelayMs: dc.shedEventLoopDelayMs || 'off',
    });
    return {
      ingestor,
      broadcaster: createBoundedBroadcaster({ maxBufferBytes: dc.sseClientMaxBufferBytes, maxTotalBufferBytes: dc.sseMaxTotalBufferBytes, heartbeatMs: dc.sseHeartbeatMs, log }),
      validate: createDurableValidator(config.skewWindowSec, rejections),
      influxWritePath,
      bodyLimit: dc.bodyLimit,
      durableConfig: dc,
      ...(dc.shedEventLoopDelayMs > 0 ? { shedder: createLoadShedder({ maxDelayMs: dc.shedEventLoopDelayMs }) } : {}),
      wal,
      shipper,
    };
  } catch (err) {
    unlock();
    throw err;
  }
}

export const durableMode: ModeFactory = (ctx) => createDurableMode(ctx);
