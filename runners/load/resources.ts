/**
 * Resource sampler for a process (optionally with its descendants): CPU% and
 * RSS read from /proc on a fixed interval, stamped with the shared clock.
 * Linux only. A process that disappears (crash, kill) yields samples with
 * alive = false rather than an error; pass `pid` as a function to follow a
 * restarted backend.
 *
 * Leak detection: judge by `rssSlope` (least-squares slope after warm-up),
 * never by the last value — RSS is noisy and GC-shaped.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { nowMs } from './clock';
import { startIntervalSampler, type IntervalSampler } from './sampler';

export { metricKey, parsePrometheusText, startMetricsScraper, sumMetric, fetchMetrics } from './prometheus';
export type { MetricsSample, MetricsScraperOptions } from './prometheus';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie: exited, not yet reaped), X (dead)… */
  state: string;
  ppid: number;
  /** User + system CPU time in clock ticks. */
  cpuTicks: number;
  /** Start time in ticks since boot: with pid it identifies one process (pids are reused). */
  startTicks: number;
  threads: number;
}

export interface ResourceSample {
  tMs: number;
  /** Root pid sampled (null when the pid function returned none). */
  pid: number | null;
  alive: boolean;
  /** All pids counted (root + descendants when includeChildren). */
  pids: number[];
  /** CPU over the last interval, % of one core (200 = two cores busy); null on the first sample. */
  cpuPct: number | null;
  rssBytes: number | null;
  threads: number | null;
}

let clkTck: number | undefined;
/** Kernel clock ticks per second (almost always 100). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** Parse the text of /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error('malformed /proc stat');
  const pid = Number(text.slice(0, open).trim());
  // Fields after the name, starting at field 3 (state).
  const f = text.slice(close + 2).trim().split(/\s+/);
  const field = (n: number): number => Number(f[n - 3]);
  return { pid, state: f[0] ?? '?', ppid: field(4), cpuTicks: field(14) + field(15), startTicks: field(22), threads: field(20) };
}

/** VmRSS from the text of /proc/<pid>/status, in bytes (null for a zombie / kernel thread). */
export function parseRssBytes(statusText: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  return m ? Number(m[1]) * 1024 : null;
}

export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Stat of a process that is still running: a zombie (exited, parent has not reaped it yet) counts as gone. */
export function readLiveProcStat(pid: number): ProcStat | null {
  const st = readProcStat(pid);
  return st && st.state !== 'Z' && st.state !== 'X' ? st : null;
}

export function readRssBytes(pid: number): number | null {
  try {
    return parseRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

/** Every live descendant of `root` (one scan of /proc). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = readProcStat(Number(e));
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(st.pid);
    else children.set(st.ppid, [st.pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0 && out.length < 10_000) {
    for (const c of children.get(stack.pop()!) ?? []) { out.push(c); stack.push(c); }
  }
  return out;
}

export interface ResourceSamplerOptions {
  /** The pid, or a function giving the current one (e.g. after a restart). */
  pid: number | (() => number | undefined);
  intervalMs?: number;
  includeChildren?: boolean;
  maxSamples?: number;
  onSample?: (s: ResourceSample) => void;
  signal?: AbortSignal;
}

export function startResourceSampler(o: ResourceSamplerOptions): IntervalSampler<ResourceSample> {
  const tck = clockTicksPerSecond();
  // Previous CPU ticks per process identity (pid + start time).
  let prev = new Map<string, number>();
  let prevT = 0;
  return startIntervalSampler<ResourceSample>({
    intervalMs: o.intervalMs ?? 1000,
    maxSamples: o.maxSamples,
    onSample: o.onSample,
    signal: o.signal,
    sample: () => {
      const t = nowMs();
      const root = typeof o.pid === 'function' ? o.pid() : o.pid;
      if (root === undefined) {
        prev = new Map();
        return { tMs: t, pid: null, alive: false, pids: [], cpuPct: null, rssBytes: null, threads: null };
      }
      const rootStat = readLiveProcStat(root);
      const pids = rootStat ? [root, ...(o.includeChildren ? descendants(root) : [])] : [];
      const now = new Map<string, number>();
      let deltaTicks = 0;
      let comparable = false;
      let rss = 0;
      let rssKnown = false;
      let threads = 0;
      for (const p of pids) {
        const st = p === root ? rootStat : readLiveProcStat(p);
        if (!st) continue;
        const id = `${st.pid}:${st.startTicks}`;
        now.set(id, st.cpuTicks);
        const before = prev.get(id);
        if (before !== undefined) { deltaTicks += st.cpuTicks - before; comparable = true; }
        threads += st.threads;
        const r = readRssBytes(p);
        if (r !== null) { rss += r; rssKnown = true; }
      }
      const dtSec = (t - prevT) / 1000;
      const cpuPct = comparable && dtSec > 0 ? Math.round((deltaTicks / tck / dtSec) * 1000) / 10 : null;
      prev = now;
      prevT = t;
      return {
        tMs: t, pid: root, alive: rootStat !== null, pids: now.size > 0 ? pids : [],
        cpuPct, rssBytes: rssKnown ? rss : null, threads: rootStat ? threads : null,
      };
    },
  });
}

/**
 * Least-squares slope of RSS over time, in BYTES PER MINUTE, using only the
 * samples taken `warmupMs` or more after the first one (start-up allocation
 * and JIT warm-up are not a leak). Null when fewer than 2 usable samples.
 */
export function rssSlope(series: ReadonlyArray<{ tMs: number; rssBytes: number | null }>, warmupMs: number): number | null {
  const first = series[0];
  if (!first) return null;
  const from = first.tMs + warmupMs;
  const pts = series.filter((s): s is { tMs: number; rssBytes: number } => s.tMs >= from && typeof s.rssBytes === 'number');
  if (pts.length < 2) return null;
  const t0 = pts[0]!.tMs;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const p of pts) {
    const x = (p.tMs - t0) / 60_000;
    sx += x; sy += p.rssBytes; sxx += x * x; sxy += x * p.rssBytes;
  }
  const n = pts.length;
  const den = n * sxx - sx * sx;
  if (den === 0) return null;
  return (n * sxy - sx * sy) / den;
}
