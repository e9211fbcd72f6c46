/**
 * report.html: ONE self-contained file that opens offline — inline CSS,
 * charts as inline SVG generated here, no scripts, fonts or remote URLs.
 */
import { join } from 'node:path';
import { escapeXml, fmtDuration, fmtIso } from './format';
import { writeAtomic } from './json';
import type { RunReport } from './runReport';
import {
  backendMetricsTable, backendTable, environmentTable, faultsTable, influxdTable, sseTable, lagTable, latencyTable, lossTable, publisherTable, summaryTable, thresholdsTable, timelineTable,
  type Table,
} from './sections';
import { renderLineChart, type ChartSeries, type ChartSpec } from './svg';

export const REPORT_HTML = 'report.html';

/** Every chart the report draws, in order (each is one <svg data-chart="id">). */
export const CHART_IDS = ['rate', 'latency', 'ack-vs-stored', 'lag', 'cpu', 'rss', 'influx-errors'] as const;
export type ChartId = (typeof CHART_IDS)[number];

const COLORS = { sent: '#4e79a7', acked: '#59a14f', stored: '#e15759', p50: '#76b7b2', p99: '#f28e2b', sse: '#b07aa1', cpu: '#edc948', rss: '#9c755f', err: '#e15759', influxd: '#4e79a7' };

const e = escapeXml;

function html(t: Table, cls = ''): string {
  const strong = new Set(t.strong ?? []);
  const head = `<tr>${t.header.map((h) => `<th>${e(h)}</th>`).join('')}</tr>`;
  // Marks become words: an offline machine may have no emoji font.
  const cell = (c: string, col: number): string => (t.markColumn && col === 0
    ? `<td><span class="mark ${c === '✅' ? 'pass' : 'fail'}">${c === '✅' ? 'PASS' : 'FAIL'}</span></td>`
    : `<td>${e(c)}</td>`);
  const body = t.rows.map((r, i) => `<tr${strong.has(i) ? ' class="strong"' : ''}>${r.map(cell).join('')}</tr>`).join('');
  return `<table${cls ? ` class="${cls}"` : ''}><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

export function chartSpecs(r: RunReport): ChartSpec[] {
  const t0 = r.startedAtMs;
  // A per-second value is plotted at the middle of its second.
  const xs = r.series.map((s) => (s.tMs - t0) / 1000 + 0.5);
  const xMax = Math.max((r.endedAtMs - t0) / 1000, xs.length > 0 ? xs[xs.length - 1]! + 0.5 : 1);
  const faults = r.faults.map((f) => ({ kind: f.kind, start: (f.startMs - t0) / 1000, end: (f.endMs - t0) / 1000 }));
  const line = (name: string, color: string, pick: (i: number) => number | null, dashed = false): ChartSeries => ({
    name, color, dashed, points: r.series.map((_, i) => [xs[i]!, pick(i)] as const),
  });
  let cumAck = 0, cumStored = 0;
  const cumulative = r.series.map((s) => {
    cumAck += s.acked;
    cumStored += s.stored ?? 0;
    return { ack: cumAck, stored: s.stored === null ? null : cumStored };
  });
  const base = { xMax, faults };
  const hasInfluxd = r.series.some((s) => s.influxdCpuPct != null || s.influxdRssBytes != null);
  const mib = (b: number | null): number | null => (b === null ? null : Math.round((b / 1048576) * 10) / 10);
  const ms = (v: number): string => `${v} ms`;
  return [
    { ...base, id: 'rate', title: 'Rate per second (by send second)', yLabel: 'samples / s', series: [
      line('sent', COLORS.sent, (i) => r.series[i]!.sent),
      line('acknowledged', COLORS.acked, (i) => r.series[i]!.acked),
      line('stored', COLORS.stored, (i) => r.series[i]!.stored, true),
    ] },
    { ...base, id: 'latency', title: 'Request latency, corrected (per second of completion)', yLabel: 'ms', yFormat: ms, series: [
      line('p50', COLORS.p50, (i) => r.series[i]!.latencyP50Ms),
      line('p99', COLORS.p99, (i) => r.series[i]!.latencyP99Ms),
    ] },
    { ...base, id: 'ack-vs-stored', title: 'Acknowledged vs stored (cumulative)', yLabel: 'samples', series: [
      line('acknowledged', COLORS.acked, (i) => cumulative[i]!.ack),
      line('stored', COLORS.stored, (i) => cumulative[i]!.stored, true),
    ] },
    { ...base, id: 'lag', title: 'Lag p99 (by send second)', yLabel: 'ms', yFormat: ms, series: [
      line('send→stored', COLORS.stored, (i) => r.series[i]!.lagP99Ms),
      line('send→SSE', COLORS.sse, (i) => r.series[i]!.sseLagP99Ms),
    ] },
    { ...base, id: 'cpu', title: hasInfluxd ? 'CPU: backend and influxd' : 'Backend CPU', yLabel: '% of one core', series: [
      line('backend CPU %', COLORS.cpu, (i) => r.series[i]!.backendCpuPct),
      ...(hasInfluxd ? [line('influxd CPU %', COLORS.influxd, (i) => r.series[i]!.influxdCpuPct ?? null, true)] : []),
    ] },
    { ...base, id: 'rss', title: hasInfluxd ? 'RSS: backend and influxd' : 'Backend RSS', yLabel: 'MiB', series: [
      line('backend RSS MiB', COLORS.rss, (i) => mib(r.series[i]!.backendRssBytes)),
      ...(hasInfluxd ? [line('influxd RSS MiB', COLORS.influxd, (i) => mib(r.series[i]!.influxdRssBytes ?? null), true)] : []),
    ] },
    { ...base, id: 'influx-errors', title: 'InfluxDB write errors per second', yLabel: 'errors / s', series: [
      line('write errors', COLORS.err, (i) => r.series[i]!.influxWriteErrors),
    ] },
  ];
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232a;background:#f7f8fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #dde1e6;padding-bottom:4px}
.meta{color:#5a6570}.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;color:#fff;margin-right:8px}
.mark{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px}
.pass{background:#2e8540}.fail{background:#c0392b}.error{background:#7f5a00}
table{border-collapse:collapse;background:#fff;margin:6px 0 12px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #dde1e6;padding:4px 10px;text-align:left;vertical-align:top}th{background:#eef1f4}
tr.strong td{font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:14px}
.chart{background:#fff;border:1px solid #dde1e6}.chart-title{font-weight:600;font-size:13px}
.tick,.legend,.axis-label{font-size:11px;fill:#5a6570}.grid{stroke:#eef1f4}.frame{fill:none;stroke:#c9ced4}
.fault{fill:#f5a623;fill-opacity:.2}.no-data{fill:#9aa3ab;font-size:13px}
pre{background:#fff;border:1px solid #dde1e6;padding:10px;overflow:auto}
.infra{background:#fff4e5;border:1px solid #f0c36d;padding:8px 12px}
`;

export function renderHtml(r: RunReport): string {
  const title = `Run report — ${r.scenario.name}`;
  const parts: string[] = [];
  parts.push('<!doctype html><html lang="en"><head><meta charset="utf-8">');
  parts.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  parts.push(`<title>${e(title)}</title><style>${CSS}</style></head><body><main>`);
  parts.push(`<h1>${e(title)}</h1>`);
  parts.push(`<p class="meta"><span class="badge ${r.status}">${r.status.toUpperCase()}</span>exit code ${r.exitCode} · run <code>${e(r.runId)}</code> · ${e(fmtIso(r.startedAtMs))} → ${e(fmtIso(r.endedAtMs))} (${e(fmtDuration(r.endedAtMs - r.startedAtMs))})</p>`);
  if (r.scenario.description) parts.push(`<p>${e(r.scenario.description)}</p>`);
  if (r.target) {
    const t = [r.target.backendUrl && `backend ${r.target.backendUrl}`, r.target.backendMode && `mode ${r.target.backendMode}`, r.target.influxUrl && `InfluxDB ${r.target.influxUrl}`].filter(Boolean).join(' · ');
    if (t) parts.push(`<p class="meta">Target: ${e(t)}</p>`);
  }
  if (r.infraErrors.length > 0) {
    parts.push(`<div class="infra"><strong>Infrastructure errors — the figures below cannot be trusted:</strong><ul>${r.infraErrors.map((x) => `<li>${e(x)}</li>`).join('')}</ul></div>`);
  }
  parts.push('<h2>Summary</h2>', html(summaryTable(r)));
  const loss = lossTable(r);
  if (loss) parts.push('<h2>Loss by stage</h2>', html(loss));
  const th = thresholdsTable(r);
  parts.push('<h2>Thresholds</h2>', th ? html(th) : '<p>No thresholds were set.</p>');
  parts.push('<h2>Charts</h2>');
  if (r.faults.length > 0) parts.push('<p class="meta">Shaded bands are fault windows.</p>');
  parts.push(`<div class="charts">${chartSpecs(r).map(renderLineChart).join('')}</div>`);
  parts.push('<h2>Latency (ms)</h2>', html(latencyTable(r)));
  parts.push('<h2>Lag (ms)</h2>', html(lagTable(r)));
  parts.push('<h2>Publisher self-health</h2>', html(publisherTable(r)));
  parts.push('<h2>Backend resources</h2>', html(backendTable(r)));
  const influxd = influxdTable(r);
  if (influxd) parts.push(html(influxd));
  const metrics = backendMetricsTable(r);
  if (metrics) parts.push(html(metrics));
  const sse = sseTable(r);
  if (sse) parts.push('<h2>SSE clients</h2>', html(sse));
  const env = environmentTable(r);
  if (env) parts.push('<h2>Environment</h2>', html(env));
  const faults = faultsTable(r);
  parts.push('<h2>Fault windows</h2>', faults ? html(faults) : '<p>None.</p>');
  const tl = timelineTable(r, 120);
  if (tl) {
    parts.push('<h2>Timeline (per second)</h2>');
    if (tl.step > 1) parts.push(`<p class="meta">Every ${tl.step}th second of ${r.series.length}.</p>`);
    parts.push(html(tl));
  }
  parts.push('<h2>Scenario config</h2>', `<pre>${e(JSON.stringify(r.scenario.config, null, 2))}</pre>`);
  if (r.notes.length > 0) parts.push('<h2>Notes</h2>', `<ul>${r.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>`);
  parts.push('</main></body></html>\n');
  return parts.join('\n');
}

export async function writeHtmlReport(report: RunReport, dir: string): Promise<string> {
  return writeAtomic(join(dir, REPORT_HTML), renderHtml(report));
}
