/**
 * Open-model publisher: every send is scheduled at an intended time and goes
 * out then, whether or not earlier requests have been answered — the Jetson
 * does not slow down because the backend does, so a load tool must not either
 * (otherwise it hides exactly the stalls we are looking for: "coordinated
 * omission").
 *
 * Latency is recorded twice, in hdr histograms (bounded memory on a soak):
 *  - corrected:   completion − INTENDED send time (what a sample experienced);
 *  - uncorrected: completion − ACTUAL send time (when the request hit the
 *    socket; includes no scheduler or connection-pool wait).
 * Only exchanges that got an HTTP status are recorded in the latency
 * histograms; failures are counted by error class instead.
 *
 * Per-request records are optional: pass `onRecord` to receive each one at
 * completion (collect keys for a storage probe, or stream them to a file).
 *
 * Hot path (thousands of sends a second from a small box): one timer per
 * tick sends every slot that is due; each send costs one payload object, one
 * JSON string, one Exchange (which is its own transport handler: no closures,
 * no Response object, no body stream) and five histogram records; the reply
 * body is decoded only when a record will carry it. Two transports:
 *  - 'undici' (default): an undici Pool, driven through `dispatch` with the
 *    handler methods undici's core calls directly (see Exchange);
 *  - 'raw': ./rawHttp, keep-alive net.Sockets and a minimal HTTP/1.1 parser,
 *    for when the load tool itself must be as cheap as possible.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { nowMs, secondIndex, sleep } from './clock';
import { classifyError, emptyErrorCounts, RequestTimeoutError, type ErrorClass } from './errors';
import { createHistogram, percentilesMs, recordMs, type Histogram, type Percentiles } from './histogram';
import type { PayloadFn } from './payloads';
import { RawHttpPool, type RawHandler } from './rawHttp';
import { ArrivalSchedule, seededRandom, type Arrival, type ArrivalMode, type Burst } from './schedule';

export type { ArrivalMode, Burst, ErrorClass, PayloadFn, Percentiles };

export type PublisherTransport = 'undici' | 'raw';

export interface PublisherOptions {
  /** Full endpoint URL, e.g. http://127.0.0.1:3000/api/v1/telemetry. */
  url: string;
  apiKey?: string;
  /** Default 'x-api-key'. */
  apiKeyHeader?: string;
  extraHeaders?: Record<string, string>;
  /** Number of simulated vehicles (default 1). */
  vehicles?: number;
  /** Sends per second PER VEHICLE (10 = one every 100 ms). */
  rateHz: number;
  /** Default 'even'. */
  arrival?: ArrivalMode;
  /** For 'jitter': ± fraction of the period (0..0.5, default 0.1). */
  jitter?: number;
  bursts?: Burst[];
  /** Stop scheduling after this long (ms). At least one of durationMs / maxRequests is required. */
  durationMs?: number;
  /** Stop after this many scheduled sends. */
  maxRequests?: number;
  /** Builds the body for one send; must return a JSON-serialisable object. */
  payload: PayloadFn;
  /** Max keep-alive connections (default 64). Size it ≥ rate × worst reply time. */
  connections?: number;
  /**
   * Requests written on one connection before its reply is read (default 1).
   * Keep 1 to behave like a Jetson (which does not pipeline); more is only
   * for benchmarking a target that allows it. With undici, requests are then
   * marked idempotent and non-blocking (undici pipelines nothing else), so
   * undici may re-send the ones pipelined behind a request whose connection
   * failed; the raw transport never re-sends (they fail as 'reset').
   */
  pipelining?: number;
  /**
   * HTTP client (default 'undici'). 'raw' is a minimal keep-alive HTTP/1.1
   * writer on net.Socket (./rawHttp) that costs less CPU per request; same
   * records and outcomes.
   */
  transport?: PublisherTransport;
  /** Whole-request timeout, connect included (default 2000 ms, like the Jetson). */
  timeoutMs?: number;
  /**
   * A send that leaves later than this after its intended time counts as late
   * (default 10 ms). Late sends are the "dropped iterations" of this tool.
   */
  lateThresholdMs?: number;
  /** Skip (do not send) late sends instead of sending them late (k6 semantics). Default false. */
  dropLate?: boolean;
  /** After scheduling ends, wait this long for in-flight replies (default timeoutMs + 500). */
  drainTimeoutMs?: number;
  /** Seed for jitter / Poisson arrivals (default 1). */
  seed?: number;
  /** Aborting stops scheduling at once and cancels in-flight requests (class 'aborted'). */
  signal?: AbortSignal;
  onRecord?: (record: RequestRecord) => void;
  /** Called once per elapsed second of the run with that second's figures. */
  onSecond?: (stats: SecondStats) => void;
  /** Keep at most this many characters of each response body (default 200). */
  bodyMaxChars?: number;
}

export interface RequestRecord {
  vehicleIndex: number;
  seq: number;
  /** Exactly what was sent (null when the payload had no such field of that type). */
  vehicleId: string | null;
  timestamp: number | null;
  intendedMs: number;
  /** When the request was written to a socket; dispatch time when it never was. */
  sentMs: number;
  completedMs: number;
  /** HTTP status, or null on error. */
  status: number | null;
  errorClass: ErrorClass | null;
  /** Low-level error code (ECONNREFUSED, UND_ERR_SOCKET, …) when errorClass is set. */
  errorCode: string | null;
  /** Response body, truncated to bodyMaxChars. */
  body: string | null;
}

export interface SecondStats {
  /** 0 for the first second of the run. */
  second: number;
  /** Epoch ms at which this second starts. */
  tMs: number;
  /** Sends that left in this second. */
  sent: number;
  /** Sends later than lateThresholdMs (and sends skipped as late, with dropLate). */
  late: number;
  droppedLate: number;
  /** Exchanges that completed in this second (any outcome). */
  completed: number;
  acknowledged: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Largest number of requests in flight seen during the second. */
  maxInFlight: number;
  /** Latency (ms) of replies completed in this second; 0 when none. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  uncorrectedP99Ms: number;
  /** The publisher's own event-loop delay during this second (ms). */
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
}

export interface PublisherResult {
  startedAtMs: number;
  endedAtMs: number;
  aborted: boolean;
  config: ResolvedConfig;
  /** Sends the schedule produced (= sent + droppedLate). */
  scheduled: number;
  sent: number;
  droppedLate: number;
  /** Reached a socket later than lateThresholdMs after the slot (scheduler delay + connection wait). */
  late: number;
  /**
   * Dispatched later than lateThresholdMs after the slot: the publisher itself
   * (CPU, event loop) could not keep its schedule. A subset of `late`.
   */
  schedulerLate: number;
  completed: number;
  /** 2xx replies. */
  acknowledged: number;
  non2xxByStatus: Record<string, number>;
  errorsByClass: Record<ErrorClass, number>;
  maxInFlight: number;
  /** Requests still unresolved when the drain timeout ran out (then aborted). */
  unresolvedAtEnd: number;
  latency: { corrected: Percentiles; uncorrected: Percentiles };
  /** actual − intended send time (ms): scheduler delay + wait for a free connection. */
  sendLag: Percentiles;
  /** dispatch − intended (ms): the scheduler's own delay. */
  schedulerLag: Percentiles;
  /** Part of sendLag spent waiting for a pooled connection (ms). */
  connectionWait: Percentiles;
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number; meanMs: number };
  perSecond: SecondStats[];
  selfHealth: SelfHealth;
}

export interface SelfHealth {
  /** (late + droppedLate) / scheduled. */
  lateFraction: number;
  /** (schedulerLate + droppedLate) / scheduled. */
  schedulerLateFraction: number;
  /** True when the figures may describe the load tool rather than the backend. */
  bottleneck: boolean;
  reasons: string[];
}

export type ResolvedConfig = Required<Pick<PublisherOptions,
  'url' | 'apiKeyHeader' | 'vehicles' | 'rateHz' | 'arrival' | 'jitter' | 'connections' | 'pipelining' |
  'transport' | 'timeoutMs' | 'lateThresholdMs' | 'dropLate' | 'drainTimeoutMs' | 'seed' | 'bodyMaxChars'>> & {
  bursts: Burst[];
  durationMs: number | null;
  maxRequests: number | null;
};

/** Default connection cap: 64 connections hold 10 Hz × 64 vehicles even at 1 s replies. */
export const DEFAULT_CONNECTIONS = 64;

export function resolveConfig(o: PublisherOptions): ResolvedConfig {
  const timeoutMs = o.timeoutMs ?? 2000;
  if (o.durationMs === undefined && o.maxRequests === undefined) {
    throw new RangeError('publisher must be bounded: set durationMs and/or maxRequests');
  }
  if (o.durationMs !== undefined && !(o.durationMs > 0)) throw new RangeError('durationMs must be > 0');
  if (o.maxRequests !== undefined && !(o.maxRequests >= 0)) throw new RangeError('maxRequests must be >= 0');
  const url = new URL(o.url);
  if (url.protocol !== 'http:') throw new RangeError(`only http: URLs are supported, got ${url.protocol}`);
  const pipelining = o.pipelining ?? 1;
  if (!(Number.isInteger(pipelining) && pipelining >= 1)) throw new RangeError('pipelining must be an integer >= 1');
  const transport = o.transport ?? 'undici';
  if (transport !== 'undici' && transport !== 'raw') throw new RangeError(`transport must be 'undici' or 'raw', got ${String(transport)}`);
  return {
    url: o.url,
    apiKeyHeader: o.apiKeyHeader ?? 'x-api-key',
    vehicles: o.vehicles ?? 1,
    rateHz: o.rateHz,
    arrival: o.arrival ?? 'even',
    jitter: o.jitter ?? 0.1,
    bursts: o.bursts ?? [],
    durationMs: o.durationMs ?? null,
    maxRequests: o.maxRequests ?? null,
    connections: o.connections ?? DEFAULT_CONNECTIONS,
    pipelining,
    transport,
    timeoutMs,
    lateThresholdMs: o.lateThresholdMs ?? 10,
    dropLate: o.dropLate ?? false,
    drainTimeoutMs: o.drainTimeoutMs ?? timeoutMs + 500,
    seed: o.seed ?? 1,
    bodyMaxChars: o.bodyMaxChars ?? 200,
  };
}

/**
 * One request in flight. It is its own transport handler (no closures per
 * request: at thousands of sends a second, allocation is what costs).
 *
 * It implements the handler methods undici 7's core calls directly
 * (onConnect / onHeaders / onData / onComplete / onError; typed @deprecated
 * there). undici's newer controller API (onRequestStart / onResponseStart / …)
 * is an adapter over these: undici wraps such a handler in an UnwrapHandler,
 * allocates a controller and parses the raw reply headers and trailers into
 * objects for every request, none of which the publisher uses. The raw
 * transport (./rawHttp) calls the same methods.
 */
class Exchange implements Dispatcher.DispatchHandler, RawHandler {
  startMs = Number.NaN;
  deadlineMs = 0;
  status = 0;
  body = '';
  done = false;
  /** Handed to the transport and not yet given back (see UndiciTransport's gate). */
  inTransport = false;
  /** Cancels the request once it has a connection (set by onConnect). */
  abort: ((err?: Error) => void) | null = null;

  constructor(
    private readonly run: PublisherRun,
    readonly vehicleIndex: number,
    readonly seq: number,
    readonly vehicleId: string | null,
    readonly timestamp: number | null,
    readonly intendedMs: number,
    readonly dispatchMs: number,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    // Timed out while still queued for a connection: do not send it late.
    if (this.done) { abort(this.run.timeoutError); return; }
    this.abort = abort;
    if (Number.isNaN(this.startMs)) this.startMs = nowMs();
  }

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    // The body only ever reaches a RequestRecord: skip decoding when nobody takes records.
    const max = this.run.keepBodyChars;
    if (this.body.length < max) this.body += chunk.toString('utf8', 0, Math.min(chunk.length, max - this.body.length));
    return true;
  }

  onComplete(): void {
    this.run.finish(this, null);
    this.run.released(this);
  }

  onError(err: Error): void {
    this.run.finish(this, err);
    this.run.released(this);
  }
}

/** Run one publisher to completion (duration, count or abort, whichever first). */
export async function runPublisher(options: PublisherOptions): Promise<PublisherResult> {
  const cfg = resolveConfig(options);
  return new PublisherRun(cfg, options).run();
}

/** The HTTP client under the publisher: sends one POST body with an Exchange as its handler. */
interface Transport {
  send(body: string, ex: Exchange): void;
  /** The exchange's request is over (its handler got onComplete / onError). */
  released(ex: Exchange): void;
  close(): Promise<void>;
  destroy(err: Error): Promise<void>;
}

/**
 * undici Pool behind a gate: at most connections × pipelining requests are
 * inside undici; the rest wait here, in order. A request that times out
 * while waiting is dropped here without ever reaching undici. (Without the
 * gate, timed-out requests stay queued inside undici, whose abort function
 * only comes with onConnect; after an overload undici then works through
 * them one event-loop turn each: ~40 s of CPU after 100 k timeouts, and
 * pool.close() waits for all of it.)
 */
class UndiciTransport implements Transport {
  private readonly pool: Pool;
  private readonly pipelined: boolean;
  private readonly limit: number;
  private held = 0;
  private readonly waitingEx: (Exchange | undefined)[] = [];
  private readonly waitingBody: (string | undefined)[] = [];
  private waitingHead = 0;

  constructor(origin: string, private readonly path: string, private readonly headers: string[], cfg: ResolvedConfig) {
    this.pool = new Pool(origin, {
      connections: cfg.connections,
      pipelining: cfg.pipelining,
      keepAliveTimeout: 30_000,
      connect: { timeout: cfg.timeoutMs },
      // Our own sweep enforces timeoutMs over the whole exchange; these are backstops.
      headersTimeout: cfg.timeoutMs * 2,
      bodyTimeout: cfg.timeoutMs * 2,
    });
    this.pipelined = cfg.pipelining > 1;
    this.limit = cfg.connections * cfg.pipelining;
  }

  send(body: string, ex: Exchange): void {
    if (this.held < this.limit && this.waitingHead === this.waitingEx.length) {
      this.dispatch(body, ex);
    } else {
      this.waitingEx.push(ex);
      this.waitingBody.push(body);
    }
  }

  released(ex: Exchange): void {
    if (!ex.inTransport) return;
    ex.inTransport = false;
    this.held--;
    while (this.held < this.limit && this.waitingHead < this.waitingEx.length) {
      const next = this.waitingEx[this.waitingHead]!;
      const body = this.waitingBody[this.waitingHead]!;
      this.waitingEx[this.waitingHead] = undefined;
      this.waitingBody[this.waitingHead] = undefined;
      this.waitingHead++;
      if (next.done) continue; // timed out while waiting: never sent
      try {
        this.dispatch(body, next);
      } catch (err) {
        next.onError(err as Error);
      }
    }
    if (this.waitingHead === this.waitingEx.length) {
      this.waitingEx.length = 0;
      this.waitingBody.length = 0;
      this.waitingHead = 0;
    } else if (this.waitingHead > 4096 && this.waitingHead * 2 > this.waitingEx.length) {
      this.waitingEx.splice(0, this.waitingHead);
      this.waitingBody.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private dispatch(body: string, ex: Exchange): void {
    this.held++;
    ex.inTransport = true;
    try {
      // A fresh options object per request: undici keeps it until the request is written.
      if (!this.pipelined) {
        this.pool.dispatch({ path: this.path, method: 'POST', headers: this.headers, body }, ex);
      } else {
        // undici pipelines only requests marked idempotent and non-blocking (a
        // POST otherwise waits for the connection to be idle). The price: undici
        // may re-send requests pipelined behind one whose connection failed.
        this.pool.dispatch({ path: this.path, method: 'POST', headers: this.headers, body, idempotent: true, blocking: false }, ex);
      }
    } catch (err) {
      // (undici reports its own errors through onError, which released it already.)
      if (ex.inTransport) { ex.inTransport = false; this.held--; }
      throw err;
    }
  }

  /** Called once nothing is in flight: whatever still waits here timed out already. */
  close(): Promise<void> {
    this.dropWaiting();
    return this.pool.close();
  }

  destroy(err: Error): Promise<void> {
    // The publisher finishes the exchanges still waiting here itself (class 'aborted').
    this.dropWaiting();
    return this.pool.destroy(err);
  }

  private dropWaiting(): void {
    this.waitingEx.length = 0;
    this.waitingBody.length = 0;
    this.waitingHead = 0;
  }
}

class RawTransport implements Transport {
  private readonly pool: RawHttpPool;

  constructor(origin: string, path: string, headers: string[], cfg: ResolvedConfig) {
    this.pool = new RawHttpPool(origin, path, {
      connections: cfg.connections,
      pipelining: cfg.pipelining,
      connectTimeoutMs: cfg.timeoutMs,
      keepAliveTimeoutMs: 30_000,
      headers,
    });
  }

  send(body: string, ex: Exchange): void { this.pool.dispatch(body, ex); }
  /** The raw pool drops timed-out requests from its own queue as it reaches them. */
  released(): void { /* nothing to do */ }
  close(): Promise<void> { return this.pool.close(); }
  destroy(err: Error): Promise<void> { return this.pool.destroy(err); }
}

class PublisherRun {
  private readonly transport: Transport;
  readonly timeoutMs: number;
  /**
   * One instance for every timeout of the run: only its class and code reach
   * a record, and building an Error (stack trace) per timed-out request is
   * what made the tool itself collapse when a stalled backend times out
   * thousands of requests a second.
   */
  readonly timeoutError: RequestTimeoutError;
  /** bodyMaxChars when records are taken, else 0 (reply bodies are not decoded). */
  readonly keepBodyChars: number;
  /** Whole-run latency: the per-second histograms are added in as each second closes. */
  private readonly corrected = createHistogram();
  private readonly uncorrected = createHistogram();
  private readonly sendLag = createHistogram();
  private readonly schedLag = createHistogram();
  private readonly connWait = createHistogram();
  private readonly secCorrected = createHistogram();
  private readonly secUncorrected = createHistogram();
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private readonly secLoop: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  /** In dispatch order; deadlines are then in order too, so the sweep only looks at the head. */
  private readonly pending: Exchange[] = [];
  private pendingHead = 0;

  private startMs = 0;
  private stopped = false;
  private aborted = false;
  /** Runs the scheduler at once (after an abort) instead of at its next timer. */
  private wakeScheduler: (() => void) | null = null;
  private inFlight = 0;
  private maxInFlight = 0;
  private scheduled = 0;
  private sent = 0;
  private droppedLate = 0;
  private late = 0;
  private schedulerLate = 0;
  private completed = 0;
  private acknowledged = 0;
  private readonly non2xx: Record<string, number> = {};
  private readonly errors = emptyErrorCounts();
  private unresolvedAtEnd = 0;

  private sec: SecondStats;
  private readonly perSecond: SecondStats[] = [];

  constructor(private readonly cfg: ResolvedConfig, private readonly o: PublisherOptions) {
    const url = new URL(cfg.url);
    const path = url.pathname + url.search;
    /** Flat [name, value, …] list, built once per run rather than per request. */
    const headers = Object.entries({
      'content-type': 'application/json',
      ...(o.apiKey ? { [cfg.apiKeyHeader]: o.apiKey } : {}),
      ...o.extraHeaders,
    }).flat();
    this.transport = cfg.transport === 'raw'
      ? new RawTransport(url.origin, path, headers, cfg)
      : new UndiciTransport(url.origin, path, headers, cfg);
    this.timeoutMs = cfg.timeoutMs;
    this.timeoutError = new RequestTimeoutError(cfg.timeoutMs);
    this.keepBodyChars = o.onRecord ? cfg.bodyMaxChars : 0;
    this.sec = this.emptySecond(0);
  }

  async run(): Promise<PublisherResult> {
    const cfg = this.cfg;
    const signal = this.o.signal;
    this.startMs = nowMs();
    this.sec = this.emptySecond(0);
    const endMs = cfg.durationMs === null ? Number.POSITIVE_INFINITY : this.startMs + cfg.durationMs;
    let schedule: ArrivalSchedule;
    try {
      schedule = new ArrivalSchedule({
        vehicles: cfg.vehicles, rateHz: cfg.rateHz, arrival: cfg.arrival, jitter: cfg.jitter,
        bursts: cfg.bursts, startMs: this.startMs, endMs, random: seededRandom(cfg.seed),
      });
    } catch (err) {
      await this.transport.destroy(new AbortError('publisher failed')).catch(() => undefined);
      this.destroyHistograms();
      throw err;
    }
    this.loop.enable();
    this.secLoop.enable();
    const onAbort = (): void => { this.stopped = true; this.aborted = true; this.wakeScheduler?.(); };
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const ticker = setInterval(() => { this.rollTo(nowMs()); this.sweepTimeouts(nowMs()); }, 25);

    try {
      await this.schedule(schedule);
      await this.drain();
    } catch (err) {
      // A throwing payload function (or a bug): release every socket before reporting it.
      this.stopped = true;
      await this.transport.destroy(new AbortError('publisher failed')).catch(() => undefined);
      this.destroyHistograms();
      throw err;
    } finally {
      clearInterval(ticker);
      signal?.removeEventListener('abort', onAbort);
      this.loop.disable();
      this.secLoop.disable();
    }
    const endedAtMs = nowMs();
    this.rollTo(endedAtMs);
    this.closeSecond(true);
    const result = this.result(endedAtMs);
    this.destroyHistograms();
    return result;
  }

  private destroyHistograms(): void {
    for (const h of [this.corrected, this.uncorrected, this.sendLag, this.schedLag, this.connWait, this.secCorrected, this.secUncorrected]) h.destroy();
  }

  // ---- scheduling -------------------------------------------------------

  /**
   * One timer per tick: each tick sends every slot that is due, then sleeps
   * until the next one. Never sends before the slot; timers have 1 ms
   * granularity, so a send leaves 0–~1.5 ms after its slot (spinning to do
   * better would steal the CPU the replies, and on a small box the server,
   * need). When behind schedule, a tick stops after 64 sends or 4 ms and
   * continues after pending I/O (setImmediate), so replies are still read.
   */
  private schedule(schedule: ArrivalSchedule): Promise<void> {
    const max = this.cfg.maxRequests ?? Number.POSITIVE_INFINITY;
    return new Promise<void>((resolve, reject) => {
      // The next arrival, taken from the schedule before its time (pop without peek: one allocation a send).
      let next: Arrival | undefined = schedule.pop();
      let timer: NodeJS.Timeout | null = null;
      let immediate: NodeJS.Immediate | null = null;
      const end = (err?: unknown): void => {
        if (timer) clearTimeout(timer);
        if (immediate) clearImmediate(immediate);
        timer = null;
        immediate = null;
        this.wakeScheduler = null;
        if (err === undefined) resolve(); else reject(err);
      };
      const tick = (): void => {
        timer = null;
        immediate = null;
        try {
          const tickStart = nowMs();
          let t = tickStart;
          let burst = 0;
          for (;;) {
            if (this.stopped || this.scheduled >= max || next === undefined) { end(); return; }
            const wait = next.intendedMs - t;
            if (wait > 0) { timer = setTimeout(tick, Math.max(1, Math.ceil(wait))); return; }
            const a = next;
            next = schedule.pop();
            this.scheduled++;
            this.fire(a.vehicleIndex, a.seq, a.intendedMs, t);
            t = nowMs();
            if (++burst >= 64 || t - tickStart > 4) { immediate = setImmediate(tick); return; }
          }
        } catch (err) {
          end(err);
        }
      };
      this.wakeScheduler = () => {
        if (timer || immediate) {
          if (timer) clearTimeout(timer);
          if (immediate) clearImmediate(immediate);
          tick();
        }
      };
      tick();
    });
  }

  private fire(vehicleIndex: number, seq: number, intendedMs: number, t: number): void {
    this.rollTo(t);
    if (this.cfg.dropLate && t - intendedMs > this.cfg.lateThresholdMs) {
      this.droppedLate++;
      this.sec.droppedLate++;
      this.sec.late++;
      return;
    }
    const payload = this.o.payload(vehicleIndex, seq, intendedMs) as Record<string, unknown>;
    const body = JSON.stringify(payload);
    // Dispatch time: after the payload is built (a slow payload function makes the send late).
    const dispatchMs = nowMs();
    const ex = new Exchange(
      this, vehicleIndex, seq,
      typeof payload?.vehicle_id === 'string' ? payload.vehicle_id : null,
      typeof payload?.timestamp === 'number' ? payload.timestamp : null,
      intendedMs, dispatchMs,
    );
    ex.deadlineMs = dispatchMs + this.timeoutMs;
    recordMs(this.schedLag, dispatchMs - intendedMs);
    if (dispatchMs - intendedMs > this.cfg.lateThresholdMs) this.schedulerLate++;
    this.pending.push(ex);
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    if (this.inFlight > this.sec.maxInFlight) this.sec.maxInFlight = this.inFlight;
    this.sent++;
    this.sec.sent++;
    try {
      this.transport.send(body, ex);
    } catch (err) {
      this.finish(ex, err);
    }
  }

  // ---- completion --------------------------------------------------------

  released(ex: Exchange): void {
    this.transport.released(ex);
  }

  finish(ex: Exchange, err: unknown): void {
    if (ex.done) return;
    ex.done = true;
    ex.abort = null;
    const t = nowMs();
    this.rollTo(t);
    this.inFlight--;
    this.completed++;
    this.sec.completed++;
    const sentMs = Number.isNaN(ex.startMs) ? ex.dispatchMs : ex.startMs;
    if (!Number.isNaN(ex.startMs)) {
      const lag = ex.startMs - ex.intendedMs;
      recordMs(this.sendLag, lag);
      recordMs(this.connWait, ex.startMs - ex.dispatchMs);
      if (lag > this.cfg.lateThresholdMs) { this.late++; this.sec.late++; }
    }
    let errorClass: ErrorClass | null = null;
    let errorCode: string | null = null;
    if (err) {
      ({ errorClass, code: errorCode } = classifyError(err));
      this.errors[errorClass]++;
      this.sec.errors++;
      if (errorClass === 'timeout') this.sec.timeouts++;
    } else {
      // Into this second's histograms only; closeSecond adds them to the run's.
      recordMs(this.secCorrected, t - ex.intendedMs);
      recordMs(this.secUncorrected, t - sentMs);
      if (ex.status >= 200 && ex.status < 300) {
        this.acknowledged++;
        this.sec.acknowledged++;
      } else {
        this.non2xx[ex.status] = (this.non2xx[ex.status] ?? 0) + 1;
        this.sec.non2xx++;
      }
    }
    this.o.onRecord?.({
      vehicleIndex: ex.vehicleIndex, seq: ex.seq, vehicleId: ex.vehicleId, timestamp: ex.timestamp,
      intendedMs: ex.intendedMs, sentMs, completedMs: t,
      status: err ? null : ex.status, errorClass, errorCode,
      body: err ? null : ex.body,
    });
  }

  /** Time out the oldest exchanges; O(1) amortised because deadlines are in dispatch order. */
  private sweepTimeouts(t: number): void {
    const p = this.pending;
    while (this.pendingHead < p.length) {
      const ex = p[this.pendingHead]!;
      if (!ex.done) {
        if (ex.deadlineMs > t) break;
        const abort = ex.abort;
        this.finish(ex, this.timeoutError);
        // Not yet on a connection: onConnect sees `done` and aborts it then.
        abort?.(this.timeoutError);
      }
      this.pendingHead++;
    }
    if (this.pendingHead > 4096 && this.pendingHead * 2 > p.length) {
      p.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
  }

  private async drain(): Promise<void> {
    const until = nowMs() + (this.aborted ? 0 : this.cfg.drainTimeoutMs);
    while (this.inFlight > 0 && nowMs() < until && !this.aborted) {
      this.sweepTimeouts(nowMs());
      await sleep(5, this.o.signal);
    }
    if (this.inFlight > 0) {
      // Run aborted or drain expired: cancel what is left (class 'aborted').
      const left = this.pending.slice(this.pendingHead).filter((e) => !e.done);
      this.unresolvedAtEnd = left.length;
      await this.transport.destroy(new AbortError('publisher stopped')).catch(() => undefined);
      for (const ex of left) this.finish(ex, new AbortError('publisher stopped'));
    } else {
      await this.transport.close();
    }
  }

  // ---- per-second --------------------------------------------------------

  private emptySecond(second: number): SecondStats {
    return {
      second, tMs: this.startMs + second * 1000, sent: 0, late: 0, droppedLate: 0, completed: 0,
      acknowledged: 0, non2xx: 0, errors: 0, timeouts: 0, maxInFlight: this.inFlight,
      latencyP50Ms: 0, latencyP99Ms: 0, latencyMaxMs: 0, uncorrectedP99Ms: 0, eventLoopP99Ms: 0, eventLoopMaxMs: 0,
    };
  }

  /** Close every second that has fully elapsed before `t`. */
  private rollTo(t: number): void {
    const idx = secondIndex(t, this.startMs);
    while (this.sec.second < idx) {
      this.closeSecond(false);
      this.sec = this.emptySecond(this.sec.second + 1);
    }
  }

  private closeSecond(final: boolean): void {
    const s = this.sec;
    if (final && s.sent === 0 && s.completed === 0 && s.droppedLate === 0) return;
    const c = percentilesMs(this.secCorrected);
    s.latencyP50Ms = c.p50;
    s.latencyP99Ms = c.p99;
    s.latencyMaxMs = c.max;
    s.uncorrectedP99Ms = percentilesMs(this.secUncorrected).p99;
    s.eventLoopP99Ms = loopDelayMs(this.secLoop, 99);
    s.eventLoopMaxMs = loopDelayMs(this.secLoop, 100);
    // Bulk: one pass over the counts per second instead of two more records per reply.
    if (this.secCorrected.totalCount > 0) {
      this.corrected.add(this.secCorrected);
      this.uncorrected.add(this.secUncorrected);
    }
    this.secCorrected.reset();
    this.secUncorrected.reset();
    this.secLoop.reset();
    this.perSecond.push(s);
    try { this.o.onSecond?.(s); } catch { /* a progress callback must not break the run */ }
  }

  // ---- result ------------------------------------------------------------

  private result(endedAtMs: number): PublisherResult {
    const lateFraction = this.scheduled === 0 ? 0 : (this.late + this.droppedLate) / this.scheduled;
    const schedulerLateFraction = this.scheduled === 0 ? 0 : (this.schedulerLate + this.droppedLate) / this.scheduled;
    const loop = {
      p50Ms: loopDelayMs(this.loop, 50),
      p99Ms: loopDelayMs(this.loop, 99),
      maxMs: loopDelayMs(this.loop, 100),
      meanMs: loopDelayMs(this.loop, 'mean'),
    };
    const connectionWait = percentilesMs(this.connWait);
    const reasons: string[] = [];
    if (schedulerLateFraction > 0.01) {
      reasons.push(`the publisher dispatched ${(schedulerLateFraction * 100).toFixed(1)}% of sends more than ${this.cfg.lateThresholdMs} ms after their slot (CPU / event loop)`);
    }
    if (loop.p99Ms > this.cfg.lateThresholdMs) {
      reasons.push(`publisher event-loop delay p99 ${loop.p99Ms.toFixed(1)} ms > ${this.cfg.lateThresholdMs} ms`);
    }
    if (connectionWait.p99 > this.cfg.lateThresholdMs) {
      reasons.push(`requests waited for a free connection (p99 ${connectionWait.p99} ms): raise connections above ${this.cfg.connections}`);
    }
    return {
      startedAtMs: this.startMs,
      endedAtMs,
      aborted: this.aborted,
      config: this.cfg,
      scheduled: this.scheduled,
      sent: this.sent,
      droppedLate: this.droppedLate,
      late: this.late,
      schedulerLate: this.schedulerLate,
      completed: this.completed,
      acknowledged: this.acknowledged,
      non2xxByStatus: { ...this.non2xx },
      errorsByClass: { ...this.errors },
      maxInFlight: this.maxInFlight,
      unresolvedAtEnd: this.unresolvedAtEnd,
      latency: { corrected: percentilesMs(this.corrected), uncorrected: percentilesMs(this.uncorrected) },
      sendLag: percentilesMs(this.sendLag),
      schedulerLag: percentilesMs(this.schedLag),
      connectionWait,
      eventLoop: loop,
      perSecond: this.perSecond,
      selfHealth: { lateFraction, schedulerLateFraction, bottleneck: reasons.length > 0, reasons },
    };
  }
}

const LOOP_RESOLUTION_MS = 10;

/**
 * Event-loop delay in ms. Node 20's histogram holds the whole interval between
 * its timer's ticks (≈ resolution when idle), so the resolution is subtracted
 * to leave the delay proper.
 */
function loopDelayMs(h: IntervalHistogram, p: number | 'mean'): number {
  if (h.count === 0) return 0;
  const ns = p === 'mean' ? h.mean : p === 100 ? h.max : h.percentile(p);
  return Math.max(0, Math.round((ns / 1e6 - LOOP_RESOLUTION_MS) * 1000) / 1000);
}

class AbortError extends Error {
  override name = 'AbortError';
}

