/**
 * The mutant zoo run: for every mutant (in each mode it applies to) start a
 * backend of its own with BACKEND_MUTANT set and run the zoo's quick profile
 * (runners/zoo/profile.ts) until a check fails; then run the correct
 * backends through the same profile with several seeds (a failure there is
 * a false alarm). Pure orchestration over the framework's engines; the
 * result is plain data (report.ts renders it).
 */
import { mkdirSync } from 'node:fs';
import type { Contract } from '../../models/contract';
import { DEFAULT_CONTRACT } from '../../models/contract';
import { MUTANTS, mutantInfo, MUTANT_ENV, MUTANT_N_ENV, type MutantName } from '../../backend/src/mutants';
import type { BackendSpec } from '../stack/backendProcess';
import { startSuiteBackend, type SuiteBackend } from '../stack/suiteBackend';
import type { StackInfo } from '../stack/types';
import { checksFor, type CheckContext, type CheckResult, type ShrunkCase, type ZooMode } from './profile';

/** The zoo runs drop-one-in-n with a small n so that the quick profile's plans (≤ 20 samples) can see it. */
export const ZOO_DROP_N = 5;
export const DEFAULT_ZOO_SEED = 20_261_203;
export const DEFAULT_BASELINE_SEEDS = 20;
export const DEFAULT_LEGACY_BASELINE_SEEDS = 3;
/** Per property check (generation and shrinking): the quick profile's budget. */
export const DEFAULT_CHECK_BUDGET_MS = 60_000;
/** Per chaos check: a chaos execution takes seconds (faults, restarts, drain), so shrinking needs longer. */
export const DEFAULT_CHAOS_BUDGET_MS = 120_000;

/**
 * What the zoo expects of each mutant: the check and property that should
 * catch it, and the largest minimal case that still shows the bug.
 */
export interface Expectation {
  check: string;
  property: string;
  maxRequests: number;
  maxFaults: number;
  why: string;
}

export const EXPECTATIONS: Record<MutantName, Expectation> = {
  'drop-one-in-n': { check: 'valid-stream', property: 'ack_implies_stored', maxRequests: ZOO_DROP_N, maxFaults: 0, why: `one sample in ${ZOO_DROP_N} is dropped: ${ZOO_DROP_N} acknowledged samples always include one` },
  'ack-before-validate': { check: 'hostile-input', property: 'validation_agrees_with_model', maxRequests: 1, maxFaults: 0, why: 'one invalid request answered 200' },
  'skew-window-11s': { check: 'skew-edge', property: 'validation_agrees_with_model', maxRequests: 1, maxFaults: 0, why: 'one timestamp 10.5–11 s off, answered 200' },
  'timestamp-whole-seconds': { check: 'valid-stream', property: 'ack_implies_stored', maxRequests: 1, maxFaults: 0, why: 'one sample stored at the wrong millisecond' },
  'float-rounded': { check: 'valid-stream', property: 'ack_implies_stored', maxRequests: 1, maxFaults: 0, why: 'one float with more than 3 decimals' },
  'no-flush-on-shutdown': { check: 'graceful-restart', property: 'ack_stored_after_healing', maxRequests: 1, maxFaults: 1, why: 'one sample acknowledged before a SIGTERM' },
  'retry-duplicates-restamped': { check: 'influx-outage', property: 'no_unexpected_points', maxRequests: 1, maxFaults: 1, why: 'one sample whose write failed once' },
  'influx-4xx-swallowed': { check: 'influx-4xx', property: 'ack_implies_stored', maxRequests: 1, maxFaults: 1, why: 'one sample written while InfluxDB answers 404' },
  'sse-skip-multi-client': { check: 'valid-stream', property: 'sse_once_in_order', maxRequests: 1, maxFaults: 0, why: 'one sample with two SSE clients connected' },
  'sse-before-validate': { check: 'hostile-input', property: 'sse_once_in_order', maxRequests: 1, maxFaults: 0, why: 'one rejected request broadcast' },
  'sse-unbounded-buffer': { check: 'stalled-sse', property: 'slow_consumer_bounded', maxRequests: 1600, maxFaults: 0, why: 'loopback socket buffers absorb several MB per stalled client before the backend buffers a byte: minimal cases of ~420 to ~1520 planned requests (~11 kB events) were measured here' },
  'api-key-prefix': { check: 'hostile-input', property: 'auth_enforced', maxRequests: 1, maxFaults: 0, why: 'one request with a truncated key' },
  'tag-escaping-broken': { check: 'hostile-input', property: 'ack_implies_stored', maxRequests: 1, maxFaults: 0, why: "one vehicle_id with ',' or ' '" },
  'wal-truncate-before-confirm': { check: 'influx-outage', property: 'ack_stored_after_healing', maxRequests: 1, maxFaults: 1, why: 'one sample whose write failed' },
  'wal-replay-skips-last': { check: 'crash-during-outage', property: 'ack_stored_after_healing', maxRequests: 1, maxFaults: 2, why: 'one unshipped sample at a crash (the outage keeps it unshipped)' },
};

export interface ZooTarget {
  /** null = the correct backend. */
  mutant: MutantName | null;
  mode: ZooMode;
  seed: number;
}

export interface TargetResult extends ZooTarget {
  /** A check failed (for a mutant: detected; for the correct backend: a false alarm). */
  failed: boolean;
  /** A check could not run (infrastructure): the result is incomplete. */
  errors: string[];
  checks: CheckResult[];
  detectedBy?: { check: string; property: string };
  /** Profile start to the first failing execution. */
  timeToDetectMs?: number;
  shrunk?: ShrunkCase;
  totalMs: number;
  expected?: Expectation;
  /** Mutants: caught by the expected property, with a minimal case within the expected size. */
  asExpected?: { property: boolean; size: boolean };
}

export interface ZooOptions {
  shared: StackInfo;
  /** Mutants to run (default: all); each in the modes it applies to among `modes`. */
  mutants?: readonly MutantName[];
  modes?: readonly ZooMode[];
  /** Seed of the mutant runs and the first baseline seed. */
  seed?: number;
  /** Correct durable backend runs (seeds seed .. seed+n-1). */
  baselineSeeds?: number;
  /** Correct legacy backend runs (control of the legacy mutants' profile). */
  legacyBaselineSeeds?: number;
  /** Only these checks (default: the whole profile). */
  checks?: readonly string[];
  /** Keep running the profile after a detection (default: stop at the first failing check). */
  allChecks?: boolean;
  budgetMs?: number;
  chaosBudgetMs?: number;
  contract?: Contract;
  failuresDir: string;
  log?: (line: string) => void;
  /** Progress after each target. */
  onResult?: (r: TargetResult, done: number, total: number) => void;
}

export interface ZooRun {
  startedAt: string;
  finishedAt: string;
  totalMs: number;
  seed: number;
  checks: string[];
  mutants: TargetResult[];
  baseline: TargetResult[];
}

/** Backend settings every zoo backend of a mode shares (mutant or not). */
export function zooBackendSpec(mode: ZooMode, mutant: MutantName | null, extraEnv: Record<string, string> = {}): BackendSpec {
  const mutantEnv: Record<string, string> = mutant ? { [MUTANT_ENV]: mutant, ...(mutant === 'drop-one-in-n' ? { [MUTANT_N_ENV]: String(ZOO_DROP_N) } : {}) } : {};
  if (mode === 'legacy') {
    return {
      kind: 'reference',
      mode,
      // The seed team's config-only fix (1 s flush) and a retry budget that outlives a 1.5 s outage.
      flushIntervalMs: 1_000,
      env: { INFLUX_MAX_RETRIES: '5', INFLUX_MIN_RETRY_DELAY_MS: '200', INFLUX_MAX_RETRY_DELAY_MS: '1000', INFLUX_MAX_RETRY_TIME_MS: '15000', ...mutantEnv, ...extraEnv },
    };
  }
  return { kind: 'reference', mode, env: { SHIP_BACKOFF_MAX_MS: '1000', ...mutantEnv, ...extraEnv } };
}

/** Every (mutant, mode) pair of the zoo, in issue order. */
export function zooTargets(mutants: readonly MutantName[] = MUTANTS.map((m) => m.name), modes: readonly ZooMode[] = ['legacy', 'durable'], seed = DEFAULT_ZOO_SEED): ZooTarget[] {
  const out: ZooTarget[] = [];
  for (const m of MUTANTS) {
    if (!mutants.includes(m.name)) continue;
    for (const mode of modes) if ((m.modes as readonly string[]).includes(mode)) out.push({ mutant: m.name, mode, seed });
  }
  return out;
}

export function targetLabel(t: Pick<ZooTarget, 'mutant' | 'mode'>): string {
  return `${t.mutant ?? 'correct'}/${t.mode}`;
}

/** Run the profile against one target until a check fails (or to the end). */
export async function runTarget(t: ZooTarget, o: Omit<ZooOptions, 'onResult'>): Promise<TargetResult> {
  const started = Date.now();
  const log = o.log ?? (() => {});
  const label = `${(t.mutant ?? 'ok').split('-').map((w) => w.slice(0, 3)).join('')}${t.mode.slice(0, 1)}`;
  let propertyBackend: SuiteBackend | undefined;
  const ctx: CheckContext = {
    shared: o.shared,
    spec: (extra) => zooBackendSpec(t.mode, t.mutant, extra),
    propertyTarget: async () => {
      propertyBackend ??= await startSuiteBackend(o.shared, zooBackendSpec(t.mode, t.mutant), { label });
      return propertyBackend.info;
    },
    mode: t.mode,
    seed: t.seed,
    contract: o.contract ?? DEFAULT_CONTRACT,
    budgetMs: o.budgetMs ?? DEFAULT_CHECK_BUDGET_MS,
    chaosBudgetMs: o.chaosBudgetMs ?? DEFAULT_CHAOS_BUDGET_MS,
    failuresDir: o.failuresDir,
    label,
    log,
  };
  mkdirSync(o.failuresDir, { recursive: true });
  const checks: CheckResult[] = [];
  const errors: string[] = [];
  let result: Pick<TargetResult, 'detectedBy' | 'timeToDetectMs' | 'shrunk'> = {};
  try {
    for (const check of checksFor(t.mode, o.checks)) {
      const checkStarted = Date.now();
      log(`[zoo] ${targetLabel(t)} seed ${t.seed}: ${check.name}…`);
      let r: CheckResult;
      try {
        r = await check.run(ctx);
      } catch (err) {
        r = { check: check.name, kind: check.kind, ok: false, error: (err as Error).stack ?? String(err), elapsedMs: Date.now() - checkStarted, numRuns: 0, executions: 0, interrupted: false, seed: t.seed };
      }
      checks.push(r);
      if (r.error) {
        errors.push(`${check.name}: ${r.error.split('\n')[0]}`);
        log(`[zoo] ${targetLabel(t)}: ${check.name} ERROR ${r.error.split('\n')[0]}`);
        continue;
      }
      log(`[zoo] ${targetLabel(t)}: ${check.name} ${r.ok ? 'passed' : `FAILED (${r.property})`} in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.executions} execution(s)`);
      if (!r.ok && !result.detectedBy) {
        result = {
          detectedBy: { check: r.check, property: r.property ?? 'unknown' },
          ...(r.firstFailureMs !== undefined ? { timeToDetectMs: checkStarted - started + r.firstFailureMs } : {}),
          ...(r.shrunk ? { shrunk: r.shrunk } : {}),
        };
        if (!o.allChecks) break;
      }
    }
  } finally {
    await propertyBackend?.stop().catch(() => undefined);
  }
  const failed = result.detectedBy !== undefined;
  const expected = t.mutant ? EXPECTATIONS[t.mutant] : undefined;
  return {
    ...t,
    failed,
    errors,
    checks,
    ...result,
    totalMs: Date.now() - started,
    ...(expected ? { expected } : {}),
    ...(expected && failed ? {
      asExpected: {
        property: result.detectedBy!.property.split('+').includes(expected.property),
        size: result.shrunk !== undefined && result.shrunk.requests <= expected.maxRequests && result.shrunk.faults <= expected.maxFaults,
      },
    } : {}),
  };
}

export async function runZoo(o: ZooOptions): Promise<ZooRun> {
  const started = Date.now();
  const seed = o.seed ?? DEFAULT_ZOO_SEED;
  const modes = o.modes ?? ['legacy', 'durable'];
  const targets = zooTargets(o.mutants ?? MUTANTS.map((m) => m.name), modes, seed);
  const baselineTargets: ZooTarget[] = [];
  if (modes.includes('durable')) for (let i = 0; i < (o.baselineSeeds ?? DEFAULT_BASELINE_SEEDS); i++) baselineTargets.push({ mutant: null, mode: 'durable', seed: seed + i });
  if (modes.includes('legacy')) for (let i = 0; i < (o.legacyBaselineSeeds ?? DEFAULT_LEGACY_BASELINE_SEEDS); i++) baselineTargets.push({ mutant: null, mode: 'legacy', seed: seed + i });
  const total = targets.length + baselineTargets.length;
  let done = 0;
  const mutants: TargetResult[] = [];
  const baseline: TargetResult[] = [];
  for (const t of targets) {
    const r = await runTarget(t, o);
    mutants.push(r);
    o.onResult?.(r, ++done, total);
  }
  for (const t of baselineTargets) {
    const r = await runTarget(t, o);
    baseline.push(r);
    o.onResult?.(r, ++done, total);
  }
  const checkNames = [...new Set(modes.flatMap((m) => checksFor(m, o.checks).map((c) => c.name)))];
  return { startedAt: new Date(started).toISOString(), finishedAt: new Date().toISOString(), totalMs: Date.now() - started, seed, checks: checkNames, mutants, baseline };
}

export { mutantInfo };
