/**
 * The matrix: a list of scenarios run one after another on one stack (the
 * backend keeps running between them, as in production), then one settle
 * phase: wait for the backend's flush interval and re-read every scenario's
 * samples, so "acknowledged but not stored within the lag bound" can be told
 * apart from "never stored at all".
 */
import { loadAverage } from './environment';
import { backendLabel, describeBackend, type BackendDescription } from './backendLabel';
import { recheckStored, type ScenarioRun } from './runScenario';
import { summarize, type ScenarioSummary } from './summary';
import type { RunReport } from '../../reports/writers/runReport';
import type { Scenario } from '../scenarios/schema';
import type { StackInfo } from '../stack/types';
import { sleep } from '../load/clock';

export interface MatrixEntry {
  summary: ScenarioSummary;
  /** Folder of the scenario's reports, relative to the matrix folder. */
  dir?: string;
  /** Acknowledged samples missing when the scenario's drain ended. */
  ackedMissingAtDrain: number;
  /** Of those, found in the store after the settle phase (null: no re-check). */
  storedAfterSettle: number | null;
}

export interface MatrixResult {
  schemaVersion: 1;
  kind: 'matrix';
  createdAt: string;
  backend: BackendDescription;
  backendLabel: string;
  loadAvgStart: number[];
  loadAvgEnd: number[];
  /** How long the settle phase waited before the re-check (ms). */
  settleMs: number;
  wallTimeMs: number;
  entries: MatrixEntry[];
  /** Scenarios that could not run (infrastructure), by name. */
  skipped: { name: string; error: string }[];
}

export interface RunMatrixInput {
  stack: StackInfo;
  scenarios: readonly Scenario[];
  /** Runs one scenario (the caller writes its reports and returns their folder). */
  runOne: (stack: StackInfo, scenario: Scenario) => Promise<{ run: ScenarioRun; dir?: string }>;
  /** Wait before the re-check; default: the backend's flush interval + 5 s when known, else 5 s. */
  settleMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export function defaultSettleMs(b: BackendDescription): number {
  return (b.flushIntervalMs ?? 0) + 5000;
}

export async function runMatrix(input: RunMatrixInput): Promise<MatrixResult> {
  const started = Date.now();
  const log = input.log ?? (() => undefined);
  const loadAvgStart = loadAverage();
  const backend = describeBackend(input.stack);
  const done: { run: ScenarioRun; dir?: string; report: RunReport }[] = [];
  const skipped: MatrixResult['skipped'] = [];
  for (const [i, scenario] of input.scenarios.entries()) {
    if (input.signal?.aborted) break;
    log(`[matrix] ${i + 1}/${input.scenarios.length} ${scenario.name}: ${scenario.description}`);
    try {
      const { run, dir } = await input.runOne(input.stack, scenario);
      done.push({ run, dir, report: run.report });
      const s = summarize(run.report);
      log(`[matrix]   ${s.status.toUpperCase()} sent ${s.sent} acked ${s.acked} stored ${s.stored ?? '–'} p99 ${s.latencyP99Ms} ms lag p99 ${s.lagP99Ms ?? '–'} ms`);
    } catch (err) {
      skipped.push({ name: scenario.name, error: (err as Error).message });
      log(`[matrix]   SKIPPED: ${(err as Error).message}`);
    }
  }
  const missing = done.reduce((a, d) => a + d.run.ackedMissing.length, 0);
  const settleMs = missing > 0 ? (input.settleMs ?? defaultSettleMs(backend)) : 0;
  if (settleMs > 0) {
    log(`[matrix] ${missing} acknowledged samples were missing at their drain; waiting ${Math.round(settleMs / 1000)} s (flush interval + 5 s) and re-reading`);
    await sleep(settleMs, input.signal);
  }
  const entries: MatrixEntry[] = [];
  for (const d of done) {
    let after: number | null = null;
    if (d.run.ackedMissing.length === 0) after = 0;
    else {
      try {
        after = await recheckStored(input.stack, d.run.prefix, d.run.ackedMissing);
      } catch (err) {
        log(`[matrix] re-check of ${d.report.scenario.name} failed: ${(err as Error).message}`);
      }
    }
    entries.push({ summary: summarize(d.report), dir: d.dir, ackedMissingAtDrain: d.run.ackedMissing.length, storedAfterSettle: after });
  }
  return {
    schemaVersion: 1,
    kind: 'matrix',
    createdAt: new Date(started).toISOString(),
    backend,
    backendLabel: backendLabel(backend),
    loadAvgStart,
    loadAvgEnd: loadAverage(),
    settleMs,
    wallTimeMs: Date.now() - started,
    entries,
    skipped,
  };
}
