/**
 * The backend's JSON-lines log as evidence: which writes succeeded, which
 * lines were given up and why, when the process started and crashed. The
 * reference backend (backend/src/legacyIngestor.ts, server.ts) writes these
 * events; another backend simply yields none (stages then say "unexplained").
 */
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import type { BackendEvent } from '../models/history';

/** Size of a file now (0 when absent): read the run's part later from here. */
export function logOffset(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The text appended to `file` since `offset` (at most `maxBytes`, the newest part kept). */
export function readLogSince(file: string, offset: number, maxBytes = 64 * 1024 * 1024): string {
  let fd: number | undefined;
  try {
    const size = statSync(file).size;
    const from = Math.max(offset, size - maxBytes);
    if (size <= from) return '';
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(size - from);
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** One log object as an event (undefined when it is not evidence). */
export function backendEventOf(o: Record<string, unknown>): BackendEvent | undefined {
  const atMs = typeof o.ts === 'string' ? Date.parse(o.ts) : NaN;
  if (!Number.isFinite(atMs)) return undefined;
  const range = {
    ...(num(o.lines) !== undefined ? { lines: num(o.lines)! } : {}),
    ...(num(o.minTimeMs) !== undefined ? { minTimeMs: num(o.minTimeMs)! } : {}),
    ...(num(o.maxTimeMs) !== undefined ? { maxTimeMs: num(o.maxTimeMs)! } : {}),
  };
  switch (o.event) {
    case 'influx_write_ok':
      return { atMs, kind: 'write_ok', ...range };
    case 'influx_write_failed':
      if (o.willRetry === false || typeof o.dropped === 'string') {
        return { atMs, kind: 'write_dropped', ...range, reason: typeof o.dropped === 'string' ? o.dropped : 'unknown', ...(typeof o.error === 'string' ? { detail: o.error } : {}) };
      }
      return { atMs, kind: 'write_retry', ...range, ...(typeof o.error === 'string' ? { detail: o.error } : {}) };
    case 'influx_retry_skipped':
      return { atMs, kind: 'buffer_overflow', ...range };
    case 'influx_client_log': {
      // "Retry buffer closed with N items that were not written to InfluxDB!" (shutdown)
      const m = typeof o.message === 'string' ? /Retry buffer closed with (\d+) items/.exec(o.message) : null;
      return m ? { atMs, kind: 'abandoned_on_shutdown', lines: Number(m[1]), detail: String(o.message) } : undefined;
    }
    case 'shutdown_flush_failed':
      return { atMs, kind: 'abandoned_on_shutdown', detail: typeof o.error === 'string' ? o.error : 'final flush failed' };
    case 'listening':
      return { atMs, kind: 'process_start' };
    case 'uncaught_exception':
    case 'unhandled_rejection':
    case 'shutdown_timeout':
      return { atMs, kind: 'process_exit', reason: 'crash', detail: `${o.event}${typeof o.error === 'string' ? `: ${o.error}` : ''}` };
    default:
      return undefined;
  }
}

/** Every evidence event in a chunk of JSON-lines log (other lines ignored). */
export function backendEventsFromLog(text: string): BackendEvent[] {
  const out: BackendEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const ev = backendEventOf(JSON.parse(line) as Record<string, unknown>);
      if (ev) out.push(ev);
    } catch {
      /* not JSON: a stack trace or a library's own print */
    }
  }
  return out;
}
