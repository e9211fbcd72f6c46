import { describe, expect, it } from 'vitest';
import { parseRunReport } from './runReport';
import { sampleReport } from './testing/sampleReport';

describe('RunReportSchema', () => {
  it('accepts a complete report', () => {
    const r = sampleReport();
    expect(parseRunReport(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it('rejects a report whose loss stages do not add up, or that is not version 1', () => {
    const r = sampleReport();
    expect(() => parseRunReport({ ...r, loss: { ...r.loss!, byStage: { ...r.loss!.byStage, rejected: 21 } } })).toThrow(/do not add up/);
    expect(() => parseRunReport({ ...r, totals: { ...r.totals, stored: { ...r.totals.stored, count: 2848 } } })).toThrow(/intended − stored/);
    expect(() => parseRunReport({ ...r, schemaVersion: 2 })).toThrow();
    expect(() => parseRunReport({ ...r, totals: { ...r.totals, acknowledged: 3001 } })).toThrow(/acknowledged exceeds sent/);
    expect(() => parseRunReport({ ...r, latency: { ...r.latency, corrected: { ...r.latency.corrected, p99: Number.NaN } } })).toThrow();
    expect(() => parseRunReport({ ...r, faults: [{ kind: 'x', startMs: 5, endMs: 4 }] })).toThrow(/ends before/);
  });
});
