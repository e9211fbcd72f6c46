/**
 * Load shedding on event-loop delay (durable mode). When the process is
 * CPU-bound, requests queue in the socket and time out at the client with
 * nothing said: the sample's fate is unknown to the sender. Measuring how
 * late a short timer fires tells the app it is overloaded, and answering
 * 503 + Retry-After before parsing the body is cheap, definite (nothing was
 * stored) and tells a retrying client to back off.
 *
 * `LoopLag` is the pure part (times in, verdict out); `createLoadShedder`
 * drives it with a real timer.
 */
import { performance } from 'node:perf_hooks';

export class LoopLag {
  private lastTickAt: number;
  private recentMs = 0;

  constructor(
    readonly intervalMs: number,
    readonly maxDelayMs: number,
    startAt: number,
  ) {
    this.lastTickAt = startAt;
  }

  /** The timer fired at `at`: record how late it was. */
  tick(at: number): void {
    const late = Math.max(0, at - this.lastTickAt - this.intervalMs);
    // Keep a spike for a few ticks (halving each tick) so shedding does not
    // flap on and off between two late ticks.
    this.recentMs = Math.max(late, this.recentMs / 2);
    this.lastTickAt = at;
  }

  /** The delay now: the recent one, or the current stall if the timer is overdue. */
  delayMs(at: number): number {
    return Math.max(this.recentMs, at - this.lastTickAt - this.intervalMs);
  }

  overloaded(at: number): boolean {
    return this.delayMs(at) > this.maxDelayMs;
  }
}

export interface LoadShedder {
  /** True while the event loop is more than the bound behind. */
  overloaded(): boolean;
  /** Seconds a refused client should wait. */
  readonly retryAfterSec: number;
  readonly maxDelayMs: number;
  stop(): void;
}

export const SHED_TICK_MS = 25;

export function createLoadShedder(options: { maxDelayMs: number; retryAfterSec?: number; intervalMs?: number }): LoadShedder {
  const intervalMs = options.intervalMs ?? SHED_TICK_MS;
  const lag = new LoopLag(intervalMs, options.maxDelayMs, performance.now());
  const timer = setInterval(() => lag.tick(performance.now()), intervalMs);
  timer.unref(); // never keeps the process alive
  return {
    overloaded: () => lag.overloaded(performance.now()),
    retryAfterSec: options.retryAfterSec ?? 1,
    maxDelayMs: options.maxDelayMs,
    stop: () => clearInterval(timer),
  };
}
