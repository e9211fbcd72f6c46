/**
 * The one clock every load module stamps with: epoch milliseconds, like
 * Date.now(), but with sub-millisecond resolution and monotonic within the
 * process (it is performance.now() anchored to the wall clock once, at load).
 *
 * Why not Date.now(): its 1 ms resolution is coarser than a loopback reply,
 * and a wall-clock step (NTP) in the middle of a run would make latencies
 * negative. The price: over a very long soak it can drift from the wall clock
 * by the amount NTP slews it (normally well under a second a day).
 */
import { performance } from 'node:perf_hooks';

const anchorMs = Date.now() - performance.now();

export function nowMs(): number {
  return anchorMs + performance.now();
}

/** Whole second index of `tMs` relative to `originMs` (0 for the first second). */
export function secondIndex(tMs: number, originMs: number): number {
  return Math.floor((tMs - originMs) / 1000);
}

/** Promise that resolves after `ms` (or at once when the signal aborts). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
