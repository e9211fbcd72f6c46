/**
 * The contract a backend is judged against. Defaults are the seed's values
 * (backend-contract.md); every field can be overridden so the same suites can
 * judge another backend.
 */
import { z } from 'zod';

export const ContractSchema = z.object({
  /** |server now - timestamp| above this is rejected (seconds). */
  skewWindowSec: z.number().positive().default(10),
  /**
   * Width of the band around the skew window where network delay and clock
   * reading make the outcome legitimately uncertain: the model says "either".
   */
  skewUncertaintySec: z.number().nonnegative().default(0.5),
  /** express.json() default limit: 100 kB = 102400 bytes. */
  bodyLimitBytes: z.number().int().positive().default(100 * 1024),
  /** The largest realistic Jetson payload a backend should accept (bytes). */
  realisticSizeFloorBytes: z.number().int().positive().default(512 * 1024),
  /**
   * vehicle_ids up to this many UTF-16 units must be accepted; longer ones
   * may be refused (the seed sets no limit, InfluxDB fails near 64 KiB).
   */
  vehicleIdFloorChars: z.number().int().positive().default(256),
  /** Acknowledged samples must be stored within this many ms (lag bound). */
  lagBoundMs: z.number().int().positive().default(5000),
  /** Header carrying the API key. */
  apiKeyHeader: z.string().min(1).default('x-api-key'),
  /**
   * 5xx statuses that are a definite refusal (nothing was done, e.g. load
   * shedding with Retry-After). Every other 5xx is indeterminate: the sample
   * may or may not have been stored, like a timeout.
   */
  definiteServerRejectStatuses: z.array(z.number().int().min(500).max(599)).default([503]),
  /**
   * Compare 4xx reply messages with the seed's exact texts (seed backends).
   * Turn off to judge a backend that words its errors differently.
   */
  checkRejectMessages: z.boolean().default(true),
});

/** What a plan or a caller may override (every field optional). */
export type ContractOverrides = z.input<typeof ContractSchema>;

export type Contract = z.infer<typeof ContractSchema>;

export const DEFAULT_CONTRACT: Contract = ContractSchema.parse({});

export function contractFrom(overrides: unknown): Contract {
  return ContractSchema.parse(overrides ?? {});
}
