/**
 * reports/zoo.json and reports/zoo.md from a zoo run. Pure.
 */
import { MUTANTS, type MutantInfo } from '../../backend/src/mutants';
import { ZOO_CHECKS } from './profile';
import { ZOO_HOSTILE_LEFT_OUT } from './plans';
import { ZOO_DROP_N, targetLabel, type TargetResult, type ZooRun } from './zoo';

export interface ZooSummary {
  /** (mutant, mode) pairs run. */
  mutants: number;
  detected: number;
  detectionRate: number;
  /** Caught by the property the zoo expects. */
  expectedProperty: number;
  /** Minimal case within the expected size. */
  withinSize: number;
  medianTimeToDetectMs: number | null;
  maxTimeToDetectMs: number | null;
  /** Mutant runs with an infrastructure error in a check. */
  mutantErrors: number;
  baseline: { mode: 'legacy' | 'durable'; runs: number; falseAlarms: number; errors: number; seeds: number[] }[];
  falseAlarms: number;
  totalMs: number;
}

export interface ZooReport {
  schemaVersion: 1;
  kind: 'zoo';
  command: string;
  environment: Record<string, string>;
  summary: ZooSummary;
  run: ZooRun;
  profile: { name: string; kind: string; modes: readonly string[]; numRuns: number; description: string }[];
  catalogue: MutantInfo[];
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(run: ZooRun): ZooSummary {
  const detected = run.mutants.filter((m) => m.failed);
  const times = detected.map((m) => m.timeToDetectMs).filter((t): t is number => t !== undefined);
  const baseline = (['durable', 'legacy'] as const)
    .map((mode) => {
      const rs = run.baseline.filter((b) => b.mode === mode);
      return { mode, runs: rs.length, falseAlarms: rs.filter((b) => b.failed).length, errors: rs.filter((b) => b.errors.length > 0).length, seeds: rs.map((b) => b.seed) };
    })
    .filter((b) => b.runs > 0);
  return {
    mutants: run.mutants.length,
    detected: detected.length,
    detectionRate: run.mutants.length ? detected.length / run.mutants.length : 0,
    expectedProperty: detected.filter((m) => m.asExpected?.property).length,
    withinSize: detected.filter((m) => m.asExpected?.size).length,
    medianTimeToDetectMs: median(times),
    maxTimeToDetectMs: times.length ? Math.max(...times) : null,
    mutantErrors: run.mutants.filter((m) => m.errors.length > 0).length,
    baseline,
    falseAlarms: run.baseline.filter((b) => b.failed).length,
    totalMs: run.totalMs,
  };
}

export function zooReport(run: ZooRun, command: string, environment: Record<string, string>): ZooReport {
  return {
    schemaVersion: 1,
    kind: 'zoo',
    command,
    environment,
    summary: summarize(run),
    run,
    profile: ZOO_CHECKS.map((c) => ({ name: c.name, kind: c.kind, modes: c.modes, numRuns: c.numRuns, description: c.description })),
    catalogue: MUTANTS.map((m) => ({ ...m })),
  };
}

export function seconds(ms: number | null | undefined, digits = 1): string {
  return ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(digits)} s`;
}

function minutes(ms: number): string {
  return ms >= 60_000 ? `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s` : seconds(ms);
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function shrunkCell(r: TargetResult): string {
  if (!r.shrunk) return '–';
  const parts = [`${r.shrunk.requests} request${r.shrunk.requests === 1 ? '' : 's'}`];
  if (r.shrunk.faults > 0) parts.push(`${r.shrunk.faults} fault${r.shrunk.faults === 1 ? '' : 's'}`);
  return parts.join(', ');
}

function expectedCell(r: TargetResult): string {
  if (!r.expected) return '–';
  const size = `≤ ${r.expected.maxRequests} req${r.expected.maxFaults ? `, ${r.expected.maxFaults} fault${r.expected.maxFaults > 1 ? 's' : ''}` : ''}`;
  if (!r.failed) return `${r.expected.property}, ${size}`;
  const ok = (b: boolean | undefined) => (b ? 'yes' : 'NO');
  return `${r.expected.property} (${ok(r.asExpected?.property)}), ${size} (${ok(r.asExpected?.size)})`;
}

export function renderZooMarkdown(report: ZooReport): string {
  const { run, summary: s } = report;
  const issueOf = new Map(MUTANTS.map((m) => [m.name, m.issue]));
  const lines: string[] = [
    '# Mutant zoo',
    '',
    `Command: \`${report.command}\` — ${run.startedAt} to ${run.finishedAt}, seed ${run.seed}.`,
    '',
    `**Detection rate: ${s.detected}/${s.mutants} (${(s.detectionRate * 100).toFixed(0)} %).** ` +
      `Median time to detect ${seconds(s.medianTimeToDetectMs)} (max ${seconds(s.maxTimeToDetectMs)}); ` +
      `caught by the expected property: ${s.expectedProperty}/${s.detected}; minimal case within the expected size: ${s.withinSize}/${s.detected}.`,
    '',
    `**False alarms: ${s.falseAlarms}** — ${s.baseline.map((b) => `correct ${b.mode} backend: ${b.falseAlarms} of ${b.runs} run(s) failed (seeds ${b.seeds[0]}..${b.seeds.at(-1)})${b.errors ? `, ${b.errors} with errors` : ''}`).join('; ') || 'no baseline run'}.`,
    '',
    `Total zoo run time: ${minutes(s.totalMs)}.${s.mutantErrors ? ` ${s.mutantErrors} mutant run(s) had a check that could not run (see below).` : ''}`,
    '',
    '## Mutants',
    '',
    'Each mutant ran against a backend of its own (`BACKEND_MUTANT=<name>`) through the profile below, in order, until a check failed. ' +
      'Time to detect: from the start of the profile (backend start included) to the end of the first failing execution. ' +
      'Shrunk case: the minimal plan fast-check found within the check\'s time budget (requests sent; faults played).',
    '',
    '| # | mutant | mode | detected | property that caught it | check | time to detect | shrunk case | expected (property, size) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...run.mutants.map((r) => `| ${issueOf.get(r.mutant!) ?? ''} | \`${r.mutant}\` | ${r.mode} | ${r.failed ? 'yes' : r.errors.length ? 'ERROR' : '**no**'} | ${r.detectedBy ? cell(r.detectedBy.property) : '–'} | ${r.detectedBy?.check ?? '–'} | ${seconds(r.timeToDetectMs)} | ${shrunkCell(r)} | ${cell(expectedCell(r))} |`),
    '',
    '### Minimal cases',
    '',
    ...run.mutants.filter((r) => r.shrunk).map((r) => `- \`${targetLabel(r)}\`: ${cell(r.shrunk!.summary)}${r.checks.find((c) => c.check === r.detectedBy?.check)?.details?.length ? ` — ${cell(r.checks.find((c) => c.check === r.detectedBy?.check)!.details!.filter((d) => !d.startsWith('stages:') && d !== '')[0] ?? '').slice(0, 240)}` : ''}`),
    '',
    '## False alarms: the correct backends through the same profile',
    '',
    '| backend | seed | result | checks (time) | total |',
    '|---|---|---|---|---|',
    ...run.baseline.map((r) => `| ${r.mode} | ${r.seed} | ${r.failed ? `**FALSE ALARM** (${r.detectedBy?.check}: ${cell(r.detectedBy?.property ?? '')})` : r.errors.length ? `error: ${cell(r.errors.join('; ')).slice(0, 160)}` : 'pass'} | ${r.checks.map((c) => `${c.check} ${seconds(c.elapsedMs, 0)}`).join(', ')} | ${seconds(r.totalMs, 0)} |`),
    '',
    '## The profile',
    '',
    `Property checks: fast-check over generated plans (\`runPlanProperty\`), numRuns as below, a failure (and each shrink step) counted only if it repeats twice, time budget ${seconds(60_000, 0)} per check (the quick profile's). ` +
      'Chaos checks: fast-check over chaos plans with faults played by the nemesis (`runChaosProperty`), same repeat rule, 120 s per check. ' +
      'Every check judges every property it can see; after the first failure it keeps to that property while shrinking.',
    '',
    '| check | kind | modes | runs | what |',
    '|---|---|---|---|---|',
    ...report.profile.map((c) => `| ${c.name} | ${c.kind} | ${c.modes.join(', ')} | ${c.numRuns} | ${cell(c.description)} |`),
    '',
    'Backends: legacy with the 1 s flush (the seed team\'s config-only fix) and a retry budget that outlives the outages played (5 retries, 0.2–1 s apart); ' +
      'durable with a 1 s cap on the shipper\'s back-off. The same settings for every mutant and for the correct backend.',
    '',
    `\`drop-one-in-n\` runs with BACKEND_MUTANT_N=${ZOO_DROP_N} (default 1000): the quick profile's plans carry at most 20 samples, so a 1-in-1000 drop is beyond what a quick profile can see; a minimal case then needs at most ${ZOO_DROP_N} acknowledged samples.`,
    '',
    'Hostile cases left out of the zoo\'s hostile input (a correct backend of one mode fails them by design; the contract suite and the self-tests cover them):',
    '',
    ...Object.entries(ZOO_HOSTILE_LEFT_OUT).map(([k, v]) => `- \`${k}\`: ${v}`),
    '',
    '## The mutants',
    '',
    '| # | mutant | modes | where | the bug | expected property |',
    '|---|---|---|---|---|---|',
    ...report.catalogue.map((m) => `| ${m.issue} | \`${m.name}\` | ${m.modes.join(', ')}${m.notApplicable ? ` (not ${Object.keys(m.notApplicable).join(', ')}: ${cell(Object.values(m.notApplicable).join('; '))})` : ''} | ${cell(m.where)} | ${cell(m.description)} | ${m.expectedProperty} |`),
    '',
    '## Environment',
    '',
    ...Object.entries(report.environment).map(([k, v]) => `- ${k}: ${v}`),
    '',
  ];
  return lines.join('\n');
}
