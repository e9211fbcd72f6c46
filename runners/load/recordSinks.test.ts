import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pointKey } from '../../models/payload';
import type { RequestRecord } from './publisher';
import { boundedCollector, ndjsonFileSink, sentKeyIndex } from './recordSinks';

const rec = (i: number, over: Partial<RequestRecord> = {}): RequestRecord => ({
  vehicleIndex: 0, seq: i, vehicleId: 'v0', timestamp: 1_700_000_000 + i / 10 + 0.0004, intendedMs: i, sentMs: i,
  completedMs: i + 1, status: 200, errorClass: null, errorCode: null, body: 'ok', ...over,
});

describe('record sinks', () => {
  it('boundedCollector keeps the first N', () => {
    const c = boundedCollector(2);
    for (let i = 0; i < 5; i++) c.sink(rec(i));
    expect(c.records.map((r) => r.seq)).toEqual([0, 1]);
    expect(c.dropped()).toBe(3);
  });

  it('sentKeyIndex keys samples the way the store does', () => {
    const k = sentKeyIndex();
    k.sink(rec(1));
    k.sink(rec(2, { vehicleId: null }));
    expect([...k.keys.keys()]).toEqual([pointKey('v0', 1_700_000_000_100)]);
    expect(k.unkeyed()).toBe(1);
  });

  it('ndjsonFileSink streams one JSON line per record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-sink-'));
    try {
      const f = ndjsonFileSink(join(dir, 'r.ndjson'));
      for (let i = 0; i < 3; i++) f.sink(rec(i));
      await f.close();
      const lines = readFileSync(join(dir, 'r.ndjson'), 'utf8').trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as RequestRecord).seq)).toEqual([0, 1, 2]);
      expect(f.written()).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
