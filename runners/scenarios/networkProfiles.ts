/**
 * Network profiles for the `ingest` proxy (publisher → backend), as data,
 * and the pure function that turns one into a chaos fault schedule the
 * nemesis plays (chaos/nemesis.ts): latency with seeded jitter for the whole
 * run, and for `flaky` short connection-reset windows in between.
 *
 * Latency is per direction (`stream: both`), so a round trip pays it twice.
 * Jitter is seeded (`jitterSteps`): Toxiproxy's own jitter does not replay.
 */
import type { Fault, LatencyFault, ResetPeerFault } from '../../chaos/faults';
import { seededRandom } from '../load/schedule';

export const NETWORK_PROFILE_NAMES = ['loopback', 'lan', 'wifi', 'flaky'] as const;
export type NetworkProfileName = (typeof NETWORK_PROFILE_NAMES)[number];

export interface NetworkProfile {
  name: NetworkProfileName;
  description: string;
  /** One-way latency and its seeded jitter (ms); 0 = no latency toxic. */
  latencyMs: number;
  jitterMs: number;
  /** How often the seeded jitter changes the latency (ms). */
  jitterEveryMs: number;
  /** Periodic windows in which every connection is reset on its next request. */
  resets?: { firstAtMs: number; everyMs: number; windowMs: number };
}

export const NETWORK_PROFILES: Record<NetworkProfileName, NetworkProfile> = {
  loopback: { name: 'loopback', description: 'no toxic: straight through the proxy', latencyMs: 0, jitterMs: 0, jitterEveryMs: 1000 },
  lan: { name: 'lan', description: 'wired LAN: 1 ms ± 1 ms each way', latencyMs: 1, jitterMs: 1, jitterEveryMs: 250 },
  wifi: { name: 'wifi', description: 'Wi-Fi-like: 20 ms ± 15 ms each way (RTT ≈ 40 ms ± 30 ms)', latencyMs: 20, jitterMs: 15, jitterEveryMs: 250 },
  flaky: {
    name: 'flaky',
    description: 'Wi-Fi-like latency, plus a 400 ms window every 5 s in which connections are reset (TCP RST) on their next request',
    latencyMs: 20, jitterMs: 15, jitterEveryMs: 250,
    resets: { firstAtMs: 2000, everyMs: 5000, windowMs: 400 },
  },
};

export interface ScheduleWindow {
  /** ms from the nemesis start; the publisher starts `leadMs` after it. */
  leadMs: number;
  /** Publisher duration (ms). */
  durationMs: number;
  /** Kept after the last send so replies still in flight see the same network (ms). */
  tailMs: number;
  seed: number;
}

function latencyFault(p: NetworkProfile, at: number, duration: number, random: () => number): LatencyFault {
  const steps = Math.max(1, Math.ceil(duration / p.jitterEveryMs));
  const offsetsMs = Array.from({ length: Math.min(steps, 10_000) }, () =>
    Math.max(-p.latencyMs, Math.round((random() * 2 - 1) * p.jitterMs)));
  return {
    kind: 'latency', target: 'ingest', at, duration,
    params: { latencyMs: p.latencyMs, jitterMs: p.jitterMs, stream: 'both', ...(p.jitterMs > 0 ? { jitterSteps: { everyMs: p.jitterEveryMs, offsetsMs } } : {}) },
  };
}

/** Reset windows in publisher time, clipped to the run. */
export function resetWindows(p: NetworkProfile, durationMs: number): { startMs: number; endMs: number }[] {
  if (!p.resets) return [];
  const out: { startMs: number; endMs: number }[] = [];
  for (let t = p.resets.firstAtMs; t < durationMs; t += p.resets.everyMs) out.push({ startMs: t, endMs: Math.min(durationMs, t + p.resets.windowMs) });
  return out;
}

/**
 * The fault schedule of a profile over [0, lead + duration + tail): latency
 * segments (when the profile has latency) filling the gaps between reset
 * windows. One target carries one fault at a time, so they alternate.
 */
export function networkSchedule(p: NetworkProfile, w: ScheduleWindow): Fault[] {
  const random = seededRandom(w.seed);
  const end = w.leadMs + w.durationMs + w.tailMs;
  const resets = resetWindows(p, w.durationMs).map((r) => ({ at: w.leadMs + r.startMs, end: w.leadMs + r.endMs }));
  const faults: Fault[] = [];
  let cursor = 0;
  const addLatency = (from: number, to: number): void => {
    if (p.latencyMs > 0 && to - from >= 50) faults.push(latencyFault(p, from, to - from, random));
  };
  for (const r of resets) {
    addLatency(cursor, r.at);
    const reset: ResetPeerFault = { kind: 'reset_peer', target: 'ingest', at: r.at, duration: r.end - r.at, params: { timeoutMs: 0, stream: 'upstream' } };
    faults.push(reset);
    cursor = r.end;
  }
  addLatency(cursor, end);
  return faults;
}
