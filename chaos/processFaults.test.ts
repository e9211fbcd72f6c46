/**
 * Process faults on a throwaway process group: a node HTTP server that
 * forked a grandchild sleeper into its group. Every group is killed in
 * afterEach/afterAll, whatever the test did to it.
 */
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { ManagedProcess as StackProcess } from '../runners/stack/managedProcess';
import type { ManagedProcess } from './processFaults';
import { groupMembers, healProcess, isAlive, procState, sigcont, sigkill, sigstop, startProcess, terminate } from './processFaults';
import { freePort, ping, ThrowawayProcess } from './testSupport';

const procs: ThrowawayProcess[] = [];

async function started(opts: { ignoreSigterm?: boolean } = {}): Promise<ThrowawayProcess> {
  const p = new ThrowawayProcess(await freePort(), opts);
  procs.push(p);
  await p.start();
  expect(p.grandchildPid).toBeDefined();
  expect(groupMembers(p.pid!).map((m) => m.pid).sort()).toEqual([p.pid!, p.grandchildPid!].sort());
  expect(await ping(p.url, 1_000)).toBe('ok');
  return p;
}

afterEach(async () => {
  await Promise.allSettled(procs.splice(0).map((p) => p.dispose()));
});

describe('process faults', () => {
  it("the stack harness's process class fits the interface the faults need", () => {
    expectTypeOf<StackProcess>().toExtend<ManagedProcess>();
    expectTypeOf<ThrowawayProcess>().toExtend<ManagedProcess>();
  });

  it('SIGSTOP stalls the whole group (state T, no answer); SIGCONT resumes it', async () => {
    const p = await started();
    const stop = await sigstop(p);
    expect(stop.problems).toEqual([]);
    expect(stop.confirmedAt).toBeTypeOf('number');
    expect(procState(p.pid!)).toBe('T');
    expect(procState(p.grandchildPid!)).toBe('T');
    expect(await ping(p.url, 400)).toBe('timeout'); // the kernel accepts, nobody answers
    const cont = await sigcont(p);
    expect(cont.problems).toEqual([]);
    expect(groupMembers(p.pid!).every((m) => m.state !== 'T')).toBe(true);
    expect(await ping(p.url, 1_000)).toBe('ok');
  });

  it('SIGKILL kills the group, children included; start() brings it back on a new pid', async () => {
    const p = await started();
    const [pid, grandchild] = [p.pid!, p.grandchildPid!];
    const kill = await sigkill(p);
    expect(kill).toMatchObject({ pid, problems: [] });
    expect(isAlive(pid)).toBe(false);
    expect(isAlive(grandchild)).toBe(false);
    expect(groupMembers(pid)).toEqual([]);
    expect(p.running).toBe(false);
    expect(await ping(p.url, 400)).toBe('error'); // refused
    const again = await startProcess(p);
    expect(again.problems).toEqual([]);
    expect(again.pid).not.toBe(pid);
    expect(await ping(p.url, 1_000)).toBe('ok');
    expect(p.starts).toBe(2);
  });

  it('a stopped process still dies from SIGKILL', async () => {
    const p = await started();
    await sigstop(p);
    const kill = await sigkill(p);
    expect(kill.problems).toEqual([]);
    expect(groupMembers(kill.pid!)).toEqual([]);
  });

  it('terminate: SIGTERM is enough for a well-behaved process', async () => {
    const p = await started();
    const r = await terminate(p, 2_000);
    expect(r).toMatchObject({ problems: [], forced: false });
    expect(groupMembers(r.pid!)).toEqual([]);
  });

  it('terminate: a process that ignores SIGTERM is SIGKILLed after the grace period', async () => {
    const p = await started({ ignoreSigterm: true });
    const t0 = Date.now();
    const r = await terminate(p, 500);
    expect(r).toMatchObject({ problems: [], forced: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(groupMembers(r.pid!)).toEqual([]);
  });

  it('terminate works on a stopped process (SIGCONT goes with SIGTERM)', async () => {
    const p = await started();
    await sigstop(p);
    const t0 = Date.now();
    const r = await terminate(p, 3_000);
    expect(r).toMatchObject({ problems: [], forced: false });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('healProcess resumes a stopped process, starts a dead one, leaves a healthy one alone', async () => {
    const p = await started();
    expect((await healProcess(p)).action).toBe('none');
    await sigstop(p);
    const resumed = await healProcess(p);
    expect(resumed).toMatchObject({ action: 'resumed', problems: [] });
    expect(await ping(p.url, 1_000)).toBe('ok');
    await sigkill(p);
    const restarted = await healProcess(p);
    expect(restarted).toMatchObject({ action: 'started', problems: [] });
    expect(await ping(p.url, 1_000)).toBe('ok');
  });

  it('reports instead of signalling when the process is not running', async () => {
    const p = new ThrowawayProcess(await freePort());
    procs.push(p);
    expect((await sigkill(p)).problems).toEqual(['not running']);
    expect((await sigstop(p)).problems).toEqual(['not running']);
    expect((await sigcont(p)).problems).toEqual(['not running']);
    expect(procState(2 ** 22 + 12345)).toBeUndefined();
  });
});
