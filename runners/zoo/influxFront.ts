/**
 * A fault Toxiproxy cannot make: InfluxDB answering writes with an HTTP 4xx
 * for a while. The front is a loopback HTTP relay between the backend and
 * InfluxDB; while `failing`, every write (`/write`, `/api/v2/write`) gets
 * exactly what InfluxDB 1.6 answers when the database is missing —
 * `404 {"error":"database not found: \"<db>\""}` — and everything else
 * (pings, queries) is relayed unchanged. That is what a backend sees while a
 * database or bucket is being recreated, restored or provisioned late.
 *
 * A correct backend keeps such samples and retries (durable mode retries
 * 401/403/404 forever); one that counts a 4xx as success loses them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultRecord } from '../../models/history';

export interface InfluxFront {
  /** Base URL to give the backend as INFLUX_URL. */
  url: string;
  /** Writes answered 404 while true. */
  setFailing(on: boolean): void;
  /** Writes answered 404 so far. */
  readonly refused: number;
  /** Writes relayed so far. */
  readonly relayed: number;
  close(): Promise<void>;
}

const WRITE_PATH = /^\/(write|api\/v2\/write)(\?|$)/;

export async function startInfluxFront(upstream: string, db: string): Promise<InfluxFront> {
  const up = new URL(upstream);
  let failing = false;
  let refused = 0;
  let relayed = 0;
  const server = http.createServer((req, res) => {
    if (failing && req.method === 'POST' && WRITE_PATH.test(req.url ?? '')) {
      refused++;
      req.resume();
      req.on('end', () => {
        res.writeHead(404, { 'content-type': 'application/json', 'x-influxdb-error': `database not found: "${db}"`, 'x-influxdb-version': '1.6.7~rc0' });
        res.end(JSON.stringify({ error: `database not found: "${db}"` }));
      });
      return;
    }
    if (req.method === 'POST' && WRITE_PATH.test(req.url ?? '')) relayed++;
    const fwd = http.request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    fwd.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`influx front: ${err.message}`);
    });
    req.pipe(fwd);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setFailing(on) {
      failing = on;
    },
    get refused() {
      return refused;
    },
    get relayed() {
      return relayed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A nemesis for executePlan: writes fail with 404 from before the first
 * request until `untilMs` after the run start, then heal.
 */
export function fourxxWindow(front: InfluxFront, untilMs: number): (runStartMs: number) => Promise<FaultRecord[]> {
  return async (runStartMs) => {
    front.setFailing(true);
    const startedAtMs = Date.now();
    const refusedBefore = front.refused;
    await new Promise((r) => setTimeout(r, Math.max(0, runStartMs + untilMs - Date.now())));
    front.setFailing(false);
    const endedAtMs = Date.now();
    return [{
      kind: 'influx_4xx',
      target: 'influx',
      startedAtMs,
      endedAtMs,
      detail: `InfluxDB answered 404 "database not found" to ${front.refused - refusedBefore} write(s) for ${endedAtMs - startedAtMs} ms`,
    }];
  };
}
