/**
 * RunReport: everything one stress/soak/chaos run established, as data. Every
 * writer (json, markdown, html, junit) renders this one object, so they can
 * never disagree. `schemaVersion` changes whenever a field changes meaning.
 *
 * Units: times are epoch ms (the load modules' shared clock), durations and
 * latencies ms, memory bytes, CPU % of one core, rates per second, shares 0..1.
 * `null` always means "not measured" — never zero.
 */
import { z } from 'zod';

export const PercentilesSchema = z.object({
  count: z.number().int().nonnegative(),
  p50: z.number().nonnegative(),
  p90: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  p999: z.number().nonnegative(),
  max: z.number().nonnegative(),
  mean: z.number().nonnegative().optional(),
});
export type ReportPercentiles = z.infer<typeof PercentilesSchema>;

export const ERROR_CLASS_NAMES = ['timeout', 'refused', 'reset', 'aborted', 'other'] as const;
export const ErrorClassSchema = z.enum(ERROR_CLASS_NAMES);

export const THRESHOLD_OPS = ['<', '<=', '>', '>=', '==', '!='] as const;
export const ThresholdSchema = z.object({
  /** A metric name from thresholds.ts METRICS (e.g. latency_p99_ms). */
  metric: z.string().min(1),
  op: z.enum(THRESHOLD_OPS),
  value: z.number(),
  description: z.string().optional(),
});
export type Threshold = z.infer<typeof ThresholdSchema>;

export const ThresholdResultSchema = ThresholdSchema.extend({
  /** The metric's value in this run; null when it was not measured (which fails the threshold). */
  actual: z.number().nullable(),
  pass: z.boolean(),
  message: z.string(),
});
export type ThresholdResult = z.infer<typeof ThresholdResultSchema>;

export const FaultWindowSchema = z.object({
  /** e.g. influx-down, influx-latency, backend-kill, ingest-reset, slow-sse. */
  kind: z.string().min(1),
  startMs: z.number(),
  endMs: z.number(),
  detail: z.string().optional(),
}).refine((f) => f.endMs >= f.startMs, { message: 'fault window ends before it starts' });
export type FaultWindow = z.infer<typeof FaultWindowSchema>;

const nn = z.number().nullable();
const count = z.number().int().nonnegative();

/** One second of the run. Samples are attributed to the second they were SENT in. */
export const SecondPointSchema = z.object({
  tMs: z.number(),
  sent: count,
  acked: count,
  /** Of the samples sent this second, how many the store holds. */
  stored: count.nullable(),
  /** Replies completed this second (corrected latency). */
  latencyP50Ms: nn,
  latencyP99Ms: nn,
  /** send→stored lag p99 of samples sent this second. */
  lagP99Ms: nn,
  /** send→SSE lag p99 of samples sent this second. */
  sseLagP99Ms: nn,
  errors: count,
  backendCpuPct: nn,
  backendRssBytes: nn,
  /** InfluxDB write errors (write module writeError+writeDrop+writeTimeout, or a backend counter) this second. */
  influxWriteErrors: nn,
  /** InfluxDB's own process, when the run sampled it (managed stacks). */
  influxdCpuPct: nn.optional(),
  influxdRssBytes: nn.optional(),
});
export type SecondPoint = z.infer<typeof SecondPointSchema>;

export const StoredKeySchema = z.object({ vehicleId: z.string(), timeMs: z.number(), firstSeenMs: z.number() });

/** Where and under what load the run happened (a 2-core box shared with other work reads differently). */
export const EnvironmentSchema = z.object({
  platform: z.string(),
  cpus: z.number().int().nonnegative(),
  cpuModel: z.string(),
  totalMemBytes: z.number().nonnegative(),
  node: z.string(),
  /** os.loadavg() [1, 5, 15 min] when the run started and ended. */
  loadAvgStart: z.array(z.number()),
  loadAvgEnd: z.array(z.number()),
  influxVersion: z.string().nullable(),
  gitCommit: z.string().nullable(),
  /** Whole machine during the run, % of all CPU time (/proc/stat): busy, and stolen by the hypervisor. */
  machineBusyPct: z.number().nullable().optional(),
  stealPct: z.number().nullable().optional(),
  /** Scheduling priority (nice) of the load generator's process. */
  nice: z.number().int().optional(),
});
export type RunEnvironment = z.infer<typeof EnvironmentSchema>;

export const SseSummarySchema = z.object({
  clients: count,
  reader: z.string(),
  /** Clients that got a 200 and the stream. */
  connected: count,
  events: count,
  bytes: count,
  /** Acknowledged samples seen by at least one client / acknowledged. */
  deliveredShare: z.number().min(0).max(1).nullable(),
  perClient: z.array(z.object({
    index: count, mode: z.string(), status: z.number().nullable(), events: count, bytes: count,
    endedBy: z.string().nullable(), lastError: z.string().nullable(),
  })),
});

/** What the backend's own Prometheus endpoint said, as deltas over the run (null: not scraped). */
export const BackendMetricsSchema = z.object({
  scrapes: count,
  failedScrapes: count,
  /** telemetry_requests_total by outcome, over the run. */
  requestsByOutcome: z.record(z.string(), z.number()),
  /** Counter deltas of telemetry_* series (influx write failures, dropped lines, lines written…). */
  counters: z.record(z.string(), z.number()),
  /** Largest nodejs_eventloop_delay_seconds{quantile="0.99"} seen, ms. */
  eventLoopDelayP99MaxMs: nn,
});

export const RunReportSchema = z.object({
  schemaVersion: z.literal(1),
  runId: z.string().min(1),
  scenario: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    /** The scenario's settings as run (rate, vehicles, profile, faults…), free-form. */
    config: z.record(z.string(), z.unknown()),
  }),
  target: z.object({
    backendUrl: z.string().optional(),
    influxUrl: z.string().optional(),
    backendMode: z.string().optional(),
  }).optional(),
  startedAtMs: z.number(),
  endedAtMs: z.number(),
  totals: z.object({
    /** Sends the schedule called for. */
    intended: count,
    sent: count,
    /** 2xx replies. */
    acknowledged: count,
    non2xxByStatus: z.record(z.string(), count),
    errorsByClass: z.record(ErrorClassSchema, count),
    /** 400 replies (the contract's validation failures). */
    validationRejections: count,
    stored: z.object({
      /** Sent samples found in the store; null when no storage probe ran. */
      count: count.nullable(),
      /** How the store was probed (query, polling interval, settle time). */
      probe: z.string(),
      /** When each stored key was first seen (bounded; see firstSeenTruncated). */
      firstSeen: z.array(StoredKeySchema).optional(),
      firstSeenTruncated: z.boolean().optional(),
    }),
  }),
  /** intended − stored, split by where each lost sample was lost. Null without a storage probe. */
  loss: z.object({
    total: count,
    /** total / intended. */
    rate: z.number().min(0).max(1),
    byStage: z.object({
      /** Scheduled but never sent (load tool late/aborted). */
      neverSent: count,
      /** Answered non-2xx and not stored. */
      rejected: count,
      /** No HTTP status (timeout, refused, reset…) and not stored. */
      failedHttp: count,
      /** 2xx, yet not in the store: the silent loss this project exists to find. */
      acknowledgedNotStored: count,
    }),
    /** Stored although the client saw a failure (e.g. timed out after the write). Not loss. */
    storedDespiteFailure: count,
  }).nullable(),
  latency: z.object({
    /** From the intended send time (coordinated-omission corrected). */
    corrected: PercentilesSchema,
    /** From the actual send time. */
    uncorrected: PercentilesSchema,
  }),
  lag: z.object({
    sendToStored: PercentilesSchema.nullable(),
    sendToSse: PercentilesSchema.nullable(),
  }),
  series: z.array(SecondPointSchema),
  faults: z.array(FaultWindowSchema),
  publisher: z.object({
    /** Sends later than lateThresholdMs, or skipped as late (k6's dropped iterations). */
    droppedIterations: count,
    lateThresholdMs: z.number().nonnegative(),
    eventLoopDelayP99Ms: z.number().nonnegative(),
    eventLoopDelayMaxMs: z.number().nonnegative(),
    maxInFlight: count,
    /** True when the load tool itself may have been the bottleneck. */
    bottleneck: z.boolean(),
    reasons: z.array(z.string()),
  }),
  backend: z.object({
    cpuMaxPct: nn,
    cpuMeanPct: nn,
    rssMaxBytes: nn,
    /** Least-squares RSS slope after warm-up (bytes/min): the leak signal. */
    rssSlopeBytesPerMin: nn,
    influxWriteErrors: nn,
  }),
  /** InfluxDB's own process (managed stacks). */
  influxd: z.object({ cpuMaxPct: nn, cpuMeanPct: nn, rssMaxBytes: nn }).optional(),
  environment: EnvironmentSchema.optional(),
  sse: SseSummarySchema.optional(),
  backendMetrics: BackendMetricsSchema.nullable().optional(),
  thresholds: z.array(ThresholdResultSchema),
  /** pass: all thresholds hold; fail: a threshold breached; error: infrastructure failed, figures not trustworthy. */
  status: z.enum(['pass', 'fail', 'error']),
  exitCode: z.union([z.literal(0), z.literal(99), z.literal(2)]),
  infraErrors: z.array(z.string()),
  notes: z.array(z.string()),
}).superRefine((r, ctx) => {
  if (r.endedAtMs < r.startedAtMs) ctx.addIssue({ code: 'custom', path: ['endedAtMs'], message: 'run ends before it starts' });
  if (r.totals.sent > r.totals.intended) ctx.addIssue({ code: 'custom', path: ['totals', 'sent'], message: 'sent exceeds intended' });
  if (r.totals.acknowledged > r.totals.sent) ctx.addIssue({ code: 'custom', path: ['totals', 'acknowledged'], message: 'acknowledged exceeds sent' });
  if (r.loss) {
    const s = r.loss.byStage;
    if (s.neverSent + s.rejected + s.failedHttp + s.acknowledgedNotStored !== r.loss.total) {
      ctx.addIssue({ code: 'custom', path: ['loss', 'byStage'], message: 'loss stages do not add up to the total' });
    }
    if (r.totals.stored.count !== null && r.totals.intended - r.totals.stored.count !== r.loss.total) {
      ctx.addIssue({ code: 'custom', path: ['loss', 'total'], message: 'loss total is not intended − stored' });
    }
  }
});

export type RunReport = z.infer<typeof RunReportSchema>;

export const RUN_REPORT_SCHEMA_VERSION = 1 as const;

/** Validate (throws a ZodError naming the offending fields). */
export function parseRunReport(data: unknown): RunReport {
  return RunReportSchema.parse(data);
}
