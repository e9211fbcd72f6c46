/**
 * A minimal failing case, written out as <failures dir>/<id>/:
 *   case.json        plan, history, verdict, environment, versions, replay
 *   issue.md         a ready-to-file issue
 *   repro.test.ts    a standalone vitest file that re-runs the exact plan
 * and, when asked and `gh` is installed and logged in, filed with
 * `gh issue create`. The failures dir is the `dir` option, else
 * TP_FAILURES_DIR, else reports/failures/ (git-ignored).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import fc from 'fast-check';
import type { Contract } from '../../models/contract';
import { describePlan } from '../../models/describe';
import { CATEGORIES, PROPERTY_OF, type Category, type PropertyName } from '../../models/checker';
import type { ExecuteOptions } from '../../runners/executePlan';
import { PROJECT_ROOT } from '../../runners/stack/executables';
import type { BackendSpec } from '../../runners/stack/backendProcess';
import type { Attempt } from './attempt';

/** The serialisable execute options a repro needs to run the plan the same way. */
export type RecordedExecuteOptions = Pick<ExecuteOptions, 'drainBoundMs' | 'sseClients' | 'requestTimeoutMs' | 'pollIntervalMs'>;

export interface FailureCase {
  /** Property (or self-test case) name. */
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
  execute?: RecordedExecuteOptions;
  /** Versions of the system under test (InfluxDB, backend), when known. */
  versions?: Record<string, string>;
  /** How the search went. */
  stats?: { numRuns: number; executions: number; elapsedMs: number };
}

/** The case.json document (schemaVersion 1). */
export interface CaseFile {
  schemaVersion: 1;
  property: string;
  /** Properties the minimal plan violates (what the repro checks). */
  violated: PropertyName[];
  title: string;
  backend: string;
  seed: number;
  path?: string;
  replay: string;
  reproCommand: string;
  contract: Contract;
  execute: RecordedExecuteOptions;
  plan: Attempt['plan'];
  history: Attempt['history'];
  verdict: Attempt['verdict'];
  result: Attempt['result'];
  shrinkSteps: number;
  stats?: FailureCase['stats'];
  versions: Record<string, string>;
  environment: {
    host: string;
    platform: string;
    cpus: number;
    /** How the backend was started (managed stacks): the repro starts the same one. */
    backendSpec?: BackendSpec;
  };
  writtenAt: string;
}

export function failuresDir(opts: { dir?: string } = {}, env: NodeJS.ProcessEnv = process.env): string {
  return opts.dir ?? env.TP_FAILURES_DIR ?? join(PROJECT_ROOT, 'reports', 'failures');
}

function frameworkVersions(): Record<string, string> {
  const version = (file: string): string => {
    try {
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  return {
    'telemetry-proof': version(join(PROJECT_ROOT, 'package.json')),
    node: process.version,
    'fast-check': fc.__version,
    vitest: version(join(PROJECT_ROOT, 'node_modules', 'vitest', 'package.json')),
  };
}

/** Properties the attempt's violations belong to, in catalogue order of appearance. */
export function violatedProperties(a: Attempt): PropertyName[] {
  return [...new Set(a.result.violations.map((v) => v.property))];
}

const CATEGORY_WORDS: Record<Category, string> = {
  lost: 'acknowledged sample never stored',
  collapsed: 'acknowledged samples collapsed into one point',
  corrupted: 'stored values differ from what was acknowledged',
  recovered: 'sample with unknown outcome stored',
  late: 'acknowledged sample stored after the lag bound',
  stored_after_reject: 'refused sample stored',
  unexpected: 'point stored that nobody sent',
  sse_missing: 'acknowledged sample missing on SSE',
  sse_duplicated: 'sample delivered twice on SSE',
  sse_out_of_order: 'SSE events out of order',
  sse_unexpected: 'SSE event nobody sent',
  conservation: 'planned request never sent',
  exactly_one_outcome: 'request without exactly one outcome',
  model_disagreement: 'reply differs from the contract',
  server_error_on_client_error: '5xx answered to a client error',
};

/** One line: property, backend, what went wrong, how small the case is. */
export function issueTitle(c: Pick<FailureCase, 'property' | 'backend' | 'attempt'>): string {
  const cats = CATEGORIES.filter((k) => c.attempt.result.violations.some((v) => v.category === k));
  const what = cats.map((k) => CATEGORY_WORDS[k]).join('; ') || 'property violated';
  const n = c.attempt.plan.requests.length;
  return `${c.property} fails on ${c.backend}: ${what} (minimal case: ${n} request${n === 1 ? '' : 's'})`;
}

const EXPECTATIONS: Record<PropertyName, (c: Contract) => string> = {
  conservation: () => 'every planned request is sent once and has exactly one outcome (acknowledged, rejected or unknown).',
  ack_implies_stored: () => 'every acknowledged (2xx) sample is stored in InfluxDB under its own key (vehicle_id + millisecond), with exactly the values sent.',
  rejected_never_stored: () => 'a rejected request never produces a stored point.',
  nothing_unexpected: () => 'nothing is stored that was not sent.',
  lag_within_bound: (c) => `every acknowledged sample is stored within ${c.lagBoundMs} ms of being sent.`,
  validation_agrees_with_model: () => 'the backend accepts and rejects exactly what the contract says, with the contract\'s status and message.',
  no_server_error_on_client_error: () => 'no client error (bad input, bad key) is answered with a 5xx.',
  sse_once_in_order: () => 'every SSE client receives each acknowledged sample once, in order, and nothing else.',
};

function cell(s: string, n = 100): string {
  const clipped = s.length > n ? `${s.slice(0, n)}…` : s;
  return clipped.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A path for a shell command line, relative to the project when inside it. */
function shellPath(p: string): string {
  const rel = relative(PROJECT_ROOT, p);
  const shown = rel.startsWith('..') ? p : rel;
  return /^[\w./-]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`;
}

export function reproCommand(caseDir: string): string {
  return `npx vitest run --project stack ${shellPath(join(caseDir, 'repro.test.ts'))}`;
}

export function issueMarkdown(c: FailureCase, caseDir: string): string {
  const { verdict, history, plan, result } = c.attempt;
  const violated = violatedProperties(c.attempt);
  // Only the categories of the violated properties: a run judged on replies
  // alone (drain 0) would otherwise list every unwatched sample as lost.
  const counts = CATEGORIES.filter((k) => verdict.counts[k] > 0 && PROPERTY_OF[k] !== null && violated.includes(PROPERTY_OF[k]!)).map((k) => `| ${k} | ${verdict.counts[k]} |`);
  const firstDetails = result.details.slice(0, 12).map((d) => `- ${d}`);
  const replies = history.requests.slice(0, 30).map((r) => {
    const o = r.outcome;
    const got = !o ? 'no outcome' : o.kind === 'response' ? `${o.status} ${o.body}` : o.kind === 'error' ? `error ${o.error}` : 'timeout';
    const v = verdict.perSample.find((s) => s.requestId === r.id);
    return `| ${r.planIndex} | ${cell(r.label)} | ${Math.round(r.sentAtMs - history.startedAtMs)} ms | ${cell(got)} | ${cell(v?.categories.join(', ') || '—')} |`;
  });
  const expected = violated.length > 0 ? violated.map((p) => `\`${p}\`: ${EXPECTATIONS[p](c.contract)}`) : [`property ${c.property} holds.`];
  return [
    `# ${issueTitle(c)}`,
    '',
    `**Expected:** ${expected.join(' ')}`,
    '',
    `**What happened:** ${result.details.length} violation(s):`,
    ...firstDetails,
    ...(result.details.length > firstDetails.length ? [`- … ${result.details.length - firstDetails.length} more in case.json`] : []),
    ...(verdict.notes.length ? ['', ...verdict.notes.map((n) => `> note: ${n}`)] : []),
    '',
    '## Minimal plan',
    `fast-check shrank it in ${c.shrinkSteps} step(s); each step counted only if the failure repeated.`,
    '',
    describePlan(plan),
    '',
    '## Replies',
    '| # | case | sent at | reply | finding |',
    '|---|---|---|---|---|',
    ...replies,
    ...(history.requests.length > replies.length ? [`| … | ${history.requests.length - replies.length} more in case.json | | | |`] : []),
    '',
    '## Counts (categories of the violated properties)',
    '| category | count |',
    '|---|---|',
    ...counts,
    '',
    '## Replay',
    'Re-run the property from the failing case (shrinks again from it):',
    '```sh',
    c.replay,
    '```',
    'Or run the standalone reproduction (fails while the bug is there):',
    '```sh',
    reproCommand(caseDir),
    '```',
    '',
    `Seed ${c.seed}${c.path ? `, path ${c.path}` : ''}. Everything observed (plan, history, verdict, environment, versions) is in \`case.json\`.`,
    '',
  ].join('\n');
}

/** posix path for an import specifier. */
function importPath(fromDir: string, target: string): string {
  const rel = relative(fromDir, target).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

export function reproTest(c: FailureCase, caseDir: string): string {
  const engine = importPath(caseDir, join(PROJECT_ROOT, 'properties', 'engine', 'repro'));
  const label = `${c.property} on ${c.backend}`.replace(/[`\\$]/g, '');
  return `/**
 * Reproduces: ${label} (seed ${c.seed}${c.path ? `, path ${c.path}` : ''}).
 * Re-runs the exact minimal plan from case.json (same backend configuration,
 * same execute options) and checks the properties it violated; it fails
 * while the bug is there. Run: ${reproCommand(caseDir)}
 */
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { reproduce, type CaseFileLike } from '${engine}';

const fcase = JSON.parse(readFileSync(new URL('./case.json', import.meta.url), 'utf8')) as CaseFileLike;

describe(${JSON.stringify(`repro: ${label}`)}, () => {
  it(\`the minimal plan satisfies \${fcase.violated.join(', ')}\`, async () => {
    const found = await reproduce(inject('stack'), fcase);
    expect(found, fcase.title).toEqual([]);
  }, 180_000);
});
`;
}

export interface GhResult {
  filed: boolean;
  message: string;
}

/**
 * Where `gh` is installed and logged in, file the issue with
 * `gh issue create` (TP_GH_REPO picks the repository; else gh's default).
 */
export function fileWithGh(title: string, bodyFile: string, env: NodeJS.ProcessEnv = process.env): GhResult {
  const auth = spawnSync('gh', ['auth', 'status'], { encoding: 'utf8', env, timeout: 30_000 });
  if (auth.error) {
    const code = (auth.error as NodeJS.ErrnoException).code;
    return { filed: false, message: code === 'ENOENT' ? 'gh is not installed' : `gh auth status failed: ${auth.error.message}` };
  }
  if (auth.status !== 0) return { filed: false, message: 'gh is not logged in (run gh auth login)' };
  const args = ['issue', 'create', '--title', title, '--body-file', bodyFile];
  if (env.TP_GH_REPO) args.push('--repo', env.TP_GH_REPO);
  const res = spawnSync('gh', args, { encoding: 'utf8', env, timeout: 60_000 });
  if (res.status !== 0) return { filed: false, message: `gh issue create failed: ${(res.stderr || res.stdout || String(res.error ?? '')).trim()}` };
  return { filed: true, message: res.stdout.trim() };
}

export interface WriteOptions {
  /** File the issue with gh (opt-in: TP_FILE_ISSUES=1). */
  fileIssue?: boolean;
  /** Failures folder (default: failuresDir()). */
  dir?: string;
  /** Environment for gh (tests put a fake gh on PATH). */
  env?: NodeJS.ProcessEnv;
}

export function caseId(c: Pick<FailureCase, 'property' | 'attempt'>, now = new Date()): string {
  const slug = c.property.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'property';
  return `${now.toISOString().replace(/[:.]/g, '-')}-${slug}-${c.attempt.plan.runId}`;
}

export async function writeFailureCase(c: FailureCase, opts: WriteOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const caseDir = join(failuresDir(opts, env), caseId(c));
  mkdirSync(caseDir, { recursive: true });
  const doc: CaseFile = {
    schemaVersion: 1,
    property: c.property,
    violated: violatedProperties(c.attempt),
    title: issueTitle(c),
    backend: c.backend,
    seed: c.seed,
    ...(c.path ? { path: c.path } : {}),
    replay: c.replay,
    reproCommand: reproCommand(caseDir),
    contract: c.contract,
    execute: c.execute ?? { drainBoundMs: c.attempt.history.drainBoundMs },
    plan: c.attempt.plan,
    history: c.attempt.history,
    verdict: c.attempt.verdict,
    result: c.attempt.result,
    shrinkSteps: c.shrinkSteps,
    ...(c.stats ? { stats: c.stats } : {}),
    versions: { ...frameworkVersions(), ...c.versions },
    environment: {
      host: os.hostname(),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      ...(c.backendSpec ? { backendSpec: c.backendSpec } : {}),
    },
    writtenAt: new Date().toISOString(),
  };
  writeFileSync(join(caseDir, 'case.json'), JSON.stringify(doc, null, 2));
  const md = issueMarkdown(c, caseDir);
  writeFileSync(join(caseDir, 'issue.md'), md);
  writeFileSync(join(caseDir, 'repro.test.ts'), reproTest(c, caseDir));
  if (opts.fileIssue) {
    const r = fileWithGh(doc.title, join(caseDir, 'issue.md'), env);
    console.log(`[failure] ${r.filed ? `filed: ${r.message}` : `not filed: ${r.message}`}`);
    writeFileSync(join(caseDir, 'filed.txt'), `${r.filed ? 'filed' : 'not filed'}: ${r.message}\n`);
  }
  return caseDir;
}
