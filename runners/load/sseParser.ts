/**
 * Incremental Server-Sent Events parser (the WHATWG event-stream format):
 * lines end in \n, \r\n or \r (also split across chunks), `data:` lines are
 * joined with \n, a blank line dispatches, `:` lines are comments.
 */
import { StringDecoder } from 'node:string_decoder';

export interface ParsedSseEvent {
  event: string;
  data: string;
  id: string | null;
}

export interface SseParserOptions {
  /** An event whose data grows beyond this is dropped (counted in `oversized`). Default 8 MiB. */
  maxEventChars?: number;
}

export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private line = '';
  private afterCR = false;
  private data: string[] = [];
  private dataChars = 0;
  private eventType = '';
  private lastId: string | null = null;
  private dropping = false;
  private readonly max: number;
  /** Last `retry:` value the server sent (ms). */
  retryMs: number | null = null;
  oversized = 0;

  constructor(private readonly emit: (e: ParsedSseEvent) => void, options: SseParserOptions = {}) {
    this.max = options.maxEventChars ?? 8 * 1024 * 1024;
  }

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let start = 0;
    // The \n of a \r\n split across two chunks.
    if (this.afterCR && text.charCodeAt(0) === 10) start = 1;
    this.afterCR = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.endLine(text, start, i);
      if (c === 13) {
        if (i + 1 >= text.length) this.afterCR = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    if (start < text.length) {
      this.line += text.slice(start);
      if (this.line.length > this.max) { this.line = ''; this.dropping = true; }
    }
  }

  private endLine(text: string, from: number, to: number): void {
    const line = this.line + text.slice(from, to);
    this.line = '';
    this.processLine(line);
  }

  private processLine(line: string): void {
    if (line === '') return this.dispatch();
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        if (this.dropping) return;
        this.dataChars += value.length + 1;
        if (this.dataChars > this.max) { this.dropping = true; this.data = []; return; }
        this.data.push(value);
        return;
      case 'event': this.eventType = value; return;
      case 'id': if (!value.includes('\u0000')) this.lastId = value; return;
      case 'retry': if (/^\d+$/.test(value)) this.retryMs = Number(value); return;
      default: return;
    }
  }

  private dispatch(): void {
    if (this.dropping) this.oversized++;
    else if (this.data.length > 0) this.emit({ event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastId });
    this.data = [];
    this.dataChars = 0;
    this.eventType = '';
    this.dropping = false;
  }
}
