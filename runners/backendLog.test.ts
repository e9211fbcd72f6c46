import { mkdtempSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendEventsFromLog, logOffset, readLogSince } from './backendLog';

const ts = '2026-01-01T00:00:00.000Z';
const at = Date.parse(ts);
const line = (o: Record<string, unknown>) => `${JSON.stringify({ ...o, ts })}\n`;

describe('backend log as evidence', () => {
  it('turns the reference backend\'s events into backend events', () => {
    const text = [
      line({ event: 'listening', url: 'http://127.0.0.1:1' }),
      line({ event: 'influx_write_ok', lines: 3, minTimeMs: 10, maxTimeMs: 30 }),
      line({ event: 'influx_write_failed', lines: 2, attempt: 1, willRetry: true, minTimeMs: 40, maxTimeMs: 50, error: 'connect ECONNREFUSED' }),
      line({ event: 'influx_write_failed', lines: 2, attempt: 6, willRetry: false, dropped: 'retries_exhausted', minTimeMs: 40, maxTimeMs: 50 }),
      line({ event: 'influx_retry_skipped', lines: 5, minTimeMs: 60, maxTimeMs: 90 }),
      line({ event: 'influx_client_log', level: 'error', message: 'Retry buffer closed with 7 items that were not written to InfluxDB!' }),
      line({ event: 'influx_client_log', level: 'warn', message: 'Write to InfluxDB failed (attempt: 1).' }),
      line({ event: 'uncaught_exception', error: 'boom' }),
      'not json at all\n',
      '{"truncated": \n',
    ].join('');
    expect(backendEventsFromLog(text)).toEqual([
      { atMs: at, kind: 'process_start' },
      { atMs: at, kind: 'write_ok', lines: 3, minTimeMs: 10, maxTimeMs: 30 },
      { atMs: at, kind: 'write_retry', lines: 2, minTimeMs: 40, maxTimeMs: 50, detail: 'connect ECONNREFUSED' },
      { atMs: at, kind: 'write_dropped', lines: 2, minTimeMs: 40, maxTimeMs: 50, reason: 'retries_exhausted' },
      { atMs: at, kind: 'buffer_overflow', lines: 5, minTimeMs: 60, maxTimeMs: 90 },
      { atMs: at, kind: 'abandoned_on_shutdown', lines: 7, detail: 'Retry buffer closed with 7 items that were not written to InfluxDB!' },
      { atMs: at, kind: 'process_exit', reason: 'crash', detail: 'uncaught_exception: boom' },
    ]);
  });

  it('reads only what was appended since an offset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-log-'));
    try {
      const f = join(dir, 'backend.log');
      expect(logOffset(f)).toBe(0);
      appendFileSync(f, line({ event: 'listening' }));
      const off = logOffset(f);
      appendFileSync(f, line({ event: 'influx_write_ok', lines: 1 }));
      expect(backendEventsFromLog(readLogSince(f, off)).map((e) => e.kind)).toEqual(['write_ok']);
      expect(readLogSince(join(dir, 'missing.log'), 0)).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
