import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ackImpliesStored, check } from '../../models/checker';
import { DEFAULT_CONTRACT } from '../../models/contract';
import { simulateLegacy } from '../../models/testing/legacy-sim';
import { draft, payloadBody } from '../arbitraries/drafts';
import { planFromGroups } from '../arbitraries/plan';
import type { Attempt } from './attempt';
import { caseId, failuresDir, fileWithGh, issueTitle, writeFailureCase, type CaseFile, type FailureCase } from './failureCase';
import { replayCommand } from './runProperty';

/** A real-looking minimal failure: legacy acknowledges a payload with no fields and stores nothing. */
function syntheticCase(): FailureCase {
  const plan = planFromGroups([[draft('valid', payloadBody({}))]], { runId: 'synth0001' });
  const history = simulateLegacy(plan, { sseClients: 0 });
  const verdict = check(history, DEFAULT_CONTRACT);
  const attempt: Attempt = { plan, history, verdict, result: ackImpliesStored(verdict) };
  const file = 'properties/contract.prop.test.ts';
  return {
    property: 'ack_implies_stored',
    backend: 'the reference backend (legacy, flush 250 ms)',
    seed: 42,
    path: '0:1',
    replay: replayCommand({ file, testName: 'ack_implies_stored' }, 42, '0:1'),
    contract: DEFAULT_CONTRACT,
    attempt,
    shrinkSteps: 3,
    testFile: file,
    testName: 'ack_implies_stored',
    backendSpec: { kind: 'reference', mode: 'legacy', flushIntervalMs: 250 },
    execute: { drainBoundMs: 5500, sseClients: 1 },
    versions: { influxdb: '1.6.7' },
  };
}

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'tp-failures-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

describe('writeFailureCase', () => {
  it('the synthetic attempt really fails (sanity)', () => {
    const c = syntheticCase();
    expect(c.attempt.result.ok).toBe(false);
    expect(c.attempt.verdict.counts.lost).toBe(1);
  });

  it('writes case.json, issue.md and repro.test.ts into <dir>/<id>/', async () => {
    const c = syntheticCase();
    const caseDir = await writeFailureCase(c, { dir });
    expect(caseDir.startsWith(dir)).toBe(true);
    expect(readdirSync(caseDir).sort()).toEqual(['case.json', 'issue.md', 'repro.test.ts']);

    const doc = JSON.parse(readFileSync(join(caseDir, 'case.json'), 'utf8')) as CaseFile;
    expect(doc.schemaVersion).toBe(1);
    expect(doc.plan).toEqual(c.attempt.plan);
    expect(doc.history).toEqual(c.attempt.history);
    expect(doc.verdict.counts.lost).toBe(1);
    expect(doc.violated).toEqual(['ack_implies_stored']);
    expect(doc.replay).toBe(c.replay);
    expect(doc.seed).toBe(42);
    expect(doc.path).toBe('0:1');
    expect(doc.execute).toEqual({ drainBoundMs: 5500, sseClients: 1 });
    expect(doc.environment.backendSpec).toEqual(c.backendSpec);
    expect(doc.environment.platform).toBeTruthy();
    expect(doc.versions).toMatchObject({ node: process.version, influxdb: '1.6.7' });
    expect(doc.versions['fast-check']).toMatch(/^\d+\./);
    expect(doc.reproCommand).toMatch(/^npx vitest run --project stack .*repro\.test\.ts$/);
  });

  it('issue.md is a ready-to-file issue: title, expected, what happened, the plan table, replies, the replay command', async () => {
    const c = syntheticCase();
    const md = readFileSync(join(await writeFailureCase(c, { dir }), 'issue.md'), 'utf8');
    const lines = md.split('\n');
    expect(lines[0]).toBe(`# ${issueTitle(c)}`);
    expect(lines[0]).toMatch(/^# ack_implies_stored fails on the reference backend \(legacy, flush 250 ms\): acknowledged sample never stored \(minimal case: 1 request\)$/);
    expect(md).toMatch(/\*\*Expected:\*\* `ack_implies_stored`: every acknowledged \(2xx\) sample is stored/);
    expect(md).toMatch(/\*\*What happened:\*\* 1 violation\(s\):\n- \[lost\] synth0001#0 \(valid\): acknowledged, but it has no pose or control/);
    expect(md).toContain('| # | at | vehicle | case | api key | content-type | body |');
    expect(md).toMatch(/\| 0 \| 0 ms \| v0 \| valid \| valid \| application\/json \| ts device clock; no other fields \|/);
    expect(md).toMatch(/\| 0 \| valid \| \d+ ms \| 200 \{"message":"Telemetry received"\} \| lost \|/);
    expect(md).toContain(c.replay);
    expect(md).toMatch(/npx vitest run --project stack .*repro\.test\.ts/);
  });

  it('repro.test.ts imports the engine by a path that resolves from the case folder', async () => {
    const caseDir = await writeFailureCase(syntheticCase(), { dir });
    const text = readFileSync(join(caseDir, 'repro.test.ts'), 'utf8');
    const spec = /from '([^']+\/properties\/engine\/repro)'/.exec(text)?.[1];
    expect(spec).toBeDefined();
    expect(existsSync(join(caseDir, `${spec}.ts`))).toBe(true);
    expect(text).toContain("new URL('./case.json', import.meta.url)");
    expect(text).toContain("inject('stack')");
  });

  it('TP_FAILURES_DIR picks the folder when no dir is given', () => {
    expect(failuresDir({}, { TP_FAILURES_DIR: dir })).toBe(dir);
    expect(failuresDir({ dir: '/x' }, { TP_FAILURES_DIR: dir })).toBe('/x');
    expect(failuresDir({}, {})).toMatch(/reports[/\\]failures$/);
  });

  it('ids are file-name safe whatever the case name', () => {
    const c = { ...syntheticCase(), property: 'same-ms collapse (2 payloads) / x' };
    expect(caseId(c, new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03-04-05-678Z-same-ms-collapse-2-payloads-x-synth0001');
  });
});

describe('filing with gh (opt-in)', () => {
  let bin: string;
  let argsFile: string;
  /** A fake gh: `auth status` exits with $FAKE_GH_AUTH; `issue create` records its args and prints a URL. */
  const installFakeGh = () => {
    bin = mkdtempSync(join(tmpdir(), 'tp-fake-gh-'));
    argsFile = join(bin, 'args.txt');
    writeFileSync(join(bin, 'gh'), [
      '#!/bin/sh',
      `printf '%s\\n' "$@" >> '${argsFile}'`,
      'if [ "$1" = auth ]; then exit "${FAKE_GH_AUTH:-0}"; fi',
      'if [ "$1" = issue ] && [ "$2" = create ]; then echo https://github.com/acme/telemetry/issues/77; exit 0; fi',
      'exit 2',
      '',
    ].join('\n'));
    chmodSync(join(bin, 'gh'), 0o755);
  };
  beforeEach(installFakeGh);
  afterEach(() => { rmSync(bin, { recursive: true, force: true }); });
  const envWith = (extra: Record<string, string> = {}) => ({ ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, ...extra });

  it('logged in: files issue.md with gh issue create and records the URL', async () => {
    const c = syntheticCase();
    const caseDir = await writeFailureCase(c, { dir, fileIssue: true, env: envWith({ TP_GH_REPO: 'acme/telemetry' }) });
    const args = readFileSync(argsFile, 'utf8').trim().split('\n');
    expect(args.slice(0, 2)).toEqual(['auth', 'status']);
    expect(args.slice(2)).toEqual(['issue', 'create', '--title', issueTitle(c), '--body-file', join(caseDir, 'issue.md'), '--repo', 'acme/telemetry']);
    expect(readFileSync(join(caseDir, 'filed.txt'), 'utf8')).toBe('filed: https://github.com/acme/telemetry/issues/77\n');
  });

  it('not logged in (gh auth status exits 1): not filed, says why, never calls issue create', async () => {
    const caseDir = await writeFailureCase(syntheticCase(), { dir, fileIssue: true, env: envWith({ FAKE_GH_AUTH: '1' }) });
    expect(readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual(['auth', 'status']);
    expect(readFileSync(join(caseDir, 'filed.txt'), 'utf8')).toMatch(/^not filed: gh is not logged in/);
  });

  it('gh missing: not filed, says so', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tp-no-gh-'));
    try {
      expect(fileWithGh('t', '/dev/null', { PATH: empty })).toEqual({ filed: false, message: 'gh is not installed' });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('not asked: gh is never called', async () => {
    const caseDir = await writeFailureCase(syntheticCase(), { dir, env: envWith() });
    expect(existsSync(argsFile)).toBe(false);
    expect(existsSync(join(caseDir, 'filed.txt'))).toBe(false);
  });
});
