/**
 * Test helpers for chaos/ tests (not a test file): a real toxiproxy-server
 * on a free loopback port, a tiny keep-alive HTTP upstream that counts its
 * connections, and a throwaway process group implementing ManagedProcess.
 * Everything started here is killed by its stop()/close(), and by an exit
 * hook should a test file die first. Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Toxiproxy } from 'toxiproxy-node-client';
import type { ManagedProcess } from './processFaults';

const HERE = dirname(fileURLToPath(import.meta.url));
export const TOXIPROXY_BIN = process.env.TOXIPROXY_SERVER_BIN ?? join(HERE, '..', 'tools', 'bin', 'toxiproxy-server');
export const hasToxiproxy = existsSync(TOXIPROXY_BIN);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const liveGroups = new Set<number>();
let hookInstalled = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const g of liveGroups) {
      try {
        process.kill(-g, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}

function killGroup(pid: number, sig: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, sig);
  } catch {
    /* gone */
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address() as net.AddressInfo;
      srv.close(() => resolve(addr.port));
    });
  });
}

export interface ToxiproxyServer {
  url: string;
  client: Toxiproxy;
  pid: number;
  stop(): Promise<void>;
}

/** Start toxiproxy-server on a free loopback port; ready when GET /version answers (bounded: 10 s). */
export async function startToxiproxyServer(): Promise<ToxiproxyServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(TOXIPROXY_BIN, ['-host', '127.0.0.1', '-port', String(port)], { stdio: 'ignore', detached: true });
  const pid = child.pid!;
  trackGroup(pid);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    killGroup(pid);
    await Promise.race([exited, sleep(5_000)]);
    liveGroups.delete(pid);
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/version`, { signal: AbortSignal.timeout(500) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`toxiproxy-server did not answer on ${url} within 10 s`);
    }
    await sleep(50);
  }
  return { url, client: new Toxiproxy(url), pid, stop };
}

export interface Upstream {
  port: number;
  /** Connections accepted and closed so far. */
  stats: { connections: number; closes: number; requests: number };
  close(): Promise<void>;
}

/**
 * node:http upstream: GET /?n=N answers N bytes of 'a' (content-length
 * known); /bye answers with Connection: close. Keep-alive 60 s.
 */
export async function startUpstream(): Promise<Upstream> {
  const stats = { connections: 0, closes: 0, requests: 0 };
  const srv = http.createServer((req, res) => {
    stats.requests++;
    const u = new URL(req.url ?? '/', 'http://upstream');
    const n = Math.min(10_000_000, Math.max(0, Number(u.searchParams.get('n') ?? '2') || 0));
    req.resume();
    req.on('end', () => {
      if (u.pathname === '/bye') res.setHeader('connection', 'close');
      res.setHeader('content-length', n);
      res.end(Buffer.alloc(n, 97));
    });
  });
  srv.keepAliveTimeout = 60_000;
  srv.on('connection', (s) => {
    stats.connections++;
    s.on('close', () => stats.closes++);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    stats,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

/** (Re)create a proxy on a kernel-chosen loopback port; returns its listen address. */
export async function createProxy(client: Toxiproxy, name: string, upstreamPort: number): Promise<string> {
  const all = await client.getAll();
  await all[name]?.remove();
  const proxy = await client.createProxy({ name, listen: '127.0.0.1:0', upstream: `127.0.0.1:${upstreamPort}` });
  return proxy.listen;
}

/** GET url with a deadline: 'ok' | 'timeout' | 'error'. */
export async function ping(url: string, timeoutMs: number): Promise<'ok' | 'timeout' | 'error'> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok ? 'ok' : 'error';
  } catch (err) {
    return (err as Error).name === 'TimeoutError' ? 'timeout' : 'error';
  }
}

/**
 * A throwaway service in its own process group: a node HTTP server on
 * `port` that also forks a grandchild (a long sleeper) into the same group
 * and prints its pid, so group-wide signals can be checked.
 */
export class ThrowawayProcess implements ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private exitCode: number | null | undefined;
  /** Pid of the forked grandchild of the current run. */
  grandchildPid: number | undefined;
  starts = 0;

  constructor(
    readonly port: number,
    private readonly opts: { ignoreSigterm?: boolean } = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitCode === undefined;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.pid === undefined || !this.running) return;
    killGroup(this.pid, sig);
  }

  waitExit(): Promise<number | null> {
    return this.exited;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('already running');
    const script = `
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
      process.stdout.write('grandchild ' + g.pid + '\\n');
      ${this.opts.ignoreSigterm ? "process.on('SIGTERM', () => {});" : ''}
      require('node:http').createServer((q, s) => s.end('pong')).listen(${this.port}, '127.0.0.1');
      setTimeout(() => process.exit(0), 600000);
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    this.child = child;
    this.exitCode = undefined;
    this.starts++;
    trackGroup(child.pid!);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /grandchild (\d+)/.exec(out);
      if (m) this.grandchildPid = Number(m[1]);
    });
    const deadline = Date.now() + 10_000;
    while ((await ping(this.url, 300)) !== 'ok') {
      if (Date.now() > deadline || !this.running) throw new Error('throwaway process not ready within 10 s');
      await sleep(30);
    }
    while (this.grandchildPid === undefined && Date.now() < deadline) await sleep(10);
  }

  /** Kill the whole group, whatever state it is in. */
  async dispose(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    killGroup(pid, 'SIGKILL');
    await Promise.race([this.exited, sleep(5_000)]);
    liveGroups.delete(pid);
  }
}
