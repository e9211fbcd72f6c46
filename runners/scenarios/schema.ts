/**
 * A stress scenario is data: how much load, of what shape, through which
 * network, with how many SSE readers, judged by which thresholds. Every field
 * can be overridden from the CLI or a config file (overrides.ts); the
 * catalogue (catalogue.ts) holds the named ones.
 */
import { z } from 'zod';
import { ThresholdSchema } from '../../reports/writers/runReport';
import { PAYLOAD_PROFILES } from '../load/payloads';
import { NETWORK_PROFILE_NAMES } from './networkProfiles';

export const BurstSchema = z.strictObject({
  /** ms from the run start. */
  startMs: z.number().int().nonnegative(),
  durationMs: z.number().int().positive(),
  /** Rate multiplier inside the window (10 = ten times the base rate). */
  multiplier: z.number().positive().max(1000),
});

export const SpikesSchema = z.strictObject({
  firstAtMs: z.number().int().nonnegative(),
  everyMs: z.number().int().positive(),
  durationMs: z.number().int().positive(),
  multiplier: z.number().positive().max(1000),
}).refine((s) => s.durationMs < s.everyMs, { message: 'a spike must be shorter than its period', path: ['durationMs'] });

export const SseReaderSchema = z.enum(['normal', 'slow', 'stalled']);

export const ScenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, . _ - only'),
  description: z.string().default(''),
  /** Which question of the seed it feeds (rate ladder, SSE impact, network, payload, burst, soak…). */
  group: z.enum(['baseline', 'rate', 'burst', 'soak', 'sse', 'network', 'payload', 'max-rate', 'custom']).default('custom'),
  /** Sends per second PER VEHICLE (the Jetson's publish rate). */
  rateHz: z.number().positive().max(10_000),
  vehicles: z.number().int().min(1).max(1000).default(1),
  /** How long the publisher sends (ms). Catalogue defaults fit CI; `--duration` makes them real. */
  durationMs: z.number().int().min(500).max(24 * 3600_000),
  arrival: z.enum(['even', 'jitter', 'poisson']).default('even'),
  bursts: z.array(BurstSchema).default([]),
  /** Repeating spikes, expanded into `bursts` over the run's duration (so `--duration` keeps them). */
  spikes: SpikesSchema.optional(),
  payload: z.enum(PAYLOAD_PROFILES as unknown as ['minimal', 'typical', 'heavy']).default('typical'),
  sseClients: z.number().int().min(0).max(200).default(0),
  sseReader: SseReaderSchema.default('normal'),
  /** Network profile played on the `ingest` proxy (publisher → backend). */
  network: z.enum(NETWORK_PROFILE_NAMES).default('loopback'),
  /**
   * After the last send, wait at most this long for every acknowledged sample
   * to reach the store. What is still missing then counts as
   * "acknowledged but not stored" (default: the contract's 5 s lag bound).
   */
  drainMs: z.number().int().min(0).max(600_000).default(5000),
  /** Store polling interval (ms): the resolution of send→stored lag. */
  probeIntervalMs: z.number().int().min(50).max(60_000).default(500),
  /** Request timeout (the Jetson uses 2 s). */
  timeoutMs: z.number().int().min(50).max(120_000).default(2000),
  connections: z.number().int().min(1).max(4096).default(64),
  /**
   * The publisher's HTTP client: undici (default, what a Node client uses) or
   * the raw keep-alive socket transport (runners/load/rawHttp.ts), which
   * costs the load tool about a third less CPU per request: for finding the
   * ceiling of a fast backend from a small machine.
   */
  transport: z.enum(['undici', 'raw']).default('undici'),
  /**
   * A send leaving later than this after its slot counts as late; more than
   * 1% late flags the load generator as the bottleneck. 25 ms: the scheduler
   * of a busy 2-core box stalls ~10 ms at times, which a 10 Hz Jetson (100 ms
   * period) would not notice either.
   */
  lateThresholdMs: z.number().min(1).max(10_000).default(25),
  /** Seed of arrivals and network jitter. */
  seed: z.number().int().default(1),
  /** k6-style thresholds; default: reports/writers DEFAULT_THRESHOLDS. */
  thresholds: z.array(ThresholdSchema).optional(),
});

export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;

/** Total intended sends per second outside bursts. */
export function totalRate(s: Pick<Scenario, 'rateHz' | 'vehicles'>): number {
  return s.rateHz * s.vehicles;
}

/** Explicit bursts plus the spikes repeated over the duration. */
export function burstsOf(s: Pick<Scenario, 'bursts' | 'spikes' | 'durationMs'>): z.infer<typeof BurstSchema>[] {
  const out = [...s.bursts];
  if (s.spikes) {
    for (let t = s.spikes.firstAtMs; t < s.durationMs; t += s.spikes.everyMs) {
      out.push({ startMs: t, durationMs: Math.min(s.spikes.durationMs, s.durationMs - t), multiplier: s.spikes.multiplier });
    }
  }
  return out;
}
