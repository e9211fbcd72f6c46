/**
 * Arrival schedule of an open-model publisher: the intended send times of
 * every vehicle, merged in time order. Pure (no timers, no I/O) so the shape
 * of the load can be unit-tested without the network.
 */

export type ArrivalMode = 'even' | 'jitter' | 'poisson';

/** A window, relative to the run start, in which every vehicle's rate is multiplied. */
export interface Burst {
  startMs: number;
  durationMs: number;
  /** Rate multiplier inside the window (2 = twice as many sends). Must be > 0. */
  multiplier: number;
}

export interface ScheduleOptions {
  vehicles: number;
  /** Sends per second per vehicle outside bursts (10 = the Jetson's 10 Hz goal). */
  rateHz: number;
  arrival: ArrivalMode;
  /** For 'jitter': each send moves by up to ±jitter × period around its even slot (0..0.5). */
  jitter: number;
  bursts: readonly Burst[];
  /** Epoch ms of the first slot. */
  startMs: number;
  /** Epoch ms; no send is scheduled at or after it. */
  endMs: number;
  /** Random source in [0, 1) (seeded for reproducible runs). */
  random: () => number;
}

export interface Arrival {
  vehicleIndex: number;
  /** 0, 1, 2… per vehicle. */
  seq: number;
  intendedMs: number;
}

interface VehicleState {
  index: number;
  seq: number;
  /** Even-grid position (even, jitter) or the last arrival (poisson). */
  gridMs: number;
  nextMs: number;
}

/** mulberry32: a tiny seeded PRNG, good enough to shape arrivals. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ArrivalSchedule {
  private readonly heap: VehicleState[] = [];
  private readonly o: ScheduleOptions;

  constructor(options: ScheduleOptions) {
    if (!(options.vehicles >= 1) || !Number.isInteger(options.vehicles)) throw new RangeError('vehicles must be an integer >= 1');
    if (!(options.rateHz > 0) || !Number.isFinite(options.rateHz)) throw new RangeError('rateHz must be > 0');
    if (!(options.jitter >= 0 && options.jitter <= 0.5)) throw new RangeError('jitter must be within 0..0.5');
    for (const b of options.bursts) {
      if (!(b.multiplier > 0) || !(b.durationMs >= 0)) throw new RangeError('burst multiplier must be > 0 and duration >= 0');
    }
    this.o = options;
    const period = 1000 / options.rateHz;
    for (let i = 0; i < options.vehicles; i++) {
      // Spread vehicles over one period so N vehicles at 10 Hz do not all fire
      // in the same millisecond (a thundering herd no real fleet produces).
      const grid = options.arrival === 'poisson'
        ? options.startMs
        : options.startMs + (i * period) / options.vehicles;
      const v: VehicleState = { index: i, seq: 0, gridMs: grid, nextMs: 0 };
      v.nextMs = options.arrival === 'poisson' ? grid + this.exponential(grid) : this.place(grid);
      if (v.nextMs < options.endMs) this.push(v);
    }
  }

  /** The next arrival without consuming it. */
  peek(): Arrival | undefined {
    const v = this.heap[0];
    return v ? { vehicleIndex: v.index, seq: v.seq, intendedMs: v.nextMs } : undefined;
  }

  /** Consume the next arrival. */
  pop(): Arrival | undefined {
    const v = this.heap[0];
    if (!v) return undefined;
    const out: Arrival = { vehicleIndex: v.index, seq: v.seq, intendedMs: v.nextMs };
    v.seq++;
    if (this.o.arrival === 'poisson') {
      v.gridMs = v.nextMs;
      v.nextMs = v.gridMs + this.exponential(v.gridMs);
    } else {
      v.gridMs += this.periodAt(v.gridMs);
      v.nextMs = this.place(v.gridMs);
    }
    if (v.nextMs >= this.o.endMs) {
      const last = this.heap.pop()!;
      if (this.heap.length > 0) { this.heap[0] = last; this.siftDown(0); }
    } else {
      this.siftDown(0);
    }
    return out;
  }

  /** Rate multiplier in force at epoch ms `t`. */
  multiplierAt(t: number): number {
    const rel = t - this.o.startMs;
    let m = 1;
    for (const b of this.o.bursts) if (rel >= b.startMs && rel < b.startMs + b.durationMs) m *= b.multiplier;
    return m;
  }

  private periodAt(t: number): number {
    return 1000 / (this.o.rateHz * this.multiplierAt(t));
  }

  private place(grid: number): number {
    if (this.o.arrival !== 'jitter' || this.o.jitter === 0) return grid;
    const off = (this.o.random() * 2 - 1) * this.o.jitter * this.periodAt(grid);
    return Math.max(this.o.startMs, grid + off);
  }

  private exponential(t: number): number {
    const rate = this.o.rateHz * this.multiplierAt(t);
    return (-Math.log(1 - this.o.random()) * 1000) / rate;
  }

  private push(v: VehicleState): void {
    this.heap.push(v);
    let i = this.heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.heap[p]!.nextMs <= v.nextMs) break;
      this.heap[i] = this.heap[p]!;
      i = p;
    }
    this.heap[i] = v;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const v = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]!.nextMs < h[l]!.nextMs ? r : l;
      if (h[c]!.nextMs >= v.nextMs) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = v;
  }
}
