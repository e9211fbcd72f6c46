/** The machine a run happened on, and how busy it was (load average at start and end). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { RunEnvironment } from '../../reports/writers/runReport';
import { PROJECT_ROOT } from '../stack/executables';

const round2 = (x: number): number => Math.round(x * 100) / 100;

export function loadAverage(): number[] {
  return os.loadavg().map(round2);
}

let commit: string | null | undefined;
export function gitCommit(): string | null {
  if (commit !== undefined) return commit;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    commit = head + (dirty ? ' (with uncommitted changes)' : '');
  } catch {
    commit = null;
  }
  return commit;
}

/** Aggregate CPU times of the machine (/proc/stat "cpu" line, in ticks); null off Linux. */
export interface CpuTimes { total: number; idle: number; steal: number }

export function cpuTimes(): CpuTimes | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { total, idle: (f[3] ?? 0) + (f[4] ?? 0), steal: f[7] ?? 0 };
  } catch {
    return null;
  }
}

/** Busy and stolen shares of all CPU time between two readings, in %. */
export function cpuShares(a: CpuTimes | null, b: CpuTimes | null): { machineBusyPct: number | null; stealPct: number | null } {
  if (!a || !b || b.total <= a.total) return { machineBusyPct: null, stealPct: null };
  const dt = b.total - a.total;
  const r = (x: number): number => Math.round(x * 1000) / 10;
  return { machineBusyPct: r(1 - (b.idle - a.idle) / dt), stealPct: r((b.steal - a.steal) / dt) };
}

export function captureEnvironment(loadAvgStart: number[], influxVersion: string | null, cpuStart: CpuTimes | null = null): RunEnvironment {
  const cpus = os.cpus();
  return {
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemBytes: os.totalmem(),
    node: process.version,
    loadAvgStart,
    loadAvgEnd: loadAverage(),
    influxVersion,
    gitCommit: gitCommit(),
    ...cpuShares(cpuStart, cpuTimes()),
    nice: os.getPriority(),
  };
}
