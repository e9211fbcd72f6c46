/** report.md: a readable summary of a RunReport (tables first; the basis of findings write-ups). */
import { join } from 'node:path';
import { fmtDuration, fmtIso, mdCell, mdText } from './format';
import { writeAtomic } from './json';
import type { RunReport } from './runReport';
import {
  backendMetricsTable, backendTable, environmentTable, faultsTable, influxdTable, sseTable, lagTable, latencyTable, lossTable, publisherTable, summaryTable, thresholdsTable, timelineTable,
  type Table,
} from './sections';

export const REPORT_MD = 'report.md';

function md(t: Table): string {
  const strong = new Set(t.strong ?? []);
  const line = (cells: string[], bold = false): string => `| ${cells.map((c) => (bold && c !== '' ? `**${mdCell(c)}**` : mdCell(c))).join(' | ')} |`;
  return [line(t.header), `| ${t.header.map(() => '---').join(' | ')} |`, ...t.rows.map((r, i) => line(r, strong.has(i)))].join('\n');
}

export function renderMarkdown(r: RunReport): string {
  const out: string[] = [];
  const statusWord = r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'ERROR';
  out.push(`# Run report — ${mdText(r.scenario.name)}`, '');
  out.push(`**Status: ${statusWord}** (exit code ${r.exitCode}) · run \`${mdText(r.runId)}\` · ${fmtIso(r.startedAtMs)} → ${fmtIso(r.endedAtMs)} (${fmtDuration(r.endedAtMs - r.startedAtMs)})`, '');
  if (r.scenario.description) out.push(`> ${mdText(r.scenario.description).replace(/\n/g, '\n> ')}`, '');
  if (r.target) {
    const parts = [
      r.target.backendUrl && `backend ${r.target.backendUrl}`, r.target.backendMode && `mode ${r.target.backendMode}`,
      r.target.influxUrl && `InfluxDB ${r.target.influxUrl}`,
    ].filter(Boolean);
    if (parts.length > 0) out.push(`Target: ${mdText(parts.join(' · '))}`, '');
  }
  if (r.infraErrors.length > 0) {
    out.push('## Infrastructure errors', '', 'The figures below cannot be trusted:', '', ...r.infraErrors.map((e) => `- ${mdText(e)}`), '');
  }
  out.push('## Summary', '', md(summaryTable(r)), '');
  const loss = lossTable(r);
  if (loss) {
    out.push('## Loss by stage', '', md(loss), '');
    if (r.loss && r.loss.storedDespiteFailure > 0) out.push(`Stored although the client saw a failure (not loss): ${r.loss.storedDespiteFailure}.`, '');
  }
  out.push('## Latency (ms)', '', md(latencyTable(r)), '');
  out.push('## Lag (ms)', '', md(lagTable(r)), '');
  const th = thresholdsTable(r);
  out.push('## Thresholds', '', th ? md(th) : 'No thresholds were set.', '');
  out.push('## Publisher self-health', '', md(publisherTable(r)), '');
  out.push('## Backend resources', '', md(backendTable(r)), '');
  const influxd = influxdTable(r);
  if (influxd) out.push(md(influxd), '');
  const metrics = backendMetricsTable(r);
  if (metrics) out.push(md(metrics), '');
  const sse = sseTable(r);
  if (sse) out.push('## SSE clients', '', md(sse), '');
  const env = environmentTable(r);
  if (env) out.push('## Environment', '', md(env), '');
  const faults = faultsTable(r);
  out.push('## Fault windows', '', faults ? md(faults) : 'None.', '');
  const tl = timelineTable(r, 60);
  out.push('## Timeline (per second)', '');
  if (!tl) out.push('No per-second data.', '');
  else {
    if (tl.step > 1) out.push(`Every ${tl.step}th second of ${r.series.length}.`, '');
    out.push(md(tl), '');
  }
  out.push('## Scenario config', '', '```json', JSON.stringify(r.scenario.config, null, 2), '```', '');
  if (r.notes.length > 0) out.push('## Notes', '', ...r.notes.map((n) => `- ${mdText(n)}`), '');
  return out.join('\n');
}

export async function writeMarkdownReport(report: RunReport, dir: string): Promise<string> {
  return writeAtomic(join(dir, REPORT_MD), renderMarkdown(report));
}
