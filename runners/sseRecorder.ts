/**
 * SSE clients that record every `data:` event with its arrival time, for the
 * history's SSE ledger. (The stress runners' listeners, with slow readers,
 * live in runners/load/sse.ts.)
 */
import { Agent, request } from 'undici';
import type { SseClientRecord, SseEventRecord } from '../models/history';

export interface SseRecorderOptions {
  url: string;
  bearerToken?: string;
  clients: number;
  /** Keep an event? (e.g. only this run's vehicle ids) */
  keep?: (data: string) => boolean;
  connectTimeoutMs?: number;
}

/** Split an SSE byte stream into `data:` payloads (one per event). */
export class SseParser {
  private buf = '';
  push(chunk: string): string[] {
    this.buf += chunk;
    const out: string[] = [];
    let idx: number;
    while ((idx = this.buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = this.buf.slice(0, idx);
      this.buf = this.buf.slice(idx + (this.buf[idx] === '\r' ? 4 : 2));
      const data = block
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5));
      if (data.length) out.push(data.join('\n'));
    }
    return out;
  }
}

export class SseRecorder {
  readonly clients: SseClientRecord[] = [];
  readonly events: SseEventRecord[] = [];
  readonly errors: string[] = [];
  private readonly ac = new AbortController();
  private readonly agent = new Agent({ connections: 64 });
  private readonly done: Promise<void>[] = [];

  constructor(readonly opts: SseRecorderOptions) {}

  /** Connect every client; resolves once each has its response headers. */
  async connect(): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let i = 0; i < this.opts.clients; i++) ready.push(this.connectOne(`sse${i}`));
    await Promise.all(ready);
  }

  private async connectOne(clientId: string): Promise<void> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.opts.bearerToken) headers.authorization = `Bearer ${this.opts.bearerToken}`;
    const res = await request(this.opts.url, {
      method: 'GET',
      headers,
      dispatcher: this.agent,
      signal: this.ac.signal,
      headersTimeout: this.opts.connectTimeoutMs ?? 5_000,
      bodyTimeout: 0,
    });
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      throw new Error(`SSE stream ${this.opts.url} answered ${res.statusCode}: ${text.slice(0, 200)}`);
    }
    const record: SseClientRecord = { clientId, connectedAtMs: Date.now() };
    this.clients.push(record);
    const parser = new SseParser();
    res.body.setEncoding('utf8');
    this.done.push(
      (async () => {
        try {
          for await (const chunk of res.body) {
            const at = Date.now();
            for (const data of parser.push(chunk as string)) {
              if (!this.opts.keep || this.opts.keep(data)) this.events.push({ clientId, atMs: at, data });
            }
          }
        } catch (err) {
          if (!this.ac.signal.aborted) this.errors.push(`${clientId}: ${(err as Error).message}`);
        } finally {
          record.disconnectedAtMs = Date.now();
        }
      })(),
    );
  }

  async close(): Promise<void> {
    this.ac.abort();
    await Promise.allSettled(this.done);
    await this.agent.destroy();
  }
}
