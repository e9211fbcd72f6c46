/**
 * A child process in its own process group, with its output in a log file.
 *
 * Every service of the stack runs as one of these, so that a signal sent to
 * the group (negative pid) reaches the process and anything it forked (tsx
 * spawns node, a user's backend command may be a shell), and teardown leaves
 * no orphans.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  /** Resolves when the service answers; rejects with a reason otherwise. */
  waitReady: (signal: AbortSignal) => Promise<void>;
  readyTimeoutMs?: number;
}

/** Live processes of this Node process, killed on exit whatever happens. */
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL the groups, no waiting.
  process.on('exit', () => {
    for (const p of live) p.killGroupSync('SIGKILL');
  });
}

export class ProcessStartError extends Error {
  constructor(message: string, readonly logFile: string) {
    super(`${message} (log: ${logFile})`);
  }
}

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private exitCode: number | null | undefined;
  /** Starts and restarts, for the record. */
  readonly starts: number[] = [];
  /** How long each start took until the service answered (ms). */
  readonly readyMs: number[] = [];

  constructor(readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitCode === undefined;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.spec.name} is already running (pid ${this.pid})`);
    installExitHook();
    const fd = openSync(this.spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, this.spec.args, {
        cwd: this.spec.cwd,
        env: this.spec.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: true, // own process group: kill(-pid) reaches its children
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.exitCode = undefined;
    live.add(this);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        live.delete(this);
        resolve(code);
      });
      child.once('error', () => {
        this.exitCode = -1;
        live.delete(this);
        resolve(null);
      });
    });
    const t0 = Date.now();
    this.starts.push(t0);
    await this.awaitReady();
    this.readyMs.push(Date.now() - t0);
  }

  private async awaitReady(): Promise<void> {
    const timeoutMs = this.spec.readyTimeoutMs ?? 30_000;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      const died = this.exited.then((code) => {
        throw new ProcessStartError(`${this.spec.name} exited with code ${code} before it was ready`, this.spec.logFile);
      });
      await Promise.race([this.spec.waitReady(ac.signal), died]);
    } catch (err) {
      await this.stop(2_000);
      if (err instanceof ProcessStartError) throw err;
      const why = ac.signal.aborted ? `not ready within ${timeoutMs} ms` : String((err as Error)?.message ?? err);
      throw new ProcessStartError(`${this.spec.name} failed to start: ${why}`, this.spec.logFile);
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
  }

  /** Send a signal to the whole process group. */
  signal(sig: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined || !this.running) return;
    try {
      process.kill(-pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  killGroupSync(sig: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      /* already gone */
    }
  }

  /** Resolves with the exit code once the process has exited. */
  waitExit(): Promise<number | null> {
    return this.exited;
  }

  /** SIGTERM, then SIGKILL after graceMs; always waits for the exit. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.running) {
      this.killGroupSync('SIGKILL'); // stragglers of the group, if any
      return this.exitCode ?? null;
    }
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      const code = await this.exited;
      this.killGroupSync('SIGKILL');
      return code;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL the group (a crash) and wait until it is gone. */
  async crash(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  /**
   * Let the process outlive this Node process (the CLI's `up`): no exit hook,
   * no reference keeping our event loop alive. `down` kills it by pid.
   */
  release(): void {
    this.child?.unref();
    live.delete(this);
  }

  /** Stop (or crash) and start again with the same spec. */
  async restart(how: 'graceful' | 'crash' = 'graceful'): Promise<void> {
    if (how === 'crash') await this.crash();
    else await this.stop();
    await this.start();
  }
}
