/**
 * Test/bench helper: a tiny InfluxDB stand-in on a real loopback HTTP port
 * (node:http). Answers GET /ping with a version header and POST /write or
 * /api/v2/write with whatever the test programs; stores the lines of every
 * write it answers with 204 (a Set: rewriting a line is a no-op, like
 * InfluxDB's series + timestamp identity).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeWrite {
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
  lines: string[];
  at: number;
}

/** What to answer a write: a status (+ headers/body), or 'drop' = cut the connection, or 'hang' = never answer. */
export type FakeAnswer = { status: number; headers?: Record<string, string>; body?: string } | 'drop' | 'hang';

export interface FakeInfluxServer {
  url: string;
  version: string | null;
  writes: FakeWrite[];
  /** Lines stored (answered 204). */
  stored: Set<string>;
  /** Answers used in order for the next writes; when empty, `decide` (default 204). */
  answers: FakeAnswer[];
  decide: (w: FakeWrite) => FakeAnswer;
  pings: number;
  close(): Promise<void>;
}

export async function startFakeInflux(opts: { version?: string | null } = {}): Promise<FakeInfluxServer> {
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const fake: FakeInfluxServer = {
    url: '',
    version: opts.version === undefined ? '1.6.7~rc0' : opts.version,
    writes: [],
    stored: new Set(),
    answers: [],
    decide: () => ({ status: 204 }),
    pings: 0,
    close: async () => {
      for (const r of hanging) r.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/ping') {
      fake.pings++;
      if (fake.version !== null) res.setHeader('X-Influxdb-Version', fake.version);
      res.statusCode = 204;
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const w: FakeWrite = {
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        authorization: req.headers.authorization,
        lines: body.split('\n').filter((l) => l.length > 0),
        at: Date.now(),
      };
      fake.writes.push(w);
      const answer = fake.answers.length ? fake.answers.shift()! : fake.decide(w);
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      if (answer.status === 204) for (const l of w.lines) fake.stored.add(l);
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
