/**
 * Network faults on Toxiproxy, through toxiproxy-node-client.
 *
 * Keep-alive connections. Measured against a real toxiproxy-server v2.12
 * with an undici Pool whose single keep-alive connection was opened BEFORE
 * the fault (toxiproxyDriver.int.test.ts asserts each of these):
 *   - every toxic is installed on the proxy's existing links as well as on
 *     new ones, so a pooled connection cannot dodge it: latency, bandwidth,
 *     slicer (slower replies on the same connection), limit_data (the budget
 *     counts from the toxic's creation, per connection), reset_peer (RST
 *     `timeout` ms after the next data on the connection; an idle connection
 *     is left alone until it carries data), timeout/blackhole (data dropped;
 *     an idle connection is closed `timeout` ms after the toxic was added),
 *     slow_close (the close of the existing connection is delayed);
 *   - disabling a proxy closes its listener AND its open connections: the
 *     next request on the pool fails (connection refused on reconnect);
 *   - removing or updating a toxic takes effect on the same connections at
 *     once (data held by a latency toxic is released at once: see
 *     toxicSpecs for how seeded jitter copes); removing a `timeout` toxic closes the
 *     connections it held (a request whose bytes were dropped fails at heal
 *     time instead of hanging until its own timeout).
 * So the driver does not need to cut links (disable/enable) to force a toxic
 * onto existing connections; were a future Toxiproxy to stop doing so, the
 * keep-alive test would fail and `cutLinks` below is the fix to apply.
 *
 * Toxiproxy draws partial toxicity and latency jitter from its own random
 * numbers, so every toxic goes in at toxicity 1.0 and seeded jitter is
 * played by the nemesis through `setLatency` (see faults.ts).
 */
import net from 'node:net';
import type { Proxy, Toxiproxy } from 'toxiproxy-node-client';
import type { LatencyFault, NetworkFault, ToxicFault } from './faults';

export type ToxiproxyType = 'latency' | 'timeout' | 'bandwidth' | 'slow_close' | 'reset_peer' | 'slicer' | 'limit_data';

/** One toxic as Toxiproxy's API takes and returns it. */
export interface ToxicSpec {
  name: string;
  type: ToxiproxyType;
  stream: 'upstream' | 'downstream';
  toxicity: number;
  attributes: Record<string, number>;
}

/** GET /proxies/<name>, as returned by Toxiproxy. */
export interface ProxyState {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicSpec[];
}

export interface DriverOptions {
  /** Toxiproxy proxy name; default: the fault's target (`influx` or `ingest`). */
  proxyName?: string;
  /** Bound on each Toxiproxy API call, ms (default 5 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** Toxic names start with this; healAll removes every toxic whatever its name. */
export const TOXIC_PREFIX = 'chaos';

/** The HTTP status inside a ToxiproxyError ("Request failed with status code 404"), if any. */
export function toxiproxyStatus(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const m = /status code (\d{3})/.exec(err.message);
  return m ? Number(m[1]) : undefined;
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function proxyNameOf(fault: NetworkFault, opts: DriverOptions): string {
  return opts.proxyName ?? fault.target;
}

/** Deterministic base name of a fault's toxics (unique per target: faults on one target never overlap). */
export function toxicBaseName(fault: ToxicFault): string {
  return `${TOXIC_PREFIX}_${fault.kind}_${fault.at}`;
}

/**
 * The Toxiproxy toxics that realise a fault, all at toxicity 1.0, in the
 * order they must be added. `both` gives one set per direction (`..._up`,
 * `..._down`).
 *
 * Seeded jitter (latency with `jitterSteps`): Toxiproxy's jitter is 0 and
 * the latency is split in two toxics per direction, added in this order:
 * `..._jit` (the step's share above the floor, re-set at every step) then
 * `..._floor` (max(0, latency - jitter), never touched). Why: Toxiproxy
 * applies an update by interrupting the toxic, which lets the data it holds
 * through at once (measured: a 1000 ms toxic updated 300 ms into a reply
 * releases it at ~300 ms). With the split, only the `_jit` share is released
 * early; the floor toxic then still holds the data until its arrival time +
 * floor, so data in flight at a step sees at least latency - jitter.
 * `latencyMs` is the current step's latency (default: the base latency).
 */
export function toxicSpecs(fault: ToxicFault, current: { latencyMs?: number } = {}): ToxicSpec[] {
  const base = toxicBaseName(fault);
  const streams: ('upstream' | 'downstream')[] =
    fault.params.stream === 'both' ? ['upstream', 'downstream'] : [fault.params.stream];
  const dirName = (stream: 'upstream' | 'downstream') =>
    fault.params.stream === 'both' ? `${base}_${stream === 'upstream' ? 'up' : 'down'}` : base;
  const spec = (name: string, stream: 'upstream' | 'downstream', type: ToxiproxyType, attributes: Record<string, number>): ToxicSpec => ({
    name,
    type,
    stream,
    toxicity: 1,
    attributes,
  });

  if (fault.kind === 'latency') {
    const p = fault.params;
    if (!p.jitterSteps) {
      return streams.map((st) => spec(dirName(st), st, 'latency', { latency: current.latencyMs ?? p.latencyMs, jitter: p.jitterMs }));
    }
    const floor = Math.max(0, p.latencyMs - p.jitterMs);
    const now = Math.max(floor, current.latencyMs ?? p.latencyMs);
    return streams.flatMap((st) => [
      spec(`${dirName(st)}_jit`, st, 'latency', { latency: now - floor, jitter: 0 }),
      spec(`${dirName(st)}_floor`, st, 'latency', { latency: floor, jitter: 0 }),
    ]);
  }

  let type: ToxiproxyType;
  let attributes: Record<string, number>;
  switch (fault.kind) {
    case 'blackhole':
      type = 'timeout';
      attributes = { timeout: fault.params.timeoutMs };
      break;
    case 'bandwidth':
      type = 'bandwidth';
      attributes = { rate: fault.params.rateKBps };
      break;
    case 'slow_close':
      type = 'slow_close';
      attributes = { delay: fault.params.delayMs };
      break;
    case 'reset_peer':
      type = 'reset_peer';
      attributes = { timeout: fault.params.timeoutMs };
      break;
    case 'slicer':
      type = 'slicer';
      attributes = { average_size: fault.params.averageSize, size_variation: fault.params.sizeVariation, delay: fault.params.delayUs };
      break;
    case 'limit_data':
      type = 'limit_data';
      attributes = { bytes: fault.params.bytes };
      break;
  }
  return streams.map((st) => spec(dirName(st), st, type, { ...attributes }));
}

/** GET /proxies/<name> with its toxics (the client's Proxy object drops them). */
export async function getProxyState(client: Toxiproxy, proxyName: string, opts: DriverOptions = {}): Promise<ProxyState> {
  const url = `${client.host}/proxies/${encodeURIComponent(proxyName)}`;
  const res = await withTimeout(client.getApi().get<ProxyState>(url), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, `GET ${url}`);
  const d = res.data;
  return { name: d.name, listen: d.listen, upstream: d.upstream, enabled: d.enabled, toxics: d.toxics ?? [] };
}

async function getProxy(client: Toxiproxy, proxyName: string, timeoutMs: number): Promise<Proxy> {
  return withTimeout(client.get(proxyName), timeoutMs, `GET proxy ${proxyName}`);
}

/** Enable or disable a proxy. Disabling closes its listener and its open connections. */
export async function setProxyEnabled(client: Toxiproxy, proxyName: string, enabled: boolean, opts: DriverOptions = {}): Promise<void> {
  const t = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const proxy = await getProxy(client, proxyName, t);
  await withTimeout(proxy.update({ enabled, listen: proxy.listen, upstream: proxy.upstream }), t, `update proxy ${proxyName}`);
}

/**
 * Cut every open connection of a proxy (disable then enable at once). Not
 * needed by any fault today (all toxics reach existing links); kept for a
 * Toxiproxy that would apply a toxic to new connections only.
 */
export async function cutLinks(client: Toxiproxy, proxyName: string, opts: DriverOptions = {}): Promise<void> {
  await setProxyEnabled(client, proxyName, false, opts);
  await setProxyEnabled(client, proxyName, true, opts);
}

async function removeToxic(client: Toxiproxy, proxyName: string, toxicName: string, timeoutMs: number): Promise<void> {
  const url = `${client.host}/proxies/${encodeURIComponent(proxyName)}/toxics/${encodeURIComponent(toxicName)}`;
  try {
    await withTimeout(client.getApi().delete(url), timeoutMs, `DELETE ${url}`);
  } catch (err) {
    if (toxiproxyStatus(err) !== 404) throw err; // already gone: healed
  }
}

/** Install a fault: disable the proxy (outage) or add its toxics. */
export async function applyNetworkFault(client: Toxiproxy, fault: NetworkFault, opts: DriverOptions = {}): Promise<void> {
  const name = proxyNameOf(fault, opts);
  const t = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (fault.kind === 'outage') {
    await setProxyEnabled(client, name, false, opts);
    return;
  }
  const proxy = await getProxy(client, name, t);
  for (const spec of toxicSpecs(fault)) {
    try {
      await withTimeout(proxy.addToxic(spec), t, `add toxic ${spec.name} to ${name}`);
    } catch (err) {
      if (toxiproxyStatus(err) !== 409) throw err;
      // A leftover from an interrupted run: replace it so its attributes are ours.
      await removeToxic(client, name, spec.name, t);
      await withTimeout(proxy.addToxic(spec), t, `add toxic ${spec.name} to ${name}`);
    }
  }
}

/**
 * Set the current step of a seeded-jitter latency fault: only the `_jit`
 * toxics change (see toxicSpecs for why the floor is a separate toxic).
 */
export async function setLatency(client: Toxiproxy, fault: LatencyFault, latencyMs: number, opts: DriverOptions = {}): Promise<void> {
  const name = proxyNameOf(fault, opts);
  const t = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const specs = fault.params.jitterSteps ? toxicSpecs(fault, { latencyMs }).filter((x) => x.name.endsWith('_jit')) : toxicSpecs(fault, { latencyMs });
  for (const spec of specs) {
    const url = `${client.host}/proxies/${encodeURIComponent(name)}/toxics/${encodeURIComponent(spec.name)}`;
    await withTimeout(client.getApi().post(url, { attributes: spec.attributes }), t, `update toxic ${spec.name}`);
  }
}

/** Undo one fault: enable the proxy (outage) or remove its toxics. Idempotent. */
export async function healNetworkFault(client: Toxiproxy, fault: NetworkFault, opts: DriverOptions = {}): Promise<void> {
  const name = proxyNameOf(fault, opts);
  const t = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (fault.kind === 'outage') {
    await setProxyEnabled(client, name, true, opts);
    return;
  }
  for (const spec of toxicSpecs(fault)) await removeToxic(client, name, spec.name, t);
}

/**
 * Heal everything on the given proxies (default: every proxy): enable them
 * and remove all their toxics, ours or not. Returns what it changed.
 */
export async function healAll(client: Toxiproxy, proxyNames?: readonly string[], opts: Omit<DriverOptions, 'proxyName'> = {}): Promise<string[]> {
  const t = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const names = proxyNames ?? Object.keys(await withTimeout(client.getAll(), t, 'GET /proxies'));
  const changed: string[] = [];
  const errors: string[] = [];
  for (const name of names) {
    try {
      const state = await getProxyState(client, name, opts);
      if (!state.enabled) {
        await setProxyEnabled(client, name, true, opts);
        changed.push(`${name}: enabled`);
      }
      for (const toxic of state.toxics) {
        await removeToxic(client, name, toxic.name, t);
        changed.push(`${name}: removed ${toxic.name} (${toxic.type} ${toxic.stream})`);
      }
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
    }
  }
  if (errors.length > 0) throw new Error(`healAll failed on ${errors.join('; ')}`);
  return changed;
}

// ---------------------------------------------------------------------------
// verification (pure checks on the API state, plus a TCP probe for outages)

function attributesMatch(want: Record<string, number>, got: Record<string, unknown> | undefined): boolean {
  if (!got) return false;
  return Object.entries(want).every(([k, v]) => got[k] === v);
}

/** What is wrong with `state` if `fault` were in effect (empty = in effect). */
export function appliedProblems(state: ProxyState, fault: NetworkFault, current: { latencyMs?: number } = {}): string[] {
  if (fault.kind === 'outage') return state.enabled ? [`${state.name} is still enabled`] : [];
  const problems: string[] = [];
  if (!state.enabled) problems.push(`${state.name} is disabled, so the toxic sees no traffic`);
  for (const want of toxicSpecs(fault, current)) {
    const got = state.toxics.find((x) => x.name === want.name);
    if (!got) problems.push(`${state.name}: toxic ${want.name} missing`);
    else if (got.type !== want.type || got.stream !== want.stream || got.toxicity !== 1 || !attributesMatch(want.attributes, got.attributes)) {
      problems.push(`${state.name}: toxic ${want.name} is ${JSON.stringify(got)}, wanted ${JSON.stringify(want)}`);
    }
  }
  return problems;
}

/** What is wrong with `state` if `fault` had been healed (empty = healed). */
export function healedProblems(state: ProxyState, fault: NetworkFault): string[] {
  if (fault.kind === 'outage') return state.enabled ? [] : [`${state.name} is still disabled`];
  const names = new Set(toxicSpecs(fault).map((s) => s.name));
  return state.toxics.filter((t) => names.has(t.name)).map((t) => `${state.name}: toxic ${t.name} still present`);
}

/** What keeps `state` from being clean (enabled, no toxic at all). */
export function cleanProblems(state: ProxyState): string[] {
  const problems = state.enabled ? [] : [`${state.name} is disabled`];
  for (const t of state.toxics) problems.push(`${state.name}: toxic ${t.name} (${t.type}) present`);
  return problems;
}

export type ListenerProbe = 'open' | 'refused' | 'timeout' | `error:${string}`;

/** Try one TCP connection to host:port and close it at once. */
export function probeListener(listen: string, timeoutMs = 1_000): Promise<ListenerProbe> {
  const idx = listen.lastIndexOf(':');
  const host = listen.slice(0, idx).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(listen.slice(idx + 1));
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (r: ListenerProbe) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    sock.once('connect', () => done('open'));
    sock.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : `error:${err.code ?? err.message}`));
  });
}

function isLoopback(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export interface VerifyOptions extends DriverOptions {
  /** Current latency of a seeded-jitter latency fault. */
  latencyMs?: number;
  /**
   * For outages, also check the listener itself (refused while out, accepting
   * after): default true, and only ever done on a loopback listen address.
   */
  probeListener?: boolean;
}

/**
 * Confirm through the API (and, for outages, a TCP probe of the listener)
 * that a fault is in effect (`applied`) or gone (`healed`). Returns the
 * problems found; empty means verified.
 */
export async function verifyNetworkFault(
  client: Toxiproxy,
  fault: NetworkFault,
  phase: 'applied' | 'healed',
  opts: VerifyOptions = {},
): Promise<string[]> {
  const state = await getProxyState(client, proxyNameOf(fault, opts), opts);
  const problems = phase === 'applied' ? appliedProblems(state, fault, { latencyMs: opts.latencyMs }) : healedProblems(state, fault);
  if (fault.kind === 'outage' && (opts.probeListener ?? true) && isLoopback(state.listen) && problems.length === 0) {
    const probe = await probeListener(state.listen);
    const want = phase === 'applied' ? 'refused' : 'open';
    if (probe !== want) problems.push(`${state.name}: listener ${state.listen} probe gave ${probe}, wanted ${want}`);
  }
  return problems;
}

/** Problems keeping the given proxies from being clean (enabled, no toxics, listener open). */
export async function verifyClean(client: Toxiproxy, proxyNames: readonly string[], opts: VerifyOptions = {}): Promise<string[]> {
  const problems: string[] = [];
  for (const name of proxyNames) {
    const state = await getProxyState(client, name, opts);
    problems.push(...cleanProblems(state));
    if (state.enabled && (opts.probeListener ?? true) && isLoopback(state.listen)) {
      const probe = await probeListener(state.listen);
      if (probe !== 'open') problems.push(`${name}: listener ${state.listen} probe gave ${probe}`);
    }
  }
  return problems;
}

