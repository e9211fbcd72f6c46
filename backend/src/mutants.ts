/**
 * The mutant zoo: deliberately broken variants of the reference backend, each
 * a realistic bug of this kind of service, each behind one switch:
 *
 *   BACKEND_MUTANT=<name>     (unset or '' = the correct backend)
 *   BACKEND_MUTANT_N=<n>      drop-one-in-n only: drop every n-th sample (default 1000)
 *
 * The zoo (`npx telemetry-proof zoo`, runners/zoo/) starts one backend per
 * mutant and checks that the framework's quick property and chaos profile
 * catches every one of them, and that the correct backend passes the same run.
 *
 * Safety: off by default; an unknown name, a mutant that does not apply to
 * INGEST_MODE, or any mutant with NODE_ENV=production is a start-up error
 * (server.ts exits 2 before listening). The switch is read once per process.
 *
 * Each mutant is one small named branch at the place the bug would live
 * (validation, point building, ingest, broadcast, auth, shutdown, shipper,
 * WAL); the hook functions below are what those places call. Mutants that
 * sit at a seam shared by both modes (ingest, validation, broadcast) are
 * applied by `mutateParts` to the mode's parts.
 */
import type { Point, WriteApi } from '@influxdata/influxdb-client';
import type { IngestMode } from './config';
import type { IngestResult, ReceivedPayload, ValidationResult } from './interfaces';
import type { LogSink } from './jsonLog';
import type { ModeParts } from './modes';

export const MUTANT_ENV = 'BACKEND_MUTANT';
export const MUTANT_N_ENV = 'BACKEND_MUTANT_N';
export const DEFAULT_MUTANT_N = 1000;

export interface MutantInfo {
  name: string;
  /** Number in the zoo issue's list. */
  issue: number;
  /** Modes the bug exists in. */
  modes: readonly IngestMode[];
  /** Why it does not apply to the other mode. */
  notApplicable?: Partial<Record<IngestMode, string>>;
  /** Where the branch lives. */
  where: string;
  description: string;
  /** The property expected to catch it. */
  expectedProperty: string;
}

export const MUTANTS = [
  {
    name: 'drop-one-in-n', issue: 1, modes: ['legacy', 'durable'],
    where: 'ingest (mutants.ts: mutateParts wraps the ingestor)',
    description: 'acknowledges every sample but silently drops every n-th one (BACKEND_MUTANT_N, default 1000)',
    expectedProperty: 'ack_implies_stored',
  },
  {
    name: 'ack-before-validate', issue: 2, modes: ['legacy', 'durable'],
    where: 'route (mutants.ts: mutateParts replaces validation and ingest)',
    description: 'acknowledges and stores what it is sent before validating it: rejected payloads are answered 200 and stored',
    expectedProperty: 'validation_agrees_with_model',
  },
  {
    name: 'skew-window-11s', issue: 3, modes: ['legacy', 'durable'],
    where: 'validate.ts (skew check)',
    description: 'timestamp skew window off by one second: accepts |now - timestamp| up to 11 s instead of 10 s',
    expectedProperty: 'validation_agrees_with_model',
  },
  {
    name: 'timestamp-whole-seconds', issue: 4, modes: ['legacy', 'durable'],
    where: 'point.ts (legacy), durable/lineProtocol.ts (durable)',
    description: 'point time truncated to whole seconds before writing',
    expectedProperty: 'ack_implies_stored',
  },
  {
    name: 'float-rounded', issue: 5, modes: ['legacy', 'durable'],
    where: 'point.ts (legacy), durable/lineProtocol.ts (durable)',
    description: 'float fields rounded with toFixed(3) before writing',
    expectedProperty: 'ack_implies_stored',
  },
  {
    name: 'no-flush-on-shutdown', issue: 6, modes: ['legacy'],
    notApplicable: { durable: 'durable acknowledges only after fdatasync: nothing acknowledged is unflushed at shutdown, and what was not shipped stays in the log for the next start (its shutdown bugs are wal-truncate-before-confirm and wal-replay-skips-last)' },
    where: 'legacyIngestor.ts close()',
    description: 'on SIGTERM the WriteApi is disposed instead of closed: the last partial batch is never flushed',
    expectedProperty: 'ack_stored_after_healing',
  },
  {
    name: 'retry-duplicates-restamped', issue: 7, modes: ['legacy', 'durable'],
    where: 'legacyIngestor.ts writeFailed (legacy), durable/shipper.ts run (durable)',
    description: 'after a failed InfluxDB write the batch is written again with new server timestamps: every retried sample is stored twice',
    expectedProperty: 'no_unexpected_points',
  },
  {
    name: 'influx-4xx-swallowed', issue: 8, modes: ['durable'],
    notApplicable: { legacy: "the seed's client library already drops every batch InfluxDB answers 4xx (not retried): legacy loses those samples without the mutant, so there is no correct legacy behaviour to break" },
    where: 'durable/shipper.ts ship()',
    description: 'an InfluxDB 4xx (e.g. 404 database not found) is counted as success: the batch is dropped from the log instead of retried',
    expectedProperty: 'ack_implies_stored',
  },
  {
    name: 'sse-skip-multi-client', issue: 9, modes: ['legacy', 'durable'],
    where: 'broadcast (mutants.ts: mutateParts wraps the broadcaster)',
    description: 'skips the SSE broadcast when more than one client is connected',
    expectedProperty: 'sse_once_in_order',
  },
  {
    name: 'sse-before-validate', issue: 10, modes: ['legacy', 'durable'],
    where: 'route (mutants.ts: mutateParts broadcasts from validation)',
    description: 'broadcasts each payload to SSE before validating it: rejected samples reach the dashboards',
    expectedProperty: 'sse_once_in_order',
  },
  {
    name: 'sse-unbounded-buffer', issue: 11, modes: ['durable'],
    notApplicable: { legacy: "legacy is the seed, whose broadcaster already ignores back-pressure (unbounded buffering is legacy's own known bug)" },
    where: 'durable/broadcaster.ts send()',
    description: 'ignores the per-client SSE buffer bound: memory grows with a slow or stalled client',
    expectedProperty: 'slow_consumer_bounded',
  },
  {
    name: 'api-key-prefix', issue: 12, modes: ['legacy', 'durable'],
    where: 'app.ts (auth)',
    description: 'API key compared by prefix (strncmp over the length sent): any non-empty prefix of the real key is accepted',
    expectedProperty: 'auth_enforced',
  },
  {
    name: 'tag-escaping-broken', issue: 13, modes: ['legacy', 'durable'],
    where: 'legacyIngestor.ts ingest (legacy: hand-built line), durable/lineProtocol.ts escapeTagValue (durable)',
    description: "vehicle_id tag value escaped for '=' only, not for ',' or ' ': such lines are unparseable and InfluxDB rejects them",
    expectedProperty: 'ack_implies_stored',
  },
  {
    name: 'wal-truncate-before-confirm', issue: 14, modes: ['durable'],
    notApplicable: { legacy: 'legacy has no durable log' },
    where: 'durable/shipper.ts run()',
    description: 'the log is truncated (cursor advanced) when a batch is handed to the writer, before InfluxDB confirmed it: a failed write loses the batch',
    expectedProperty: 'ack_stored_after_healing',
  },
  {
    name: 'wal-replay-skips-last', issue: 15, modes: ['durable'],
    notApplicable: { legacy: 'legacy has no durable log' },
    where: 'durable/wal.ts open() (recovery scan)',
    description: 'WAL recovery after a crash skips the last record of each segment (off by one in the scan)',
    expectedProperty: 'ack_stored_after_healing',
  },
] as const satisfies readonly MutantInfo[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);

export function mutantInfo(name: MutantName): MutantInfo {
  return MUTANTS.find((m) => m.name === name)!;
}

export function appliesTo(name: MutantName, mode: IngestMode): boolean {
  return (mutantInfo(name).modes as readonly string[]).includes(mode);
}

export interface ActiveMutant {
  name: MutantName;
  mode: IngestMode;
  /** drop-one-in-n: every n-th sample is dropped. */
  n: number;
}

export class MutantConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MutantConfigError';
  }
}

/**
 * The mutant the environment asks for, or null. Pure; throws
 * MutantConfigError for an unknown name, a mode it does not apply to, a bad
 * BACKEND_MUTANT_N, or NODE_ENV=production.
 */
export function resolveMutant(env: Record<string, string | undefined>): ActiveMutant | null {
  const raw = env[MUTANT_ENV]?.trim() ?? '';
  if (raw === '') return null;
  if (env.NODE_ENV?.trim().toLowerCase() === 'production') {
    throw new MutantConfigError(
      `${MUTANT_ENV}=${raw} refused: NODE_ENV=production. Mutants are deliberately broken backends for the mutant zoo and never run in production; unset ${MUTANT_ENV}.`,
    );
  }
  const name = MUTANT_NAMES.find((n) => n === raw);
  if (!name) {
    throw new MutantConfigError(`${MUTANT_ENV}=${JSON.stringify(raw)} is not a mutant; valid names: ${MUTANT_NAMES.join(', ')}`);
  }
  const modeRaw = env.INGEST_MODE?.trim() || 'legacy';
  const mode: IngestMode = modeRaw === 'durable' ? 'durable' : 'legacy';
  if (!appliesTo(name, mode)) {
    const why = mutantInfo(name).notApplicable?.[mode];
    throw new MutantConfigError(`${MUTANT_ENV}=${name} does not apply to INGEST_MODE=${mode}${why ? `: ${why}` : ''}`);
  }
  let n = DEFAULT_MUTANT_N;
  const nRaw = env[MUTANT_N_ENV]?.trim();
  if (nRaw !== undefined && nRaw !== '') {
    if (!/^\d+$/.test(nRaw) || Number(nRaw) < 2 || Number(nRaw) > 1_000_000_000) {
      throw new MutantConfigError(`${MUTANT_N_ENV}=${JSON.stringify(nRaw)} must be an integer from 2 to 1000000000`);
    }
    n = Number(nRaw);
  }
  return { name, mode, n };
}

let cached: { value: ActiveMutant | null } | undefined;

/** The process's mutant (BACKEND_MUTANT, read once), or null for the correct backend. */
export function activeMutant(): ActiveMutant | null {
  cached ??= { value: resolveMutant(process.env) };
  return cached.value;
}

/** Tests only: forget the cached switch (or set it from `env`). */
export function resetMutantForTests(env?: Record<string, string | undefined>): void {
  cached = env ? { value: resolveMutant(env) } : undefined;
}

function is(name: MutantName): boolean {
  return activeMutant()?.name === name;
}

/** Start-up (server.ts): validate the switch (throws) and say loudly that a mutant runs. */
export function announceMutant(log: LogSink): ActiveMutant | null {
  const m = activeMutant();
  if (m) log('mutant_enabled', { mutant: m.name, mode: m.mode, ...(m.name === 'drop-one-in-n' ? { n: m.n } : {}), warning: 'deliberately broken backend (mutant zoo); never use it for real data' });
  return m;
}

// ---- hooks called at the place of each bug -------------------------------------

/** #3 validate.ts: seconds added to the skew window. */
export function mutantSkewSlackSec(): number {
  return is('skew-window-11s') ? 1 : 0;
}

/** #4 point time (seconds): truncated to whole seconds. */
export function mutantTimestampSec(timestampSec: number): number {
  return is('timestamp-whole-seconds') ? Math.trunc(timestampSec) : timestampSec;
}

/** #5 float field value: rounded to 3 decimals. */
export function mutantFloat(value: number): number {
  return is('float-rounded') && Number.isFinite(value) ? Number(value.toFixed(3)) : value;
}

/** #6 legacyIngestor close(): true = dispose the WriteApi without flushing. */
export function mutantSkipsFinalFlush(): boolean {
  return is('no-flush-on-shutdown');
}

/** The timestamp (last token) of each line replaced with `nowMs` (lines are written with precision ms). */
export function restampLines(lines: readonly string[], nowMs: number): string[] {
  return lines.map((l) => `${l.slice(0, l.lastIndexOf(' '))} ${Math.trunc(nowMs)}`);
}

const restamped = new Set<string>();

/**
 * #7 legacy, WriteApi writeFailed: also queue the failed lines again with the
 * server's current time (the library keeps retrying the originals), once per line.
 */
export function mutantOnWriteFailed(writeApi: Pick<WriteApi, 'writeRecords'>, lines: readonly string[], nowMs: number = Date.now()): void {
  if (!is('retry-duplicates-restamped')) return;
  const fresh = lines.filter((l) => !restamped.has(l));
  if (fresh.length === 0) return;
  const copies = restampLines(fresh, nowMs);
  for (const c of copies) restamped.add(c);
  writeApi.writeRecords(copies);
}

/** #7 durable, shipper: a retried batch carries its lines again, re-stamped with the server time. */
export function mutantRetryLines(lines: readonly string[], consecutiveFailures: number, nowMs: number = Date.now()): readonly string[] {
  if (!is('retry-duplicates-restamped') || consecutiveFailures === 0) return lines;
  return [...lines, ...restampLines(lines, nowMs)];
}

/** #8 durable, shipper: true = treat this failed write as a success. */
export function mutantSwallows4xx(outcome: { kind: string; status?: number }): boolean {
  return is('influx-4xx-swallowed') && outcome.kind !== 'ok' && outcome.status !== undefined && outcome.status >= 400 && outcome.status < 500;
}

/** #11 durable broadcaster: true = ignore the per-client buffer bound. */
export function mutantUnboundedSse(): boolean {
  return is('sse-unbounded-buffer');
}

/** #12 app.ts auth: true = accept `given` because the key starts with it (strncmp over the length sent). */
export function mutantAcceptsApiKey(given: string | undefined, key: string): boolean {
  return is('api-key-prefix') && given !== undefined && key.startsWith(given);
}

/** #13 the characters a tag value gets escaped for. */
export function mutantTagEscapes(): RegExp | undefined {
  return is('tag-escaping-broken') ? /=/g : undefined;
}

/** Tag value escaped only for '=' (#13). */
export function brokenEscapeTagValue(value: string): string {
  return value.replace(/=/g, (c) => `\\${c}`);
}

/**
 * #13 legacy ingest: write the point as a hand-built line whose vehicle_id is
 * escaped for '=' only. Returns false when the mutant is off (the caller then
 * writes the point as usual).
 */
export function mutantWriteLegacyPoint(writeApi: Pick<WriteApi, 'writeRecord'> & Parameters<Point['toLineProtocol']>[0], point: Point, vehicleId: string): boolean {
  if (!is('tag-escaping-broken')) return false;
  const line = point.toLineProtocol(writeApi);
  if (line === undefined) return true; // no fields: the library would skip it too
  const escaped = vehicleId.replace(/[,= ]/g, (c) => `\\${c}`);
  writeApi.writeRecord(line.replace(`vehicle_id=${escaped}`, `vehicle_id=${brokenEscapeTagValue(vehicleId)}`));
  return true;
}

/** #14 durable shipper: true = truncate the log before InfluxDB confirmed the batch. */
export function mutantTruncatesBeforeConfirm(): boolean {
  return is('wal-truncate-before-confirm');
}

/**
 * #15 durable WAL recovery: the segment's bytes with its last valid record
 * cut off (recovery then treats it as a torn tail). `decode` is the WAL's
 * record decoder (passed in to keep this module free of durable imports).
 */
export function mutantWalReplayBuffer(buf: Buffer, decode: (buf: Buffer, at: number) => { size: number } | string, magicBytes = 8): Buffer {
  if (!is('wal-replay-skips-last')) return buf;
  return dropLastRecord(buf, decode, magicBytes);
}

export function dropLastRecord(buf: Buffer, decode: (buf: Buffer, at: number) => { size: number } | string, magicBytes = 8): Buffer {
  if (buf.length <= magicBytes) return buf;
  let at = magicBytes;
  let last = -1;
  for (let guard = 0; guard < 100_000_000; guard++) {
    const rec = decode(buf, at);
    if (typeof rec === 'string') break;
    last = at;
    at += rec.size;
  }
  return last < 0 ? buf : buf.subarray(0, last);
}

// ---- mutants at the seams shared by both modes ----------------------------------

/**
 * Apply the mutants that live at the mode's seams (ingest, validation,
 * broadcast) to its parts, in place (the parts keep their own `this`).
 * Returns the parts unchanged when no such mutant is active.
 */
export function mutateParts<P extends ModeParts>(parts: P): P {
  const m = activeMutant();
  if (!m) return parts;
  const { ingestor, broadcaster } = parts;
  switch (m.name) {
    case 'drop-one-in-n': {
      const ingest = ingestor.ingest.bind(ingestor);
      let count = 0;
      ingestor.ingest = (payload: ReceivedPayload) => (++count % m.n === 0 ? { kind: 'accepted' } : ingest(payload));
      return parts;
    }
    case 'ack-before-validate': {
      const validate = parts.validate;
      // The reply and the write no longer depend on validation: it runs, too late to matter.
      parts.validate = (body, nowSec): ValidationResult => {
        validate(body, nowSec);
        return { ok: true, payload: body as ReceivedPayload };
      };
      const ingest = ingestor.ingest.bind(ingestor);
      ingestor.ingest = async (payload: ReceivedPayload): Promise<IngestResult> => {
        try {
          return await ingest(payload);
        } catch {
          return { kind: 'accepted' }; // already acknowledged
        }
      };
      return parts;
    }
    case 'sse-skip-multi-client': {
      const broadcast = broadcaster.broadcast.bind(broadcaster);
      broadcaster.broadcast = (payload) => {
        if (broadcaster.clientCount() > 1) return;
        broadcast(payload);
      };
      return parts;
    }
    case 'sse-before-validate': {
      const validate = parts.validate;
      const broadcast = broadcaster.broadcast.bind(broadcaster);
      const sent = new WeakSet<object>();
      parts.validate = (body, nowSec) => {
        if (typeof body === 'object' && body !== null) {
          sent.add(body);
          broadcast({ ...(body as ReceivedPayload), serverReceiveTime: nowSec });
        }
        return validate(body, nowSec);
      };
      // The route's own broadcast after ingest: already sent above.
      broadcaster.broadcast = (payload) => {
        if (!sent.has(payload)) broadcast(payload);
      };
      return parts;
    }
    default:
      return parts;
  }
}
