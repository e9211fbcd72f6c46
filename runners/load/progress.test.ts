import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressLine, formatProgress, progressEnabled } from './progress';

describe('progress line', () => {
  it('formats rate, acknowledged/stored shares, p99, lag and resources', () => {
    expect(formatProgress({
      elapsedSec: 12.2, ratePerSec: 100, targetRatePerSec: 100, sent: 1000, acknowledged: 999, stored: 970,
      p99Ms: 12.34, lagP99Ms: 450, cpuPct: 35.4, rssBytes: 120 * 1048576, errors: 1,
    })).toBe('12s  rate 100/s (target 100)  ack 99.9%  stored 97.0%  p99 12.3 ms  lag p99 450 ms  cpu 35%  rss 120 MB  err 1');
    expect(formatProgress({ elapsedSec: 0, ratePerSec: 0, sent: 0, acknowledged: 0 })).toBe('0s  rate 0/s  ack –');
  });

  it('is quiet under CI or without a TTY', () => {
    expect(progressEnabled({ CI: 'true' }, { isTTY: true })).toBe(false);
    expect(progressEnabled({}, { isTTY: false })).toBe(false);
    expect(progressEnabled({}, {})).toBe(false);
    expect(progressEnabled({}, { isTTY: true })).toBe(true);
  });

  it('rewrites one line in place and ends it once', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => { text += c.toString(); });
    const p = createProgressLine({ stream: out, enabled: true });
    p.update({ elapsedSec: 1, ratePerSec: 10, sent: 10, acknowledged: 10 });
    p.update({ elapsedSec: 2, ratePerSec: 10, sent: 20, acknowledged: 20 });
    p.done();
    p.done();
    expect(text).toBe('\r\x1b[2K1s  rate 10/s  ack 100.0%\r\x1b[2K2s  rate 10/s  ack 100.0%\n');
    const quiet = createProgressLine({ stream: out, enabled: false });
    quiet.update({ elapsedSec: 1, ratePerSec: 1, sent: 1, acknowledged: 1 });
    quiet.done();
    expect(text.endsWith('100.0%\n')).toBe(true);
  });
});
