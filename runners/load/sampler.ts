/**
 * A fixed-interval sampler on the shared clock: one sample now, then one per
 * `intervalMs` slot (aligned to the start, so no drift), never two at once
 * (a slot is skipped while the previous sample is still running), keeping at
 * most `maxSamples` (oldest dropped) so a soak stays bounded.
 */
import { nowMs } from './clock';

export interface IntervalSamplerOptions<T> {
  intervalMs: number;
  /** Take one sample; return undefined to record nothing this time. */
  sample: () => Promise<T | undefined> | T | undefined;
  /** Ring size (default 100 000). */
  maxSamples?: number;
  onSample?: (s: T) => void;
  /** A throwing sample() is reported here and the sampler carries on. */
  onError?: (err: unknown) => void;
  /** Stop by itself after this long. */
  durationMs?: number;
  signal?: AbortSignal;
}

export interface IntervalSampler<T> {
  /** Samples kept so far, oldest first. */
  samples(): T[];
  latest(): T | undefined;
  /** Samples dropped because the ring was full. */
  dropped(): number;
  /** Stop (idempotent); waits for a sample in progress; resolves with the samples. */
  stop(): Promise<T[]>;
}

export function startIntervalSampler<T>(o: IntervalSamplerOptions<T>): IntervalSampler<T> {
  if (!(o.intervalMs > 0)) throw new RangeError('intervalMs must be > 0');
  const max = o.maxSamples ?? 100_000;
  const ring: T[] = [];
  let droppedCount = 0;
  let stopped = false;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  const start = nowMs();
  const stopAt = o.durationMs !== undefined ? start + o.durationMs : Number.POSITIVE_INFINITY;

  const take = async (): Promise<void> => {
    try {
      const s = await o.sample();
      if (s === undefined || stopped) return;
      ring.push(s);
      if (ring.length > max) { ring.shift(); droppedCount++; }
      o.onSample?.(s);
    } catch (err) {
      o.onError?.(err);
    }
  };

  const tick = (): void => {
    if (stopped) return;
    if (!running) running = take().finally(() => { running = null; });
    const t = nowMs();
    if (t >= stopAt) { void stop(); return; }
    const next = start + (Math.floor((t - start) / o.intervalMs) + 1) * o.intervalMs;
    timer = setTimeout(tick, Math.max(0, next - t));
  };

  const stop = async (): Promise<T[]> => {
    stopped = true;
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
    await running;
    return ring.slice();
  };
  const onAbort = (): void => void stop();
  if (o.signal?.aborted) stopped = true;
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  tick();

  return {
    samples: () => ring.slice(),
    latest: () => ring[ring.length - 1],
    dropped: () => droppedCount,
    stop,
  };
}
