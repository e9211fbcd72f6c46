/**
 * Process faults: SIGKILL (crash) and restart, SIGSTOP/SIGCONT (stall),
 * graceful restart. Signals go to the whole process group (kill(-pid)), so
 * whatever the service forked (tsx -> node, a shell wrapper) gets them too.
 * Each operation verifies its effect in /proc: 'T' (stopped) for a stall,
 * no live member left in the group for a kill.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * What the fault layer needs from a process the harness manages. The
 * stack's `ManagedProcess` class (runners/stack/managedProcess.ts) has this
 * shape: it is spawned detached, so its pid is also its process-group id.
 */
export interface ManagedProcess {
  /** Pid of the group leader (= the process group id); undefined when not running. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Send `sig` to the whole process group (kill(-pid, sig)); no-op when not running. */
  signal(sig: NodeJS.Signals): void;
  /** Resolves once the current process has exited. */
  waitExit(): Promise<number | null>;
  /** (Re)start with the same command; resolves once it answers its readiness probe. */
  start(): Promise<void>;
}

export interface ProcessOpOptions {
  /** Bound on waiting for the kernel to show the effect, ms (default 5 s). */
  verifyTimeoutMs?: number;
  /** Bound on start() (readiness included), ms (default 60 s). */
  startTimeoutMs?: number;
}

export interface ProcessOpResult {
  /** Pid (= group id) the operation acted on, or started. */
  pid: number | undefined;
  /** When the effect was confirmed (Date.now()), if it was. */
  confirmedAt?: number;
  /** Empty when verified. */
  problems: string[];
}

// ---------------------------------------------------------------------------
// /proc

/** Single-letter state of a pid from /proc/<pid>/stat (R, S, D, T, t, Z...), undefined if gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return stat.slice(close + 2, close + 3) || undefined;
  } catch {
    return undefined;
  }
}

/** Alive = exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s !== 'Z' && s !== 'X';
}

/** Live members (zombies excluded) of process group `pgid`, with their states. */
export function groupMembers(pgid: number): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // rest[0] = state, rest[1] = ppid, rest[2] = pgrp
      const state = rest[0] ?? '';
      if (Number(rest[2]) === pgid && state !== 'Z' && state !== 'X') out.push({ pid: Number(e), state });
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `check` every `intervalMs` until it is true or `timeoutMs` passed; returns the last result. */
export async function pollFor(check: () => boolean, timeoutMs: number, intervalMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

async function bounded<T>(p: Promise<T>, ms: number): Promise<{ ok: true; value: T } | { ok: false }> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<{ ok: false }>((r) => {
    timer = setTimeout(() => r({ ok: false }), ms);
  });
  try {
    return await Promise.race([p.then((value) => ({ ok: true as const, value })), t]);
  } finally {
    clearTimeout(timer);
  }
}

const isStopped = (state: string) => state === 'T' || state === 't';

// ---------------------------------------------------------------------------
// operations

/** SIGKILL the group; confirmed when the leader exited and no member is left. */
export async function sigkill(proc: ManagedProcess, opts: ProcessOpOptions = {}): Promise<ProcessOpResult> {
  const pid = proc.pid;
  if (pid === undefined || !proc.running) return { pid, problems: ['not running'] };
  const verifyMs = opts.verifyTimeoutMs ?? 5_000;
  proc.signal('SIGKILL');
  const exited = await bounded(proc.waitExit(), verifyMs);
  const gone = await pollFor(() => groupMembers(pid).length === 0, verifyMs);
  const problems: string[] = [];
  if (!exited.ok) problems.push(`pid ${pid} did not exit within ${verifyMs} ms of SIGKILL`);
  if (!gone) problems.push(`group ${pid} still has live members ${JSON.stringify(groupMembers(pid))}`);
  return { pid, confirmedAt: problems.length === 0 ? Date.now() : undefined, problems };
}

/** SIGSTOP the group (a stall); confirmed when every member is in state T. */
export async function sigstop(proc: ManagedProcess, opts: ProcessOpOptions = {}): Promise<ProcessOpResult> {
  const pid = proc.pid;
  if (pid === undefined || !proc.running) return { pid, problems: ['not running'] };
  const verifyMs = opts.verifyTimeoutMs ?? 5_000;
  proc.signal('SIGSTOP');
  const stopped = await pollFor(() => {
    const m = groupMembers(pid);
    return m.length > 0 && m.every((x) => isStopped(x.state));
  }, verifyMs);
  const problems = stopped ? [] : [`group ${pid} not stopped: ${JSON.stringify(groupMembers(pid))}`];
  return { pid, confirmedAt: stopped ? Date.now() : undefined, problems };
}

/** SIGCONT the group; confirmed when no member is stopped any more. */
export async function sigcont(proc: ManagedProcess, opts: ProcessOpOptions = {}): Promise<ProcessOpResult> {
  const pid = proc.pid;
  if (pid === undefined || !proc.running) return { pid, problems: ['not running'] };
  const verifyMs = opts.verifyTimeoutMs ?? 5_000;
  proc.signal('SIGCONT');
  const resumed = await pollFor(() => groupMembers(pid).every((x) => !isStopped(x.state)), verifyMs);
  const problems = resumed ? [] : [`group ${pid} still stopped: ${JSON.stringify(groupMembers(pid))}`];
  return { pid, confirmedAt: resumed ? Date.now() : undefined, problems };
}

/**
 * Graceful stop: SIGTERM (plus SIGCONT, since a stopped process cannot act on
 * SIGTERM), SIGKILL after `graceMs`; confirmed when the group is empty.
 */
export async function terminate(proc: ManagedProcess, graceMs: number, opts: ProcessOpOptions = {}): Promise<ProcessOpResult & { forced: boolean }> {
  const pid = proc.pid;
  if (pid === undefined || !proc.running) return { pid, problems: ['not running'], forced: false };
  const verifyMs = opts.verifyTimeoutMs ?? 5_000;
  proc.signal('SIGTERM');
  proc.signal('SIGCONT');
  let forced = false;
  let exited = await bounded(proc.waitExit(), graceMs);
  if (!exited.ok) {
    forced = true;
    proc.signal('SIGKILL');
    exited = await bounded(proc.waitExit(), verifyMs);
  }
  // Stragglers of the group (children that ignored SIGTERM) die with the group.
  if (groupMembers(pid).length > 0) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const gone = await pollFor(() => groupMembers(pid).length === 0, verifyMs);
  const problems: string[] = [];
  if (!exited.ok) problems.push(`pid ${pid} did not exit`);
  if (!gone) problems.push(`group ${pid} still has live members`);
  return { pid, confirmedAt: problems.length === 0 ? Date.now() : undefined, problems, forced };
}

/** start() bounded in time; confirmed when it resolved (ready) and the new pid is alive and not stopped. */
export async function startProcess(proc: ManagedProcess, opts: ProcessOpOptions = {}): Promise<ProcessOpResult> {
  const startMs = opts.startTimeoutMs ?? 60_000;
  const r = await bounded(proc.start(), startMs);
  if (!r.ok) throw new Error(`start() did not finish within ${startMs} ms`);
  const pid = proc.pid;
  const problems: string[] = [];
  if (pid === undefined || !proc.running) problems.push('not running after start()');
  else {
    const s = procState(pid);
    if (s === undefined || s === 'Z' || s === 'X') problems.push(`pid ${pid} not alive after start()`);
    else if (isStopped(s)) problems.push(`pid ${pid} stopped after start()`);
  }
  return { pid, confirmedAt: problems.length === 0 ? Date.now() : undefined, problems };
}

/**
 * Bring a process back to health whatever a fault left it in: SIGCONT it if
 * it runs (harmless when not stopped), start it if it does not.
 */
export async function healProcess(proc: ManagedProcess, opts: ProcessOpOptions = {}): Promise<ProcessOpResult & { action: 'none' | 'resumed' | 'started' }> {
  const pid = proc.pid;
  if (pid !== undefined && proc.running) {
    const wasStopped = groupMembers(pid).some((m) => isStopped(m.state));
    const r = await sigcont(proc, opts);
    return { ...r, action: wasStopped ? 'resumed' : 'none' };
  }
  const r = await startProcess(proc, opts);
  return { ...r, action: 'started' };
}
