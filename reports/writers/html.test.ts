import { describe, expect, it } from 'vitest';
import { CHART_IDS, renderHtml } from './html';
import { sampleReport } from './testing/sampleReport';

describe('renderHtml', () => {
  const html = renderHtml(sampleReport());

  it('draws one inline <svg> per chart', () => {
    expect(html.match(/<svg /g)).toHaveLength(CHART_IDS.length);
    for (const id of CHART_IDS) expect(html).toContain(`data-chart="${id}"`);
    // Every chart actually has a plotted line, and the fault window is shaded on each.
    for (const svg of html.match(/<svg [\s\S]*?<\/svg>/g)!) {
      expect(svg).toMatch(/<path d="M[\d.]+ [\d.]+L/);
      expect(svg).toContain('class="fault"');
    }
  });

  it('is self-contained: no scripts, stylesheets, fonts or remote resources', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/<img|<iframe|<object|<embed/i);
    expect(html).not.toMatch(/@import|@font-face|url\(/i);
    expect(html).not.toMatch(/(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/xmlns=/);
    // URLs appear only as escaped text (the target), never as attributes.
    expect(html).toContain('backend http://127.0.0.1:3000');
    expect(html.startsWith('<!doctype html>')).toBe(true);
  });

  it('escapes every report string and shows the key figures', () => {
    expect(html).toContain('steady-10hz &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert');
    for (const s of ['3000', '2950', '2847', '153 (5.10%)', '105', '123.5', '97.3', '4322', 'influx-down', 'FAIL']) expect(html).toContain(s);
  });

  it('says "not measured" instead of drawing zeros', () => {
    const r = sampleReport();
    const blank = renderHtml({ ...r, series: r.series.map((s) => ({ ...s, backendCpuPct: null })) });
    const cpu = blank.match(/<svg [^>]*data-chart="cpu"[\s\S]*?<\/svg>/)![0];
    expect(cpu).toContain('not measured in this run');
    expect(cpu).not.toMatch(/<path d=/);
  });
});
