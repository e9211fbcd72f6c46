/**
 * `npm run stack -- up|down|status`
 *
 * `up` starts a stack and returns, leaving it running; its description goes to
 * .telemetry-proof/stack.json so `down` and `status` can find it.
 */
import { Command, Option } from 'commander';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadStackConfig, ConfigError, type StackConfig } from './config';
import { Stack } from './stack';
import { PROJECT_ROOT } from './executables';
import { groupMembers, isAlive, stopGroup } from './processGroups';
import type { StackInfo } from './types';

// TP_STATE_DIR lets tests (and parallel checkouts) keep their own state.
const STATE_DIR = process.env.TP_STATE_DIR ?? join(PROJECT_ROOT, '.telemetry-proof');
const STATE_FILE = join(STATE_DIR, 'stack.json');

interface StackState {
  info: StackInfo;
  /** Process groups in stop order: backend first. */
  groups: { name: string; pgid: number }[];
  keepRunDir: boolean;
  startedAt: string;
}

function readState(): StackState | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as StackState;
}

/** The API key is a secret: show only enough to recognise it. */
function mask(secret: string): string {
  return secret.length <= 6 ? '***' : `${secret.slice(0, 3)}…${secret.slice(-2)}`;
}

function printInfo(info: StackInfo, showKey: boolean): void {
  const lines = [
    `InfluxDB          ${info.influx.directUrl}  (v${info.influx.version}, database "${info.influx.db}")`,
    info.toxiproxy ? `Toxiproxy API     ${info.toxiproxy.url}` : undefined,
    info.toxiproxy ? `  proxy influx    ${info.influx.url} -> ${info.toxiproxy.proxies.influx.upstream}` : undefined,
    `Backend (direct)  ${info.backend.directUrl}`,
    `Backend (proxied) ${info.backend.url}   <- publish here (ingest proxy)`,
    `API key           ${showKey ? info.backend.apiKey : mask(info.backend.apiKey)}`,
    `Logs              ${info.logsDir}`,
  ];
  console.log(lines.filter(Boolean).join('\n'));
}

async function up(overrides: Partial<StackConfig['managed']>, showKey: boolean): Promise<void> {
  const existing = readState();
  if (existing && existing.groups.some((g) => isAlive(g.pgid))) {
    throw new Error(`a stack is already running (see ${STATE_FILE}); run 'npm run stack -- down' first`);
  }
  const config = loadStackConfig();
  if (config.target === 'external') throw new Error('TP_TARGET=external: nothing to start; the stack is already running elsewhere');
  const merged: StackConfig = { ...config, managed: { ...config.managed, ...overrides }, keepRunDir: true };
  const stack = await Stack.start(merged);
  const byName = new Map(stack.processes().map((p) => [p.spec.name, p]));
  const groups = ['backend', 'toxiproxy', 'influxd']
    .map((name) => ({ name, pgid: byName.get(name)?.pid }))
    .filter((g): g is { name: string; pgid: number } => g.pgid !== undefined);
  mkdirSync(STATE_DIR, { recursive: true });
  const state: StackState = { info: stack.info, groups, keepRunDir: config.keepRunDir, startedAt: new Date().toISOString() };
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2), { mode: 0o600 });
  for (const p of stack.processes()) p.release();
  printInfo(stack.info, showKey);
  console.log(`\nState: ${STATE_FILE}\nStop with: npm run stack -- down`);
}

async function down(): Promise<void> {
  const state = readState();
  if (!state) {
    console.log('no stack is running (no state file)');
    return;
  }
  for (const g of state.groups) {
    await stopGroup(g.pgid);
    const left = groupMembers(g.pgid);
    console.log(left.length ? `${g.name}: still running: ${left.join(', ')}` : `${g.name} (pgid ${g.pgid}): stopped`);
  }
  if (!state.keepRunDir) rmSync(state.info.runDir, { recursive: true, force: true });
  else console.log(`run folder kept: ${state.info.runDir}`);
  rmSync(STATE_FILE, { force: true });
}

async function status(): Promise<number> {
  const state = readState();
  if (!state) {
    console.log('no stack is running (no state file)');
    return 1;
  }
  printInfo(state.info, false);
  let ok = true;
  for (const g of state.groups) {
    const alive = isAlive(g.pgid);
    ok &&= alive;
    console.log(`${g.name.padEnd(10)} pid ${g.pgid} ${alive ? 'running' : 'NOT RUNNING'}`);
  }
  try {
    const res = await fetch(`${state.info.backend.url}/api/v1/healthz`, { signal: AbortSignal.timeout(2_000) });
    console.log(`healthz via ingest proxy: ${res.status} ${await res.text()}`);
    ok &&= res.ok;
  } catch (err) {
    console.log(`healthz via ingest proxy: ${(err as Error).message}`);
    ok = false;
  }
  return ok ? 0 : 1;
}

const program = new Command('stack').description('Start, stop and inspect a telemetry-proof stack (InfluxDB, Toxiproxy, backend).');
program
  .command('up')
  .description('start a stack on free loopback ports and leave it running')
  .addOption(new Option('--mode <mode>', 'reference backend mode').choices(['legacy', 'durable']))
  .option('--flush-interval-ms <ms>', 'backend WriteApi flush interval (legacy default 60000)', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--flush-interval-ms: expected a positive integer, got ${JSON.stringify(v)}`);
    return n;
  })
  .option('--show-api-key', 'print the API key in full (it is generated per stack unless TP_API_KEY is set)')
  .action(async (opts: { mode?: 'legacy' | 'durable'; flushIntervalMs?: number; showApiKey?: boolean }) => {
    const overrides: Partial<StackConfig['managed']> = {};
    if (opts.mode) overrides.mode = opts.mode;
    if (opts.flushIntervalMs) overrides.flushIntervalMs = opts.flushIntervalMs;
    await up(overrides, opts.showApiKey ?? false);
  });
program.command('down').description('stop the running stack').action(down);
program
  .command('status')
  .description('show the running stack and check it answers')
  .action(async () => {
    process.exitCode = await status();
  });
program.command('env').description('print the running stack as shell variables (eval "$(npm run -s stack -- env)")').action(() => {
  const state = readState();
  if (!state) throw new Error('no stack is running');
  const i = state.info;
  console.log(
    [
      `export TP_BACKEND_URL=${i.backend.url}`,
      `export TP_API_KEY=${i.backend.apiKey}`,
      `export TP_INFLUX_URL=${i.influx.directUrl}`,
      `export TP_INFLUX_DB=${i.influx.db}`,
      i.toxiproxy ? `export TP_TOXIPROXY_URL=${i.toxiproxy.url}` : '',
    ]
      .filter(Boolean)
      .join('\n'),
  );
});

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `stack: ${(err as Error).message}`);
  process.exit(2);
});
