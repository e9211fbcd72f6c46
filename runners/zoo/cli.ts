/**
 * `npx telemetry-proof zoo`: the mutant zoo (runners/zoo/zoo.ts) on a
 * managed stack of its own; writes reports/zoo.json and reports/zoo.md.
 *
 * Exit codes: 0 every mutant detected and no false alarm; 99 a mutant not
 * detected or a false alarm; 2 infrastructure (the stack did not start, a
 * check could not run); 1 usage.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { MUTANT_NAMES, MUTANTS, type MutantName } from '../../backend/src/mutants';
import { ConfigError, loadStackConfig } from '../stack/config';
import { PROJECT_ROOT } from '../stack/executables';
import { withStack } from '../stack/stack';
import { ZOO_CHECKS, type ZooMode } from './profile';
import { renderZooMarkdown, seconds, summarize, zooReport } from './report';
import { DEFAULT_BASELINE_SEEDS, DEFAULT_LEGACY_BASELINE_SEEDS, DEFAULT_ZOO_SEED, EXPECTATIONS, runZoo, targetLabel, type TargetResult } from './zoo';

export interface ZooFlags {
  mutants?: string;
  modes?: string;
  seed?: string;
  seeds?: string;
  legacySeeds?: string;
  checks?: string;
  budgetMs?: string;
  chaosBudgetMs?: string;
  out?: string;
  cases?: string;
  verbose?: boolean;
  list?: boolean;
}

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function int(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new ConfigError([`--${name} ${JSON.stringify(value)}: must be an integer from ${min} to ${max}`]);
  return Number(value);
}

export interface ParsedZooFlags {
  mutants: MutantName[];
  modes: ZooMode[];
  seed: number;
  baselineSeeds: number;
  legacyBaselineSeeds: number;
  checks?: string[];
  budgetMs?: number;
  chaosBudgetMs?: number;
}

export function parseZooFlags(f: ZooFlags): ParsedZooFlags {
  const problems: string[] = [];
  const names = list(f.mutants);
  const mutants = names === undefined ? [...MUTANT_NAMES] : names.includes('none') ? [] : names.filter((n): n is MutantName => (MUTANT_NAMES as readonly string[]).includes(n));
  for (const n of names ?? []) if (n !== 'none' && !(MUTANT_NAMES as readonly string[]).includes(n)) problems.push(`--mutants: unknown mutant ${JSON.stringify(n)}; valid: ${MUTANT_NAMES.join(', ')} (or none)`);
  const modes = (list(f.modes) ?? ['legacy', 'durable']) as ZooMode[];
  for (const m of modes) if (m !== 'legacy' && m !== 'durable') problems.push(`--modes: ${JSON.stringify(m)} is not legacy or durable`);
  const checks = list(f.checks);
  for (const c of checks ?? []) if (!ZOO_CHECKS.some((k) => k.name === c)) problems.push(`--checks: unknown check ${JSON.stringify(c)}; valid: ${ZOO_CHECKS.map((k) => k.name).join(', ')}`);
  if (problems.length) throw new ConfigError(problems);
  const budgetMs = int('budget-ms', f.budgetMs, 1_000, 3_600_000);
  const chaosBudgetMs = int('chaos-budget-ms', f.chaosBudgetMs, 1_000, 3_600_000);
  return {
    mutants,
    modes,
    seed: int('seed', f.seed, -0x80000000, 0x7fffffff - 1000) ?? DEFAULT_ZOO_SEED,
    baselineSeeds: int('seeds', f.seeds, 0, 1000) ?? DEFAULT_BASELINE_SEEDS,
    legacyBaselineSeeds: int('legacy-seeds', f.legacySeeds, 0, 1000) ?? DEFAULT_LEGACY_BASELINE_SEEDS,
    ...(checks ? { checks } : {}),
    ...(budgetMs !== undefined ? { budgetMs } : {}),
    ...(chaosBudgetMs !== undefined ? { chaosBudgetMs } : {}),
  };
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim() !== '';
    return `${head}${dirty ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

function progressLine(r: TargetResult, done: number, total: number): string {
  const what = r.mutant
    ? r.failed
      ? `DETECTED by ${r.detectedBy!.property} (${r.detectedBy!.check}) in ${seconds(r.timeToDetectMs)}, minimal case ${r.shrunk ? `${r.shrunk.requests} request(s)${r.shrunk.faults ? `, ${r.shrunk.faults} fault(s)` : ''}` : '–'}`
      : r.errors.length ? `ERROR ${r.errors[0]}` : 'NOT DETECTED'
    : r.failed
      ? `FALSE ALARM: ${r.detectedBy!.check} failed ${r.detectedBy!.property}`
      : r.errors.length ? `ERROR ${r.errors[0]}` : 'pass';
  return `[zoo] (${done}/${total}) ${targetLabel(r)} seed ${r.seed}: ${what} [${seconds(r.totalMs)}]`;
}

function printList(): void {
  const out = [
    'Mutants (BACKEND_MUTANT=<name>):',
    ...MUTANTS.map((m) => `  ${String(m.issue).padStart(2)} ${m.name.padEnd(28)} ${m.modes.join(',').padEnd(15)} ${m.description}`),
    '',
    'Profile (in order):',
    ...ZOO_CHECKS.map((c) => `  ${c.name.padEnd(20)} ${c.kind.padEnd(8)} ${c.modes.join(',').padEnd(15)} ${c.description}`),
    '',
    'Expected detection:',
    ...MUTANTS.map((m) => `  ${m.name.padEnd(28)} ${EXPECTATIONS[m.name].check.padEnd(20)} ${EXPECTATIONS[m.name].property}`),
    '',
  ];
  process.stdout.write(out.join('\n'));
}

export async function cmdZoo(f: ZooFlags, say: (line: string) => void): Promise<number> {
  if (f.list) {
    printList();
    return 0;
  }
  const p = parseZooFlags(f);
  const stackConfig = loadStackConfig(process.env);
  if (stackConfig.target !== 'managed') throw new ConfigError(['the zoo starts reference backends of its own: it needs the managed stack (unset TP_TARGET or set it to managed)']);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = resolve(f.out ?? join(PROJECT_ROOT, 'reports'));
  const casesDir = resolve(f.cases ?? join(PROJECT_ROOT, 'reports', 'out', `zoo-${stamp}`, 'cases'));
  const command = ['telemetry-proof zoo', ...process.argv.slice(3)].join(' ');
  say(`[zoo] ${p.mutants.length} mutant(s) × modes ${p.modes.join(',')}, baseline ${p.baselineSeeds} durable + ${p.legacyBaselineSeeds} legacy seed(s), seed ${p.seed}; minimal cases in ${relative(process.cwd(), casesDir) || '.'}`);
  const engineLog = console.log;
  // The engines log every execution: keep that for --verbose.
  if (!f.verbose) console.log = () => {};
  try {
    return await withStack(stackConfig, async (stack) => {
      say(`[zoo] stack up: InfluxDB ${stack.info.influx.version} at ${stack.info.influx.directUrl}`);
      const run = await runZoo({
        shared: stack.info,
        mutants: p.mutants,
        modes: p.modes,
        seed: p.seed,
        baselineSeeds: p.baselineSeeds,
        legacyBaselineSeeds: p.legacyBaselineSeeds,
        ...(p.checks ? { checks: p.checks } : {}),
        ...(p.budgetMs ? { budgetMs: p.budgetMs } : {}),
        ...(p.chaosBudgetMs ? { chaosBudgetMs: p.chaosBudgetMs } : {}),
        failuresDir: casesDir,
        log: (line) => {
          if (f.verbose || line.startsWith('[zoo]')) say(line);
        },
        onResult: (r, done, total) => say(progressLine(r, done, total)),
      });
      const environment = {
        commit: gitCommit(),
        node: process.version,
        cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
        memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
        influxdb: stack.info.influx.version,
      };
      const report = zooReport(run, command, environment);
      mkdirSync(outDir, { recursive: true });
      writeFileSync(join(outDir, 'zoo.json'), `${JSON.stringify(report, null, 2)}\n`);
      writeFileSync(join(outDir, 'zoo.md'), renderZooMarkdown(report));
      const s = summarize(run);
      say(`[zoo] detection rate ${s.detected}/${s.mutants} (${(s.detectionRate * 100).toFixed(0)} %), median time to detect ${seconds(s.medianTimeToDetectMs)}, false alarms ${s.falseAlarms}/${run.baseline.length}, total ${seconds(s.totalMs, 0)}`);
      say(`[zoo] ${join(relative(process.cwd(), outDir) || '.', 'zoo.json')}, ${join(relative(process.cwd(), outDir) || '.', 'zoo.md')}`);
      if (s.mutantErrors > 0 || run.baseline.some((b) => b.errors.length > 0)) return 2;
      return s.detected === s.mutants && s.falseAlarms === 0 ? 0 : 99;
    });
  } finally {
    console.log = engineLog;
  }
}

/** Register `zoo` on the telemetry-proof program. */
export function addZooCommand(program: Command, run: (fn: () => Promise<number>) => Promise<void>, say: (line: string) => void): Command {
  return program
    .command('zoo')
    .description('mutant zoo: run the quick property and chaos profile against every mutant of the reference backend and against the correct backends (20 seeds); writes reports/zoo.json and reports/zoo.md')
    .option('--mutants <names>', `comma-separated mutants (default all; "none" for the baseline only): ${MUTANT_NAMES.join(', ')}`)
    .option('--modes <modes>', 'legacy,durable (default both; each mutant runs in the modes it applies to)')
    .option('--seed <n>', `seed of the mutant runs and first baseline seed (default ${DEFAULT_ZOO_SEED})`)
    .option('--seeds <n>', `runs of the correct durable backend, seeds seed..seed+n-1 (default ${DEFAULT_BASELINE_SEEDS})`)
    .option('--legacy-seeds <n>', `runs of the correct legacy backend (default ${DEFAULT_LEGACY_BASELINE_SEEDS})`)
    .option('--checks <names>', `only these checks of the profile: ${ZOO_CHECKS.map((c) => c.name).join(', ')}`)
    .option('--budget-ms <ms>', 'time budget per property check (default 60000, the quick profile)')
    .option('--chaos-budget-ms <ms>', 'time budget per chaos check (default 120000)')
    .option('--out <dir>', 'where zoo.json and zoo.md go (default reports/)')
    .option('--cases <dir>', 'where minimal cases go (default reports/out/zoo-<time>/cases)')
    .option('--verbose', 'print every execution')
    .option('--list', 'list the mutants and the profile; run nothing')
    .action((flags: ZooFlags) => run(() => cmdZoo(flags, say)));
}
