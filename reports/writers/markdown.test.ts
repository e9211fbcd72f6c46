import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';
import { sampleReport } from './testing/sampleReport';

describe('renderMarkdown', () => {
  const md = renderMarkdown(sampleReport());

  it('states the verdict and the totals', () => {
    expect(md).toContain('**Status: FAIL** (exit code 99)');
    expect(md).toContain('| Intended sends | 3000 |');
    expect(md).toContain('| Acknowledged (2xx) | 2950 (98.33% of sent) |');
    expect(md).toContain('| Non-2xx replies | 20 (400: 12, 500: 8) |');
    expect(md).toContain('| Request errors (no status) | 30 (timeout: 25, reset: 5) |');
    expect(md).toContain('| Stored | 2847 (94.90% of intended) |');
    expect(md).toContain('| **Lost (intended − stored)** | **153 (5.10%)** |');
  });

  it('breaks loss down by stage and shows latency, lag and thresholds', () => {
    expect(md).toContain('| **Acknowledged but not stored** | **105** | **3.50%** |');
    expect(md).toContain('| Failed at HTTP (timeout, refused, reset…) | 28 | 0.93% |');
    expect(md).toContain('| Corrected (from intended send time) | 2.50 | 8.75 | 123.5 | 850.5 | 2000 | 2970 |');
    expect(md).toContain('| Uncorrected (from actual send time) | 2.10 | 7.50 | 97.3 | 640.3 | 1501 | 2970 |');
    expect(md).toContain('| Send → stored | 250.5 | 430.3 | 4322 | 5201 | 6100 | 2847 |');
    expect(md).toMatch(/\| ✅ \| latency_p99_ms &lt; 200 — p99 under 200 ms .* \| 123\.456 \| pass \|/);
    expect(md).toContain('| **❌** | **loss_acknowledged_not_stored == 0 — no silent loss** | **105** | **FAIL: loss_acknowledged_not_stored = 105, required == 0** |');
    expect(md).toContain('| influx-down | 10.0 | 15.0 | 5.0 |');
    expect(md).toContain('| 39 | 37 | 134.5 MiB | 0.750 | 200 |');
  });

  it('keeps tables intact and inert when strings hold pipes, newlines or HTML', () => {
    const row = md.split('\n').find((l) => l.startsWith('| influx-down'))!;
    expect(row).toContain('bell\\|pipe');
    expect(row.split(' | ')).toHaveLength(5);
    // Outside the fenced JSON block (rendered literally), no raw tag survives.
    expect(md.split('## Scenario config')[0]).not.toContain('<script>');
    expect(md).toContain('# Run report — steady-10hz &lt;script>alert("x")&lt;/script>');
    expect(md).not.toContain('\u0001');
  });
});
