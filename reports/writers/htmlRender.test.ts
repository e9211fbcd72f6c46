/**
 * report.html opens offline in a real browser: headless Chromium renders every
 * chart (with lines and the shaded fault window) with no console error and no
 * network request. Skipped, saying why, when Chromium is not installed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHART_IDS, writeHtmlReport } from './html';
import { findChromium, renderOffline } from './testing/headlessChromium';
import { sampleReport } from './testing/sampleReport';

const chromium = findChromium();
if (!chromium) console.warn('[htmlRender.test] skipped: no Chromium found (install Debian\'s `chromium` or set CHROMIUM_BIN)');

describe.skipIf(!chromium)('report.html in headless Chromium (offline)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tp-html-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders every chart with no console errors and no network access', async () => {
    const path = await writeHtmlReport(sampleReport(), dir);
    const r = await renderOffline(chromium!, path, { screenshot: true });
    expect(r.consoleErrors).toEqual([]);
    expect(r.networkRequests).toEqual([]);
    expect(r.title).toMatch(/^Run report — steady-10hz/);
    expect(r.charts.map((c) => c.id)).toEqual([...CHART_IDS]);
    for (const c of r.charts) {
      expect(c.width, c.id).toBeGreaterThan(300);
      expect(c.height, c.id).toBeGreaterThan(80);
      expect(c.paths, `${c.id} has a plotted line`).toBeGreaterThan(0);
      expect(c.faults, `${c.id} shades the fault window`).toBe(1);
    }
    // A real PNG came back (signature and a plausible size).
    expect(r.screenshot!.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(r.screenshot!.length).toBeGreaterThan(10_000);
  }, 60_000);

  it('the check itself sees console errors, exceptions and network requests (so a clean result means something)', async () => {
    const path = join(dir, 'bad.html');
    writeFileSync(path, '<!doctype html><title>bad</title><img src="http://example.invalid/x.png"><script>console.error("boom"); null.x;</script>');
    const r = await renderOffline(chromium!, path);
    expect(r.consoleErrors.some((e) => e.includes('boom'))).toBe(true);
    expect(r.consoleErrors.some((e) => e.startsWith('exception:'))).toBe(true);
    expect(r.networkRequests).toContain('http://example.invalid/x.png');
  }, 60_000);
});
