/**
 * Screenshot a report.html in headless Chromium, offline:
 *   npx tsx scripts/screenshot-report.ts <report.html> <out.png> [css-selector]
 * (with a selector, only that element: e.g. '.charts' for the charts alone)
 * Prints the charts it found and any console error or network request.
 */
import { writeFileSync } from 'node:fs';
import { findChromium, renderOffline } from '../reports/writers/testing/headlessChromium';

const [html, png, selector] = process.argv.slice(2);
if (!html || !png) {
  console.error('usage: npx tsx scripts/screenshot-report.ts <report.html> <out.png>');
  process.exit(1);
}
const chromium = findChromium();
if (!chromium) {
  console.error('no Chromium found: install Debian\'s `chromium` or set CHROMIUM_BIN');
  process.exit(2);
}
const r = await renderOffline(chromium, html, { screenshot: true, clipSelector: selector });
writeFileSync(png, r.screenshot!);
console.log(JSON.stringify({ title: r.title, charts: r.charts, consoleErrors: r.consoleErrors, networkRequests: r.networkRequests, png, bytes: r.screenshot!.length }, null, 2));
