import { describe, expect, it } from 'vitest';
import { draft, payloadBody } from '../arbitraries/drafts';
import { planFromGroups } from '../arbitraries/plan';
import { executionKey, replayCommand, testNamePattern } from './runProperty';

const prop = { file: 'properties/contract.prop.test.ts', testName: 'ack_implies_stored' };

describe('replayCommand', () => {
  it('is one line with seed, path, file and an exact -t pattern', () => {
    const cmd = replayCommand(prop, 42, '3:1:0');
    expect(cmd).toBe("TP_SEED=42 TP_PATH=3:1:0 npx vitest run properties/contract.prop.test.ts -t 'ack_implies_stored$'");
    expect(cmd).not.toContain('\n');
  });

  it('omits the path when there is none', () => {
    expect(replayCommand(prop, -7)).toBe("TP_SEED=-7 npx vitest run properties/contract.prop.test.ts -t 'ack_implies_stored$'");
  });

  it('carries the backend configuration it ran with, never secrets', () => {
    const cmd = replayCommand(prop, 1, undefined, {
      TP_FLUSH_INTERVAL_MS: '250', TP_BACKEND_MODE: 'legacy', TP_API_KEY: 'secret', TP_CONTRACT: '{"lagBoundMs": 1000}', HOME: '/root',
    });
    expect(cmd).toContain('TP_BACKEND_MODE=legacy TP_FLUSH_INTERVAL_MS=250');
    expect(cmd).toContain(`TP_CONTRACT='{"lagBoundMs": 1000}'`);
    expect(cmd).not.toContain('secret');
    expect(cmd).not.toContain('HOME');
  });

  it('escapes regex and shell specials in the test name', () => {
    const name = "a sample's size (minimal: 1 payload) $x";
    const pattern = testNamePattern(name);
    expect(new RegExp(pattern).test(`suite ${name}`)).toBe(true);
    expect(new RegExp(pattern).test(`suite ${name} and more`)).toBe(false);
    const cmd = replayCommand({ file: 'test/x.int.test.ts', testName: name }, 1);
    // What a POSIX shell makes of the quoted argument is the pattern itself.
    const quoted = cmd.slice(cmd.indexOf(' -t ') + 4);
    expect(quoted.startsWith("'")).toBe(true);
    expect(quoted.replace(/'\\''/g, "'").slice(1, -1)).toBe(pattern);
  });
});

describe('executionKey (shrink candidates that execute alike share one verdict)', () => {
  const plan = planFromGroups([[draft('valid', payloadBody({ pose: { x: 1, z: 2 } }))]], { runId: 'keyrun01' });
  it('ignores the run id and the descriptive rate and jitter', () => {
    const other = { ...plan, runId: 'keyrun02', vehicles: plan.vehicles.map((v) => ({ ...v, rateHz: 1, jitterMs: 7 })) };
    expect(executionKey(other)).toBe(executionKey(plan));
  });
  it('changes with anything that changes what is sent or when', () => {
    const moved = { ...plan, requests: plan.requests.map((r) => ({ ...r, atMs: r.atMs + 1 })) };
    const clock = { ...plan, vehicles: plan.vehicles.map((v) => ({ ...v, clockOffsetMs: 5 })) };
    const body = planFromGroups([[draft('valid', payloadBody({ pose: { x: 1, z: 3 } }))]], { runId: 'keyrun01' });
    const contract = { ...plan, contract: { lagBoundMs: 1000 } };
    for (const p of [moved, clock, body, contract]) expect(executionKey(p)).not.toBe(executionKey(plan));
  });
});
