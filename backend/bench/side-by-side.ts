/**
 * Legacy vs durable, side by side, in one run on this machine (the durable
 * ingestion issue's benchmark acceptance):
 *
 *   - maximum reliable rate (the stress CLI's `find-max-rate`: ramp ×2,
 *     bisect, confirm; "reliable" = acknowledged = stored within 5 s, no
 *     failed request, p99 ≤ 200 ms, lag bounded and not growing), legacy with
 *     its flush interval tuned to 1 s so it is reliable at all;
 *   - p99 acknowledgement latency and p99 send → stored lag at 10 Hz and
 *     100 Hz (`run sustained-10hz`, `run rate-100hz`);
 *   - WAL replay time for 100 k samples (`backend/bench/wal-replay.ts`
 *     against the real influxd of a managed stack).
 *
 *   npx tsx backend/bench/side-by-side.ts [--legacy-flush-ms 1000] [--hold 15s] [--confirm-hold 30s]
 *        [--duration 20s] [--probe-ms 100] [--transport undici|raw] [--samples 100000] [--out reports/out/<time>-side-by-side] [--skip-max-rate]
 *
 * --probe-ms: the storage probe's poll interval (the stress runner's default
 * is 500 ms, which is then the resolution of every lag figure). --hold: a
 * find-max-rate step's hold; with a 1 s flush, legacy's lag is a 0–1 s
 * sawtooth, and the "lag not growing" criterion fitted over a 5 s hold can
 * read that sawtooth as growth: hold several flush periods. --transport: the
 * publisher's HTTP client for every measurement (raw costs the load tool
 * about a third less CPU per request, so on a 2-core box the generator
 * falls behind later and more CPU is left for the backend under test).
 *
 * Every measurement is the stress CLI itself, run as a child process (each
 * with a fresh managed stack), so the figures are the ones `telemetry-proof`
 * reports; the per-step reports stay in --out. The machine's load average is
 * recorded around every measurement: the box has 2 cores shared with other
 * work, so compare the two columns of one run, not runs of different days.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { readJsonReport } from '../../reports/writers/index';
import { PROJECT_ROOT } from '../../runners/stack/executables';
import { loadStackConfig } from '../../runners/stack/config';
import { withStack } from '../../runners/stack/stack';
import type { MaxRateResult } from '../../runners/stress/findMaxRate';
import { summarize, type ScenarioSummary } from '../../runners/stress/summary';

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1]!.startsWith('--') ? process.argv[i + 1] : def;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const LEGACY_FLUSH = arg('legacy-flush-ms', '1000')!;
const HOLD = arg('hold', '15s')!;
const CONFIRM_HOLD = arg('confirm-hold', '30s')!;
const PROBE_MS = arg('probe-ms', '100')!;
const TRANSPORT = arg('transport', 'undici')!;
if (TRANSPORT !== 'undici' && TRANSPORT !== 'raw') throw new Error(`--transport ${TRANSPORT}: must be undici or raw`);
const DURATION = arg('duration', '20s')!;
const SAMPLES = arg('samples', '100000')!;
const OUT = resolve(arg('out', join(PROJECT_ROOT, 'reports', 'out', `${new Date().toISOString().replace(/[:.]/g, '-')}-side-by-side`))!);

const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const load = () => loadavg().map((x) => x.toFixed(2)).join('/');

interface Mode {
  key: 'legacy' | 'durable';
  label: string;
  flags: string[];
}
const MODES: Mode[] = [
  { key: 'legacy', label: `legacy (flush ${LEGACY_FLUSH} ms)`, flags: ['--backend-mode', 'legacy', '--flush-interval-ms', LEGACY_FLUSH] },
  { key: 'durable', label: 'durable', flags: ['--backend-mode', 'durable'] },
];

interface Measured {
  what: string;
  mode: Mode['key'];
  loadBefore: string;
  loadAfter: string;
  wallMs: number;
  exitCode: number | null;
}

const measurements: Measured[] = [];

/** Run the stress CLI; resolves with its exit code (stderr is the progress log, kept in a file). */
function cli(args: string[], logFile: string): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'telemetry-proof.mjs'), ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      writeFileSync(logFile, Buffer.concat(chunks));
      resolvePromise(code);
    });
  });
}

async function measure(what: string, mode: Mode, args: string[]): Promise<string> {
  const dir = join(OUT, `${mode.key}-${what}`);
  mkdirSync(dir, { recursive: true });
  const loadBefore = load();
  const t0 = Date.now();
  log(`${mode.label}: ${what} (load ${loadBefore})`);
  const exitCode = await cli([...args, ...mode.flags, '--config', join(OUT, 'side-by-side.config.json'), '--out', dir, '--quiet'], join(dir, 'cli.log'));
  const m: Measured = { what, mode: mode.key, loadBefore, loadAfter: load(), wallMs: Date.now() - t0, exitCode };
  measurements.push(m);
  log(`${mode.label}: ${what} done in ${Math.round(m.wallMs / 1000)} s, exit ${exitCode} (load ${m.loadAfter})`);
  return dir;
}

async function runSummary(dir: string): Promise<ScenarioSummary | null> {
  const path = join(dir, 'run.json');
  if (!existsSync(path)) return null;
  return summarize(await readJsonReport(path));
}

function maxRate(dir: string): MaxRateResult | null {
  const path = join(dir, 'max-rate.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as MaxRateResult) : null;
}

/** The WAL replay bench against the real influxd of a fresh managed stack; its printed lines. */
async function walReplay(): Promise<{ lines: string[]; totalMs: number | null; scanMs: number | null }> {
  const loadBefore = load();
  const t0 = Date.now();
  log(`WAL replay of ${SAMPLES} samples (load ${loadBefore})`);
  const config = loadStackConfig({ ...process.env, TP_TARGET: 'managed', TP_BACKEND_MODE: 'durable' });
  const out = await withStack(config, (stack) => new Promise<string>((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'backend', 'bench', 'wal-replay.ts'), '--samples', SAMPLES, '--influx', stack.info.influx.directUrl, '--db', stack.info.influx.db], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    child.on('error', rej);
    child.on('close', (code) => (code === 0 ? res(text) : rej(new Error(`wal-replay exited ${code}:\n${text}`))));
  }));
  measurements.push({ what: 'wal-replay', mode: 'durable', loadBefore, loadAfter: load(), wallMs: Date.now() - t0, exitCode: 0 });
  const lines = out.trim().split('\n');
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : null;
  };
  return { lines, totalMs: num(/total replay\s+(\d+) ms/), scanMs: num(/recovery scan \(open\)\s+(\d+) ms/) };
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);
const pct = (a: number | null | undefined, b: number | null | undefined) => (a && b ? `${Math.round((100 * a) / b)} %` : '–');

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  // Scenario defaults for every measurement (both modes alike).
  const configFile = join(OUT, 'side-by-side.config.json');
  writeFileSync(configFile, JSON.stringify({ defaults: { probeIntervalMs: Number(PROBE_MS), transport: TRANSPORT } }, null, 2) + '\n');
  const started = Date.now();
  const loadStart = load();
  log(`side-by-side → ${OUT}`);
  const results: Record<Mode['key'], { maxRate: MaxRateResult | null; at10: ScenarioSummary | null; at100: ScenarioSummary | null }> = {
    legacy: { maxRate: null, at10: null, at100: null },
    durable: { maxRate: null, at10: null, at100: null },
  };
  // Interleaved (legacy, durable, legacy, durable, ...) so slow drifts in the machine's load hit both.
  for (const [what, args] of [
    ['sustained-10hz', ['run', 'sustained-10hz', '--duration', DURATION]],
    ['rate-100hz', ['run', 'rate-100hz', '--duration', DURATION]],
  ] as const) {
    for (const mode of MODES) {
      const dir = await measure(what, mode, [...args]);
      const s = await runSummary(dir);
      if (what === 'sustained-10hz') results[mode.key].at10 = s;
      else results[mode.key].at100 = s;
    }
  }
  if (!flag('skip-max-rate')) {
    for (const mode of MODES) {
      const dir = await measure('find-max-rate', mode, ['find-max-rate', '--hold', HOLD, '--confirm-hold', CONFIRM_HOLD]);
      results[mode.key].maxRate = maxRate(dir);
    }
  }
  const replay = await walReplay();

  const L = results.legacy;
  const D = results.durable;
  const rateCell = (r: MaxRateResult | null) => (r ? `${r.maxReliableRate ?? 'none'}/s${r.confirmed ? ' (confirmed)' : ' (not confirmed)'}${r.ceilingReached ? ' (ceiling)' : ''}` : '–');
  const rows: string[][] = [
    ['maximum reliable rate (samples/s, all vehicles)', rateCell(L.maxRate), rateCell(D.maxRate), pct(D.maxRate?.maxReliableRate, L.maxRate?.maxReliableRate), 'durable ≥ 80 % of legacy'],
    ['first failing rate', L.maxRate?.firstFailingRate ? `${L.maxRate.firstFailingRate}/s: ${L.maxRate.firstFailure.join('; ')}` : '–', D.maxRate?.firstFailingRate ? `${D.maxRate.firstFailingRate}/s: ${D.maxRate.firstFailure.join('; ')}` : '–', '', ''],
    ['10 Hz: p99 acknowledgement latency', ms(L.at10?.latencyP99Ms), ms(D.at10?.latencyP99Ms), '', ''],
    ['10 Hz: p99 send → stored lag', ms(L.at10?.lagP99Ms), ms(D.at10?.lagP99Ms), '', 'durable < 1 s'],
    ['10 Hz: acked / stored ≤ 5 s', `${L.at10?.acked ?? '–'} / ${L.at10?.stored ?? '–'}`, `${D.at10?.acked ?? '–'} / ${D.at10?.stored ?? '–'}`, '', ''],
    ['100 Hz: p99 acknowledgement latency', ms(L.at100?.latencyP99Ms), ms(D.at100?.latencyP99Ms), '', ''],
    ['100 Hz: p99 send → stored lag', ms(L.at100?.lagP99Ms), ms(D.at100?.lagP99Ms), '', 'durable < 1 s'],
    ['100 Hz: acked / stored ≤ 5 s', `${L.at100?.acked ?? '–'} / ${L.at100?.stored ?? '–'}`, `${D.at100?.acked ?? '–'} / ${D.at100?.stored ?? '–'}`, '', ''],
    [`WAL replay, ${Number(SAMPLES).toLocaleString('en')} samples (scan + ship to real influxd)`, 'n/a (nothing survives a crash)', `${ms(replay.totalMs)} (scan ${ms(replay.scanMs)})`, '', ''],
  ];
  const table = [
    '| measure | ' + MODES.map((m) => m.label).join(' | ') + ' | durable / legacy | goal |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  const loads = ['| measurement | mode | load avg before (1/5/15 min) | after | wall time | exit |', '| --- | --- | --- | --- | --- | --- |',
    ...measurements.map((m) => `| ${m.what} | ${m.mode} | ${m.loadBefore} | ${m.loadAfter} | ${Math.round(m.wallMs / 1000)} s | ${m.exitCode} |`)].join('\n');
  const md = [
    `# Legacy vs durable, side by side (${new Date().toISOString()})`, '',
    `Command: \`npx tsx backend/bench/side-by-side.ts ${process.argv.slice(2).join(' ')}\` — ${Math.round((Date.now() - started) / 1000)} s. Load average at start ${loadStart}, at end ${load()} (2 cores, shared). `
      + `Storage probe every ${PROBE_MS} ms (lag resolution); publisher transport ${TRANSPORT}; find-max-rate holds ${HOLD}, confirmation ${CONFIRM_HOLD}; runs ${DURATION} each.`, '',
    table, '',
    '## WAL replay output', '', '```', ...replay.lines, '```', '',
    '## Load during each measurement', '', loads, '',
    `Per-measurement reports (run.json, report.md, max-rate.md, steps) are in \`${OUT}\`.`, '',
  ].join('\n');
  writeFileSync(join(OUT, 'side-by-side.md'), md);
  writeFileSync(join(OUT, 'side-by-side.json'), JSON.stringify({ results, replay, measurements, loadStart, loadEnd: load() }, null, 2) + '\n');
  process.stdout.write(md + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
