/**
 * Publisher policies: what a car does after each POST. Pure decision
 * functions `(state, outcome, nowMs) -> {state, action, delayMs}`; the load
 * runner applies them.
 *
 *  - `jetson`: the real worker (backend-contract.md, "The Jetson publisher"):
 *    on ANY failure (non-2xx, timeout, network error) it logs, sleeps an
 *    exponential back-off base·2^k (k = consecutive failures before this
 *    one, capped) and goes on with the NEXT payload: the failed one is lost.
 *    A success resets k.
 *  - `retry`: resends the SAME payload on 5xx, 408, 429, timeouts and network
 *    errors, with the same back-off but at least Retry-After when the server
 *    sends one, within a bound on attempts and time per payload; order is
 *    kept because nothing later is sent while a payload is pending. Other
 *    4xx are final (a validation rejection does not improve with time).
 *
 * `delayMs` is the pause, counted from the outcome, before the next attempt
 * (a resend, or the next payload); 0 means "no back-off, keep the normal
 * cadence". A runner with a compressed time scale passes smaller `baseMs`
 * and `capMs` (and reads Retry-After through `retryAfterScale`).
 *
 * A resend after a timeout may duplicate a sample the backend did take;
 * samples are identified by (vehicle_id, timestamp), which InfluxDB stores
 * once, so the checker counts it once.
 */

export type SendOutcome =
  /** 2xx. */
  | { kind: 'ok'; status: number }
  /** Any other HTTP status; `retryAfter` is the raw Retry-After header. */
  | { kind: 'http'; status: number; retryAfter?: string | null }
  /** The client gave up waiting (headers/body timeout, abort on deadline). */
  | { kind: 'timeout'; code?: string }
  /** Refused, reset, closed before a reply. */
  | { kind: 'network'; code?: string };

export type PolicyAction = 'next' | 'resend';

export interface PolicyDecision<S> {
  state: S;
  action: PolicyAction;
  /** Pause before the next attempt, ms from the outcome. */
  delayMs: number;
  /** True when the payload is given up (never delivered by this publisher). */
  dropped: boolean;
  reason: string;
}

export interface PublisherPolicy<S> {
  readonly name: 'jetson' | 'retry';
  initial(): S;
  decide(state: S, outcome: SendOutcome, nowMs: number): PolicyDecision<S>;
}

export interface BackoffConfig {
  /** First back-off, ms (Jetson: 1000). */
  baseMs: number;
  /** Ceiling, ms (Jetson: 30 000). */
  capMs: number;
  /** Growth per consecutive failure (default 2). */
  factor?: number;
}

/** base·factor^k, capped; k = failures already seen in a row before this one. */
export function backoffMs(cfg: BackoffConfig, k: number): number {
  const factor = cfg.factor ?? 2;
  const raw = cfg.baseMs * Math.pow(factor, Math.max(0, k));
  return Math.min(cfg.capMs, Number.isFinite(raw) ? raw : cfg.capMs);
}

export function isSuccess(o: SendOutcome): boolean {
  return o.kind === 'ok';
}

// ---------------------------------------------------------------------------
// jetson

export interface JetsonConfig extends BackoffConfig {}
export interface JetsonState {
  consecutiveFailures: number;
}

export const JETSON_DEFAULTS: JetsonConfig = { baseMs: 1_000, capMs: 30_000, factor: 2 };

export function decideJetson(cfg: JetsonConfig, state: JetsonState, outcome: SendOutcome): PolicyDecision<JetsonState> {
  if (outcome.kind === 'ok') {
    return { state: { consecutiveFailures: 0 }, action: 'next', delayMs: 0, dropped: false, reason: 'ok' };
  }
  const delayMs = backoffMs(cfg, state.consecutiveFailures);
  return {
    state: { consecutiveFailures: state.consecutiveFailures + 1 },
    action: 'next',
    delayMs,
    dropped: true,
    reason: `${describeOutcome(outcome)}: dropped, back off ${delayMs} ms`,
  };
}

export function jetsonPolicy(cfg: Partial<JetsonConfig> = {}): PublisherPolicy<JetsonState> {
  const c: JetsonConfig = { ...JETSON_DEFAULTS, ...cfg };
  return {
    name: 'jetson',
    initial: () => ({ consecutiveFailures: 0 }),
    decide: (s, o) => decideJetson(c, s, o),
  };
}

// ---------------------------------------------------------------------------
// retry

export interface RetryConfig extends BackoffConfig {
  /** Most attempts per payload, the first included (default 5). */
  maxAttempts: number;
  /** Give a payload up when the next attempt would start later than this after its first failure, ms (default 60 s). */
  maxElapsedMs: number;
  /** Honour Retry-After (default true). */
  honourRetryAfter: boolean;
  /** Retry-After seconds are multiplied by this to get ms (default 1000; a compressed run uses less). */
  retryAfterScale: number;
  /** HTTP statuses resent besides 5xx (default 408, 429). */
  retryStatuses: readonly number[];
}

export interface RetryState {
  /** Attempts made for the current payload. */
  attempts: number;
  /** When the current payload first failed (nowMs), if it did. */
  firstFailureAt?: number;
  /** Failures in a row (across payloads), drives the back-off. */
  consecutiveFailures: number;
}

export const RETRY_DEFAULTS: RetryConfig = {
  baseMs: 1_000,
  capMs: 30_000,
  factor: 2,
  maxAttempts: 5,
  maxElapsedMs: 60_000,
  honourRetryAfter: true,
  retryAfterScale: 1_000,
  retryStatuses: [408, 429],
};

/**
 * Retry-After as a delay in ms: delta-seconds (scaled by `scale`) or an
 * HTTP-date (relative to `nowMs`). undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number, scale = 1_000): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * scale;
  const date = Date.parse(v);
  if (Number.isNaN(date) || !/[a-z]/i.test(v)) return undefined;
  return Math.max(0, date - nowMs);
}

export function isRetryable(outcome: SendOutcome, retryStatuses: readonly number[] = RETRY_DEFAULTS.retryStatuses): boolean {
  switch (outcome.kind) {
    case 'ok':
      return false;
    case 'timeout':
    case 'network':
      return true;
    case 'http':
      return (outcome.status >= 500 && outcome.status <= 599) || retryStatuses.includes(outcome.status);
  }
}

export function decideRetry(cfg: RetryConfig, state: RetryState, outcome: SendOutcome, nowMs: number): PolicyDecision<RetryState> {
  if (outcome.kind === 'ok') {
    return { state: { attempts: 0, consecutiveFailures: 0 }, action: 'next', delayMs: 0, dropped: false, reason: 'ok' };
  }
  const what = describeOutcome(outcome);
  if (!isRetryable(outcome, cfg.retryStatuses)) {
    // Final answer about this payload; not a sign of an overloaded server.
    return {
      state: { attempts: 0, consecutiveFailures: state.consecutiveFailures },
      action: 'next',
      delayMs: 0,
      dropped: true,
      reason: `${what}: not retryable, dropped`,
    };
  }
  const attempts = state.attempts + 1;
  const firstFailureAt = state.firstFailureAt ?? nowMs;
  const consecutiveFailures = state.consecutiveFailures + 1;
  const backoff = backoffMs(cfg, state.consecutiveFailures);
  const retryAfter =
    cfg.honourRetryAfter && outcome.kind === 'http' ? parseRetryAfter(outcome.retryAfter, nowMs, cfg.retryAfterScale) : undefined;
  const delayMs = Math.max(backoff, retryAfter ?? 0);
  const elapsedAtNext = nowMs + delayMs - firstFailureAt;
  if (attempts >= cfg.maxAttempts || elapsedAtNext > cfg.maxElapsedMs) {
    const why = attempts >= cfg.maxAttempts ? `${attempts} attempts` : `${elapsedAtNext} ms > ${cfg.maxElapsedMs} ms budget`;
    return {
      state: { attempts: 0, consecutiveFailures },
      action: 'next',
      delayMs: backoff,
      dropped: true,
      reason: `${what}: gave up after ${why}, back off ${backoff} ms`,
    };
  }
  return {
    state: { attempts, firstFailureAt, consecutiveFailures },
    action: 'resend',
    delayMs,
    dropped: false,
    reason: `${what}: resend #${attempts} in ${delayMs} ms${retryAfter !== undefined ? ` (Retry-After ${retryAfter} ms)` : ''}`,
  };
}

export function retryPolicy(cfg: Partial<RetryConfig> = {}): PublisherPolicy<RetryState> {
  const c: RetryConfig = { ...RETRY_DEFAULTS, ...cfg };
  if (c.maxAttempts < 1) throw new Error('maxAttempts must be at least 1');
  return {
    name: 'retry',
    initial: () => ({ attempts: 0, consecutiveFailures: 0 }),
    decide: (s, o, now) => decideRetry(c, s, o, now),
  };
}

export type PolicyName = 'jetson' | 'retry';

/** A policy by name, with the same back-off scale for both. */
export function policyByName(name: PolicyName, scale: Partial<BackoffConfig> & Partial<RetryConfig> = {}): PublisherPolicy<JetsonState> | PublisherPolicy<RetryState> {
  return name === 'jetson' ? jetsonPolicy(scale) : retryPolicy(scale);
}

// ---------------------------------------------------------------------------
// outcomes from a real exchange

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT', 'TimeoutError', 'ABORT_ERR']);

/** Classify a thrown client error (undici, fetch, node:net) as a timeout or a network failure. */
export function outcomeFromError(err: unknown): SendOutcome {
  const e = err as { code?: string; name?: string; cause?: { code?: string; name?: string } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  const name = e?.name ?? e?.cause?.name;
  if ((code && TIMEOUT_CODES.has(code)) || name === 'TimeoutError' || name === 'HeadersTimeoutError' || name === 'BodyTimeoutError' || name === 'ConnectTimeoutError') {
    return { kind: 'timeout', code: code ?? name };
  }
  return { kind: 'network', code: code ?? name };
}

/** Outcome of a reply: 2xx ok, anything else http (with Retry-After). */
export function outcomeFromStatus(status: number, retryAfter?: string | null): SendOutcome {
  return status >= 200 && status <= 299 ? { kind: 'ok', status } : { kind: 'http', status, retryAfter };
}

export function describeOutcome(o: SendOutcome): string {
  switch (o.kind) {
    case 'ok':
      return `HTTP ${o.status}`;
    case 'http':
      return `HTTP ${o.status}`;
    case 'timeout':
      return `timeout${o.code ? ` (${o.code})` : ''}`;
    case 'network':
      return `network error${o.code ? ` (${o.code})` : ''}`;
  }
}
