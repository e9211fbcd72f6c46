/**
 * `npx telemetry-proof <command>` (bin/telemetry-proof.mjs runs this through tsx).
 *
 *   list                       scenarios and network profiles
 *   run <scenario>             one scenario → run.json, report.md, report.html, junit.xml
 *   matrix [scenario…]         the seed's whole matrix on one stack → per-scenario reports, matrix.json, findings.md
 *   find-max-rate              ramp, bisect, confirm → max-rate.json, max-rate.md, one report per step
 *   report <run.json>          re-render report.md, report.html and junit.xml from a run.json
 *   findings --matrix … --max-rate …   one findings.md from several measurements
 *
 * Exit codes: 0 pass, 99 a threshold breached, 2 infrastructure error (the
 * stack did not start, the target was unreachable, a probe failed), 1 usage.
 * Secrets (API key, InfluxDB token) are never printed nor written.
 */
import { Command, Option } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { readJsonReport, writeAllReports } from '../reports/writers/index';
import { writeHtmlReport } from '../reports/writers/html';
import { writeJUnitReport } from '../reports/writers/junit';
import { writeMarkdownReport } from '../reports/writers/markdown';
import { EXIT_INFRASTRUCTURE_ERROR, EXIT_PASS, EXIT_THRESHOLD_BREACH } from '../reports/writers/thresholds';
import {
  readCliConfigFile, resolveScenario, resolveSearch, resolveStackConfig,
  type CliConfigFile, type ScenarioFlags, type SearchFlags, type StackFlags,
} from './cliConfig';
import { createProgressLine } from './load/progress';
import { DEFAULT_MATRIX, SCENARIOS } from './scenarios/catalogue';
import { NETWORK_PROFILES } from './scenarios/networkProfiles';
import { applyOverrides } from './scenarios/overrides';
import type { Scenario } from './scenarios/schema';
import { ConfigError, type StackConfig } from './stack/config';
import { PROJECT_ROOT } from './stack/executables';
import { withStack, type Stack } from './stack/stack';
import type { StackInfo } from './stack/types';
import { findMaxRate, type MaxRateResult } from './stress/findMaxRate';
import { renderFindings, renderMaxRateMarkdown } from './stress/findings';
import { runMatrix, type MatrixResult } from './stress/matrix';
import { redactText, secretsOf } from './stress/redact';
import { InfraError, runScenario } from './stress/runScenario';
import { summarize } from './stress/summary';
import { addZooCommand } from './zoo/cli';

type CommonFlags = StackFlags & ScenarioFlags & { config?: string; out?: string; quiet?: boolean; warmup?: boolean; nice?: string };

/** Everything printed goes through here, scrubbed of the secrets known so far. */
const secrets: string[] = [];
function say(line: string): void {
  process.stderr.write(`${redactText(line, secrets)}\n`);
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

function defaultOut(kind: string): string {
  return join(PROJECT_ROOT, 'reports', 'out', `${stamp()}-${kind}`);
}

function addStackOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'JSON config file (stack, scenario defaults and overrides, matrix, thresholds, findMaxRate)')
    .option('--target <url>', 'an already-running backend (base URL); omit to start the managed stack')
    .option('--api-key <key>', 'API key of --target (prefer TP_API_KEY: flags show in `ps`)')
    .option('--influx-url <url>', 'InfluxDB base URL of --target (read directly by the storage probe)')
    .option('--influx-db <db>', 'InfluxDB 1.x database (or the DBRP-mapped database of a 2.x bucket)')
    .option('--influx-org <org>', 'InfluxDB 2.x organisation')
    .option('--influx-bucket <bucket>', 'InfluxDB 2.x bucket')
    .option('--influx-token <token>', 'InfluxDB 2.x token (prefer TP_INFLUX_TOKEN)')
    .option('--toxiproxy-url <url>', 'Toxiproxy API of --target, with proxies named influx and ingest (network profiles)')
    .addOption(new Option('--backend-mode <mode>', 'managed reference backend mode').choices(['legacy', 'durable']))
    .option('--flush-interval-ms <ms>', 'managed legacy backend: WriteApi flush interval (default 60000)')
    .option('--allow-remote', 'allow non-loopback targets (never point a load test at production by accident)')
    .option('--out <dir>', 'output folder (default reports/out/<time>-<command>)')
    .option('--quiet', 'no progress line or step logs (CI is quiet anyway)')
    .option('--no-warmup', 'skip the 2 s warm-up run before measuring')
    .option('--nice <n>', 'run the load generator and the managed stack at this scheduling priority (nice, -20..19; negative needs root) so other work on a shared machine disturbs the measurement less');
}

function addScenarioOptions(cmd: Command): Command {
  return cmd
    .option('--duration <d>', 'how long each scenario publishes: 1500ms, 30s, 2m…')
    .option('--rate <hz>', 'publish rate per vehicle (Hz)')
    .option('--vehicles <n>', 'number of simulated vehicles')
    .option('--sse-clients <n>', 'SSE clients connected during the run')
    .addOption(new Option('--sse-reader <mode>', 'how the SSE clients read').choices(['normal', 'slow', 'stalled']))
    .addOption(new Option('--network <profile>', 'network profile on the ingest proxy').choices(Object.keys(NETWORK_PROFILES)))
    .addOption(new Option('--payload <profile>', 'payload profile').choices(['minimal', 'typical', 'heavy']))
    .addOption(new Option('--transport <client>', 'publisher HTTP client: undici (default) or raw (keep-alive sockets, ~1/3 less load-tool CPU per request)').choices(['undici', 'raw']))
    .option('--drain <d>', 'after the last reply, wait at most this long for acknowledged samples to be stored (default 5s)')
    .option('--seed <n>', 'seed of arrivals and network jitter')
    .option('--threshold <expr...>', 'k6-style threshold(s), e.g. latency_p99_ms<200 loss_rate<=0.01 (replace the defaults)');
}

/** Load config and stack config; secrets registered for redaction. */
function prepare(flags: CommonFlags): { file: CliConfigFile; stackConfig: StackConfig } {
  if (flags.nice !== undefined) {
    const nice = Number(flags.nice);
    if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw new ConfigError([`--nice: expected an integer within -20..19, got ${JSON.stringify(flags.nice)}`]);
    try {
      // Processes started from here on (influxd, toxiproxy, the backend) inherit it.
      os.setPriority(nice);
    } catch (err) {
      throw new ConfigError([`--nice ${nice}: ${(err as Error).message} (a negative value needs root)`]);
    }
  }
  const file = readCliConfigFile(flags.config);
  const stackConfig = resolveStackConfig(flags, file);
  secrets.push(...secretsOf([stackConfig.apiKey, stackConfig.external?.influxToken, stackConfig.external?.sseToken, flags.apiKey, flags.influxToken]));
  return { file, stackConfig };
}

function describeStack(info: StackInfo): string {
  return `${info.kind} stack: backend ${info.backend.url} (${info.backend.spec?.kind === 'reference' ? `reference ${info.backend.spec.mode}${info.backend.spec.flushIntervalMs ? `, flush ${info.backend.spec.flushIntervalMs} ms` : ''}` : info.kind}), InfluxDB ${info.influx.directUrl} v${info.influx.version}`;
}

/** A short unmeasured run so the publisher, backend and connections are warm (JIT, pools). */
async function warmUp(info: StackInfo, quiet: boolean): Promise<void> {
  const base = SCENARIOS.find((s) => s.name === 'sustained-10hz')!;
  const s = applyOverrides(base, [{ label: 'warm-up', overrides: { rateHz: 50, durationMs: 2000, drainMs: 0, thresholds: [] } }]);
  if (!quiet) say('[warm-up] 2 s at 50 Hz (not reported)');
  await runScenario({ stack: info, scenario: { ...s, name: 'warmup' } });
}

async function writeRun(report: Parameters<typeof writeAllReports>[0], dir: string): Promise<string> {
  await writeAllReports(report, dir);
  return dir;
}

function printSummaryLine(prefix: string, report: Parameters<typeof summarize>[0]): void {
  const s = summarize(report);
  say(`${prefix}${s.name}: ${s.status.toUpperCase()} (exit ${s.exitCode}) sent ${s.sent}, acked ${s.acked}, non-2xx ${s.non2xx}, no reply ${s.errors}, stored ${s.stored ?? '–'}, `
    + `p50 ${s.latencyP50Ms} ms, p99 ${s.latencyP99Ms} ms, lag p99 ${s.lagP99Ms ?? '–'} ms${s.thresholdFailures.length ? `; breached: ${s.thresholdFailures.join('; ')}` : ''}`);
}

/** Exit code of a command from its outcome. */
function exitFor(codes: readonly number[], infra: boolean): number {
  if (infra || codes.includes(EXIT_INFRASTRUCTURE_ERROR)) return EXIT_INFRASTRUCTURE_ERROR;
  return codes.includes(EXIT_THRESHOLD_BREACH) ? EXIT_THRESHOLD_BREACH : EXIT_PASS;
}

// ---- commands -------------------------------------------------------------------

async function cmdRun(name: string, flags: CommonFlags): Promise<number> {
  const { file, stackConfig } = prepare(flags);
  const scenario = resolveScenario(name, file, flags);
  const out = resolve(flags.out ?? defaultOut(`run-${scenario.name}`));
  return withStack(stackConfig, async (stack) => {
    if (!flags.quiet) say(`[run] ${describeStack(stack.info)}`);
    if (flags.warmup !== false) await warmUp(stack.info, !!flags.quiet);
    const progress = createProgressLine({ enabled: flags.quiet ? false : undefined });
    const { report } = await runScenario({ stack: stack.info, scenario, progress, log: flags.quiet ? undefined : say });
    await writeRun(report, out);
    printSummaryLine('[run] ', report);
    say(`[run] reports in ${out}`);
    return report.exitCode;
  });
}

async function cmdMatrix(names: string[], flags: CommonFlags & { settle?: string }): Promise<number> {
  const { file, stackConfig } = prepare(flags);
  const list = names.length > 0 ? names : file.matrix ?? [...DEFAULT_MATRIX];
  const scenarios = list.map((n) => resolveScenario(n, file, flags));
  const out = resolve(flags.out ?? defaultOut('matrix'));
  mkdirSync(out, { recursive: true });
  const started = Date.now();
  const result = await withStack(stackConfig, async (stack) => {
    if (!flags.quiet) say(`[matrix] ${describeStack(stack.info)}; ${scenarios.length} scenarios → ${out}`);
    if (flags.warmup !== false) await warmUp(stack.info, !!flags.quiet);
    return runMatrix({
      stack: stack.info,
      scenarios,
      settleMs: flags.settle !== undefined ? Number(flags.settle) : undefined,
      log: flags.quiet ? undefined : say,
      runOne: async (info, scenario) => {
        const progress = createProgressLine({ enabled: flags.quiet ? false : undefined });
        const run = await runScenario({ stack: info, scenario, progress, log: flags.quiet ? undefined : say });
        const dir = join(out, scenario.name);
        await writeRun(run.report, dir);
        return { run, dir: relative(out, dir) };
      },
    });
  });
  writeFileSync(join(out, 'matrix.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(out, 'findings.md'), renderFindings({
    matrices: [result], maxRates: [],
    commands: [{ command: `telemetry-proof matrix ${process.argv.slice(3).join(' ')}`, wallTimeMs: Date.now() - started }],
  }));
  say(`[matrix] done in ${Math.round((Date.now() - started) / 1000)} s: ${join(out, 'matrix.json')}, ${join(out, 'findings.md')}`);
  return exitFor(result.entries.map((e) => e.summary.exitCode), result.skipped.length > 0);
}

async function cmdFindMaxRate(flags: CommonFlags & SearchFlags & { scenario?: string; minRate?: string }): Promise<number> {
  const { file, stackConfig } = prepare(flags);
  const search = resolveSearch(file, flags);
  const base = resolveScenario(flags.scenario ?? file.findMaxRate?.scenario ?? 'sustained-10hz', file, flags);
  const out = resolve(flags.out ?? defaultOut('find-max-rate'));
  mkdirSync(out, { recursive: true });
  let stepNo = 0;
  const result: MaxRateResult = await withStack(stackConfig, async (stack: Stack) => {
    if (!flags.quiet) say(`[find-max-rate] ${describeStack(stack.info)} → ${out}`);
    if (flags.warmup !== false) await warmUp(stack.info, !!flags.quiet);
    return findMaxRate({
      base,
      search,
      log: flags.quiet ? undefined : say,
      prepare: async () => {
        // A fresh backend per step: a failed step's backlog must not spill into the next.
        const spec = stack.info.backend.spec;
        if (stepNo > 0 && stack.info.kind === 'managed' && spec) {
          await stack.replaceBackend(spec);
          if (flags.warmup !== false) await warmUp(stack.info, true);
        } else if (stepNo > 0) await new Promise((r) => setTimeout(r, 3000));
        return stack.info;
      },
      runStep: async (info, scenario: Scenario) => {
        stepNo++;
        const progress = createProgressLine({ enabled: flags.quiet ? false : undefined });
        const { report } = await runScenario({ stack: info, scenario, progress });
        const dir = join(out, 'steps', `${String(stepNo).padStart(2, '0')}-${scenario.name}`);
        await writeRun(report, dir);
        return { report, dir: relative(out, dir) };
      },
    });
  });
  writeFileSync(join(out, 'max-rate.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(out, 'max-rate.md'), renderMaxRateMarkdown(result));
  say(`[find-max-rate] maximum reliable rate: ${result.maxReliableRate ?? 'none'}/s${result.confirmed ? ' (confirmed)' : ''}; first failing: ${result.firstFailingRate ?? '–'}/s ${result.firstFailure.join('; ')}`);
  say(`[find-max-rate] ${join(out, 'max-rate.json')}`);
  const infra = result.steps.some((s) => s.summary?.infraErrors.length);
  if (infra) return EXIT_INFRASTRUCTURE_ERROR;
  if (flags.minRate !== undefined && (result.maxReliableRate ?? 0) < Number(flags.minRate)) return EXIT_THRESHOLD_BREACH;
  return EXIT_PASS;
}

async function cmdReport(path: string, flags: { out?: string }): Promise<number> {
  const report = await readJsonReport(path);
  const dir = resolve(flags.out ?? dirname(path));
  // Next to run.json: the three renderings; elsewhere: a full set, run.json included.
  if (resolve(dirname(path)) !== dir) await writeAllReports(report, dir);
  else await Promise.all([writeMarkdownReport(report, dir), writeHtmlReport(report, dir), writeJUnitReport(report, dir)]);
  say(`[report] ${report.scenario.name}: ${report.status.toUpperCase()} → ${dir}/report.md, report.html, junit.xml`);
  return report.exitCode;
}

function readJson<T>(path: string, kind: string): T {
  const data = JSON.parse(readFileSync(path, 'utf8')) as { kind?: string; schemaVersion?: number };
  if (data.kind !== kind || data.schemaVersion !== 1) throw new ConfigError([`${path}: not a ${kind} result (kind ${JSON.stringify(data.kind)}, schemaVersion ${data.schemaVersion})`]);
  return data as T;
}

/** Summaries are re-made from each run.json next to the result, so findings follow the current summary code. */
async function resummarize<T extends { summary?: ReturnType<typeof summarize>; dir?: string }>(items: T[], base: string): Promise<void> {
  for (const it of items) {
    if (!it.dir) continue;
    const path = join(base, it.dir, 'run.json');
    if (existsSync(path)) it.summary = summarize(await readJsonReport(path));
  }
}

async function cmdFindings(flags: { matrix?: string[]; maxRate?: string[]; out?: string; command?: string[] }): Promise<number> {
  const matrices = (flags.matrix ?? []).map((p) => readJson<MatrixResult>(p, 'matrix'));
  const maxRates = (flags.maxRate ?? []).map((p) => readJson<MaxRateResult>(p, 'max-rate'));
  for (const [i, m] of matrices.entries()) await resummarize(m.entries, dirname(flags.matrix![i]!));
  for (const [i, r] of maxRates.entries()) await resummarize(r.steps, dirname(flags.maxRate![i]!));
  if (matrices.length + maxRates.length === 0) throw new ConfigError(['findings: give at least one --matrix <matrix.json> or --max-rate <max-rate.json>']);
  const commands = (flags.command ?? []).map((c) => {
    const m = /^(.*)=(\d+)$/.exec(c);
    return m ? { command: m[1]!, wallTimeMs: Number(m[2]) * 1000 } : { command: c, wallTimeMs: 0 };
  });
  const out = resolve(flags.out ?? join(PROJECT_ROOT, 'reports', 'out', 'findings.md'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderFindings({ matrices, maxRates, commands }));
  say(`[findings] ${out}`);
  return EXIT_PASS;
}

function cmdList(): number {
  const rows = SCENARIOS.map((s) => `  ${s.name.padEnd(22)} ${s.group.padEnd(9)} ${String(s.rateHz * s.vehicles).padStart(5)}/s  ${(s.durationMs / 1000).toString().padStart(4)} s  ${s.payload.padEnd(8)} ${s.network.padEnd(9)} sse ${s.sseClients}${s.sseReader !== 'normal' ? ` ${s.sseReader}` : ''}  ${s.description}`);
  process.stdout.write(['Scenarios (name, group, total rate, default duration, payload, network, SSE clients):', ...rows, '',
    'Network profiles (ingest proxy):', ...Object.values(NETWORK_PROFILES).map((p) => `  ${p.name.padEnd(9)} ${p.description}`), ''].join('\n'));
  return EXIT_PASS;
}

export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command()
    .name('telemetry-proof')
    .description('Stress, soak and max-rate runs against a telemetry ingestion backend, with reports that prove (with numbers) what was acknowledged and what was stored.')
    .showHelpAfterError()
    .addHelpText('after', '\nExit codes: 0 pass, 99 threshold breached, 2 infrastructure error, 1 usage error.\nWithout --target a managed stack (influxd, toxiproxy-server, reference backend) is started on 127.0.0.1 and torn down afterwards.');
  const wrap = <A extends unknown[]>(fn: (...a: A) => Promise<number> | number) => async (...a: A): Promise<void> => {
    exit(await fn(...a));
  };
  program.command('list').description('list the scenarios and network profiles').action(wrap(cmdList));
  addScenarioOptions(addStackOptions(program.command('run <scenario>').description('run one scenario and write run.json, report.md, report.html, junit.xml')))
    .action(wrap((name: string, flags: CommonFlags) => cmdRun(name, flags)));
  addScenarioOptions(addStackOptions(program.command('matrix [scenarios...]').description('run the seed\'s whole matrix (or the given scenarios) on one stack; writes matrix.json and findings.md')))
    .option('--settle <ms>', 'wait before re-reading missing samples (default: flush interval + 5 s)')
    .action(wrap((names: string[], flags: CommonFlags & { settle?: string }) => cmdMatrix(names, flags)));
  addScenarioOptions(addStackOptions(program.command('find-max-rate').description('find the maximum reliable total rate: ramp ×2, bisect, confirm with a longer hold')))
    .option('--scenario <name>', 'base scenario (payload, SSE, network) whose rate is varied (default sustained-10hz)')
    .option('--start-rate <n>', 'first total rate (samples/s, default 10)')
    .option('--max-rate <n>', 'never try above (default 3200)')
    .option('--hold <d>', 'hold per step (default 5s)')
    .option('--confirm-hold <d>', 'hold of the confirmation (default 15s)')
    .option('--slo-p99-ms <ms>', 'p99 latency SLO (default 200)')
    .option('--lag-bound-ms <ms>', 'storage lag bound (default 5000)')
    .option('--precision <r>', 'stop bisecting at this relative gap (default 0.15)')
    .option('--max-steps <n>', 'bound on steps (default 14)')
    .option('--late-threshold-ms <ms>', 'a send this late counts against the load generator (default 100; 1% allowed)')
    .option('--min-rate <n>', 'exit 99 when the maximum reliable rate is below this')
    .action(wrap((flags: CommonFlags & SearchFlags & { scenario?: string; minRate?: string }) => cmdFindMaxRate(flags)));
  program.command('report <run.json>').description('re-render report.md, report.html and junit.xml from a run.json')
    .option('--out <dir>', 'write there instead of next to run.json')
    .action(wrap((path: string, flags: { out?: string }) => cmdReport(path, flags)));
  program.command('findings').description('write one findings.md from matrix.json and max-rate.json files')
    .option('--matrix <file...>', 'matrix.json files')
    .option('--max-rate <file...>', 'max-rate.json files')
    .option('--command <text...>', 'commands that produced them, as "command=seconds" (listed with wall times)')
    .option('--out <file>', 'findings.md path')
    .action(wrap((flags: { matrix?: string[]; maxRate?: string[]; out?: string; command?: string[] }) => cmdFindings(flags)));
  addZooCommand(program, (fn) => wrap(fn)(), say); // runners/zoo/cli.ts: the mutant zoo
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => { code = c; });
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as Error & { code?: string; exitCode?: number };
    if (e.code?.startsWith('commander.')) return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 1;
    if (err instanceof ConfigError) { say(e.message); return 1; }
    if (err instanceof InfraError) { say(`infrastructure error: ${e.message}`); return EXIT_INFRASTRUCTURE_ERROR; }
    // Anything else (a stack that would not start, a crashed probe): the run cannot be trusted.
    say(`infrastructure error: ${e.stack ?? e.message}`);
    return EXIT_INFRASTRUCTURE_ERROR;
  }
  return code;
}

// Run when executed (bin/telemetry-proof.mjs imports this module).
if (!process.env.VITEST) {
  process.exitCode = await main(process.argv);
}
