import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { sleep } from './clock';
import { descendants, parseProcStat, parseRssBytes, readLiveProcStat, readProcStat, rssSlope, startResourceSampler } from './resources';

describe('/proc parsing', () => {
  it('parses stat even when the command name holds spaces and parentheses', () => {
    const line = '4242 (node (x) y) S 17 4242 4242 0 -1 4194560 2000 0 0 0 150 30 0 0 20 0 11 0 98765 1234567 5000 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ pid: 4242, state: 'S', ppid: 17, cpuTicks: 180, startTicks: 98765, threads: 11 });
  });

  it('reads VmRSS in bytes', () => {
    expect(parseRssBytes('Name:\tnode\nVmPeak:\t  9 kB\nVmRSS:\t   51200 kB\nThreads:\t7\n')).toBe(51200 * 1024);
    expect(parseRssBytes('Name:\tkworker\n')).toBeNull();
  });
});

describe('zombies', () => {
  it('a zombie (exited, not reaped) is not a live process', async () => {
    // `exec sleep` replaces the shell, and sleep never reaps the short-lived child: it stays a zombie.
    const sh = spawn('sh', ['-c', 'sleep 0.05 & exec sleep 3'], { stdio: 'ignore' });
    try {
      let zombie: number | undefined;
      for (let i = 0; i < 100 && zombie === undefined; i++) {
        await sleep(20);
        zombie = descendants(sh.pid!).find((p) => readProcStat(p)?.state === 'Z');
      }
      expect(zombie).toBeDefined();
      expect(readProcStat(zombie!)?.state).toBe('Z');
      expect(readLiveProcStat(zombie!)).toBeNull();
      expect(readLiveProcStat(sh.pid!)?.state).toMatch(/^[RS]$/);
    } finally {
      sh.kill('SIGKILL');
    }
  });
});

describe('rssSlope', () => {
  it('is the least-squares slope in bytes per minute after warm-up', () => {
    // 10 MB start-up jump in the first 30 s, then +1 MiB/min with ±noise.
    const series = Array.from({ length: 121 }, (_, i) => {
      const tMs = 1_000_000 + i * 1000;
      const base = i < 30 ? i * 333_333 : 10_000_000 + ((i - 30) / 60) * 1_048_576;
      return { tMs, rssBytes: base + (i % 2 === 0 ? 5000 : -5000) };
    });
    const slope = rssSlope(series, 30_000)!;
    expect(slope).toBeGreaterThan(1_048_576 * 0.99);
    expect(slope).toBeLessThan(1_048_576 * 1.01);
    // Without warm-up the start-up jump dominates.
    expect(rssSlope(series, 0)!).toBeGreaterThan(3 * 1_048_576);
  });

  it('is ~0 for a flat series and null without two usable samples', () => {
    expect(rssSlope([{ tMs: 0, rssBytes: 5 }, { tMs: 60_000, rssBytes: 5 }], 0)).toBe(0);
    expect(rssSlope([{ tMs: 0, rssBytes: 5 }, { tMs: 1000, rssBytes: null }], 0)).toBeNull();
    expect(rssSlope([{ tMs: 0, rssBytes: 5 }, { tMs: 1000, rssBytes: 6 }], 5000)).toBeNull();
    expect(rssSlope([], 0)).toBeNull();
  });
});

describe('startResourceSampler', () => {
  it('samples a busy child process (CPU% and RSS) and reports it dead once it exits', async () => {
    // Parent (idle) → grandchild (busy ~1.2 s); the parent says "ready" once the grandchild runs.
    const parent = spawn(process.execPath, ['-e', `
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', 'const e = Date.now() + 1200; while (Date.now() < e) {}'], { stdio: 'ignore' });
      g.once('spawn', () => process.stdout.write('ready\\n'));
      g.once('exit', () => setTimeout(() => process.exit(0), 300));
    `], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = parent.pid!;
    const exited = new Promise((r) => parent.once('exit', r));
    await once(parent.stdout!, 'data');
    const sampler = startResourceSampler({ pid, intervalMs: 200, includeChildren: true });
    await exited;
    await sleep(450);
    const samples = await sampler.stop();

    const live = samples.filter((s) => s.alive);
    expect(live.length).toBeGreaterThanOrEqual(3);
    expect(live[0]!.cpuPct).toBeNull();
    expect(live.some((s) => s.pids.length === 2)).toBe(true);
    // The busy grandchild burns up to a core; an idle tree reads ~0 (generous bound: shared 2-core box).
    expect(Math.max(...live.map((s) => s.cpuPct ?? 0))).toBeGreaterThan(10);
    // A process in the middle of exiting has already dropped its memory map (no VmRSS): rss reads null then.
    const withRss = live.filter((s) => s.rssBytes !== null);
    expect(withRss.length).toBeGreaterThanOrEqual(2);
    expect(withRss.every((s) => s.rssBytes! > 10 * 1024 * 1024)).toBe(true);
    expect(samples.at(-1)!.alive).toBe(false);
    expect(samples.at(-1)!.rssBytes).toBeNull();
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.tMs).toBeGreaterThan(samples[i - 1]!.tMs);
  });
});
