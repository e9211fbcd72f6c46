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

export const SHED_TICK_MS = 25;
/** After a tick over the bound, keep shedding this many ticks (no flapping). */
export const SHED_HOLD_TICKS = 4;

export class LoopLag {
  private lastTickAt: number;
  private shedUntil = -Infinity;

  constructor(
    readonly intervalMs: number,
    readonly maxDelayMs: number,
    startAt: number,
    readonly holdMs = SHED_HOLD_TICKS * intervalMs,
  ) {
    this.lastTickAt = startAt;
  }

  /** The timer fired at `at`: a tick later than the bound starts (or extends) the hold. */
  tick(at: number): void {
    if (at - this.lastTickAt - this.intervalMs > this.maxDelayMs) this.shedUntil = at + this.holdMs;
    this.lastTickAt = at;
  }

  /** Within the hold after a late tick, or the timer is overdue by more than the bound right now. */
  overloaded(at: number): boolean {
    return at < this.shedUntil || at - this.lastTickAt - this.intervalMs > this.maxDelayMs;
  }
}

export interface LoadShedder {
  /** True while the event loop is more than the bound behind (false once stopped). */
  overloaded(): boolean;
  /** Seconds a refused client should wait. */
  readonly retryAfterSec: number;
  stop(): void;
}

export function createLoadShedder(options: { maxDelayMs: number; retryAfterSec?: number; intervalMs?: number }): LoadShedder {
  const intervalMs = options.intervalMs ?? SHED_TICK_MS;
  const lag = new LoopLag(intervalMs, options.maxDelayMs, performance.now());
  let stopped = false;
  const timer = setInterval(() => lag.tick(performance.now()), intervalMs);
  timer.unref(); // never keeps the process alive
  return {
    // Once stopped nothing ticks, and an overdue timer must not read as overload.
    overloaded: () => !stopped && lag.overloaded(performance.now()),
    retryAfterSec: options.retryAfterSec ?? 1,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
