/**
 * Open a local HTML file in headless Chromium, offline, and report what
 * happened: console errors, exceptions, network requests, the charts drawn
 * (and optionally a PNG screenshot of the whole page).
 *
 * Talks the DevTools protocol over `--remote-debugging-pipe` (fd 3 in, fd 4
 * out, NUL-terminated JSON): no port, no WebSocket, no extra package. Every
 * request to anything but file:/data: is recorded, and a dead proxy makes
 * sure none could succeed anyway.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const own = env.CHROMIUM_BIN;
  if (own) return existsSync(own) ? own : null;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export interface ChartInfo { id: string; paths: number; width: number; height: number; faults: number }

export interface RenderResult {
  title: string;
  charts: ChartInfo[];
  consoleErrors: string[];
  /** URLs requested other than the page itself and data: URLs. */
  networkRequests: string[];
  /** PNG bytes when a screenshot was asked for. */
  screenshot?: Buffer;
}

interface CdpMessage { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string }

class PipeSession {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  readonly events: CdpMessage[] = [];
  private listeners: ((m: CdpMessage) => void)[] = [];

  constructor(private readonly input: Writable, output: Readable) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buffer.slice(0, end)) as CdpMessage;
        this.buffer = this.buffer.slice(end + 1);
        if (msg.id !== undefined && this.pending.has(msg.id)) {
          const p = this.pending.get(msg.id)!;
          this.pending.delete(msg.id);
          if (msg.error) p.reject(new Error(msg.error.message));
          else p.resolve(msg.result ?? {});
        } else if (msg.method) {
          this.events.push(msg);
          for (const l of this.listeners) l(msg);
        }
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((res, rej) => {
      this.pending.set(id, { resolve: res, reject: rej });
      this.input.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  }

  waitFor(method: string, timeoutMs: number): Promise<CdpMessage> {
    const seen = this.events.find((e) => e.method === method);
    if (seen) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no ${method} within ${timeoutMs} ms`)), timeoutMs);
      this.listeners.push((m) => { if (m.method === method) { clearTimeout(timer); res(m); } });
    });
  }
}

const CHARTS_JS = `JSON.stringify({ title: document.title, charts: [...document.querySelectorAll('svg[data-chart]')].map((s) => {
  const r = s.getBoundingClientRect();
  return { id: s.getAttribute('data-chart'), paths: s.querySelectorAll('path').length, width: Math.round(r.width), height: Math.round(r.height), faults: s.querySelectorAll('rect.fault').length };
}) })`;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms); })]).finally(() => clearTimeout(t));
}

/** Render `htmlPath` offline; bounded by `timeoutMs`; the browser is always killed. */
export async function renderOffline(chromium: string, htmlPath: string, opts: { screenshot?: boolean; width?: number; timeoutMs?: number; /** Screenshot only this element (CSS selector). */ clipSelector?: string } = {}): Promise<RenderResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const profile = mkdtempSync(join(tmpdir(), 'tp-chromium-'));
  let child: ChildProcess | undefined;
  try {
    child = spawn(chromium, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--no-default-browser-check', `--user-data-dir=${profile}`,
      // Offline: any request that is not file:/data: goes to a proxy nobody listens on.
      '--proxy-server=http://127.0.0.1:9', '--proxy-bypass-list=<-loopback>',
      '--remote-debugging-pipe', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true });
    child.stderr?.resume();
    const cdp = new PipeSession(child.stdio[3] as Writable, child.stdio[4] as Readable);
    const run = async (): Promise<RenderResult> => {
      const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' }) as { targetId: string };
      const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
      const s = (m: string, p: Record<string, unknown> = {}) => cdp.send(m, p, sessionId);
      await Promise.all([s('Page.enable'), s('Runtime.enable'), s('Log.enable'), s('Network.enable')]);
      await s('Emulation.setDeviceMetricsOverride', { width: opts.width ?? 1200, height: 900, deviceScaleFactor: 1, mobile: false });
      const url = pathToFileURL(resolve(htmlPath)).href;
      const loaded = cdp.waitFor('Page.loadEventFired', timeoutMs);
      await s('Page.navigate', { url });
      await loaded;
      const evaluated = await s('Runtime.evaluate', { expression: CHARTS_JS, returnByValue: true }) as { result: { value: string } };
      const page = JSON.parse(evaluated.result.value) as { title: string; charts: ChartInfo[] };
      let screenshot: Buffer | undefined;
      if (opts.screenshot) {
        const m = await s('Runtime.evaluate', { expression: 'document.documentElement.scrollHeight', returnByValue: true }) as { result: { value: number } };
        await s('Emulation.setDeviceMetricsOverride', { width: opts.width ?? 1200, height: Math.min(16_000, m.result.value), deviceScaleFactor: 1, mobile: false });
        let clip: Record<string, number> | undefined;
        if (opts.clipSelector) {
          const box = await s('Runtime.evaluate', { expression: `JSON.stringify((() => { const r = document.querySelector(${JSON.stringify(opts.clipSelector)}).getBoundingClientRect(); return { x: r.x, y: r.y + window.scrollY, width: r.width, height: r.height, scale: 1 }; })())`, returnByValue: true }) as { result: { value: string } };
          clip = JSON.parse(box.result.value) as Record<string, number>;
        }
        const shot = await s('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, ...(clip ? { clip } : {}) }) as { data: string };
        screenshot = Buffer.from(shot.data, 'base64');
      }
      const consoleErrors: string[] = [];
      const networkRequests: string[] = [];
      for (const e of cdp.events) {
        const p = e.params ?? {};
        if (e.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) consoleErrors.push(`console.${String(p.type)}: ${JSON.stringify(p.args)}`);
        if (e.method === 'Runtime.exceptionThrown') consoleErrors.push(`exception: ${JSON.stringify(p.exceptionDetails)}`);
        if (e.method === 'Log.entryAdded') {
          const entry = p.entry as { level?: string; text?: string; url?: string };
          if (entry.level === 'error') consoleErrors.push(`log: ${entry.text ?? ''} ${entry.url ?? ''}`.trim());
        }
        if (e.method === 'Network.requestWillBeSent') {
          const reqUrl = (p.request as { url?: string }).url ?? '';
          if (reqUrl !== url && !reqUrl.startsWith('data:')) networkRequests.push(reqUrl);
        }
      }
      await cdp.send('Browser.close').catch(() => undefined);
      return { ...page, consoleErrors, networkRequests, screenshot };
    };
    return await withTimeout(run(), timeoutMs, 'headless Chromium');
  } finally {
    if (child?.pid && child.exitCode === null) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    rmSync(profile, { recursive: true, force: true });
  }
}
