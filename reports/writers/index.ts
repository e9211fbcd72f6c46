/** All report writers; `writeAllReports` writes run.json, report.md, report.html and junit.xml into one directory. */
import { writeHtmlReport } from './html';
import { writeJsonReport } from './json';
import { writeJUnitReport } from './junit';
import { writeMarkdownReport } from './markdown';
import { parseRunReport, type RunReport } from './runReport';

export * from './runReport';
export * from './thresholds';
export { assembleRunReport, type AssembleInput } from './assemble';
export { renderJson, writeJsonReport, readJsonReport, RUN_JSON } from './json';
export { renderMarkdown, writeMarkdownReport, REPORT_MD } from './markdown';
export { renderHtml, writeHtmlReport, chartSpecs, CHART_IDS, REPORT_HTML } from './html';
export { renderJUnit, writeJUnitReport, JUNIT_XML } from './junit';

export interface WrittenReports { json: string; markdown: string; html: string; junit: string }

/** Validate once, then write every format. Throws (nothing written) when the report is invalid. */
export async function writeAllReports(report: RunReport, dir: string): Promise<WrittenReports> {
  const valid = parseRunReport(report);
  const json = await writeJsonReport(valid, dir);
  const [markdown, html, junit] = await Promise.all([
    writeMarkdownReport(valid, dir), writeHtmlReport(valid, dir), writeJUnitReport(valid, dir),
  ]);
  return { json, markdown, html, junit };
}
