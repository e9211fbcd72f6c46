/**
 * SSE listeners: N clients on GET /api/v1/telemetry/stream, each parsing
 * `data:` events and stamping their receive time (same clock as the
 * publisher), so send→SSE lag can be matched per sample key.
 *
 * A client can be a deliberately bad reader, to reproduce a server that
 * writes to every client "ignoring back-pressure" (backend-contract.md):
 *  - slow:    consumes at most `bytesPerSec` (the socket's receive window
 *             then fills and the server has to buffer the rest);
 *  - stalled: stops reading entirely after `afterMs` (default at once).
 * With node:http, pausing the response stops reading the socket once the
 * stream's small buffer is full, so the kernel buffers fill for real.
 */
import http from 'node:http';
import { nowMs } from './clock';
import { SseParser } from './sseParser';

export type SseReaderMode =
  | { kind: 'normal' }
  | { kind: 'slow'; bytesPerSec: number }
  | { kind: 'stalled'; afterMs?: number };

export interface SseEvent {
  client: number;
  receivedMs: number;
  event: string;
  data: string;
  /** From the JSON data, when it is an object carrying them. */
  vehicleId: string | null;
  timestamp: number | null;
  serverReceiveTime: number | null;
}

export interface SseOptions {
  /** Full stream URL, e.g. http://127.0.0.1:3000/api/v1/telemetry/stream. */
  url: string;
  clients: number;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** One mode for all clients, or per client index. Default normal. */
  reader?: SseReaderMode | ((clientIndex: number) => SseReaderMode);
  /** Close every client after this long (ms). Strongly advised; close() works anyway. */
  durationMs?: number;
  /** Give up on a connection attempt after this long (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Reconnect after the server closes or errors, at most this many times per client (default 0). */
  maxReconnects?: number;
  /** Delay before a reconnect (default: the server's `retry:` value capped at 1000 ms, else 500 ms). */
  reconnectDelayMs?: number;
  onEvent?: (event: SseEvent) => void;
  signal?: AbortSignal;
}

export interface SseClientStats {
  index: number;
  mode: SseReaderMode['kind'];
  status: number | null;
  connectedAtMs: number | null;
  events: number;
  /** Bytes the client actually consumed. */
  bytes: number;
  firstEventMs: number | null;
  lastEventMs: number | null;
  /** Events whose data was not JSON. */
  nonJson: number;
  oversized: number;
  reconnects: number;
  lastError: string | null;
  /** Why the last connection ended (null while open). */
  endedBy: 'client' | 'server' | 'error' | null;
}

export interface SseListeners {
  /** Resolves once every client has connected or failed its first attempt. */
  ready: Promise<void>;
  stats(): SseClientStats[];
  /** Close every client (idempotent); resolves with the final stats. */
  close(): Promise<SseClientStats[]>;
  /** Resolves when all clients have ended (closed, or failed without reconnects left). */
  done: Promise<SseClientStats[]>;
}

export function startSseListeners(options: SseOptions): SseListeners {
  if (!(options.clients >= 0) || !Number.isInteger(options.clients)) throw new RangeError('clients must be an integer >= 0');
  const url = new URL(options.url);
  if (url.protocol !== 'http:') throw new RangeError(`only http: URLs are supported, got ${url.protocol}`);
  const clients: SseClient[] = [];
  for (let i = 0; i < options.clients; i++) {
    const mode = typeof options.reader === 'function' ? options.reader(i) : options.reader ?? { kind: 'normal' };
    clients.push(new SseClient(i, url, mode, options));
  }
  let closing: Promise<SseClientStats[]> | null = null;
  const close = (): Promise<SseClientStats[]> => {
    closing ??= (async () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      await Promise.all(clients.map((c) => c.close()));
      return clients.map((c) => c.snapshot());
    })();
    return closing;
  };
  const onAbort = (): void => void close();
  const timer = options.durationMs !== undefined ? setTimeout(onAbort, options.durationMs) : undefined;
  if (options.signal?.aborted) void close();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  return {
    ready: Promise.all(clients.map((c) => c.firstAttempt)).then(() => undefined),
    stats: () => clients.map((c) => c.snapshot()),
    close,
    done: Promise.all(clients.map((c) => c.ended)).then(() => clients.map((c) => c.snapshot())),
  };
}

class SseClient {
  private readonly s: SseClientStats;
  private req: http.ClientRequest | null = null;
  private res: http.IncomingMessage | null = null;
  private closed = false;
  /** Connection generation: events of an earlier connection are ignored after a reconnect. */
  private gen = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private parser: SseParser;
  readonly firstAttempt: Promise<void>;
  private settleFirst!: () => void;
  readonly ended: Promise<void>;
  private settleEnded!: () => void;

  constructor(index: number, private readonly url: URL, private readonly mode: SseReaderMode, private readonly o: SseOptions) {
    this.s = {
      index, mode: mode.kind, status: null, connectedAtMs: null, events: 0, bytes: 0,
      firstEventMs: null, lastEventMs: null, nonJson: 0, oversized: 0, reconnects: 0, lastError: null, endedBy: null,
    };
    this.parser = this.newParser();
    this.firstAttempt = new Promise((r) => { this.settleFirst = r; });
    this.ended = new Promise((r) => { this.settleEnded = r; });
    this.connect();
  }

  snapshot(): SseClientStats {
    return { ...this.s, oversized: this.s.oversized + this.parser.oversized };
  }

  async close(): Promise<void> {
    if (this.closed) return this.ended;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.s.endedBy === null) this.s.endedBy = 'client';
    this.req?.destroy();
    this.res?.destroy();
    this.settleFirst();
    this.settleEnded();
  }

  private newParser(): SseParser {
    return new SseParser((e) => this.onParsed(e.event, e.data));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => { this.timers.delete(t); fn(); }, ms);
    this.timers.add(t);
  }

  private connect(): void {
    if (this.closed) return;
    const gen = ++this.gen;
    this.s.endedBy = null;
    this.s.oversized += this.parser.oversized;
    this.parser = this.newParser();
    const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' };
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    // agent: false = a socket of its own, never shared with (or starved by) other clients.
    const req = http.get(this.url, { headers, agent: false, timeout: this.o.connectTimeoutMs ?? 5000 });
    this.req = req;
    req.on('timeout', () => req.destroy(new Error('connect timeout')));
    req.on('error', (err) => this.ended_(gen, 'error', err.message));
    req.on('response', (res) => {
      this.res = res;
      this.s.status = res.statusCode ?? null;
      req.setTimeout(0);
      if (res.statusCode !== 200) {
        this.s.lastError = `HTTP ${res.statusCode}`;
        res.resume();
        res.on('end', () => this.ended_(gen, 'error', `HTTP ${res.statusCode}`));
        return;
      }
      this.s.connectedAtMs = nowMs();
      this.settleFirst();
      res.on('end', () => this.ended_(gen, 'server', null));
      res.on('error', (err) => this.ended_(gen, 'error', err.message));
      res.on('close', () => this.ended_(gen, 'server', null));
      this.read(res);
    });
  }

  private read(res: http.IncomingMessage): void {
    const m = this.mode;
    if (m.kind === 'normal') {
      res.on('data', (c: Buffer) => this.consume(c));
    } else if (m.kind === 'stalled') {
      const after = m.afterMs ?? 0;
      if (after <= 0) { res.pause(); return; }
      res.on('data', (c: Buffer) => this.consume(c));
      this.later(after, () => {
        // From here on nothing is read: the socket buffers fill up.
        res.removeAllListeners('data');
        res.pause();
      });
    } else {
      if (!(m.bytesPerSec > 0)) throw new RangeError('slow reader needs bytesPerSec > 0');
      res.pause();
      const tickMs = 100;
      let allowance = 0;
      const tick = (): void => {
        if (this.closed || res.destroyed) return;
        allowance = Math.min(allowance + (m.bytesPerSec * tickMs) / 1000, m.bytesPerSec);
        while (allowance >= 1 && res.readableLength > 0) {
          const c = res.read(Math.min(Math.floor(allowance), res.readableLength)) as Buffer | null;
          if (!c) break;
          allowance -= c.length;
          this.consume(c);
        }
        // read(0) asks the stream to refill its buffer from the socket (up to its highWaterMark).
        if (res.readableLength === 0) res.read(0);
        this.later(tickMs, tick);
      };
      this.later(tickMs, tick);
    }
  }

  private consume(chunk: Buffer): void {
    this.s.bytes += chunk.length;
    this.parser.push(chunk);
  }

  private onParsed(event: string, data: string): void {
    const t = nowMs();
    this.s.events++;
    this.s.firstEventMs ??= t;
    this.s.lastEventMs = t;
    let vehicleId: string | null = null;
    let timestamp: number | null = null;
    let serverReceiveTime: number | null = null;
    try {
      const j = JSON.parse(data) as unknown;
      if (j && typeof j === 'object') {
        const o = j as Record<string, unknown>;
        if (typeof o.vehicle_id === 'string') vehicleId = o.vehicle_id;
        if (typeof o.timestamp === 'number') timestamp = o.timestamp;
        if (typeof o.serverReceiveTime === 'number') serverReceiveTime = o.serverReceiveTime;
      }
    } catch {
      this.s.nonJson++;
    }
    this.o.onEvent?.({ client: this.s.index, receivedMs: t, event, data, vehicleId, timestamp, serverReceiveTime });
  }

  private ended_(gen: number, by: 'server' | 'error', err: string | null): void {
    if (this.closed || gen !== this.gen || this.s.endedBy !== null) return;
    this.s.endedBy = by;
    if (err) this.s.lastError = err;
    this.req = null;
    this.res = null;
    this.settleFirst();
    if (this.s.reconnects < (this.o.maxReconnects ?? 0)) {
      this.s.reconnects++;
      const delay = this.o.reconnectDelayMs ?? Math.min(this.parser.retryMs ?? 500, 1000);
      this.later(delay, () => this.connect());
    } else {
      this.settleEnded();
    }
  }
}
