/**
 * One live status line on stderr, rewritten in place:
 *   12s  rate 100/s (target 100)  ack 99.9%  stored 97.0%  p99 12.3 ms  lag p99 450 ms  cpu 35%  rss 120 MB  err 0
 * Quiet when the CI env var is set or stderr is not a TTY (logs stay clean).
 */

export interface ProgressStats {
  elapsedSec: number;
  /** Sends in the last second. */
  ratePerSec: number;
  targetRatePerSec?: number;
  sent: number;
  acknowledged: number;
  /** Stored so far (null/undefined: no storage probe running). */
  stored?: number | null;
  p99Ms?: number | null;
  lagP99Ms?: number | null;
  cpuPct?: number | null;
  rssBytes?: number | null;
  errors?: number;
}

const pct = (n: number, d: number): string => (d > 0 ? `${((n / d) * 100).toFixed(1)}%` : '–');
const ms = (v: number): string => (v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`);

export function formatProgress(s: ProgressStats): string {
  const parts = [
    `${Math.round(s.elapsedSec)}s`,
    `rate ${Math.round(s.ratePerSec)}/s${s.targetRatePerSec !== undefined ? ` (target ${Math.round(s.targetRatePerSec)})` : ''}`,
    `ack ${pct(s.acknowledged, s.sent)}`,
  ];
  if (s.stored !== undefined && s.stored !== null) parts.push(`stored ${pct(s.stored, s.sent)}`);
  if (s.p99Ms !== undefined && s.p99Ms !== null) parts.push(`p99 ${ms(s.p99Ms)}`);
  if (s.lagP99Ms !== undefined && s.lagP99Ms !== null) parts.push(`lag p99 ${ms(s.lagP99Ms)}`);
  if (s.cpuPct !== undefined && s.cpuPct !== null) parts.push(`cpu ${Math.round(s.cpuPct)}%`);
  if (s.rssBytes !== undefined && s.rssBytes !== null) parts.push(`rss ${Math.round(s.rssBytes / 1048576)} MB`);
  if (s.errors !== undefined) parts.push(`err ${s.errors}`);
  return parts.join('  ');
}

export function progressEnabled(env: NodeJS.ProcessEnv = process.env, stream: { isTTY?: boolean } = process.stderr): boolean {
  return !env.CI && stream.isTTY === true;
}

export interface ProgressLine {
  readonly enabled: boolean;
  update(s: ProgressStats): void;
  /** End the line (prints a final newline once, if anything was drawn). */
  done(): void;
}

export function createProgressLine(opts: { stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }; enabled?: boolean } = {}): ProgressLine {
  const stream = opts.stream ?? process.stderr;
  const enabled = opts.enabled ?? progressEnabled(process.env, stream);
  let drawn = false;
  return {
    enabled,
    update(s) {
      if (!enabled) return;
      let line = formatProgress(s);
      const cols = stream.columns ?? 0;
      if (cols > 1 && line.length >= cols) line = line.slice(0, cols - 1);
      stream.write(`\r\x1b[2K${line}`);
      drawn = true;
    },
    done() {
      if (enabled && drawn) stream.write('\n');
      drawn = false;
    },
  };
}
