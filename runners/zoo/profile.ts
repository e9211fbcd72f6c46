/**
 * The zoo's quick profile: property checks (generated plans against a live
 * backend, judged by the three-ledger checker) and chaos checks (plans with
 * faults played by the nemesis), each a fast-check run with the framework's
 * engines (properties/engine/runProperty.ts, chaosProperty.ts): a failure
 * counts only if it repeats, and it is shrunk within the check's time budget.
 *
 * The same profile runs against every mutant and against the correct
 * backend; a target is "detected" by the first check that fails on it.
 */
import fc from 'fast-check';
import type { ChaosJudge } from '../../chaos/judges';
import { ackStoredAfterHealing, noUnexpectedPoints, slowConsumerBounded } from '../../chaos/judges';
import { describeChaosPlan, type ChaosPlan } from '../../chaos/chaosPlan';
import type { Fault } from '../../chaos/faults';
import type { Contract } from '../../models/contract';
import type { PropertyResult, Verdict, Violation } from '../../models/checker';
import type { Plan } from '../../models/plan';
import { runChaosProperty, type ChaosOutcome } from '../../properties/engine/chaosProperty';
import { suiteChaosTarget } from '../../properties/engine/chaosSelfTest';
import { runPlanProperty, type PlanProperty, type PropertyOutcome } from '../../properties/engine/runProperty';
import { labelOf } from '../../properties/engine/selfTest';
import { PROFILES } from '../../properties/engine/settings';
import type { ChaosRunOptions } from '../chaosRun';
import type { BackendSpec } from '../stack/backendProcess';
import { startSuiteBackend } from '../stack/suiteBackend';
import type { StackInfo } from '../stack/types';
import { fourxxWindow, startInfluxFront } from './influxFront';
import { arbSpreadPlan, arbStorableDraft, arbTargetedChaosPlan, authPlans, crashDuringOutageFaults, hostilePlans, skewEdgePlans, validStreamPlans } from './plans';

export type ZooMode = 'legacy' | 'durable';

export interface CheckContext {
  /** The zoo's stack (influxd, toxiproxy-server): suite backends start beside it. */
  shared: StackInfo;
  /** The target's backend spec (mode, mutant, the zoo's settings) plus extra environment. */
  spec(extraEnv?: Record<string, string>): BackendSpec;
  /** A suite backend of the target's plain spec, shared by the property checks (started on first use). */
  propertyTarget(): Promise<StackInfo>;
  mode: ZooMode;
  seed: number;
  contract: Contract;
  /** Time budget of each property check (generation and shrinking). */
  budgetMs: number;
  /** Time budget of each chaos check. */
  chaosBudgetMs: number;
  failuresDir: string;
  /** Short label for suite backends and logs. */
  label: string;
  log: (line: string) => void;
}

export interface ShrunkCase {
  requests: number;
  faults: number;
  /** One line. */
  summary: string;
  shrinkSteps?: number;
  caseDir?: string;
}

export interface CheckResult {
  check: string;
  kind: 'property' | 'chaos';
  /** The property held on every generated plan. */
  ok: boolean;
  /** Infrastructure error (neither a pass nor a detection). */
  error?: string;
  /** The property that failed. */
  property?: string;
  /** First failing execution, ms after the check started. */
  firstFailureMs?: number;
  elapsedMs: number;
  numRuns: number;
  executions: number;
  interrupted: boolean;
  seed: number;
  shrunk?: ShrunkCase;
  /** A few lines of the minimal case's violations. */
  details?: string[];
}

export interface ZooCheck {
  name: string;
  kind: 'property' | 'chaos';
  modes: readonly ZooMode[];
  description: string;
  numRuns: number;
  run(ctx: CheckContext): Promise<CheckResult>;
}

/** Compressed Jetson publisher for chaos runs: its 1 s .. 30 s back-off at a tenth. */
const PUBLISHER: ChaosRunOptions['publisher'] = {
  backoff: { baseMs: 100, capMs: 3_000 },
  retry: { maxAttempts: 10, maxElapsedMs: 5_000 },
  requestTimeoutMs: 1_000,
  catchUpMs: 3_000,
};

function chaosRun(contract: Contract, over: Partial<ChaosRunOptions> = {}): Omit<ChaosRunOptions, 'runId' | 'signal'> {
  return { contract, publisher: PUBLISHER, recoveryBoundMs: 15_000, drainBoundMs: 3_000, pollIntervalMs: 100, ...over };
}

// ---- judges --------------------------------------------------------------------

/** The named property a violation breaks; auth_enforced when it names a request with a missing or wrong key. */
export function propertyOf(v: Verdict, x: Violation): string {
  const unauthenticated = new Set(v.perSample.filter((s) => s.apiKey !== 'valid').map((s) => s.requestId));
  return x.requestIds.some((id) => unauthenticated.has(id)) ? 'auth_enforced' : x.property;
}

/**
 * Every property at once, then only the one that failed first: shrinking
 * keeps to that property (a minimal case of one bug, not of whatever else
 * a smaller plan may show). `exclude` leaves properties out of the check.
 */
export function stickyVerdictJudge(onFail: () => void, exclude: readonly string[] = []): { judge: (v: Verdict) => PropertyResult; locked: () => string | undefined } {
  let locked: string | undefined;
  return {
    locked: () => locked,
    judge: (v) => {
      const named = v.violations.map((x) => ({ name: propertyOf(v, x), x })).filter((n) => !exclude.includes(n.name));
      const hits = locked ? named.filter((n) => n.name === locked) : named;
      if (hits.length > 0) {
        locked ??= hits[0]!.name;
        onFail();
      }
      return { ok: hits.length === 0, details: hits.map((h) => `${h.name} [${h.x.category}] ${h.x.message}`), violations: hits.map((h) => h.x) };
    },
  };
}

/** Chaos judges at once, then only the first that failed (see stickyVerdictJudge). */
export function stickyChaosJudge(judges: readonly ChaosJudge[], onFail: () => void): { judge: ChaosJudge; locked: () => string | undefined } {
  let locked: string | undefined;
  return {
    locked: () => locked,
    judge: (a) => {
      const all = judges.map((j) => j(a));
      const failing = all.filter((j) => !j.ok && (locked === undefined || j.property === locked));
      if (failing.length > 0) {
        locked ??= failing[0]!.property;
        onFail();
      }
      return {
        ok: failing.length === 0,
        property: failing[0]?.property ?? all.map((j) => j.property).join('+'),
        details: [all[0]?.details[0] ?? '', ...failing.flatMap((j) => j.details.slice(1).map((d) => `${j.property}: ${d}`))],
      };
    },
  };
}

// ---- running one check -----------------------------------------------------------

/**
 * Executions in flight. fast-check's time budget (interruptAfterTimeLimit)
 * races the predicate against a timer: when it fires mid-execution the
 * engine returns while that execution keeps running. Before a check stops
 * its backend it waits for such a straggler (bounded), so nothing touches a
 * stopped backend — or restarts it after a kill fault.
 */
export class InFlight {
  private active = 0;
  private waiters: Array<() => void> = [];
  begin(): void {
    this.active++;
  }
  end(): void {
    this.active = Math.max(0, this.active - 1);
    if (this.active === 0) for (const w of this.waiters.splice(0)) w();
  }
  get count(): number {
    return this.active;
  }
  /** Resolves true once nothing is in flight, false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }
}

/** How long a straggling execution may take to finish (a plan, its faults and its drain, retried once). */
const STRAGGLER_WAIT_MS = 45_000;

interface PropertyCheckSpec {
  name: string;
  description: string;
  modes: readonly ZooMode[];
  numRuns: number;
  plans: (c: Contract) => fc.Arbitrary<Plan>;
  sseClients: number;
  exclude?: readonly string[];
}

function propertyResult(name: string, out: PropertyOutcome, locked: string | undefined, firstFailureMs: number | undefined, seed: number): CheckResult {
  const a = out.failure?.attempt;
  return {
    check: name,
    kind: 'property',
    ok: out.ok,
    ...(out.failure?.error ? { error: out.failure.error } : {}),
    ...(!out.ok && !out.failure?.error ? { property: locked ?? a?.result.violations[0]?.property } : {}),
    ...(firstFailureMs !== undefined && !out.ok ? { firstFailureMs } : {}),
    elapsedMs: out.elapsedMs,
    numRuns: out.numRuns,
    executions: out.executions,
    interrupted: out.interrupted,
    seed,
    ...(a ? {
      shrunk: {
        requests: a.plan.requests.length,
        faults: a.history.faults?.length ?? 0,
        summary: a.plan.requests.map((r) => r.label).join(', '),
        ...(out.failure?.caseDir ? { caseDir: out.failure.caseDir } : {}),
      },
      details: a.result.details.slice(0, 5),
    } : {}),
  };
}

async function runPropertyOn(ctx: CheckContext, target: StackInfo, s: PropertyCheckSpec, extra: Pick<PlanProperty, 'executeFor'> = {}, drainBoundMs?: number): Promise<CheckResult> {
  const started = Date.now();
  let firstFailureMs: number | undefined;
  const sticky = stickyVerdictJudge(() => { firstFailureMs ??= Date.now() - started; }, s.exclude);
  const inFlight = new InFlight();
  const out = await runPlanProperty(
    {
      name: `zoo ${s.name}`,
      file: 'runners/zoo/profile.ts',
      testName: s.name,
      arbitrary: s.plans(ctx.contract),
      judge: (v) => {
        inFlight.end();
        return sticky.judge(v);
      },
      contract: ctx.contract,
      target: () => target,
      backendLabel: labelOf(target.backend.spec ?? ctx.spec()),
      execute: { sseClients: s.sseClients },
      // executePlan calls the nemesis exactly once per execution: count executions there.
      executeFor: (plan: Plan) => {
        const own = extra.executeFor?.(plan) ?? {};
        return {
          ...own,
          nemesis: async (runStartMs: number) => {
            inFlight.begin();
            return own.nemesis ? own.nemesis(runStartMs) : [];
          },
        };
      },
      failuresDir: ctx.failuresDir,
    },
    {
      profile: 'quick',
      seed: ctx.seed,
      numRuns: s.numRuns,
      repeats: PROFILES.quick.repeats,
      timeBudgetMs: ctx.budgetMs,
      drainMarginMs: PROFILES.quick.drainMarginMs,
      ...(drainBoundMs !== undefined ? { drainBoundMs } : {}),
      fileIssues: false,
    },
  );
  // (An execution retried after an infrastructure error begins twice and ends once: only wait after an interrupt.)
  if (out.interrupted && inFlight.count > 0) {
    ctx.log(`[zoo] ${s.name}: time budget reached during an execution; waiting for it to finish`);
    await inFlight.idle(STRAGGLER_WAIT_MS);
  }
  return propertyResult(s.name, out, sticky.locked(), firstFailureMs, ctx.seed);
}

function propertyCheck(s: PropertyCheckSpec): ZooCheck {
  return {
    name: s.name, kind: 'property', modes: s.modes, description: s.description, numRuns: s.numRuns,
    run: async (ctx) => runPropertyOn(ctx, await ctx.propertyTarget(), s),
  };
}

interface ChaosCheckSpec {
  name: string;
  description: string;
  modes: readonly ZooMode[];
  numRuns: number;
  arbitrary: fc.Arbitrary<ChaosPlan>;
  judges: (ctx: CheckContext) => ChaosJudge[];
  env?: Record<string, string>;
  run?: Partial<ChaosRunOptions>;
}

function chaosResult(name: string, out: ChaosOutcome, locked: string | undefined, firstFailureMs: number | undefined, seed: number): CheckResult {
  const a = out.failure?.attempt;
  return {
    check: name,
    kind: 'chaos',
    ok: out.ok,
    ...(out.failure?.error ? { error: out.failure.error } : {}),
    ...(!out.ok && !out.failure?.error ? { property: locked ?? out.failure?.judgement?.property } : {}),
    ...(firstFailureMs !== undefined && !out.ok ? { firstFailureMs } : {}),
    elapsedMs: out.elapsedMs,
    numRuns: out.numRuns,
    executions: out.executions,
    interrupted: out.interrupted,
    seed,
    ...(a ? {
      shrunk: {
        requests: a.chaos.plan.requests.length,
        faults: a.chaos.faults.length,
        summary: describeChaosPlan(a.chaos).replace(/\n/g, '; '),
        shrinkSteps: out.failure!.shrinkSteps,
        ...(out.failure?.caseDir ? { caseDir: out.failure.caseDir } : {}),
      },
      details: (out.failure?.judgement?.details ?? []).slice(0, 5),
    } : {}),
  };
}

function chaosCheck(s: ChaosCheckSpec): ZooCheck {
  return {
    name: s.name, kind: 'chaos', modes: s.modes, description: s.description, numRuns: s.numRuns,
    run: async (ctx) => {
      const spec = ctx.spec(s.env);
      const target = await suiteChaosTarget(ctx.shared, spec, `${ctx.label}${s.name}`.replace(/[^a-z0-9]/gi, '').slice(0, 16));
      try {
        const started = Date.now();
        let firstFailureMs: number | undefined;
        const sticky = stickyChaosJudge(s.judges(ctx), () => { firstFailureMs ??= Date.now() - started; });
        const inFlight = new InFlight();
        const abort = new AbortController();
        // The engine's type leaves `signal` out; executeChaosPlan reads it: it ends a straggler early.
        const run = { ...chaosRun(ctx.contract, s.run), signal: abort.signal } as Omit<ChaosRunOptions, 'runId' | 'signal'>;
        const out = await runChaosProperty(
          {
            name: `zoo ${s.name}`,
            file: 'runners/zoo/profile.ts',
            testName: s.name,
            arbitrary: s.arbitrary,
            judge: (a) => {
              inFlight.end();
              return sticky.judge(a);
            },
            env: () => {
              inFlight.begin();
              return target.env;
            },
            run,
            backendLabel: labelOf(spec),
            failuresDir: ctx.failuresDir,
            log: (line) => {
              if (line.includes('execution error, retrying once')) inFlight.end();
              ctx.log(line);
            },
          },
          { seed: ctx.seed, numRuns: s.numRuns, repeats: 2, timeBudgetMs: ctx.chaosBudgetMs },
        );
        if (inFlight.count > 0) {
          ctx.log(`[zoo] ${s.name}: time budget reached during an execution; stopping it and waiting for its heal`);
          abort.abort();
          await inFlight.idle(STRAGGLER_WAIT_MS);
        }
        return chaosResult(s.name, out, sticky.locked(), firstFailureMs, ctx.seed);
      } finally {
        await target.stop();
      }
    },
  };
}

// ---- the checks ------------------------------------------------------------------

const grid = (v: number) => Math.floor(v / 50) * 50;

/** Bound on what the backend may hold for SSE clients in the stalled-sse check (per client). */
export const ZOO_SSE_BUFFER_BYTES = 256 * 1024;
const STALLED_MAX = 2;
/** Largest SSE frame of the stalled-sse check's payloads (500 trajectory points), with margin. */
const FRAME_MARGIN_BYTES = 32 * 1024;

const influx4xx: ZooCheck = {
  name: 'influx-4xx',
  kind: 'property',
  modes: ['durable'],
  description: 'InfluxDB answers every write 404 "database not found" while the samples are sent, then recovers: every acknowledged sample must be stored',
  numRuns: 3,
  run: async (ctx) => {
    const front = await startInfluxFront(ctx.shared.influx.directUrl, ctx.shared.influx.db);
    const suite = await startSuiteBackend(ctx.shared, ctx.spec({ INFLUX_URL: front.url }), { label: `${ctx.label}4xx`.replace(/[^a-z0-9]/gi, '').slice(0, 16) });
    try {
      const plans = () => arbSpreadPlan(arbStorableDraft().map((d) => [d]), { maxGroups: 8, spacingMs: 50 });
      return await runPropertyOn(
        ctx,
        suite.info,
        { name: 'influx-4xx', description: '', modes: ['durable'], numRuns: 3, plans, sseClients: 0, exclude: ['lag_within_bound'] },
        { executeFor: (plan: Plan) => ({ nemesis: fourxxWindow(front, Math.max(0, ...plan.requests.map((r) => r.atMs)) + 500) }) },
        8_000,
      );
    } finally {
      await suite.stop();
      await front.close();
    }
  },
};

export const ZOO_CHECKS: readonly ZooCheck[] = [
  propertyCheck({
    name: 'valid-stream',
    description: 'storable samples from up to 20 vehicles, 2 SSE clients: every property (acknowledged ⇒ stored exactly, nothing unexpected, lag, SSE once and in order, conservation)',
    modes: ['legacy', 'durable'],
    numRuns: 10,
    plans: () => validStreamPlans(),
    sseClients: 2,
  }),
  propertyCheck({
    name: 'hostile-input',
    description: 'the hostile catalogue (22 cases, plus vehicle_ids with , space =) among valid samples, 2 SSE clients: every property (validation agrees with the model, rejected ⇒ never stored or broadcast, no 5xx, …)',
    modes: ['legacy', 'durable'],
    numRuns: 10,
    plans: (c) => hostilePlans(c),
    sseClients: 2,
  }),
  propertyCheck({
    name: 'auth',
    description: 'missing, suffixed and truncated API keys among valid samples: auth_enforced and every other property',
    modes: ['legacy', 'durable'],
    numRuns: 6,
    plans: (c) => authPlans(c),
    sseClients: 1,
  }),
  propertyCheck({
    name: 'skew-edge',
    description: 'timestamps 10–12 s off the server clock among valid samples: validation agrees with the model at the window edge',
    modes: ['legacy', 'durable'],
    numRuns: 6,
    plans: (c) => skewEdgePlans(c),
    sseClients: 1,
  }),
  chaosCheck({
    name: 'influx-outage',
    description: 'one InfluxDB outage (proxy down 0.6–1.5 s) while a 10 Hz stream is acknowledged: acknowledged ⇒ stored after healing, nothing unexpected',
    modes: ['legacy', 'durable'],
    numRuns: 4,
    arbitrary: arbTargetedChaosPlan(
      fc.record({ at: fc.integer({ min: 0, max: 900 }), duration: fc.integer({ min: 600, max: 1500 }) })
        .map(({ at, duration }) => [{ kind: 'outage', target: 'influx', at: grid(at), duration: grid(duration), params: {} }] as Fault[]),
      { windowMs: 1500 },
    ),
    judges: () => [ackStoredAfterHealing, noUnexpectedPoints],
    // The drain ends one poll after every expected point is stored: poll slowly, so that
    // duplicates a backend writes a flush later (legacy: 1 s) still show up as unexpected.
    run: { pollIntervalMs: 1_500, drainBoundMs: 4_000 },
  }),
  chaosCheck({
    name: 'crash-during-outage',
    description: 'a backend SIGKILL inside an InfluxDB outage, restart, heal: acknowledged ⇒ stored (replayed from the durable log), nothing unexpected',
    modes: ['durable'],
    numRuns: 3,
    arbitrary: arbTargetedChaosPlan(crashDuringOutageFaults(), { windowMs: 1500 }),
    judges: () => [ackStoredAfterHealing, noUnexpectedPoints],
  }),
  influx4xx,
  chaosCheck({
    name: 'stalled-sse',
    description: `1–2 SSE clients that stop reading while 8 vehicles send 50 Hz of 500-point trajectories (~11 kB events) for up to 5 s: the backend holds at most ${ZOO_SSE_BUFFER_BYTES / 1024} KiB per client (SSE_CLIENT_MAX_BUFFER_BYTES; its telemetry_sse_buffered_bytes)`,
    modes: ['durable'],
    numRuns: 2,
    env: { SSE_CLIENT_MAX_BUFFER_BYTES: String(ZOO_SSE_BUFFER_BYTES) },
    arbitrary: arbTargetedChaosPlan(fc.constant([]), { windowMs: 5000, rateHz: 50, vehicles: 8, fullLoad: true, trajectoryPoints: 500, stalledSseClients: fc.integer({ min: 1, max: STALLED_MAX }) }),
    judges: () => [slowConsumerBounded({ maxSseBufferedBytes: STALLED_MAX * (ZOO_SSE_BUFFER_BYTES + FRAME_MARGIN_BYTES), maxReplyP99Ms: 60_000, maxRssSlopeMBPerMin: 1e9 })],
    run: { sampleIntervalMs: 100 },
  }),
  chaosCheck({
    name: 'graceful-restart',
    description: 'a graceful restart (SIGTERM, 5 s grace) of the backend mid-stream: acknowledged ⇒ stored after healing',
    modes: ['legacy', 'durable'],
    numRuns: 3,
    arbitrary: arbTargetedChaosPlan(
      fc.record({ at: fc.integer({ min: 100, max: 1300 }), down: fc.integer({ min: 0, max: 300 }) })
        .map(({ at, down }) => [{ kind: 'restart', target: 'backend', at: grid(at), duration: grid(down), params: { graceMs: 5_000 } }] as Fault[]),
      { windowMs: 1500 },
    ),
    judges: () => [ackStoredAfterHealing, noUnexpectedPoints],
  }),
];

export function checksFor(mode: ZooMode, names?: readonly string[]): ZooCheck[] {
  return ZOO_CHECKS.filter((c) => c.modes.includes(mode) && (!names || names.includes(c.name)));
}
