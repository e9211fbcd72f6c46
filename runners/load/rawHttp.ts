/**
 * Opt-in raw HTTP/1.1 transport for the open-model publisher
 * (`transport: 'raw'`): keep-alive `net.Socket`s to one origin, each request
 * written as ONE string (head + body), replies parsed by a small incremental
 * parser (status line, content-length / chunked / read-until-close bodies,
 * 1xx skipped, `connection: close` and `keep-alive: timeout=` honoured).
 *
 * Why it exists: on a 2-core box the publisher's ceiling is CPU, and undici's
 * per-request machinery (Request object, header validation, wasm parser,
 * per-request timers, a setImmediate before every write on a reused socket)
 * costs several µs a request more than this. The default transport stays
 * undici; this one is for finding a backend's ceiling from a small machine.
 *
 * It speaks to the publisher through the same callbacks undici's dispatcher
 * calls (onConnect / onHeaders / onData / onComplete / onError), so records
 * and outcomes are produced by the same code. Errors carry the codes undici
 * would give for the same event (ECONNREFUSED, UND_ERR_SOCKET, …), so they
 * classify the same way.
 *
 * Scope: POST with a string body to a single http: origin, no proxies, no
 * TLS, no upgrades, no request retries (a non-idempotent send is never
 * repeated: a broken connection fails what was on it).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** What the transport calls; the publisher's Exchange (an undici dispatch handler) fits it. */
export interface RawHandler {
  /** Right before the request is written. Calling `abort` then cancels it (it is not written). */
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  onError(err: Error): void;
}

export interface RawHttpOptions {
  /** Max keep-alive connections. */
  connections: number;
  /** Requests written on a connection before its first reply is read (1 = no pipelining). */
  pipelining: number;
  /** A connection not established within this is failed (code UND_ERR_CONNECT_TIMEOUT). */
  connectTimeoutMs: number;
  /** Idle time after which a kept-alive connection is not reused, when the server gives no hint. */
  keepAliveTimeoutMs: number;
  /** Flat [name, value, …] list added to every request. */
  headers: readonly string[];
}

/** Largest response head (status line + headers) accepted, like undici's default. */
const MAX_HEAD_BYTES = 16 * 1024;
/** A server's `keep-alive: timeout=N` is trusted minus this margin (undici: 1 s). */
const KEEP_ALIVE_MARGIN_MS = 1000;

export class RawHttpError extends Error {
  constructor(message: string, readonly code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RawHttpError';
  }
}

/** Whether the header name at `at` is `lower` (ASCII case-insensitive; the caller checked the length). */
function nameIs(head: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = head.charCodeAt(at + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Passed to kill() when no request is left to fail. */
const CONNECTION_DROPPED = new RawHttpError('connection dropped', 'UND_ERR_INFO');

const enum Body { Head, Length, Chunked, UntilClose }
const enum Chunk { Size, Data, DataEnd, Trailers }

/** What the reply parser reports, in order, for each reply. */
export interface ReplySink {
  /** A final (non-1xx) reply head. Return false to stop parsing (e.g. no request is waiting). */
  onReplyHead(status: number): boolean;
  onReplyData(chunk: Buffer): void;
  /**
   * The reply is complete. `keepAlive`: the connection may carry another
   * request; `keepAliveHintMs`: the server's `keep-alive: timeout=` (ms), or -1.
   */
  onReplyEnd(keepAlive: boolean, keepAliveHintMs: number): void;
  /** Malformed input: parsing stops for good. */
  onParseError(message: string): void;
}

/**
 * Incremental HTTP/1.1 reply parser for one connection: feed it the bytes as
 * they arrive (any split), it reports heads, body bytes (content-length,
 * chunked, or until the connection closes) and ends. Only the headers that
 * frame the reply are interpreted (content-length, transfer-encoding,
 * connection, keep-alive). Replies to HEAD requests are not supported (the
 * publisher only POSTs).
 */
export class ReplyParser {
  private carry: Buffer | null = null;
  private mode: Body = Body.Head;
  private chunk: Chunk = Chunk.Size;
  private remaining = 0;
  private keepAlive = true;
  private hintMs = -1;
  private stopped = false;
  /** A server sends the same keep-alive header every time: parse it once. */
  private lastKeepAliveValue = '';
  private lastKeepAliveHint = -1;

  constructor(private readonly sink: ReplySink) {}

  /** Stop for good (the connection was dropped). */
  stop(): void {
    this.stopped = true;
    this.carry = null;
  }

  /** Between replies with nothing buffered. */
  get idle(): boolean {
    return this.mode === Body.Head && this.carry === null;
  }

  /**
   * The peer closed its side. A body delimited by the close is then complete
   * (true); any other unfinished reply was cut short (false).
   */
  end(): boolean {
    if (this.stopped) return false;
    if (this.mode === Body.UntilClose) {
      this.finish(false);
      return true;
    }
    return this.idle;
  }

  execute(data: Buffer): void {
    if (this.stopped) return;
    let buf = data;
    if (this.carry) { buf = Buffer.concat([this.carry, data]); this.carry = null; }
    let pos = 0;
    const n = buf.length;
    while (pos < n && !this.stopped) {
      switch (this.mode) {
        case Body.Head: {
          const end = buf.indexOf('\r\n\r\n', pos, 'latin1');
          if (end < 0 || end - pos > MAX_HEAD_BYTES) {
            if (n - pos > MAX_HEAD_BYTES) { this.fail('response head too large'); return; }
            this.carry = Buffer.from(buf.subarray(pos));
            return;
          }
          const head = buf.toString('latin1', pos, end);
          pos = end + 4;
          this.onHead(head);
          break;
        }
        case Body.Length: {
          const take = Math.min(this.remaining, n - pos);
          this.sink.onReplyData(buf.subarray(pos, pos + take));
          this.remaining -= take;
          pos += take;
          if (this.remaining === 0) this.finish(this.keepAlive);
          break;
        }
        case Body.UntilClose: {
          this.sink.onReplyData(pos === 0 ? buf : buf.subarray(pos));
          pos = n;
          break;
        }
        case Body.Chunked: {
          pos = this.onChunked(buf, pos);
          if (pos < 0) return;
          break;
        }
      }
    }
  }

  private fail(message: string): void {
    this.stop();
    this.sink.onParseError(message);
  }

  private onHead(head: string): void {
    // "HTTP/1.1 200 OK"
    if (head.length < 12 || !head.startsWith('HTTP/1.') || head.charCodeAt(8) !== 32) { this.fail('invalid status line'); return; }
    const d0 = head.charCodeAt(9) - 48, d1 = head.charCodeAt(10) - 48, d2 = head.charCodeAt(11) - 48;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) { this.fail('invalid status code'); return; }
    const status = d0 * 100 + d1 * 10 + d2;
    let keepAlive = head.charCodeAt(7) !== 48; // HTTP/1.0 closes unless asked not to
    let contentLength = -1;
    let chunked = false;
    let hint = -1;
    let line = head.indexOf('\r\n');
    line = line < 0 ? head.length : line + 2;
    while (line < head.length) {
      let eol = head.indexOf('\r\n', line);
      if (eol < 0) eol = head.length;
      // Only four headers frame the reply; pick them by name length before
      // comparing (no allocation for the others: content-type, date, …).
      const colon = head.indexOf(':', line);
      const nameLen = colon - line;
      if (colon > line && colon < eol && (nameLen === 14 || nameLen === 10 || nameLen === 17)) {
        let v0 = colon + 1;
        while (v0 < eol && (head.charCodeAt(v0) === 32 || head.charCodeAt(v0) === 9)) v0++;
        let v1 = eol;
        while (v1 > v0 && (head.charCodeAt(v1 - 1) === 32 || head.charCodeAt(v1 - 1) === 9)) v1--;
        if (nameLen === 14 && nameIs(head, line, 'content-length')) {
          let n = 0;
          if (v1 === v0 || v1 - v0 > 15) { this.fail('invalid content-length'); return; }
          for (let i = v0; i < v1; i++) {
            const d = head.charCodeAt(i) - 48;
            if (d < 0 || d > 9) { this.fail('invalid content-length'); return; }
            n = n * 10 + d;
          }
          if (contentLength >= 0 && n !== contentLength) { this.fail('invalid content-length'); return; }
          contentLength = n;
        } else if (nameLen === 10 && nameIs(head, line, 'connection')) {
          if (v1 - v0 === 10 && head.startsWith('keep-alive', v0)) keepAlive = true;
          else if (v1 - v0 === 5 && head.startsWith('close', v0)) keepAlive = false;
          else {
            const lower = head.slice(v0, v1).toLowerCase();
            if (lower.includes('close')) keepAlive = false;
            else if (lower.includes('keep-alive')) keepAlive = true;
          }
        } else if (nameLen === 10 && nameIs(head, line, 'keep-alive')) {
          const last = this.lastKeepAliveValue;
          if (!(v1 - v0 === last.length && head.startsWith(last, v0))) {
            const v = head.slice(v0, v1);
            const m = /timeout\s*=\s*(\d+)/i.exec(v);
            this.lastKeepAliveValue = v;
            this.lastKeepAliveHint = m ? Number(m[1]) * 1000 : -1;
          }
          hint = this.lastKeepAliveHint;
        } else if (nameLen === 17 && nameIs(head, line, 'transfer-encoding')) {
          chunked = /(?:^|,)\s*chunked$/i.test(head.slice(v0, v1));
        }
      }
      line = eol + 2;
    }
    if (status < 200) {
      if (status === 101) this.fail('unexpected protocol upgrade');
      return; // 1xx informational: the real reply follows
    }
    this.keepAlive = keepAlive;
    this.hintMs = hint;
    if (!this.sink.onReplyHead(status)) { this.stop(); return; }
    if (this.stopped) return;
    if (status === 204 || status === 304) {
      this.finish(keepAlive);
    } else if (chunked) {
      this.mode = Body.Chunked;
      this.chunk = Chunk.Size;
    } else if (contentLength >= 0) {
      if (contentLength === 0) this.finish(keepAlive);
      else { this.mode = Body.Length; this.remaining = contentLength; }
    } else {
      this.mode = Body.UntilClose;
    }
  }

  /** Consume chunked-body bytes from `pos`: the new position, or -1 when it needs more bytes or stopped. */
  private onChunked(buf: Buffer, pos: number): number {
    const n = buf.length;
    while (pos < n && !this.stopped && this.mode === Body.Chunked) {
      if (this.chunk === Chunk.Data) {
        const take = Math.min(this.remaining, n - pos);
        this.sink.onReplyData(buf.subarray(pos, pos + take));
        this.remaining -= take;
        pos += take;
        if (this.remaining === 0) this.chunk = Chunk.DataEnd;
        continue;
      }
      const eol = buf.indexOf('\r\n', pos, 'latin1');
      if (eol < 0) {
        if (n - pos > MAX_HEAD_BYTES) { this.fail('chunk framing too large'); return -1; }
        this.carry = Buffer.from(buf.subarray(pos));
        return -1;
      }
      if (this.chunk === Chunk.Size) {
        const line = buf.toString('latin1', pos, eol);
        const semi = line.indexOf(';');
        const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) { this.fail('invalid chunk size'); return -1; }
        const size = parseInt(hex, 16);
        pos = eol + 2;
        if (size === 0) this.chunk = Chunk.Trailers;
        else { this.chunk = Chunk.Data; this.remaining = size; }
      } else if (this.chunk === Chunk.DataEnd) {
        if (eol !== pos) { this.fail('missing CRLF after chunk data'); return -1; }
        pos = eol + 2;
        this.chunk = Chunk.Size;
      } else {
        // Trailers: header lines until an empty one, which ends the reply.
        const empty = eol === pos;
        pos = eol + 2;
        if (empty) this.finish(this.keepAlive);
      }
    }
    return this.stopped ? -1 : pos;
  }

  private finish(keepAlive: boolean): void {
    this.mode = Body.Head;
    this.chunk = Chunk.Size;
    this.remaining = 0;
    this.sink.onReplyEnd(keepAlive, this.hintMs);
  }
}

/** One keep-alive connection: writes requests, matches replies to them in order. */
class Conn implements ReplySink {
  readonly socket: net.Socket;
  ready = false;
  dead = false;
  /** On the pool's free stack (may have become unusable since: checked when taken). */
  free = false;
  /** Requests written and not yet answered, oldest first. */
  readonly inflight: RawHandler[] = [];
  /** The request this connection was opened for (written on connect, failed if the connect fails). */
  first: { body: string; handler: RawHandler } | null = null;
  idleUntilMs = Number.POSITIVE_INFINITY;
  connectTimer: NodeJS.Timeout | null = null;
  readonly abort: (err?: Error) => void;
  private readonly parser = new ReplyParser(this);
  private error: Error | null = null;
  /** Set while onConnect runs: an abort then cancels that request before it is written. */
  private writing = false;
  private abortedBeforeWrite: Error | null = null;

  constructor(private readonly pool: RawHttpPool, host: string, port: number) {
    // One abort function per connection, not per request (see onAbort).
    this.abort = (err) => this.onAbort(err);
    const s = net.connect({
      host, port, noDelay: true,
      // Reads go straight to the parser in one buffer shared by the pool's
      // sockets (the parser consumes each read before returning and copies
      // what it keeps): no Buffer per read, no Readable stream machinery.
      onread: {
        buffer: pool.readBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          this.parser.execute(Buffer.from(buf.buffer, buf.byteOffset, n));
          return true; // keep reading
        },
      },
    });
    this.socket = s;
    s.on('connect', () => {
      if (this.connectTimer) clearTimeout(this.connectTimer);
      this.connectTimer = null;
      this.ready = true;
      this.pool.onReady(this);
    });
    s.on('end', () => { if (!this.parser.end()) this.onClose(); });
    s.on('error', (e: Error) => { this.error ??= e; });
    s.on('close', () => this.onClose());
  }

  /** Write one request (the caller checked capacity). False when it was aborted before writing. */
  write(head: string, body: string, h: RawHandler): boolean {
    this.writing = true;
    this.abortedBeforeWrite = null;
    h.onConnect(this.abort);
    this.writing = false;
    if (this.abortedBeforeWrite) {
      h.onError(this.abortedBeforeWrite);
      return false;
    }
    this.idleUntilMs = Number.POSITIVE_INFINITY;
    this.inflight.push(h);
    // One string, one write: Node copies it straight into the socket's write request.
    this.socket.write(head + Buffer.byteLength(body) + '\r\n\r\n' + body);
    return true;
  }

  /**
   * HTTP/1.1 cannot cancel a request on the wire: the connection is dropped.
   * The request aborted is the OLDEST on this connection: the only one with
   * pipelining 1, and with more the publisher times requests out in dispatch
   * order, so the oldest goes first. Requests pipelined behind it lose their
   * connection (class reset).
   */
  private onAbort(err?: Error): void {
    const reason = err ?? new RawHttpError('request aborted', 'UND_ERR_ABORTED');
    if (this.writing) { this.abortedBeforeWrite = reason; return; }
    if (this.dead || this.inflight.length === 0) return;
    const h = this.inflight.shift()!;
    // (An Error costs a stack trace: only build one when someone will get it.)
    this.kill(this.inflight.length > 0 ? new RawHttpError('aborted with a pipelined request', 'UND_ERR_SOCKET') : CONNECTION_DROPPED);
    h.onError(reason);
  }

  /** Mark dead, destroy the socket, fail what was on it. */
  kill(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.ready = false;
    this.parser.stop();
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.socket.destroy();
    const first = this.first;
    this.first = null;
    const left = this.inflight.splice(0);
    this.pool.onDead(this);
    if (first) first.handler.onError(err);
    for (const h of left) h.onError(err);
  }

  private onClose(): void {
    if (this.dead) return;
    // Refused / reset / timed-out connect: the OS error itself, like undici.
    this.kill(this.error ?? new RawHttpError('other side closed', 'UND_ERR_SOCKET'));
  }

  // ---- ReplySink ------------------------------------------------------------

  onReplyHead(status: number): boolean {
    const h = this.inflight[0];
    if (!h) {
      this.kill(new RawHttpError('reply without a request', 'HPE_INVALID'));
      return false;
    }
    h.onHeaders(status);
    return !this.dead;
  }

  onReplyData(chunk: Buffer): void {
    this.inflight[0]!.onData(chunk);
  }

  onReplyEnd(keepAlive: boolean, keepAliveHintMs: number): void {
    const h = this.inflight.shift()!;
    if (keepAlive) {
      const ttl = keepAliveHintMs >= 0 ? keepAliveHintMs - KEEP_ALIVE_MARGIN_MS : this.pool.keepAliveTimeoutMs;
      this.idleUntilMs = performance.now() + Math.max(0, ttl);
    }
    h.onComplete();
    if (!keepAlive) {
      // The server closes it: nothing more may be written on it.
      this.kill(new RawHttpError('connection closed by the server after the reply', 'UND_ERR_SOCKET'));
    } else if (!this.dead) {
      this.pool.onIdle(this);
    }
  }

  onParseError(message: string): void {
    this.kill(new RawHttpError(message, 'HPE_INVALID'));
  }
}

export class RawHttpPool {
  private readonly host: string;
  private readonly port: number;
  /** "POST <path> HTTP/1.1\r\nhost: …\r\n<headers>content-length: " (built once). */
  private readonly head: string;
  private readonly invalid: Error | null = null;
  readonly keepAliveTimeoutMs: number;
  /** @internal Read buffer shared by this pool's sockets (see Conn). */
  readonly readBuffer = Buffer.allocUnsafe(64 * 1024);
  private readonly maxConns: number;
  private readonly pipelining: number;
  private readonly connectTimeoutMs: number;
  private readonly conns = new Set<Conn>();
  /** Connections that can take a request now (lazy: entries may have died since). */
  private readonly freeStack: Conn[] = [];
  /** Requests waiting for a connection, oldest first. */
  private readonly queue: { body: string; handler: RawHandler }[] = [];
  private queueHead = 0;
  private closed = false;
  private destroyedWith: Error | null = null;
  private closeWaiters: (() => void)[] = [];
  private finishing = false;

  constructor(origin: string, path: string, o: RawHttpOptions) {
    const u = new URL(origin);
    if (u.protocol !== 'http:') throw new RangeError(`raw transport supports http: only, got ${u.protocol}`);
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = u.port ? Number(u.port) : 80;
    this.maxConns = Math.max(1, Math.floor(o.connections));
    this.pipelining = Math.max(1, Math.floor(o.pipelining));
    this.connectTimeoutMs = o.connectTimeoutMs;
    this.keepAliveTimeoutMs = o.keepAliveTimeoutMs;
    let lines = '';
    for (let i = 0; i + 1 < o.headers.length; i += 2) {
      const name = o.headers[i]!;
      const value = o.headers[i + 1]!;
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) || /[\r\n\0]/.test(value)) {
        // Like undici: the run goes on and every send fails (class 'other').
        this.invalid = new RawHttpError(`invalid header ${JSON.stringify(name)}`, 'UND_ERR_INVALID_ARG');
        break;
      }
      const lower = name.toLowerCase();
      if (lower === 'host' || lower === 'content-length' || lower === 'connection' || lower === 'transfer-encoding') continue;
      lines += `${name}: ${value}\r\n`;
    }
    if (/[\s]/.test(path) || !path.startsWith('/')) {
      this.invalid = new RawHttpError(`invalid path ${JSON.stringify(path)}`, 'UND_ERR_INVALID_ARG');
    }
    this.head = `POST ${path} HTTP/1.1\r\nhost: ${u.host}\r\nconnection: keep-alive\r\n${lines}content-length: `;
  }

  /** Queue one POST; the handler hears everything from onConnect to onComplete / onError. Throws on invalid options. */
  dispatch(body: string, handler: RawHandler): void {
    if (this.invalid) throw this.invalid;
    if (this.closed || this.destroyedWith) throw new RawHttpError('the pool is closed', 'UND_ERR_CLOSED');
    // Fast path: a connection that can take it now.
    if (this.queueHead === this.queue.length) {
      const c = this.takeFree();
      if (c) { this.send(c, body, handler); return; }
    }
    if (this.conns.size < this.maxConns) {
      this.open({ body, handler });
      return;
    }
    this.queue.push({ body, handler });
  }

  private takeFree(): Conn | null {
    const stack = this.freeStack;
    while (stack.length > 0) {
      const c = stack.pop()!;
      c.free = false;
      if (c.dead || !c.ready || c.inflight.length >= this.pipelining) continue;
      if (c.inflight.length === 0 && performance.now() >= c.idleUntilMs) {
        // Idle past the server's keep-alive: it may be closing it right now.
        c.kill(new RawHttpError('idle connection expired', 'UND_ERR_INFO'));
        continue;
      }
      return c;
    }
    return null;
  }

  private send(c: Conn, body: string, handler: RawHandler): void {
    c.write(this.head, body, handler);
    this.offer(c);
  }

  /** Put `c` on the free stack if it can take another request. */
  private offer(c: Conn): void {
    if (!c.free && !c.dead && c.ready && c.inflight.length < this.pipelining) { c.free = true; this.freeStack.push(c); }
  }

  private open(first: { body: string; handler: RawHandler }): void {
    const c = new Conn(this, this.host, this.port);
    c.first = first;
    this.conns.add(c);
    if (this.connectTimeoutMs > 0) {
      c.connectTimer = setTimeout(() => {
        c.connectTimer = null;
        c.kill(new RawHttpError(`connect timeout after ${this.connectTimeoutMs} ms`, 'UND_ERR_CONNECT_TIMEOUT'));
      }, this.connectTimeoutMs);
    }
  }

  /** @internal A connection just connected. */
  onReady(c: Conn): void {
    const first = c.first;
    c.first = null;
    if (first) c.write(this.head, first.body, first.handler);
    this.feed(c);
    this.offer(c);
    if (this.closed) this.maybeClosed();
  }

  /** @internal A reply completed on a kept-alive connection. */
  onIdle(c: Conn): void {
    this.feed(c);
    this.offer(c);
    if (this.closed) this.maybeClosed();
  }

  /** Give queued requests to `c` while it has room. */
  private feed(c: Conn): void {
    while (this.queueHead < this.queue.length && !c.dead && c.ready && c.inflight.length < this.pipelining) {
      const q = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as never;
      c.write(this.head, q.body, q.handler);
    }
    this.compactQueue();
  }

  /** @internal A connection died (its requests were failed). */
  onDead(c: Conn): void {
    this.conns.delete(c);
    if (this.destroyedWith) return;
    // Open a replacement for the oldest waiting request.
    if (this.queueHead < this.queue.length && this.conns.size < this.maxConns && !this.closed) {
      const q = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as never;
      this.compactQueue();
      this.open(q);
    }
    if (this.closed) this.maybeClosed();
  }

  private compactQueue(): void {
    if (this.queueHead === this.queue.length) { this.queue.length = 0; this.queueHead = 0; }
    else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  /** Requests queued or in flight. */
  get pending(): number {
    let n = this.queue.length - this.queueHead;
    for (const c of this.conns) n += c.inflight.length + (c.first ? 1 : 0);
    return n;
  }

  /** Let queued and in-flight requests finish, then close every connection. */
  close(): Promise<void> {
    this.closed = true;
    // Hand the queue to every idle connection now: requests cancelled while
    // queued are dropped at once, instead of waiting for a reply to free a
    // connection (or for the server to close an idle one).
    for (const c of [...this.conns]) if (c.ready && !c.dead) this.feed(c);
    return new Promise((resolve) => { this.closeWaiters.push(resolve); this.maybeClosed(); });
  }

  private maybeClosed(): void {
    if (this.finishing || this.pending > 0) return;
    this.finishing = true;
    for (const c of [...this.conns]) c.kill(new RawHttpError('pool closed', 'UND_ERR_CLOSED'));
    this.finishing = false;
    const w = this.closeWaiters.splice(0);
    for (const f of w) f();
  }

  /** Fail everything queued or in flight with `err` and close every connection now. */
  async destroy(err: Error = new RawHttpError('pool destroyed', 'UND_ERR_DESTROYED')): Promise<void> {
    if (this.destroyedWith) return;
    this.destroyedWith = err;
    this.closed = true;
    const queued = this.queue.slice(this.queueHead);
    this.queue.length = 0;
    this.queueHead = 0;
    for (const c of [...this.conns]) c.kill(err);
    for (const q of queued) q.handler.onError(err);
    const w = this.closeWaiters.splice(0);
    for (const f of w) f();
  }
}
