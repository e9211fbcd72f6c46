/**
 * A minimal failing case, written out as reports/failures/<id>/:
 *   case.json        plan, history, verdict, environment, versions, replay
 *   issue.md         a ready-to-file issue
 *   repro.test.ts    a standalone vitest file that re-runs the exact plan
 * and, when asked and `gh` is installed and logged in, filed with
 * `gh issue create`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import fc from 'fast-check';
import type { Contract } from '../../models/contract';
import { describePlan } from '../../models/describe';
import { CATEGORIES } from '../../models/checker';
import type { Attempt } from './runProperty';
import { PROJECT_ROOT } from '../../runners/stack/executables';
import type { BackendSpec } from '../../runners/stack/backendProcess';

export interface FailureCase {
  property: string;
  backend: string;
  seed: number;
  path?: string;
  replay: string;
  contract: Contract;
  attempt: Attempt;
  shrinkSteps: number;
  testFile: string;
  testName: string;
  backendSpec?: BackendSpec;
}

export const FAILURES_DIR = process.env.TP_FAILURES_DIR ?? join(PROJECT_ROOT, 'reports', 'failures');

function versions(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  return { 'telemetry-proof': pkg.version, node: process.version, 'fast-check': fc.__version };
}

export function issueMarkdown(c: FailureCase, caseDir: string): string {
  const { verdict, history, plan, result } = c.attempt;
  const counts = CATEGORIES.filter((k) => verdict.counts[k] > 0).map((k) => `| ${k} | ${verdict.counts[k]} |`);
  const firstDetails = result.details.slice(0, 12).map((d) => `- ${d}`);
  const replies = history.requests
    .map((r) => {
      const o = r.outcome;
      const got = !o ? 'no outcome' : o.kind === 'response' ? `${o.status} ${o.body.slice(0, 80).replace(/\|/g, '\\|').replace(/\n/g, ' ')}` : o.kind;
      return `| ${r.planIndex} | ${r.label} | ${Math.round(r.sentAtMs - history.startedAtMs)} ms | ${got} |`;
    })
    .slice(0, 30);
  return [
    `# Property \`${c.property}\` fails on ${c.backend}`,
    '',
    `**Expected:** ${expectation(c.property, c.contract)}`,
    '',
    `**What happened:** ${result.details.length} violation(s) of \`${c.property}\`:`,
    ...firstDetails,
    result.details.length > firstDetails.length ? `- … ${result.details.length - firstDetails.length} more in case.json` : '',
    '',
    '## Minimal plan',
    `fast-check shrank it in ${c.shrinkSteps} step(s); each step counted only if the failure repeated.`,
    '',
    describePlan(plan),
    '',
    '## Replies',
    '| # | case | sent at | reply |',
    '|---|---|---|---|',
    ...replies,
    '',
    '## Counts',
    '| category | count |',
    '|---|---|',
    ...counts,
    '',
    '## Replay',
    '```sh',
    c.replay,
    `npx vitest run ${relative(PROJECT_ROOT, join(caseDir, 'repro.test.ts'))}`,
    '```',
    '',
    `Seed ${c.seed}${c.path ? `, path ${c.path}` : ''}. Everything observed (plan, history, verdict, environment) is in \`case.json\`.`,
    '',
  ]
    .filter((l) => l !== undefined)
    .join('\n');
}

function expectation(property: string, contract: Contract): string {
  const e: Record<string, string> = {
    conservation: 'every planned request is sent once and has exactly one outcome (acknowledged, rejected or unknown).',
    ack_implies_stored: 'every acknowledged (2xx) sample is stored in InfluxDB under its own key, with exactly the values sent.',
    rejected_never_stored: 'a rejected request never produces a stored point.',
    nothing_unexpected: 'nothing is stored that was not sent.',
    lag_within_bound: `every acknowledged sample is stored within ${contract.lagBoundMs} ms of being sent.`,
    validation_agrees_with_model: 'the backend accepts and rejects exactly what the contract says, with the contract\'s status and message.',
    no_server_error_on_client_error: 'no client error (bad input, bad key) is answered with a 5xx.',
    sse_once_in_order: 'every SSE client receives each acknowledged sample once, in order, and nothing else.',
  };
  return e[property] ?? `property ${property} holds.`;
}

function reproTest(c: FailureCase): string {
  return `/**
 * Reproduces: property ${c.property} on ${c.backend} (seed ${c.seed}${c.path ? `, path ${c.path}` : ''}).
 * Re-runs the exact minimal plan from case.json against the configured stack;
 * it fails while the bug is there. Run: npx vitest run <this file>
 */
import { describe, expect, inject, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { check } from '${relPath('models/checker')}';
import { executePlan } from '${relPath('runners/executePlan')}';
import { startSuiteBackend } from '${relPath('runners/stack/suiteBackend')}';

const fcase = JSON.parse(readFileSync(new URL('./case.json', import.meta.url), 'utf8'));

describe('repro: ${c.property}', () => {
  it('holds for the minimal plan', async () => {
    const shared = inject('stack');
    const spec = fcase.environment.backendSpec;
    const suite = spec ? await startSuiteBackend(shared, spec, { label: 'repro' }) : undefined;
    try {
      const history = await executePlan(fcase.plan, {
        target: suite?.info ?? shared,
        contract: fcase.contract,
        drainBoundMs: fcase.history.drainBoundMs,
      });
      const verdict = check(history, fcase.contract);
      const mine = verdict.violations.filter((v) => v.property === fcase.property);
      expect(mine.map((v) => \`[\${v.category}] \${v.message}\`)).toEqual([]);
    } finally {
      await suite?.stop();
    }
  }, 120_000);
});
`;
}

function relPath(p: string): string {
  // case dirs live at reports/failures/<id>/
  return `../../../${p}`;
}

/** Where `gh` is installed and logged in: file issue.md as a GitHub issue. */
export function fileWithGh(title: string, bodyFile: string): { filed: boolean; message: string } {
  const auth = spawnSync('gh', ['auth', 'status'], { encoding: 'utf8' });
  if (auth.error) return { filed: false, message: 'gh is not installed' };
  if (auth.status !== 0) return { filed: false, message: 'gh is not logged in (gh auth login)' };
  const res = spawnSync('gh', ['issue', 'create', '--title', title, '--body-file', bodyFile], { encoding: 'utf8' });
  if (res.status !== 0) return { filed: false, message: `gh issue create failed: ${res.stderr.trim()}` };
  return { filed: true, message: res.stdout.trim() };
}

export async function writeFailureCase(c: FailureCase, opts: { fileIssue?: boolean; dir?: string } = {}): Promise<string> {
  const id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${c.property.replace(/[^a-z0-9_-]+/gi, '-')}-${c.attempt.plan.runId}`;
  const caseDir = join(opts.dir ?? FAILURES_DIR, id);
  mkdirSync(caseDir, { recursive: true });
  const json = {
    schemaVersion: 1,
    property: c.property,
    backend: c.backend,
    seed: c.seed,
    path: c.path,
    replay: c.replay,
    contract: c.contract,
    plan: c.attempt.plan,
    history: c.attempt.history,
    verdict: c.attempt.verdict,
    result: c.attempt.result,
    environment: {
      host: os.hostname(),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      /** How the backend was started (managed stacks): the repro starts the same one. */
      backendSpec: c.backendSpec,
      versions: versions(),
    },
    writtenAt: new Date().toISOString(),
  };
  writeFileSync(join(caseDir, 'case.json'), JSON.stringify(json, null, 2));
  const md = issueMarkdown(c, caseDir);
  writeFileSync(join(caseDir, 'issue.md'), md);
  writeFileSync(join(caseDir, 'repro.test.ts'), reproTest(c));
  if (opts.fileIssue) {
    const r = fileWithGh(md.split('\n')[0]!.replace(/^# /, ''), join(caseDir, 'issue.md'));
    console.log(`[failure] ${r.filed ? `filed: ${r.message}` : `not filed: ${r.message}`}`);
    writeFileSync(join(caseDir, 'filed.txt'), `${r.filed ? 'filed' : 'not filed'}: ${r.message}\n`);
  }
  return caseDir;
}
