/**
 * junit.xml for CI: one <testcase> per threshold (a breach is a <failure>),
 * plus an "infrastructure" testcase with an <error> when the run itself
 * failed. Every piece of text is XML-escaped and stripped of characters XML
 * 1.0 cannot carry.
 */
import { join } from 'node:path';
import { escapeXml, fmtIso } from './format';
import { writeAtomic } from './json';
import type { RunReport } from './runReport';
import { describeThreshold } from './thresholds';

export const JUNIT_XML = 'junit.xml';

const a = escapeXml;

export function renderJUnit(r: RunReport): string {
  const suite = r.scenario.name;
  const classname = `telemetry-proof.${suite}`;
  const seconds = ((r.endedAtMs - r.startedAtMs) / 1000).toFixed(3);
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;

  if (r.infraErrors.length > 0) {
    errors++;
    cases.push(`    <testcase classname="${a(classname)}" name="infrastructure" time="0">\n`
      + `      <error message="${a(r.infraErrors[0]!)}" type="infrastructure">${a(r.infraErrors.join('\n'))}</error>\n`
      + '    </testcase>');
  }
  for (const t of r.thresholds) {
    const name = describeThreshold(t);
    if (t.pass) {
      cases.push(`    <testcase classname="${a(classname)}" name="${a(name)}" time="0"/>`);
    } else {
      failures++;
      const body = [t.message, t.description ? `(${t.description})` : '', `actual: ${t.actual === null ? 'not measured' : t.actual}`].filter(Boolean).join('\n');
      cases.push(`    <testcase classname="${a(classname)}" name="${a(name)}" time="0">\n`
        + `      <failure message="${a(t.message)}" type="threshold">${a(body)}</failure>\n`
        + '    </testcase>');
    }
  }
  const tests = cases.length;
  const lossLine = r.loss ? `lost ${r.loss.total} of ${r.totals.intended} (${(r.loss.rate * 100).toFixed(3)}%)` : 'loss not measured';
  const summary = `sent ${r.totals.sent}, acknowledged ${r.totals.acknowledged}, stored ${r.totals.stored.count ?? 'not measured'}, ${lossLine}; `
    + `latency p99 ${r.latency.corrected.p99} ms (corrected)`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="telemetry-proof" tests="${tests}" failures="${failures}" errors="${errors}" time="${seconds}">`,
    `  <testsuite name="${a(suite)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="0" time="${seconds}" timestamp="${a(fmtIso(r.startedAtMs))}">`,
    '    <properties>',
    `      <property name="runId" value="${a(r.runId)}"/>`,
    `      <property name="status" value="${a(r.status)}"/>`,
    `      <property name="exitCode" value="${r.exitCode}"/>`,
    '    </properties>',
    ...cases,
    `    <system-out>${a(summary)}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export async function writeJUnitReport(report: RunReport, dir: string): Promise<string> {
  return writeAtomic(join(dir, JUNIT_XML), renderJUnit(report));
}
