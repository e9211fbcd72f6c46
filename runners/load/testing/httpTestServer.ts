/**
 * A tiny local node:http server for the load modules' unit tests: listens on
 * an ephemeral 127.0.0.1 port, records what it receives, and answers after a
 * configurable delay, with a configurable status, or breaks the connection.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from '../clock';

export interface ReceivedRequest {
  atMs: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Behaviour =
  | { kind: 'reply'; status?: number; delayMs?: number; body?: string }
  /** Destroy the socket without replying (the client sees a reset). */
  | { kind: 'reset' }
  /** Never reply (the client must time out). */
  | { kind: 'hang' };

export interface TestServer {
  port: number;
  origin: string;
  received: ReceivedRequest[];
  setBehaviour(b: Behaviour | ((req: ReceivedRequest) => Behaviour)): void;
  /** Custom routes (e.g. an SSE stream) take precedence when they return true. */
  route(fn: (req: http.IncomingMessage, res: http.ServerResponse) => boolean): void;
  close(): Promise<void>;
}

export async function startTestServer(initial: Behaviour = { kind: 'reply' }): Promise<TestServer> {
  let behaviour: Behaviour | ((req: ReceivedRequest) => Behaviour) = initial;
  const routes: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean)[] = [];
  const received: ReceivedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    for (const r of routes) if (r(req, res)) return;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: ReceivedRequest = {
        atMs: nowMs(), method: req.method ?? '', url: req.url ?? '', headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(rec);
      const b = typeof behaviour === 'function' ? behaviour(rec) : behaviour;
      if (b.kind === 'reset') { req.socket.destroy(); return; }
      if (b.kind === 'hang') return;
      const send = (): void => {
        res.writeHead(b.status ?? 200, { 'content-type': 'application/json' });
        res.end(b.body ?? '{"message":"Telemetry received"}');
      };
      if (!b.delayMs) { send(); return; }
      const t = setTimeout(() => { timers.delete(t); send(); }, b.delayMs);
      timers.add(t);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    received,
    setBehaviour(b) { behaviour = b; },
    route(fn) { routes.push(fn); },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port that was free a moment ago (nothing listens on it: connection refused). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
