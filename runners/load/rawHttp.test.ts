import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyError } from './errors';
import { RawHttpPool, ReplyParser, type RawHandler, type RawHttpOptions, type ReplySink } from './rawHttp';
import { freePort } from './testing/httpTestServer';
import { until } from './testing/until';

const PATH = '/api/v1/telemetry';
const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Records what the transport tells one request. */
class Rec implements RawHandler {
  connects = 0;
  status: number | null = null;
  chunks: Buffer[] = [];
  completed = 0;
  error: Error | null = null;
  abortFn: ((err?: Error) => void) | null = null;
  constructor(private readonly abortOnConnect: Error | null = null) {}
  onConnect(abort: (err?: Error) => void): void {
    this.connects++;
    this.abortFn = abort;
    if (this.abortOnConnect) abort(this.abortOnConnect);
  }
  onHeaders(statusCode: number): boolean { this.status = statusCode; return true; }
  onData(chunk: Buffer): boolean { this.chunks.push(Buffer.from(chunk)); return true; }
  onComplete(): void { this.completed++; }
  onError(err: Error): void { this.error = err; }
  get body(): string { return Buffer.concat(this.chunks).toString('utf8'); }
  get settled(): boolean { return this.completed > 0 || this.error !== null; }
}

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; socketId: number }

/** node:http server; `reply` decides each answer. Counts the connections it accepted. */
async function httpServer(reply: (req: Seen, res: http.ServerResponse) => void): Promise<{ origin: string; seen: Seen[]; connections: () => number }> {
  const seen: Seen[] = [];
  let conns = 0;
  const ids = new WeakMap<object, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), socketId: ids.get(req.socket) ?? -1 };
      seen.push(s);
      reply(s, res);
    });
  });
  server.on('connection', (sock) => { ids.set(sock, ++conns); });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(async () => { server.closeAllConnections(); await new Promise<void>((r) => server.close(() => r())); });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, connections: () => conns };
}

/**
 * Raw TCP server: reads one request (head + content-length body) at a time
 * and answers with `script(n)` — byte strings written one by one, a
 * setImmediate apart (so the client sees them as separate reads).
 */
async function scriptedServer(script: (n: number) => string[] | 'hang'): Promise<{ origin: string; requests: () => number; connections: () => number }> {
  let n = 0;
  let conns = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    conns++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const m = /content-length: (\d+)/i.exec(buf.toString('latin1', 0, end));
        const total = end + 4 + (m ? Number(m[1]) : 0);
        if (buf.length < total) return;
        buf = buf.subarray(total);
        const parts = script(n++);
        if (parts === 'hang') continue;
        const write = (i: number): void => {
          if (i >= parts.length || sock.destroyed) return;
          sock.write(parts[i]!, 'latin1');
          setImmediate(() => write(i + 1));
        };
        write(0);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(async () => { for (const s of sockets) s.destroy(); await new Promise<void>((r) => server.close(() => r())); });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n, connections: () => conns };
}

function pool(origin: string, o: Partial<RawHttpOptions> = {}): RawHttpPool {
  const p = new RawHttpPool(origin, PATH, {
    connections: 4, pipelining: 1, connectTimeoutMs: 2000, keepAliveTimeoutMs: 30_000,
    headers: ['content-type', 'application/json', 'x-api-key', 'k'], ...o,
  });
  cleanup.push(() => p.destroy());
  return p;
}

async function send(p: RawHttpPool, body = '{"a":1}', h = new Rec()): Promise<Rec> {
  p.dispatch(body, h);
  await until(() => h.settled, 5000);
  return h;
}

/** Feeds a ReplyParser and writes down what it reports. */
function parse(pieces: string[], end = false): string[] {
  const out: string[] = [];
  let body = '';
  const sink: ReplySink = {
    onReplyHead: (status) => { out.push(`head ${status}`); return true; },
    onReplyData: (chunk) => { body += chunk.toString('latin1'); },
    onReplyEnd: (keepAlive, hint) => { out.push(`end ${JSON.stringify(body)} keepAlive=${keepAlive} hint=${hint}`); body = ''; },
    onParseError: (m) => { out.push(`error ${m}`); },
  };
  const p = new ReplyParser(sink);
  for (const piece of pieces) p.execute(Buffer.from(piece, 'latin1'));
  if (end) out.push(`closed ${p.end() ? 'cleanly' : 'mid-reply'}`);
  else if (!p.idle && !out.some((x) => x.startsWith('error'))) out.push('incomplete');
  return out;
}

describe('ReplyParser', () => {
  // Three pipelined replies in one stream: content-length, 1xx + chunked with extension and trailers, 204.
  const stream =
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello' +
    'HTTP/1.1 100 Continue\r\n\r\n' +
    'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\n\r\n' +
    '3\r\nabc\r\nA;ext=1\r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\n' +
    'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n';
  const expected = [
    'head 200', 'end "hello" keepAlive=true hint=-1',
    'head 202', 'end "abc0123456789" keepAlive=true hint=5000',
    'head 204', 'end "" keepAlive=false hint=-1',
  ];

  it('parses content-length, chunked (extensions, trailers), 1xx and 204 replies back to back', () => {
    expect(parse([stream])).toEqual(expected);
  });

  it('gives the same result however the bytes are split (every split point, and byte by byte)', () => {
    for (let i = 1; i < stream.length; i++) {
      expect(parse([stream.slice(0, i), stream.slice(i)]), `split at ${i}`).toEqual(expected);
    }
    expect(parse([...stream])).toEqual(expected);
  });

  it('reads an HTTP/1.0 body until the connection closes, and tells a cut-short reply from a clean close', () => {
    expect(parse(['HTTP/1.0 200 OK\r\n\r\nuntil ', 'close'], true)).toEqual(['head 200', 'end "until close" keepAlive=false hint=-1', 'closed cleanly']);
    expect(parse(['HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort'], true)).toEqual(['head 200', 'closed mid-reply']);
    expect(parse(['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'], true)).toEqual(['head 200', 'end "ok" keepAlive=true hint=-1', 'closed cleanly']);
    expect(parse(['HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok'])).toEqual(['head 200', 'end "ok" keepAlive=true hint=-1']);
  });

  it('rejects malformed replies and stops', () => {
    expect(parse(['SSH-2.0-OpenSSH\r\n\r\n'])).toEqual(['error invalid status line']);
    expect(parse(['HTTP/1.1 999 Nope\r\n\r\n'])).toEqual(['error invalid status code']);
    expect(parse(['HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n'])).toEqual(['error invalid content-length']);
    expect(parse(['HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nx'])).toEqual(['error invalid content-length']);
    expect(parse(['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'])).toEqual(['head 200', 'error invalid chunk size']);
    expect(parse(['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nab\r\n'])).toEqual(['head 200', 'error missing CRLF after chunk data']);
    expect(parse(['HTTP/1.1 101 Switching Protocols\r\n\r\n'])).toEqual(['error unexpected protocol upgrade']);
    expect(parse(['HTTP/1.1 200 OK\r\nx: ' + 'a'.repeat(20_000)])).toEqual(['error response head too large']);
    // Nothing is reported after an error.
    expect(parse(['garbage\r\n\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'])).toEqual(['error invalid status line']);
  });
});

describe('RawHttpPool (raw HTTP/1.1 transport)', () => {
  it('writes the request undici would (method, path, host, headers, exact body) and reads a content-length reply', async () => {
    const s = await httpServer((_req, res) => { res.writeHead(201, { 'content-type': 'application/json' }); res.end('{"message":"Telemetry received"}'); });
    const p = pool(s.origin);
    const body = JSON.stringify({ vehicle_id: 'tp-é-v1', timestamp: 1.5 });
    const h = await send(p, body);
    expect(h.error).toBeNull();
    expect(h.connects).toBe(1);
    expect(h.status).toBe(201);
    expect(h.body).toBe('{"message":"Telemetry received"}');
    expect(h.completed).toBe(1);
    const r = s.seen[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe(PATH);
    expect(r.body).toBe(body); // multi-byte characters: content-length counts bytes
    expect(r.headers.host).toBe(new URL(s.origin).host);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-api-key']).toBe('k');
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('reads chunked replies, with trailers, and empty 204 replies', async () => {
    let n = 0;
    const s = await httpServer((_req, res) => {
      const i = n++;
      if (i === 0) { res.writeHead(200); res.write('part1,'); res.write('part2,'); res.end('part3'); return; }
      if (i === 1) {
        res.writeHead(200, { trailer: 'x-checksum' });
        res.write('with-');
        res.addTrailers({ 'x-checksum': 'abc' });
        res.end('trailers');
        return;
      }
      res.writeHead(204);
      res.end();
    });
    const p = pool(s.origin);
    const a = await send(p);
    expect(a.status).toBe(200);
    expect(a.body).toBe('part1,part2,part3');
    const b = await send(p);
    expect(b.body).toBe('with-trailers');
    expect(b.completed).toBe(1);
    const c = await send(p);
    expect(c.status).toBe(204);
    expect(c.body).toBe('');
    expect(c.completed).toBe(1);
    // All three on one kept-alive connection.
    expect(s.connections()).toBe(1);
  });

  it('parses replies that arrive in pieces (split head, split chunk framing) and skips 1xx', async () => {
    const s = await scriptedServer((n) => [
      [
        'HTTP/1.1 200 OK\r', '\ncontent-le', 'ngth: 5\r\n', '\r\n', 'he', 'llo',
      ],
      [
        'HTTP/1.1 100 Continue\r\n\r\n',
        'HTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\n\r\n',
        '3\r', '\nabc\r', '\n', 'a;ext=1\r\n0123456789', '\r\n0\r\n', 'x-t: 1\r\n', '\r\n',
      ],
      ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    ][n % 3]!);
    const p = pool(s.origin);
    const a = await send(p);
    expect([a.status, a.body, a.error]).toEqual([200, 'hello', null]);
    const b = await send(p);
    expect([b.status, b.body, b.error]).toEqual([202, 'abc0123456789', null]);
    const c = await send(p);
    expect([c.status, c.body, c.error]).toEqual([200, 'ok', null]);
    expect(s.connections()).toBe(1);
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const s = await httpServer((_req, res) => res.end('ok'));
    const p = pool(s.origin, { connections: 8 });
    for (let i = 0; i < 20; i++) {
      const h = await send(p, `{"i":${i}}`);
      expect(h.status).toBe(200);
    }
    expect(s.seen).toHaveLength(20);
    expect(s.connections()).toBe(1);
    expect(new Set(s.seen.map((r) => r.socketId)).size).toBe(1);
  });

  it('opens at most `connections` connections and queues the rest', async () => {
    const s = await httpServer((_req, res) => { setTimeout(() => res.end('ok'), 50); });
    const p = pool(s.origin, { connections: 2 });
    const hs = Array.from({ length: 6 }, () => new Rec());
    for (const [i, h] of hs.entries()) p.dispatch(`{"i":${i}}`, h);
    await until(() => hs.every((h) => h.settled), 5000);
    expect(hs.map((h) => h.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(s.connections()).toBe(2);
    expect(p.pending).toBe(0);
  });

  it('opens a new connection after `connection: close`, and reads HTTP/1.0 bodies until close', async () => {
    const s = await scriptedServer((n) => n === 0
      ? ['HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 3\r\n\r\none']
      : ['HTTP/1.0 200 OK\r\n\r\nuntil ', 'close']);
    const p = pool(s.origin);
    const a = await send(p);
    expect([a.status, a.body, a.error]).toEqual([200, 'one', null]);
    const b = new Rec();
    p.dispatch('{}', b);
    await until(() => b.body === 'until close', 5000);
    expect(b.body).toBe('until close');
    expect(b.completed).toBe(0); // no length, not chunked: the body runs until the server closes
    expect(s.connections()).toBe(2);
  });

  it('completes a read-until-close body when the server closes', async () => {
    const server = net.createServer((sock) => {
      sock.once('data', () => { sock.end('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it'); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const p = pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const h = await send(p);
    expect([h.status, h.body, h.completed, h.error]).toEqual([200, 'all of it', 1, null]);
  });

  it('does not reuse a connection idle past the server keep-alive hint', async () => {
    // timeout=1 s minus the 1 s safety margin: never reused once idle.
    const s = await scriptedServer(() => ['HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 2\r\n\r\nok']);
    const p = pool(s.origin);
    expect((await send(p)).status).toBe(200);
    expect((await send(p)).status).toBe(200);
    expect(s.connections()).toBe(2);
  });

  it('fails with ECONNREFUSED (class refused) when nothing listens', async () => {
    const port = await freePort();
    const p = pool(`http://127.0.0.1:${port}`);
    const hs = [new Rec(), new Rec(), new Rec()];
    for (const h of hs) p.dispatch('{}', h);
    await until(() => hs.every((h) => h.settled), 5000);
    for (const h of hs) {
      expect(h.connects).toBe(0);
      expect(classifyError(h.error)).toEqual({ errorClass: 'refused', code: 'ECONNREFUSED' });
    }
  });

  it('fails a request whose connection breaks mid-exchange as a reset, and recovers on a new connection', async () => {
    let n = 0;
    const s = await httpServer((req, res) => { if (n++ === 0) { res.socket?.destroy(); return; } void req; res.end('ok'); });
    const p = pool(s.origin);
    const a = await send(p);
    expect(a.status).toBeNull();
    expect(classifyError(a.error).errorClass).toBe('reset');
    const b = await send(p);
    expect(b.status).toBe(200);
    expect(s.connections()).toBe(2);
  });

  it('fails garbage replies (class other) and unsolicited bytes do not reach the next request', async () => {
    const s = await scriptedServer((n) => (n === 0 ? ['SSH-2.0-nope\r\n\r\n'] : ['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok']));
    const p = pool(s.origin);
    const a = await send(p);
    expect(a.error).not.toBeNull();
    expect(classifyError(a.error)).toEqual({ errorClass: 'other', code: 'HPE_INVALID' });
    const b = await send(p);
    expect([b.status, b.body]).toEqual([200, 'ok']);
  });

  it('abort() of a request on the wire fails it with the given reason and drops the connection', async () => {
    const s = await scriptedServer((n) => (n === 0 ? 'hang' : ['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok']));
    const p = pool(s.origin);
    const a = new Rec();
    p.dispatch('{}', a);
    await until(() => s.requests() === 1, 5000);
    const reason = Object.assign(new Error('too slow'), { code: 'TP_REQUEST_TIMEOUT' });
    a.abortFn!(reason);
    expect(a.error).toBe(reason);
    expect(a.completed).toBe(0);
    const b = await send(p);
    expect(b.status).toBe(200);
    expect(s.connections()).toBe(2);
  });

  it('abort() during onConnect cancels the request before any byte is written', async () => {
    const s = await httpServer((_req, res) => res.end('ok'));
    const p = pool(s.origin);
    const reason = new Error('timed out while queued');
    const a = await send(p, '{}', new Rec(reason));
    expect(a.error).toBe(reason);
    const b = await send(p);
    expect(b.status).toBe(200);
    expect(s.seen).toHaveLength(1);
    expect(s.connections()).toBe(1);
  });

  it('close() ends at once when the requests still queued were cancelled (none waits for the server to drop idle connections)', async () => {
    const s = await scriptedServer((n) => (n === 0 ? 'hang' : ['HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok']));
    const p = pool(s.origin, { connections: 1 });
    const a = new Rec();
    p.dispatch('{}', a);
    await until(() => s.requests() === 1, 5000);
    // Two more wait for the only connection, and are cancelled when they get it (timed out while queued).
    const cancelled = [new Rec(new Error('timed out while queued')), new Rec(new Error('timed out while queued'))];
    for (const h of cancelled) p.dispatch('{}', h);
    a.abortFn!(new Error('timeout')); // drops the connection; a replacement opens for the queue
    const outcome = await Promise.race([
      p.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still waiting after 5 s'), 5000)),
    ]);
    expect(outcome).toBe('closed');
    expect(cancelled.map((h) => h.error?.message)).toEqual(['timed out while queued', 'timed out while queued']);
    expect(s.requests()).toBe(1); // the cancelled ones were never written
  }, 15_000);

  it('pipelines when asked: replies are matched to requests in order on one connection', async () => {
    const s = await httpServer((req, res) => { setTimeout(() => res.end(req.body), 20); });
    const p = pool(s.origin, { connections: 1, pipelining: 3 });
    const hs = Array.from({ length: 6 }, () => new Rec());
    for (const [i, h] of hs.entries()) p.dispatch(`{"i":${i}}`, h);
    await until(() => hs.every((h) => h.settled), 5000);
    expect(hs.map((h) => h.body)).toEqual(hs.map((_, i) => `{"i":${i}}`));
    expect(s.connections()).toBe(1);
  });

  it('destroy() fails queued and in-flight requests with its error; close() waits for in-flight replies', async () => {
    const s = await httpServer((_req, res) => { setTimeout(() => res.end('ok'), 100); });
    const p = pool(s.origin, { connections: 1 });
    const hs = [new Rec(), new Rec(), new Rec()];
    for (const h of hs) p.dispatch('{}', h);
    await until(() => s.seen.length === 1, 5000);
    const err = Object.assign(new Error('stop'), { name: 'AbortError' });
    await p.destroy(err);
    expect(hs.map((h) => h.error)).toEqual([err, err, err]);
    expect(() => p.dispatch('{}', new Rec())).toThrow(/closed/);

    const q = pool(s.origin, { connections: 1 });
    const h = new Rec();
    q.dispatch('{}', h);
    await q.close();
    expect([h.status, h.completed]).toEqual([200, 1]);
  });

  it('rejects header values that would split the request, per send (like undici)', async () => {
    const s = await httpServer((_req, res) => res.end('ok'));
    const p = pool(s.origin, { headers: ['x-evil', 'a\r\nx-injected: 1'] });
    expect(() => p.dispatch('{}', new Rec())).toThrow(/invalid header/);
    expect(s.seen).toHaveLength(0);
  });
});
