/**
 * Helpers for the chaos self-tests and the chaos suites: run one chaos
 * property against a backend of the caller's own — beside the shared stack
 * (own proxies, own process: network faults and backend kills), or on a
 * whole stack of its own (influxd stalls and restarts never touch the shared
 * influxd) — and always tear it down.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type fc from 'fast-check';
import type { ChaosPlan } from '../../chaos/chaosPlan';
import type { ChaosJudge } from '../../chaos/judges';
import type { ChaosEnv, ChaosRunOptions } from '../../runners/chaosRun';
import type { BackendSpec } from '../../runners/stack/backendProcess';
import { loadStackConfig, type StackConfig } from '../../runners/stack/config';
import { Stack } from '../../runners/stack/stack';
import { startSuiteBackend, type SuiteBackend } from '../../runners/stack/suiteBackend';
import type { StackInfo } from '../../runners/stack/types';
import { chaosSettings, runChaosProperty, type ChaosOutcome, type ChaosSettings } from './chaosProperty';
import { labelOf } from './selfTest';

export interface ChaosCase {
  name: string;
  file: string;
  testName?: string;
  backend: BackendSpec;
  arbitrary: fc.Arbitrary<ChaosPlan>;
  judge: ChaosJudge;
  run: Omit<ChaosRunOptions, 'runId' | 'signal'>;
  /** A stack of its own (needed for influxd faults); default: a suite backend beside the shared stack. */
  ownStack?: boolean;
  settings: Omit<ChaosSettings, 'path'>;
  failuresDir?: string;
}

/** A live target for chaos plans, and how to tear it down. */
export interface ChaosTarget {
  env: ChaosEnv;
  stop(): Promise<void>;
}

export async function suiteChaosTarget(shared: StackInfo, spec: BackendSpec, label: string): Promise<ChaosTarget> {
  const suite: SuiteBackend = await startSuiteBackend(shared, spec, { label });
  return {
    env: { info: suite.info, backend: suite.handle.process, backendLogFile: suite.handle.process.spec.logFile },
    stop: () => suite.stop(),
  };
}

/**
 * A whole stack (influxd, toxiproxy, backend) of the caller's own: a
 * reference backend spec, or `config` as it is (e.g. the user's command).
 */
export async function ownChaosTarget(spec: BackendSpec | StackConfig): Promise<ChaosTarget> {
  const config: StackConfig = 'kind' in spec
    ? spec.kind === 'reference'
      ? { ...loadStackConfig({}), target: 'managed', managed: { mode: spec.mode, ...(spec.flushIntervalMs ? { flushIntervalMs: spec.flushIntervalMs } : {}), env: spec.env ?? {} } }
      : (() => { throw new Error('ownChaosTarget: pass the StackConfig of a command backend'); })()
    : spec;
  if (config.target === 'external') throw new Error('an external stack cannot be started: its processes are not ours');
  const stack = await Stack.start(config);
  const env: ChaosEnv = {
    info: stack.info,
    ...(stack.backend ? { backend: stack.backend.process, backendLogFile: stack.backend.process.spec.logFile } : {}),
    ...(stack.influxd ? { influxd: stack.influxd.process } : {}),
  };
  return { env, stop: () => stack.stop() };
}

/** What a target allows: process faults need our process handles, network faults a Toxiproxy. */
export interface TargetCaps {
  network: boolean;
  backendProcess: boolean;
  influxdProcess: boolean;
}

export function capsOf(env: ChaosEnv): TargetCaps {
  return { network: env.info.toxiproxy !== undefined, backendProcess: env.backend !== undefined, influxdProcess: env.influxd !== undefined };
}

/**
 * The configured backend (what `npm test` judges) as a chaos target: a
 * backend of the suite's own beside the shared stack (same spec, its own
 * proxies: kills never hurt other suites), a whole stack of its own when
 * influxd faults are wanted, or the external stack itself (network faults
 * only, through its Toxiproxy, when it has one).
 */
export async function configuredChaosTarget(shared: StackInfo, o: { own: boolean; label: string; config?: StackConfig }): Promise<ChaosTarget> {
  if (shared.kind === 'external') return { env: { info: shared }, stop: async () => {} };
  const spec = shared.backend.spec;
  if (!spec) throw new Error('the shared stack did not record how its backend was started');
  if (o.own) return await ownChaosTarget(spec.kind === 'reference' ? spec : (o.config ?? loadStackConfig()));
  return await suiteChaosTarget(shared, spec, o.label);
}

let tmpFailures: string | undefined;
/** Self-test cases fail on purpose: their minimal cases go to a temp dir unless TP_FAILURES_DIR says otherwise. */
export function selfTestFailuresDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TP_FAILURES_DIR || (tmpFailures ??= mkdtempSync(join(tmpdir(), 'tp-chaos-selftest-')));
}

export async function runChaosCase(shared: StackInfo, c: ChaosCase): Promise<ChaosOutcome> {
  const label = c.name.replace(/[^a-z0-9]/gi, '').slice(0, 14) || 'chaos';
  const target = c.ownStack ? await ownChaosTarget(c.backend) : await suiteChaosTarget(shared, c.backend, label);
  try {
    return await runChaosProperty(
      {
        name: c.name,
        file: c.file,
        testName: c.testName ?? c.name,
        arbitrary: c.arbitrary,
        judge: c.judge,
        env: () => target.env,
        run: c.run,
        backendLabel: labelOf(c.backend),
        failuresDir: c.failuresDir ?? selfTestFailuresDir(),
      },
      chaosSettings(c.settings),
    );
  } finally {
    await target.stop();
  }
}
