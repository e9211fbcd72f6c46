/**
 * The reference model: what the CONTRACT says must happen to each request as
 * it was actually sent. Pure.
 *
 * It describes obligations, not the seed's quirks. Where the seed's
 * behaviour cannot satisfy "acknowledged ⇒ stored exactly" (empty vehicle_id,
 * no pose and no control, non-finite numbers, realistic bodies above 100 kB)
 * the model says what a correct backend may do, and the checker reports the
 * seed's actual behaviour as violations. Gates follow the seed's order
 * (body parsing, then the API key, then validation, first failure wins);
 * when several faults stack, every fault's status is acceptable, since
 * another backend may check in another order.
 */
import type { Contract } from './contract';
import { fieldsEqual } from './fields';
import { isJsonContentType, outcomeClass, sampleOf, type History, type RequestRecord } from './history';
import { isPlainObject, parseJsonBodyStrict, utf8ByteLength } from './json';
import type { PointFields } from './payload';
import type { ApiKeyMode } from './plan';
import { MESSAGES, type MessageExpectation, type Reason } from './reasons';

export interface RejectOption {
  status: number;
  reason: Reason;
  /** Expected reply message when the status is this one (seed wording). */
  message?: MessageExpectation;
}

export type Prediction =
  /** Must be acknowledged (2xx) and then stored exactly. */
  | { kind: 'accept' }
  /**
   * Must be refused with `status` (the seed's first failing check) or one of
   * the alternatives; never stored. A 5xx is a server error on a client error.
   */
  | ({ kind: 'reject'; alternatives: RejectOption[] } & RejectOption)
  /**
   * Either acknowledged-and-stored-exactly, or refused with one of `reject`.
   * The checker then only demands consistency. `clientFault`: the request is
   * odd enough that a 5xx is a server error on a client error (false only for
   * a well-formed request whose timestamp sits on the skew window edge).
   */
  | { kind: 'either'; why: Reason[]; reject: RejectOption[]; clientFault: boolean };

/** The request as the backend saw it. A RequestRecord satisfies this. */
export interface SentRequest {
  apiKey: ApiKeyMode;
  contentType: string | null;
  body: string;
}

/** Possible server clock readings while it handled the request (epoch ms). */
export interface ServerNowWindow { fromMs: number; toMs: number }

type Gate =
  | { kind: 'fail'; option: RejectOption; alternatives?: RejectOption[] }
  | { kind: 'maybe'; option: RejectOption; why: Reason; clientFault: boolean };

const validation = (reason: Reason, message?: MessageExpectation): RejectOption => ({ status: 400, reason, ...(message ? { message } : {}) });
const exact = (...m: string[]): MessageExpectation => ({ exact: m });
/** Refusals a stricter backend may choose where the seed accepts. */
const strictRefusal = (reason: Reason): RejectOption[] => [{ status: 400, reason }, { status: 422, reason }];

/**
 * The server's clock lies between the send and the reply, widened by the
 * contract's uncertainty. Without a reply, up to `fallbackEndMs`.
 */
export function serverNowWindow(r: Pick<RequestRecord, 'sentAtMs' | 'outcome'>, contract: Contract, fallbackEndMs?: number): ServerNowWindow {
  const u = contract.skewUncertaintySec * 1000;
  const end = r.outcome?.atMs ?? fallbackEndMs ?? r.sentAtMs + 60_000;
  return { fromMs: r.sentAtMs - u, toMs: Math.max(end, r.sentAtMs) + u };
}

/** Bodies up to this size must be accepted (the larger of limit and floor). */
export function acceptedSizeBytes(contract: Contract): number {
  return Math.max(contract.bodyLimitBytes, contract.realisticSizeFloorBytes);
}

export function predictOutcome(sent: SentRequest, contract: Contract, serverNow: ServerNowWindow): Prediction {
  return combine(gates(sent, contract, serverNow));
}

function gates(sent: SentRequest, contract: Contract, now: ServerNowWindow): Gate[] {
  const out: Gate[] = [];
  const auth = (): void => {
    if (sent.apiKey !== 'valid') {
      out.push({ kind: 'fail', option: { status: 401, reason: 'unauthorized', message: exact(MESSAGES.unauthorized) }, alternatives: [{ status: 403, reason: 'unauthorized' }] });
    }
  };

  // express.json() reads only application/json bodies; others become {} and
  // fail validation (the seed says 400; 415 is the better answer).
  if (!isJsonContentType(sent.contentType)) {
    out.push({ kind: 'fail', option: { status: 400, reason: 'unsupported_media_type' }, alternatives: [{ status: 415, reason: 'unsupported_media_type' }] });
    auth();
    return out;
  }

  const bytes = utf8ByteLength(sent.body);
  if (bytes > acceptedSizeBytes(contract)) {
    out.push({ kind: 'maybe', option: { status: 413, reason: 'beyond_realistic_size' }, why: 'beyond_realistic_size', clientFault: true });
  }

  const parsed = parseJsonBodyStrict(sent.body);
  if (!parsed.ok) {
    out.push({ kind: 'fail', option: { status: 400, reason: 'malformed_json' } });
    auth();
    return out;
  }
  auth();
  out.push(...validate(parsed.value, now, contract));
  return out;
}

function validate(body: unknown, now: ServerNowWindow, contract: Contract): Gate[] {
  const out: Gate[] = [];
  const fail = (option: RejectOption): void => { out.push({ kind: 'fail', option }); };
  const maybe = (why: Reason, reject: RejectOption[], clientFault = true): void => {
    for (const option of reject) out.push({ kind: 'maybe', option, why, clientFault });
  };

  if (!isPlainObject(body)) {
    // An array may slip past a `typeof === 'object'` check and fail on vehicle_id instead.
    fail(validation('not_object', Array.isArray(body) ? exact(MESSAGES.notObject, MESSAGES.invalidVehicleId) : exact(MESSAGES.notObject)));
    return out;
  }

  const vid = body['vehicle_id'];
  const idRefusals = (reason: Reason): RejectOption[] => [validation(reason, exact(MESSAGES.invalidVehicleId)), { status: 422, reason }];
  if (typeof vid !== 'string') fail(validation('invalid_vehicle_id', exact(MESSAGES.invalidVehicleId)));
  else if (vid === '') maybe('empty_vehicle_id', strictRefusal('empty_vehicle_id'));
  else if (vid.trim() === '') maybe('empty_vehicle_id', idRefusals('empty_vehicle_id'));
  else {
    if (unstorableTagValue(vid)) maybe('unstorable_vehicle_id', idRefusals('unstorable_vehicle_id'));
    if (vid.length > contract.vehicleIdFloorChars) maybe('long_vehicle_id', idRefusals('long_vehicle_id'));
  }

  const ts = body['timestamp'];
  if (typeof ts !== 'number') {
    fail(validation('invalid_timestamp', exact(MESSAGES.invalidTimestamp)));
  } else {
    const skew = validation('timestamp_skew', { prefix: MESSAGES.skewPrefix });
    const w = contract.skewWindowSec;
    const a = now.fromMs / 1000;
    const b = now.toMs / 1000;
    // 1e309 (Infinity): the seed reports a skew of "Infinitys"; calling it an invalid timestamp is as right.
    if (!Number.isFinite(ts)) out.push({ kind: 'fail', option: skew, alternatives: [validation('invalid_timestamp', exact(MESSAGES.invalidTimestamp)), { status: 422, reason: 'invalid_timestamp' }] });
    else {
      const maxSkew = Math.max(Math.abs(a - ts), Math.abs(b - ts));
      const minSkew = ts >= a && ts <= b ? 0 : Math.min(Math.abs(a - ts), Math.abs(b - ts));
      if (minSkew > w) fail(skew);
      else if (maxSkew > w) out.push({ kind: 'maybe', option: skew, why: 'skew_boundary', clientFault: false });
    }
  }

  // false, 0 and "": absent to a truthiness check, malformed to a literal one.
  const falsy = (v: unknown): boolean => v === false || v === 0 || v === '';
  const falsyRefusals = (reason: Reason, message: MessageExpectation): RejectOption[] => [validation(reason, message), { status: 422, reason }];

  const struct = (value: unknown, keys: string[], reason: Reason, message: string): void => {
    if (value === undefined) return;
    if (value === null) { maybe('null_optional', strictRefusal('null_optional')); return; }
    if (falsy(value)) { maybe('falsy_optional', falsyRefusals(reason, exact(message))); return; }
    const o = isPlainObject(value) ? value : undefined;
    if (!o || keys.some((k) => typeof o[k] !== 'number')) { fail(validation(reason, exact(message))); return; }
    if (keys.some((k) => !Number.isFinite(o[k] as number))) {
      // Contract level: a float the store cannot hold is a client error (the seed answers 500).
      out.push({ kind: 'fail', option: { status: 400, reason: 'non_finite_number' }, alternatives: [{ status: 422, reason: 'non_finite_number' }] });
    }
  };
  struct(body['pose'], ['x', 'z'], 'invalid_pose', MESSAGES.invalidPose);
  struct(body['control'], ['steering', 'throttle'], 'invalid_control', MESSAGES.invalidControl);

  const traj = body['trajectory'];
  if (traj === null) maybe('null_optional', strictRefusal('null_optional'));
  else if (falsy(traj)) maybe('falsy_optional', falsyRefusals('invalid_trajectory', exact(MESSAGES.invalidTrajectory)));
  else if (traj !== undefined && !Array.isArray(traj)) fail(validation('invalid_trajectory', exact(MESSAGES.invalidTrajectory)));

  const track = body['track'];
  const trackMessage = exact(...MESSAGES.invalidTrack);
  if (track === null) maybe('null_optional', strictRefusal('null_optional'));
  else if (falsy(track)) maybe('falsy_optional', falsyRefusals('invalid_track', trackMessage));
  else if (track !== undefined) {
    if (!isPlainObject(track)) maybe('non_object_track', strictRefusal('non_object_track'));
    else {
      for (const side of ['outer', 'inner'] as const) {
        const v = track[side];
        if (v === null) maybe('null_optional', strictRefusal('null_optional'));
        else if (falsy(v)) maybe('falsy_optional', falsyRefusals('invalid_track', trackMessage));
        else if (v !== undefined && !Array.isArray(v)) fail(validation('invalid_track', trackMessage));
      }
    }
  }

  // Nothing to store unless pose or control is a real structure (a falsy one is absent).
  if (!body['pose'] && !body['control']) maybe('no_storable_fields', strictRefusal('no_storable_fields'));
  return out;
}

/**
 * A tag value line protocol cannot carry unchanged: control characters (no
 * escape exists for a newline), lone UTF-16 surrogates (encoded as U+FFFD),
 * a backslash (it escapes what follows, or dangles at the end).
 */
export function unstorableTagValue(v: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f\\]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v);
}

function combine(gs: Gate[]): Prediction {
  const fails = gs.filter((g): g is Extract<Gate, { kind: 'fail' }> => g.kind === 'fail');
  const maybes = gs.filter((g): g is Extract<Gate, { kind: 'maybe' }> => g.kind === 'maybe');
  const first = fails[0];
  if (first) {
    const alternatives = dedupe([
      ...(first.alternatives ?? []),
      ...fails.slice(1).flatMap((g) => [g.option, ...(g.alternatives ?? [])]),
      ...maybes.map((g) => g.option),
    ]).filter((o) => !sameOption(o, first.option));
    return { kind: 'reject', ...first.option, alternatives };
  }
  if (maybes.length > 0) {
    return {
      kind: 'either',
      why: [...new Set(maybes.map((g) => g.why))],
      reject: dedupe(maybes.map((g) => g.option)),
      clientFault: maybes.some((g) => g.clientFault),
    };
  }
  return { kind: 'accept' };
}

function sameOption(a: RejectOption, b: RejectOption): boolean {
  return a.status === b.status && a.reason === b.reason;
}

function dedupe(options: RejectOption[]): RejectOption[] {
  const out: RejectOption[] = [];
  for (const o of options) if (!out.some((x) => sameOption(x, o))) out.push(o);
  return out;
}

/** Every acceptable refusal of a prediction (empty for 'accept'). */
export function refusalOptions(p: Prediction): RejectOption[] {
  if (p.kind === 'accept') return [];
  if (p.kind === 'either') return p.reject;
  const { kind: _k, alternatives, ...primary } = p;
  return [primary, ...alternatives];
}

/**
 * Predictions for every request of a history. Adds what a single request
 * cannot see: a sample whose store key (vehicle_id + ms) is shared with
 * another request that may be stored may be refused (409 or validation) —
 * when that other request may have reached the server first, i.e. one of its
 * tries that may have been stored was sent before this request was answered.
 * Send order alone does not decide it: requests in flight together (a burst)
 * may be handled in any order.
 */
export function predictHistory(history: History, contract: Contract): Map<string, Prediction> {
  const out = new Map<string, Prediction>();
  // Per key: the send times of the tries that may have been stored.
  const mayBeStoredTries = new Map<string, Array<{ id: string; sentAtMs: number }>>();
  const samples = new Map<string, ReturnType<typeof sampleOf>>();
  for (const r of history.requests) {
    const sample = sampleOf(r.body);
    samples.set(r.id, sample);
    if (!sample) continue;
    for (const t of r.attempts ?? [{ sentAtMs: r.sentAtMs, outcome: r.outcome }]) {
      const cls = outcomeClass(t.outcome, contract);
      if (cls !== 'acknowledged' && cls !== 'unknown') continue;
      const list = mayBeStoredTries.get(sample.key) ?? [];
      list.push({ id: r.id, sentAtMs: t.sentAtMs });
      mayBeStoredTries.set(sample.key, list);
    }
  }
  for (const r of [...history.requests].sort((a, b) => a.sentAtMs - b.sentAtMs)) {
    let p = predictOutcome(r, contract, serverNowWindow(r, contract, history.probeEndedAtMs));
    const sample = samples.get(r.id);
    const answeredBy = r.outcome?.atMs ?? history.probeEndedAtMs;
    const contended = sample !== undefined && (mayBeStoredTries.get(sample.key) ?? []).some((t) => t.id !== r.id && t.sentAtMs <= answeredBy);
    if (contended && p.kind !== 'reject') {
      const dup: RejectOption[] = [{ status: 409, reason: 'duplicate_key' }, ...strictRefusal('duplicate_key')];
      p = p.kind === 'accept'
        ? { kind: 'either', why: ['duplicate_key'], reject: dup, clientFault: true }
        : { ...p, why: [...p.why, 'duplicate_key'], reject: dedupe([...p.reject, ...dup]), clientFault: true };
    }
    out.set(r.id, p);
  }
  return out;
}

export interface ExpectedPoint {
  key: string;
  vehicleId: string;
  timeMs: number;
  /** Every acknowledged sample with this key; more than one distinct = a collapse. */
  candidates: Array<{ requestId: string; fields: PointFields }>;
}

/**
 * The points the store must hold after the run: one key per acknowledged
 * sample (vehicle_id + ms). A key with two distinct candidates cannot be
 * satisfied by a store keyed like the seed's: the checker calls it collapsed.
 */
export function expectedPoints(history: History, contract: Contract): Map<string, ExpectedPoint> {
  const out = new Map<string, ExpectedPoint>();
  for (const r of history.requests) {
    if (outcomeClass(r.outcome, contract) !== 'acknowledged') continue;
    const s = sampleOf(r.body);
    if (!s) continue;
    const e = out.get(s.key) ?? { key: s.key, vehicleId: s.vehicleId, timeMs: s.timeMs, candidates: [] };
    e.candidates.push({ requestId: r.id, fields: s.fields });
    out.set(s.key, e);
  }
  return out;
}

/** Distinct field sets among a point's candidates (1 = no collapse). */
export function distinctCandidates(p: ExpectedPoint): number {
  const seen: PointFields[] = [];
  for (const c of p.candidates) if (!seen.some((f) => fieldsEqual(f, c.fields))) seen.push(c.fields);
  return seen.length;
}
