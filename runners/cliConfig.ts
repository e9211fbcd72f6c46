/**
 * The telemetry-proof CLI's configuration: a JSON file (`--config`) validated
 * with zod, environment variables (TP_*), and flags, flags winning. Every
 * error names the flag, variable or file key it came from.
 *
 * Config file:
 *   {
 *     "stack":      { …same structure as TP_CONFIG (runners/stack/config.ts)… },
 *     "defaults":   { …scenario fields applied to every scenario… },
 *     "scenarios":  { "<name>": { …overrides, or a whole new scenario… } },
 *     "matrix":     ["baseline-1hz", …],
 *     "thresholds": [{ "metric": "latency_p99_ms", "op": "<", "value": 200 }],
 *     "findMaxRate": { "scenario": "sustained-10hz", "startRate": 10, … }
 *   }
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ThresholdSchema, THRESHOLD_OPS, type Threshold } from '../reports/writers/runReport';
import { parseThresholds } from '../reports/writers/thresholds';
import { findScenario } from './scenarios/catalogue';
import { applyOverrides, parseDuration, parseScenario, ScenarioError } from './scenarios/overrides';
import type { Scenario } from './scenarios/schema';
import { ConfigError, ENV_KEYS, loadStackConfig, type StackConfig } from './stack/config';
import { DEFAULT_SEARCH, type MaxRateSearch } from './stress/findMaxRate';

const SearchSchema = z.strictObject({
  scenario: z.string().optional(),
  startRate: z.number().positive().optional(),
  maxRate: z.number().positive().optional(),
  growth: z.number().gt(1).optional(),
  precision: z.number().gt(0).lt(1).optional(),
  holdMs: z.number().int().min(1000).optional(),
  confirmHoldMs: z.number().int().min(1000).optional(),
  maxSteps: z.number().int().min(2).max(40).optional(),
  perVehicleMaxHz: z.number().positive().max(1000).optional(),
  retriesWhenGeneratorBehind: z.number().int().min(0).max(5).optional(),
  lateThresholdMs: z.number().min(1).max(10_000).optional(),
  criteria: z.strictObject({
    latencyP99Ms: z.number().positive().optional(),
    lagBoundMs: z.number().positive().optional(),
    lagGrowthMsPerSec: z.number().positive().optional(),
  }).optional(),
});

export const CliConfigFileSchema = z.strictObject({
  stack: z.record(z.string(), z.unknown()).optional(),
  defaults: z.record(z.string(), z.unknown()).optional(),
  scenarios: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  matrix: z.array(z.string()).min(1).optional(),
  thresholds: z.array(ThresholdSchema).optional(),
  findMaxRate: SearchSchema.optional(),
});
export type CliConfigFile = z.infer<typeof CliConfigFileSchema>;

/** Flags shared by every command that talks to a stack. */
export interface StackFlags {
  target?: string;
  apiKey?: string;
  influxUrl?: string;
  influxDb?: string;
  influxOrg?: string;
  influxBucket?: string;
  influxToken?: string;
  toxiproxyUrl?: string;
  backendMode?: string;
  flushIntervalMs?: string;
  allowRemote?: boolean;
}

/** Flags that override scenario fields. */
export interface ScenarioFlags {
  duration?: string;
  rate?: string;
  vehicles?: string;
  sseClients?: string;
  sseReader?: string;
  network?: string;
  payload?: string;
  transport?: string;
  drain?: string;
  seed?: string;
  threshold?: string[];
}

export function readCliConfigFile(path: string | undefined): CliConfigFile {
  if (!path) return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([`${path}: ${(err as Error).message}`]);
  }
  const r = CliConfigFileSchema.safeParse(data);
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => `${path}: ${i.path.join('.') || '(top level)'}: ${i.message}`));
  return r.data;
}

const FLAG_ENV: [keyof StackFlags, string, string][] = [
  ['target', 'TP_BACKEND_URL', '--target'],
  ['apiKey', 'TP_API_KEY', '--api-key'],
  ['influxUrl', 'TP_INFLUX_URL', '--influx-url'],
  ['influxDb', 'TP_INFLUX_DB', '--influx-db'],
  ['influxOrg', 'TP_INFLUX_ORG', '--influx-org'],
  ['influxBucket', 'TP_INFLUX_BUCKET', '--influx-bucket'],
  ['influxToken', 'TP_INFLUX_TOKEN', '--influx-token'],
  ['toxiproxyUrl', 'TP_TOXIPROXY_URL', '--toxiproxy-url'],
  ['backendMode', 'TP_BACKEND_MODE', '--backend-mode'],
  ['flushIntervalMs', 'TP_FLUSH_INTERVAL_MS', '--flush-interval-ms'],
];

/**
 * The stack configuration: config file `stack` section (or TP_CONFIG), then
 * TP_* variables, then flags. `--target` means an already-running backend
 * (target "external"); non-loopback URLs are refused unless --allow-remote.
 */
export function resolveStackConfig(flags: StackFlags, file: CliConfigFile, env: NodeJS.ProcessEnv = process.env): StackConfig {
  const merged: NodeJS.ProcessEnv = { ...env };
  const byFlag = new Map<string, string>();
  for (const [key, variable, flag] of FLAG_ENV) {
    const v = flags[key];
    if (typeof v === 'string' && v !== '') {
      merged[variable] = v;
      byFlag.set(variable, flag);
    }
  }
  if (flags.target) merged.TP_TARGET = 'external';
  if (flags.allowRemote) merged.TP_ALLOW_REMOTE = '1';
  try {
    return file.stack ? loadStackConfig(merged, undefined, { raw: file.stack, label: 'config file: stack' }) : loadStackConfig(merged);
  } catch (err) {
    if (err instanceof ConfigError) {
      // Name the flag the user typed rather than the variable it became.
      throw new ConfigError(err.problems.map((p) => {
        for (const [variable, flag] of byFlag) if (p.startsWith(`${variable}:`)) return `${flag} (${variable})${p.slice(variable.length)}`;
        // A value nobody gave is named by its config path: say which flag sets it.
        for (const [, variable, flag] of FLAG_ENV) {
          const path = ENV_KEYS[variable]?.join('.');
          if (path && p.startsWith(`${path}:`)) return `${flag} (${variable})${p.slice(path.length)}`;
        }
        return p;
      }));
    }
    throw err;
  }
}

/** "latency_p99_ms<200", "loss_rate <= 0.01" → a validated threshold. */
export function parseThresholdFlag(text: string): Threshold {
  const ops = [...THRESHOLD_OPS].sort((a, b) => b.length - a.length).map((o) => o.replace(/[<>=!]/g, '\\$&'));
  const m = new RegExp(`^\\s*([a-z0-9_]+)\\s*(${ops.join('|')})\\s*(-?\\d+(?:\\.\\d+)?(?:e-?\\d+)?)\\s*$`, 'i').exec(text);
  if (!m) throw new ConfigError([`--threshold ${JSON.stringify(text)}: expected <metric><op><number>, e.g. latency_p99_ms<200`]);
  try {
    return parseThresholds([{ metric: m[1], op: m[2], value: Number(m[3]) }])[0]!;
  } catch {
    throw new ConfigError([`--threshold ${JSON.stringify(text)}: unknown metric ${m[1]} (see reports/writers/thresholds.ts METRICS)`]);
  }
}

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError([`${name}: expected a number, got ${JSON.stringify(v)}`]);
  return n;
}

/** Scenario field overrides given as flags. */
export function scenarioFlagOverrides(f: ScenarioFlags): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  try {
    if (f.duration !== undefined) o.durationMs = parseDuration(f.duration);
    if (f.drain !== undefined) o.drainMs = parseDuration(f.drain);
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  if (f.rate !== undefined) o.rateHz = intFlag('--rate', f.rate);
  if (f.vehicles !== undefined) o.vehicles = intFlag('--vehicles', f.vehicles);
  if (f.sseClients !== undefined) o.sseClients = intFlag('--sse-clients', f.sseClients);
  if (f.seed !== undefined) o.seed = intFlag('--seed', f.seed);
  if (f.sseReader !== undefined) o.sseReader = f.sseReader;
  if (f.network !== undefined) o.network = f.network;
  if (f.payload !== undefined) o.payload = f.payload;
  if (f.transport !== undefined) o.transport = f.transport;
  if (f.threshold && f.threshold.length > 0) o.thresholds = f.threshold.map(parseThresholdFlag);
  return o;
}

/**
 * A scenario by name, with the config file's defaults, its per-scenario
 * section, then the flags applied. A name not in the catalogue must be fully
 * defined in the config file's `scenarios`.
 */
export function resolveScenario(name: string, file: CliConfigFile, flags: ScenarioFlags): Scenario {
  const own = file.scenarios?.[name];
  const known = findScenario(name);
  let base: Scenario;
  try {
    if (known) base = known;
    else if (own) base = parseScenario({ name, ...file.defaults, ...own }, `config file: scenarios.${name}`);
    else throw new ScenarioError(`unknown scenario "${name}" (see \`telemetry-proof list\`, or define it under "scenarios" in the config file)`);
    const layers = [
      { label: 'config file: defaults', overrides: known ? file.defaults : undefined },
      { label: `config file: scenarios.${name}`, overrides: known ? own : undefined },
      { label: 'config file: thresholds', overrides: file.thresholds ? { thresholds: file.thresholds } : undefined },
      { label: 'flags', overrides: scenarioFlagOverrides(flags) },
    ];
    return applyOverrides(base, layers);
  } catch (err) {
    if (err instanceof ScenarioError) throw new ConfigError([err.message]);
    throw err;
  }
}

export interface SearchFlags {
  startRate?: string;
  maxRate?: string;
  hold?: string;
  confirmHold?: string;
  sloP99Ms?: string;
  lagBoundMs?: string;
  precision?: string;
  maxSteps?: string;
  lateThresholdMs?: string;
}

export function resolveSearch(file: CliConfigFile, f: SearchFlags): MaxRateSearch {
  const c = file.findMaxRate ?? {};
  const { scenario: _s, criteria, ...rest } = c;
  void _s;
  const s: MaxRateSearch = { ...DEFAULT_SEARCH, ...rest, criteria: { ...DEFAULT_SEARCH.criteria, ...criteria } };
  try {
    if (f.hold) s.holdMs = parseDuration(f.hold);
    if (f.confirmHold) s.confirmHoldMs = parseDuration(f.confirmHold);
  } catch (err) {
    throw new ConfigError([(err as Error).message]);
  }
  s.startRate = intFlag('--start-rate', f.startRate) ?? s.startRate;
  s.maxRate = intFlag('--max-rate', f.maxRate) ?? s.maxRate;
  s.precision = intFlag('--precision', f.precision) ?? s.precision;
  s.maxSteps = intFlag('--max-steps', f.maxSteps) ?? s.maxSteps;
  s.lateThresholdMs = intFlag('--late-threshold-ms', f.lateThresholdMs) ?? s.lateThresholdMs;
  s.criteria.latencyP99Ms = intFlag('--slo-p99-ms', f.sloP99Ms) ?? s.criteria.latencyP99Ms;
  s.criteria.lagBoundMs = intFlag('--lag-bound-ms', f.lagBoundMs) ?? s.criteria.lagBoundMs;
  const problems: string[] = [];
  if (!(s.startRate > 0)) problems.push('--start-rate: must be > 0');
  if (!(s.maxRate >= s.startRate)) problems.push('--max-rate: must be ≥ --start-rate');
  if (!(s.precision > 0 && s.precision < 1)) problems.push('--precision: must be within (0, 1)');
  if (!(Number.isInteger(s.maxSteps) && s.maxSteps >= 2 && s.maxSteps <= 40)) problems.push('--max-steps: must be an integer within 2..40');
  if (problems.length > 0) throw new ConfigError(problems);
  return s;
}
